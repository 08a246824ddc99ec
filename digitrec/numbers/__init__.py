"""Reading a whole number: the digits found in an image, each read by the model, left to
right, with the decimal point, comma or minus written between them.

1. pieces: ruled lines out, the ink cut into more pieces than there are digits;
2. grouping: the runs of pieces that read most surely as whole digits, chosen together;
3. marks: the pieces left out that are separators.
"""

from dataclasses import dataclass

import numpy as np

from digitrec.errors import NoDigitError
from digitrec.numbers.grouping import best_grouping, left_out, runs
from digitrec.numbers.marks import beside, line_of, point, text_with_marks
from digitrec.numbers.pieces import box_of, crop, cut_into_pieces, without_ruled_lines
from digitrec.prediction import UNSURE_BELOW, Prediction
from digitrec.preprocessing import page_ink, strokes
from digitrec.preprocessing.ink import INK_THRESHOLD
from digitrec.preprocessing.reading import NO_DIGIT_MESSAGE
from digitrec.verifier import as_the_reader_sees, load_verifier

# The digits' height is that of the tallest pieces: the median of those at least this share
# of the tallest one's, so that one long stroke does not stand for the line.
TALL = 0.7
# Runs that the verifier deems less likely than this to be one whole digit are not read.
READ_FROM = 0.02


@dataclass(frozen=True)
class NumberReading:
    text: str  # The number read, left to right, with its separators: "2026", "-3.14".
    digits: list  # A `Prediction` per digit, in the same order.
    boxes: list  # Each digit's (left, top, width, height) in the input image's pixels.

    @property
    def confidence(self):
        """The probability that every digit is read right: the product of their confidences."""
        return float(np.prod([p.confidence for p in self.digits]))

    @property
    def unsure(self):
        """Whether the weakest digit is unsure."""
        return min(p.confidence for p in self.digits) < UNSURE_BELOW

    def record(self):
        """The reading as JSON takes it: the number, how sure, and each digit with its box."""
        digits = [
            {"digit": p.digit, "confidence": round(p.confidence, 6), "unsure": p.unsure, "box": list(box)}
            for p, box in zip(self.digits, self.boxes)
        ]
        return {"number": self.text, "confidence": round(self.confidence, 6), "unsure": self.unsure, "digits": digits}


def read_number(recognizer, image):
    """Find every digit in `image` and read it with `recognizer`."""
    ink, scale, (page_left, page_top) = page_ink(image)
    ink, labels, stats, kept = strokes(ink)
    cleaned = without_ruled_lines(ink, INK_THRESHOLD)
    if cleaned is not ink:
        ink, labels, stats, kept = strokes(cleaned)
    height = _digits_height(stats, kept)
    pieces = cut_into_pieces(ink, labels, stats, kept, height)
    tall = [piece.box for piece in pieces if piece.height >= TALL * height]
    line = line_of(tall)
    # A dot below the line's middle, a stroke of its own apart from the digits' columns, is a
    # separator, never a digit's part.
    fills = [stats[piece.label, 4] / (piece.width * piece.height) if piece.whole else 0.0 for piece in pieces]
    separate = [point(piece.box, fill, height, line) is not None and beside(piece.box, tall) for piece, fill in zip(pieces, fills)]

    candidates = runs(pieces, height, separate)
    readable, inputs = [], []
    for run in candidates:
        try:
            inputs.append(as_the_reader_sees(crop(ink, labels, pieces[slice(*run)])))
        except NoDigitError:
            continue
        readable.append(run)
    if not readable:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    inputs = dict(zip(readable, inputs))
    verifier = load_verifier()
    whole = dict(zip(readable, verifier(np.stack(list(inputs.values()))))) if verifier else dict.fromkeys(readable, 1.0)
    # The model reads only the runs the verifier deems may be whole digits; the others score
    # at most the verifier's probability, and are read only if chosen all the same.
    predictions = _read(recognizer, {run: inputs[run] for run in readable if whole[run] >= READ_FROM})
    scores = {run: whole[run] * (predictions[run].confidence if run in predictions else 1.0) for run in readable}
    chosen, marks = best_grouping(scores, left_out(pieces, height, separate))
    if not chosen:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    predictions.update(_read(recognizer, {run: inputs[run] for run in chosen if run not in predictions}))

    digits = [predictions[run] for run in chosen]
    page_boxes = [box_of(pieces[slice(*run)]) for run in chosen]
    boxes = [
        tuple(int(round(value)) for value in (left * scale + page_left, top * scale + page_top, (right - left) * scale, (bottom - top) * scale))
        for left, top, right, bottom in page_boxes
    ]
    text = text_with_marks([p.digit for p in digits], page_boxes, [(pieces[i].box, fills[i]) for i in marks if pieces[i].whole], height)
    return NumberReading(text, digits, boxes)


def _digits_height(stats, kept):
    heights = stats[kept, 3]
    return float(np.median(heights[heights >= TALL * heights.max()]))


def _read(recognizer, inputs):
    """{run: Prediction} for the runs' (28, 28) inputs, in one call of the model."""
    if not inputs:
        return {}
    probabilities = recognizer.probabilities(np.stack(list(inputs.values())))
    return {run: Prediction.of(p, x) for (run, x), p in zip(inputs.items(), probabilities)}
