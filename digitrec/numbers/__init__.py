"""Reading a whole number: the digits found in an image, each read by the model, left to
right, with the decimal point, comma or minus written between them; and, with the letters
model, a word or a code ("A7B") the same way.

1. pieces: ruled lines out, the ink cut into more pieces than there are digits;
2. grouping: the runs of pieces that read most surely as whole digits, chosen together, a
   stroke that may be two touching digits also read whole by the pair reader;
3. marks: the pieces left out that are separators;
4. case: a letter whose capital has its shape told by its height on the line (text only).
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from digitrec.errors import NoDigitError
from digitrec.labels import DIGITS
from digitrec.numbers.case import with_case
from digitrec.numbers.grouping import WIDEST_DIGIT, best_grouping, left_out, runs, stroke_runs
from digitrec.numbers.marks import beside, line_of, point, text_with_marks
from digitrec.numbers.pieces import TALL, box_of, crop, cut_into_pieces, digits_height, stroke, wide_strokes, without_ruled_lines
from digitrec.pairs import NOT_A_PAIR, as_the_pair_reader_sees, load_pair_reader, pair_digits
from digitrec.prediction import UNSURE_BELOW, Prediction
from digitrec.preprocessing import page_ink, strokes
from digitrec.preprocessing.ink import INK_THRESHOLD
from digitrec.preprocessing.reading import NO_DIGIT_MESSAGE
from digitrec.verifier import as_the_reader_sees, as_the_verifier_sees, load_verifier

# Runs that the verifier deems less likely than this to be one whole digit are not read.
READ_FROM = 0.02
# A digit read from a wide stroke with a score of at least this (the verifier's probability
# times the model's confidence) is not looked for again along paths.
SURE = 0.9
# A letter (an m, a w) may be this many times as wide as the line is tall.
WIDEST_LETTER = 2.0
# The pair reader reads strokes at most this many times as wide as the line is tall.
WIDEST_PAIR = 2.2
# Text has no verifier, and a part of a letter (an H's post, an m's hump) often reads surely
# as a letter of its own (l, n): in choosing the grouping, each character read costs this
# factor, so that a run read as one letter outweighs its parts read as several.
EACH_CHARACTER = 0.7


class Sureness:
    """How sure a reading is, from the `Prediction` of each thing it read (`.predictions`)."""

    @property
    def confidence(self):
        """The probability that everything is read right: the product of the confidences."""
        return float(np.prod([p.confidence for p in self.predictions]))

    @property
    def unsure(self):
        """Whether the weakest of them is unsure."""
        return min(p.confidence for p in self.predictions) < UNSURE_BELOW

    def _record(self, kind, key, value):
        """The reading as JSON takes it: the text under `kind`, how sure, and under `key` each
        thing read, as `value(prediction)`, with its box."""
        read = [
            {key[:-1]: value(p), "confidence": round(p.confidence, 6), "unsure": p.unsure, "box": list(box)}
            for p, box in zip(self.predictions, self.boxes)
        ]
        return {kind: self.text, "confidence": round(self.confidence, 6), "unsure": self.unsure, key: read}


@dataclass(frozen=True)
class NumberReading(Sureness):
    text: str  # The number read, left to right, with its separators: "2026", "-3.14".
    digits: list  # A `Prediction` per digit, in the same order.
    boxes: list  # Each digit's (left, top, width, height) in the input image's pixels.

    @property
    def predictions(self):
        return self.digits

    def record(self):
        """The number, how sure, and each digit with its box."""
        return self._record("number", "digits", lambda p: p.digit)


@dataclass(frozen=True)
class TextReading(Sureness):
    text: str  # The characters read, left to right: "A7B", "hello".
    characters: list  # A `Prediction` per character, in the same order.
    boxes: list  # Each character's (left, top, width, height) in the input image's pixels.

    @property
    def predictions(self):
        return self.characters

    def record(self):
        """The text, how sure, and each character (its label) with its box."""
        return self._record("text", "characters", lambda p: p.label)


def read_number(recognizer, image):
    """Find every digit in `image` and read it with `recognizer`."""
    digits, page_boxes, boxes, marks, height = _read_line(recognizer, image, number=True)
    text = text_with_marks([p.digit for p in digits], page_boxes, marks, height)
    return NumberReading(text, digits, boxes)


def read_text(recognizer, image):
    """Find every character in `image` and read it with `recognizer` (the letters model, or
    a digit model for digits alone): a `TextReading`. Marks between characters are left out.

    The verifier, which knows digits only, is not asked: a run's score is the model's
    confidence alone, and each character read costs `EACH_CHARACTER` in the grouping.
    """
    characters, page_boxes, boxes, _, height = _read_line(recognizer, image, number=False)
    characters = with_case(characters, page_boxes, height)
    return TextReading("".join(p.label for p in characters), characters, boxes)


def _read_line(recognizer, image, number):
    """The line's characters (a `Prediction` each), their boxes in the page and in the image,
    the marks left out ((box, fill) each) and the characters' height. A `number` is read
    with the verifier and as digits alone (the letters model's digit classes)."""
    ink, scale, (page_left, page_top) = page_ink(image)
    ink, labels, stats, kept = strokes(ink)
    cleaned = without_ruled_lines(ink, INK_THRESHOLD)
    if cleaned is not ink:
        ink, labels, stats, kept = strokes(cleaned)
    height = digits_height(stats, kept)
    # Strokes wide enough to be digits that touch, and narrower ones the pair reader reads as
    # two (two 1s), are cut at straight columns, and also along paths, which part digits that
    # lean into each other, unless the straight cuts read them surely: the cutting whose
    # grouping reads more surely is the reading.
    wide = wide_strokes(stats, kept, height)
    paired = _pair_readings(ink, labels, stats, kept, height, wide) if number else {}
    narrow = [label for label, p in paired.items() if label not in wide and _a_pair(p)]
    cut = wide + narrow
    framed = {}  # Runs the two cuttings share are framed once.
    line = _grouped(recognizer, ink, labels, stats, kept, height, (), narrow, paired, number, framed)
    if cut and not _surely_read(line, cut):
        bent = _grouped(recognizer, ink, labels, stats, kept, height, cut, narrow, paired, number, framed)
        line = max(line, bent, key=lambda grouping: grouping.score)
    if not line.chosen:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    pieces = line.pieces
    digits, page_boxes = [], []
    for run in line.chosen:
        if run in line.pairs:
            (left, right), middle = line.pairs[run]
            digits += [left, right]
            page_boxes += [box_of(pieces[run[0] : middle]), box_of(pieces[middle : run[1]])]
        else:
            digits.append(line.predictions[run])
            page_boxes.append(box_of(pieces[slice(*run)]))
    boxes = [
        tuple(int(round(value)) for value in (left * scale + page_left, top * scale + page_top, (right - left) * scale, (bottom - top) * scale))
        for left, top, right, bottom in page_boxes
    ]
    return digits, page_boxes, boxes, [(pieces[i].box, line.fills[i]) for i in line.marks if pieces[i].whole], height


@dataclass(frozen=True)
class _Grouping:
    """One cutting of a line into pieces, grouped: its total log score, each run's score, the
    runs chosen as digits with their `Prediction`s, the pieces left out, each piece's share
    of its box, and the runs chosen as two touching digits."""
    score: float
    pieces: list
    scores: dict  # Each run's score, {(first, end): probability}.
    chosen: list
    marks: list
    predictions: dict
    fills: list
    # {run: ((left, right) `Prediction`s, the piece where the right one begins)}.
    pairs: dict = dataclasses.field(default_factory=dict)


def _grouped(recognizer, ink, labels, stats, kept, height, along_paths, narrow, paired, number, framed):
    """The line cut into pieces (the wide strokes and the `narrow` ones named; the strokes
    `along_paths` along paths, the others straight) and grouped into the digits that read most
    surely, a stroke cut into a run of pieces also as the pair `paired` reads it; a `_Grouping`
    with no digits when no run could be read. `framed` keeps each run's inputs (`_framed`) by
    its pixels, for the next cutting."""
    pieces = cut_into_pieces(ink, labels, stats, kept, height, along_paths, narrow, necks=number)
    tall = [piece.box for piece in pieces if piece.height >= TALL * height]
    # A dot below the line's middle, a stroke of its own sharing no column with any other
    # piece (the foot of a broken 1 has the rest over it), is a separator, never a digit's
    # part. Paths may cut every digit shorter than a digit's height: then there is no line
    # to tell a dot by, and no separator.
    fills = [stats[piece.label, 4] / (piece.width * piece.height) if piece.whole else 0.0 for piece in pieces]
    line = line_of(tall) if tall else None
    separate = [
        line is not None and point(piece.box, fill, height, line) is not None
        and beside(piece.box, [other.box for other in pieces if other is not piece])
        for piece, fill in zip(pieces, fills)
    ]

    readable = {}
    for run in runs(pieces, height, separate, WIDEST_DIGIT if number else WIDEST_LETTER):
        key = tuple((piece.label, piece.top, piece.start.tobytes(), piece.end.tobytes()) for piece in pieces[slice(*run)])
        if key not in framed:
            framed[key] = _framed(crop(ink, labels, pieces[slice(*run)]), height, number)
        if framed[key] is not None:
            readable[run] = framed[key]
    if not readable:
        return _Grouping(-np.inf, pieces, {}, [], [], {}, fills)
    paired = _pair_runs(pieces, paired)
    inputs = {run: model_input for run, (model_input, _) in readable.items()}
    verifier = load_verifier() if number else None
    if verifier:
        whole = dict(zip(readable, verifier(np.stack([verifier_input for _, verifier_input in readable.values()]))))
    else:
        whole = dict.fromkeys(readable, 1.0)
    # The model reads only the runs the verifier deems may be whole digits; the others score
    # at most the verifier's probability, and are read only if chosen all the same.
    predictions = _read(recognizer, {run: inputs[run] for run in readable if whole[run] >= READ_FROM}, number)
    scores = {run: whole[run] * (predictions[run].confidence if run in predictions else 1.0) for run in readable}
    pair_scores = {run: score for run, (_, score) in paired.items()}
    each = 1.0 if number else EACH_CHARACTER
    chosen, marks, score, pairs = best_grouping(scores, left_out(pieces, height, separate), pair_scores, each)
    singles = [run for run in chosen if run not in pairs]
    predictions.update(_read(recognizer, {run: inputs[run] for run in singles if run not in predictions}, number))
    pairs = {run: _as_two_digits(paired[run][0], run, ink, labels, pieces, predictions) for run in pairs}
    # A run read as a pair scores as the pair.
    scores.update({run: pair_scores[run] for run in pairs})
    return _Grouping(score, pieces, scores, chosen, marks, predictions, fills, pairs)


def _pair_readings(ink, labels, stats, kept, height, wide):
    """{label: the pair reader's probabilities} for each kept stroke that may be two touching
    digits, read whole in one call: the `wide` ones no wider than two digits side by side, and
    the narrower ones of a digit's height (two 1s); none without a pair reader."""
    wide = set(wide)
    found = [
        int(label) for label in np.flatnonzero(kept)
        if (stats[label, 2] <= WIDEST_PAIR * height if label in wide else stats[label, 3] >= TALL * height)
    ]
    reader = load_pair_reader() if found else None
    if reader is None:
        return {}
    read = reader(np.stack([as_the_pair_reader_sees(stroke(ink, labels, stats, label)) for label in found]))
    return dict(zip(found, read))


def _a_pair(probabilities):
    """Whether the pair reader's `probabilities` read a stroke as two digits more likely than
    as no pair."""
    return probabilities[NOT_A_PAIR] < 0.5


def _pair_runs(pieces, paired):
    """{run: (the pair reader's probabilities, the score of its likeliest pair)} for the
    strokes `paired` read that are cut into a run of pieces, each the run of all its pieces,
    and that the reader reads as a pair more likely than not (a 6 it finds 40% "10" and 60%
    no pair is no pair, however unsure the digit model is of it)."""
    found, whole = {}, stroke_runs(pieces)
    for label, p in paired.items():
        first, end = whole.get(label, (0, 0))
        if _a_pair(p) and end - first > 1:
            found[(first, end)] = (p, float(p[:NOT_A_PAIR].max()))
    return found


def _as_two_digits(probabilities, run, ink, labels, pieces, predictions):
    """A pair reading as two `Prediction`s, each with the image of its side of the stroke, and
    the piece where the right digit begins: the cut between the stroke's pieces where the
    digit model, where it read both sides, most agrees with the pair."""
    first, end = run
    sides = pair_digits(probabilities)
    digits = [int(np.argmax(side)) for side in sides]

    def agreement(middle):
        read = (predictions.get((first, middle)), predictions.get((middle, end)))
        return sum(float(p.probabilities[digit]) for p, digit in zip(read, digits) if p is not None)

    middle = max(range(first + 1, end), key=lambda at: (agreement(at), -abs(2 * at - first - end)))
    crops = (crop(ink, labels, pieces[first:middle]), crop(ink, labels, pieces[middle:end]))
    return tuple(Prediction.of(side, _seen(part)) for side, part in zip(sides, crops)), middle


def _seen(part):
    """The digit model's input for a part of a stroke; blank when it holds too little ink."""
    try:
        return as_the_reader_sees(part)
    except NoDigitError:
        return np.zeros((28, 28), np.float32)


def _surely_read(line, wide):
    """Whether every digit a grouping reads from the strokes `wide` (their labels) scores
    at least `SURE`."""
    return all(
        line.scores[run] >= SURE for run in line.chosen if any(piece.label in wide for piece in line.pieces[slice(*run)])
    )


def _framed(part, height, number):
    """A run's (28, 28) inputs, to the model and, for a number, to the verifier; None when
    it holds no digit."""
    try:
        return as_the_reader_sees(part, dots=not number), as_the_verifier_sees(part, height) if number else None
    except NoDigitError:
        return None


def _read(recognizer, inputs, digits_only):
    """{run: Prediction} for the runs' (28, 28) inputs, in one call of the model; with
    `digits_only`, among the digits alone."""
    if not inputs:
        return {}
    probabilities, classes = recognizer.probabilities(np.stack(list(inputs.values()))), recognizer.classes
    if digits_only and classes != DIGITS:
        probabilities = probabilities[:, : len(DIGITS)]
        probabilities, classes = probabilities / probabilities.sum(axis=1, keepdims=True), DIGITS
    return {run: Prediction.of(p, x, classes) for (run, x), p in zip(inputs.items(), probabilities)}
