"""The second stage: which runs of consecutive pieces are digits, chosen by the recogniser.

Every run of up to `MOST_PIECES` pieces that could be one digit, and every stroke whole, is
read, all in one batch, by the digit model and by the verifier (the probability that the run
is one whole digit, not a part of one or two). A run's score is the log of the model's confidence times the
verifier's probability; dynamic programming picks the grouping of all the pieces into digits
(and marks left out: specks, dots, dashes) with the highest total score. A two-stroke 4 is
one digit because both strokes together read more surely than each alone; touching digits
are apart because each reads more surely than the two as one. A stroke the pair reader reads
as two touching digits is one more choice: one run worth two digits, at its score. Text,
read without the verifier, pays a factor for each character chosen.
"""

import numpy as np

from digitrec.numbers.pieces import MARK_HEIGHT, box_of

# A run of pieces is read as a digit if it holds at most this many pieces, is at most this
# many times as wide as the digits are tall, and has no empty columns wider than these shares
# of the digits' height between its pieces (the parts of a digit overlap or nearly touch).
MOST_PIECES = 4
WIDEST_DIGIT = 1.3
# A whole stroke, however many pieces it was cut into, is read as one digit up to this wide.
WIDEST_STROKE = 1.8
WIDEST_INNER_GAP = 0.15
TALL_INNER_GAP = 0.05
# A mark (a piece shorter than `MARK_HEIGHT` of the digits) that is no part of a digit is left
# out at the score of this probability.
LEFT_OUT = 0.5
LEFT_OUT_CUT = 0.05
# Two pieces are one digit's when their columns overlap by this much of the narrower one's
# width and the shorter is at most this share of the taller's height: a digit over its part.
STACKED_OVERLAP = 0.5
STACKED_HEIGHT = 0.75
# Logs of scores are taken of at least this, so a score of 0 costs much but not everything.
FLOOR = 1e-6
# The pair reader reads a stroke as two digits without the digit model's word on either:
# its reading costs this factor, so that where the digit model reads the stroke's pieces
# nearly as surely, the digit model's reading wins (0.85 chosen among 1, 0.95, 0.85, 0.7 and
# 0.5 on numbers of MNIST's validation digits).
PAIR_FACTOR = 0.85


def runs(pieces, height, separate, widest=WIDEST_DIGIT):
    """The (first, end) runs of consecutive pieces that could be one digit, at most `widest`
    times as wide as `height`, `separate[i]` telling pieces that are never part of a digit (a
    decimal point)."""
    apart = _apart(pieces)
    found = []
    for first in range(len(pieces)):
        if not apart[first]:
            continue
        for end in range(first + 1, min(first + MOST_PIECES, len(pieces)) + 1):
            run = pieces[first:end]
            if separate[end - 1] or _width(run) > widest * height or not _gaps_fit(run, height):
                break
            if apart[end] and _height(run) >= MARK_HEIGHT * height:
                found.append((first, end))
    # A whole stroke may be one digit (a 0 written flat) or several: the verifier and the
    # model say which, however wide it is and however many pieces it was cut into.
    for first, end in stroke_runs(pieces).values():
        run = pieces[first:end]
        if (
            (first, end) not in found and apart[first] and apart[end] and not any(separate[first:end])
            and _width(run) <= WIDEST_STROKE * height and _height(run) >= MARK_HEIGHT * height
        ):
            found.append((first, end))
    return found


def stroke_runs(pieces):
    """{label: (first, end)}: the run of all the pieces of each stroke whose pieces are in a row."""
    at = {}
    for index, piece in enumerate(pieces):
        at.setdefault(piece.label, []).append(index)
    return {label: (indices[0], indices[-1] + 1) for label, indices in at.items() if len(indices) == indices[-1] + 1 - indices[0]}


def left_out(pieces, height, separate):
    """For each piece, the probability that it is no part of a digit: 1 for a separate mark,
    `LEFT_OUT` for a mark that could be a digit's part (less for a piece cut from a stroke,
    which some digit's ink runs on into, or stacked with others into a digit's height), next
    to none for a digit's height."""
    stacked = _in_tall_stacks(pieces, height)
    return [
        1.0 if alone else FLOOR if piece.height >= MARK_HEIGHT * height else LEFT_OUT if piece.whole and not tall else LEFT_OUT_CUT
        for piece, alone, tall in zip(pieces, separate, stacked)
    ]


def _in_tall_stacks(pieces, height):
    """For each piece, whether it is stacked with others (no boundary between them parts two
    digits) that are a digit's height together: a 5's flag over its body, each short."""
    bounds = [at for at, apart in enumerate(_apart(pieces)) if apart]
    stacked = [False] * len(pieces)
    for first, end in zip(bounds, bounds[1:]):
        if end - first > 1 and _height(pieces[first:end]) >= MARK_HEIGHT * height:
            stacked[first:end] = [True] * (end - first)
    return stacked


def best_grouping(scores, left_out, pairs=None, each=1.0):
    """The digits (first, end), the pieces left out (indices), the total log score of the
    best grouping, and the runs among the digits read as two touching digits, given each run's
    score in `scores` {(first, end): probability}, each piece's `left_out`, and the score of
    the runs the pair reader reads as two digits in `pairs` (same form; each costs
    `PAIR_FACTOR`); each digit chosen costs a factor `each`, a prior against reading more of
    them."""
    pairs = pairs or {}
    cost = {"digit": np.log(each), "pair": 2 * np.log(each) + np.log(PAIR_FACTOR)}
    count = len(left_out)
    best = [0.0] + [-np.inf] * count
    choice = [None] * (count + 1)
    for end in range(1, count + 1):
        best[end], choice[end] = best[end - 1] + np.log(left_out[end - 1]), ("mark", end - 1)
        for first in range(0, end):
            for kind, score in (("digit", scores.get((first, end))), ("pair", pairs.get((first, end)))):
                if score is None:
                    continue
                total = best[first] + np.log(max(score, FLOOR)) + cost[kind]
                if total > best[end]:
                    best[end], choice[end] = total, (kind, first)
    digits, paired, marks, end = [], [], [], count
    while end > 0:
        kind, at = choice[end]
        if kind == "mark":
            marks.append(at)
        else:
            digits.append((at, end))
            if kind == "pair":
                paired.append((at, end))
        end = at
    return digits[::-1], marks[::-1], float(best[count]), paired


def _apart(pieces):
    """For each boundary 0..len(pieces), whether the pieces before it and after it can be
    in different digits: no piece on one side is stacked over its part on the other."""
    apart = [True] * (len(pieces) + 1)
    for first, before in enumerate(pieces):
        for second in range(first + 1, len(pieces)):
            if _stacked(before.box, pieces[second].box):
                # Pieces `first` and `second` are one digit's: no boundary between them.
                apart[first + 1 : second + 1] = [False] * (second - first)
    return apart


def _stacked(box1, box2):
    """Whether two boxes are one digit's: one over the other's columns, and either far
    shorter (a 5's flag over its body) or above or below it (the halves of a broken 1)."""
    overlap = min(box1[2], box2[2]) - max(box1[0], box2[0])
    narrower = min(box1[2] - box1[0], box2[2] - box2[0])
    heights = sorted((box1[3] - box1[1], box2[3] - box2[1]))
    rows = min(box1[3], box2[3]) - max(box1[1], box2[1])
    return overlap >= STACKED_OVERLAP * narrower and (heights[0] <= STACKED_HEIGHT * heights[1] or rows < STACKED_OVERLAP * heights[0])


def _width(run):
    return max(piece.box[2] for piece in run) - min(piece.box[0] for piece in run)


def _height(run):
    """A run's height: a 5 written in two strokes is a digit's height though neither is."""
    left, top, right, bottom = box_of(run)
    return bottom - top


def _gaps_fit(run, height):
    """Whether the empty columns between a run's pieces are few enough for one digit's: at
    most `WIDEST_INNER_GAP` of the height beside a mark (a 5's flag), `TALL_INNER_GAP` between
    two tall pieces (the strokes of a 4 that do not quite meet)."""
    pieces = sorted(run, key=lambda piece: piece.box[0])
    reach = pieces[0]
    for piece in pieces[1:]:
        gap = piece.box[0] - reach.box[2]
        tall = min(piece.height, reach.height) >= MARK_HEIGHT * height
        if gap > (TALL_INNER_GAP if tall else WIDEST_INNER_GAP) * height:
            return False
        reach = max(reach, piece, key=lambda p: p.box[2])
    return True
