"""The first stage of reading a number: the page's ink cut into pieces, more than there are
digits, so that every digit is a run of consecutive pieces.

Ruled lines go first: a long thin horizontal stroke is the form's, not the writer's, and
where a digit crosses it the digit's stroke is kept. Then each connected stroke is a piece,
and a stroke wide enough to be digits that touch is cut, at the columns where it has least
ink, into several: which of the cuts are between digits is for the recogniser to say. Such
a stroke may also be digits that lean into each other, which no column parts (a slanted 1
against its neighbour): the reader also cuts it along paths that bend around their strokes.
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from digitrec.preprocessing.ink import components

# A ruled line runs horizontally across at least this share of the ink's width and this many
# times the tallest other stroke's height; its lines are at most this share of the ink's
# width thick, all of them together.
RULED_LINE_LENGTH = 0.6
LINE_OVER_DIGITS = 1.5
RULED_LINE_THICKNESS = 0.08
# The digits' height is that of the tallest strokes: the median of those at least this share
# of the tallest one's, so that one long stroke does not stand for the line.
TALL = 0.7
# A stroke wider than this many times the digits' height may be digits that touch: it is cut,
# unless it is shorter than this share of their height: then it is a mark, part of a digit or
# a dash, a dot or a speck.
TOUCHING_ASPECT = 0.6
MARK_HEIGHT = 0.45
# A path cutting a wide stroke may wander this share of the height either side of its column
# (as far as slanted digits reach under each other).
PATH_REACH = 0.3
# A cut leaves at least this much of the digits' height on either side (a 1 is narrow), and
# a stroke is cut at most this many times per height of its width.
NARROWEST_DIGIT = 0.15
CUTS_PER_HEIGHT = 2.5
# A number's stroke is also cut at each neck: a column whose ink spans at least this share of
# the height less, top to bottom, than the tallest within this share of the height on either
# side, both of those of a digit's height. (Not text's: letters have no verifier to refuse
# the halves of a w or an M cut there.)
NECK_DEPTH = 0.15
NECK_REACH = 0.35


@dataclass(frozen=True, eq=False)
class Piece:
    label: int  # The connected stroke it is from, in the page's labels.
    # The stroke's pixels in columns start[i]:end[i] of its row top + i are the piece's: the
    # same columns in every row for a straight cut, a path's for a cut along one.
    top: int
    start: np.ndarray
    end: np.ndarray
    box: tuple  # (left, top, right, bottom) of its pixels, in the page.
    whole: bool  # Whether it is the whole stroke, not cut.

    @property
    def height(self):
        return self.box[3] - self.box[1]

    @property
    def width(self):
        return self.box[2] - self.box[0]


def without_ruled_lines(ink, threshold):
    """The ink map with its ruled lines taken out, but not the strokes that cross them; the
    map itself when it has none."""
    binary = (ink > threshold).view(np.uint8)
    width = cv2.boundingRect(binary)[2]
    lines = _long_rows(binary, RULED_LINE_LENGTH * width)
    if lines.any():
        # Longer, too, than the tallest of the other strokes is tall: a 7's bar is no line.
        rest = components(binary & (1 - lines))[2]
        tallest = int(rest[1:, cv2.CC_STAT_HEIGHT].max()) if len(rest) > 1 else 0
        lines = _long_rows(binary, max(RULED_LINE_LENGTH * width, LINE_OVER_DIGITS * tallest))
    per_column = lines.sum(axis=0)
    thickest = int(per_column.max())
    if not thickest or thickest > RULED_LINE_THICKNESS * width:
        return ink
    # Where a stroke comes down to a line and goes on below it, it crosses it: bridge the
    # line's rows there, as the writer's pen did.
    rest = binary & (1 - lines)
    thickness = max(1, int(np.median(per_column[per_column > 0])))
    crossing = cv2.morphologyEx(rest, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, thickness + 3)))
    removed = lines.astype(bool) & ~crossing.astype(bool)
    # The lines' soft edges go with them.
    removed = cv2.dilate(removed.view(np.uint8), np.ones((3, 1), np.uint8)).astype(bool) & ~rest.astype(bool)
    return np.where(removed, 0.0, ink).astype(np.float32)


def _long_rows(binary, length):
    """The pixels of horizontal runs of ink at least `length` long."""
    length = max(3, round(length))
    # A row with fewer ink pixels than that has no such run: most pages have none, and the
    # opening costs milliseconds.
    if cv2.reduce(binary, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).max() < length:
        return np.zeros_like(binary)
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))


def digits_height(stats, kept):
    """The height of the digits on a page, from its strokes' statistics (OpenCV's)."""
    heights = stats[kept, 3]
    return float(np.median(heights[heights >= TALL * heights.max()]))


def wide_strokes(stats, kept, height):
    """The kept strokes wide enough to be digits that touch: those `cut_into_pieces` cuts."""
    return [
        int(label) for label in np.flatnonzero(kept)
        if stats[label, 2] > TOUCHING_ASPECT * height and stats[label, 3] >= MARK_HEIGHT * height
    ]


def cut_into_pieces(ink, labels, stats, kept, height, along_paths=(), narrow=(), necks=False):
    """The pieces of the page's kept strokes, left to right by their middle: each stroke
    whole, or cut where it may be digits that touch (the wide ones, and the `narrow` ones
    named), digits `height` pixels tall; with `necks`, also at its necks (`_necks`). The
    strokes in `along_paths` are cut along the paths that cross least ink near those columns,
    which part digits that lean into each other, where a straight cut leaves a piece of one
    on the other."""
    pieces = []
    wide = set(wide_strokes(stats, kept, height)) | set(narrow)
    for label in np.flatnonzero(kept):
        left, top, width, tall = (int(value) for value in stats[label, :4])
        if label not in wide:
            pieces.append(Piece(int(label), top, np.full(tall, left), np.full(tall, left + width), (left, top, left + width, top + tall), True))
            continue
        own = stroke(ink, labels, stats, label)
        columns = _cuts(own, height, necks)
        cuts = _paths(own, columns, height) if label in along_paths else [np.full(tall, column) for column in columns]
        edges = [np.zeros(tall, int), *cuts, np.full(tall, width)]
        inside = np.arange(width)
        for start, end in zip(edges, edges[1:]):
            part = (own > 0) & (inside >= start[:, None]) & (inside < end[:, None])
            x, y, w, h = cv2.boundingRect(part.view(np.uint8))
            if w:
                box = (left + x, top + y, left + x + w, top + y + h)
                pieces.append(Piece(int(label), top, left + start, left + end, box, len(edges) == 2))
    return sorted(pieces, key=lambda piece: piece.box[0] + piece.box[2])


def _cuts(own, height, necks):
    """Columns of one stroke to cut at, left to right: those with the least ink, and with
    `necks` its necks, apart from one another and from the edges by a narrow digit's width."""
    margin = max(1, int(NARROWEST_DIGIT * height))
    width = own.shape[1]
    if width <= 2 * margin:
        return []
    profile = cv2.blur(own.sum(axis=0, dtype=np.float32)[None], (3, 1))[0]
    most = max(1, round(CUTS_PER_HEIGHT * width / height))
    cuts = []
    for column in np.argsort(profile[margin : width - margin], kind="stable") + margin:
        if all(abs(column - cut) >= margin for cut in cuts):
            cuts.append(int(column))
            if len(cuts) == most:
                break
    for column in _necks(own, height, margin) if necks else ():
        if all(abs(column - cut) >= margin for cut in cuts):
            cuts.append(column)
    return sorted(cuts)


def _necks(own, height, margin):
    """Columns where a stroke narrows from top and bottom between two parts of a digit's
    height, deepest first: where two round digits (a chain of 0s) overlap, their loops cross
    and the column holds more ink than their middles, but the outline dips in from above and
    below."""
    inked = own > 0
    rows = np.arange(own.shape[0])[:, None]
    extent = np.where(inked.any(axis=0), np.where(inked, rows, -1).max(axis=0) - np.where(inked, rows, own.shape[0]).min(axis=0), 0)
    width, reach = len(extent), max(1, int(NECK_REACH * height))
    # The tallest within reach on the left of each column, and on its right.
    none = np.zeros(reach, extent.dtype)
    left = sliding_window_view(np.concatenate([none, extent]), reach)[:width].max(axis=1)
    right = sliding_window_view(np.concatenate([extent, none]), reach)[1 : width + 1].max(axis=1)
    beside = np.minimum(left, right)
    depth = beside - extent
    found = (depth >= NECK_DEPTH * height) & (beside >= TALL * height)
    found[:margin] = found[width - margin :] = False
    columns = np.flatnonzero(found)
    return [int(column) for column in columns[np.argsort(-depth[columns], kind="stable")]]


def _paths(own, columns, height):
    """For each cut column, the top-to-bottom path through the stroke `own` that crosses the
    least ink, moving at most a column a row and at most `PATH_REACH` of the height from its
    column; each path to the right of the one before it."""
    tall, width = own.shape
    reach = max(1, int(PATH_REACH * height))
    # A step aside costs a little, so that of paths crossing as much ink the straightest wins.
    lean = 0.02 * float(own.max(initial=0.0))
    paths = []
    for column in columns:
        low, high = max(1, column - reach), min(width - 1, column + reach + 1)
        # Ties go to the column itself: a step aside costs a little more than none.
        cost = own[:, low:high].astype(np.float32) + np.abs(np.arange(low, high) - column) * 1e-3 * lean
        # totals[row, j]: the least ink of a path from the top row down to (row, low + j).
        totals = np.empty_like(cost)
        totals[0] = cost[0]
        aside = np.full(high - low + 2, np.inf)
        for row in range(1, tall):
            aside[1:-1] = totals[row - 1] + lean
            np.minimum(np.minimum(aside[:-2], aside[2:]), totals[row - 1], out=totals[row])
            totals[row] += cost[row]
        # Back up from the best foot, each row to the neighbour it came from.
        path = np.empty(tall, int)
        path[-1] = int(totals[-1].argmin())
        for row in range(tall - 1, 0, -1):
            j, first = path[row], max(0, path[row] - 1)
            options = totals[row - 1, first : j + 2] + lean
            options[j - first] = totals[row - 1, j]
            path[row - 1] = first + int(options.argmin())
        path += low
        if paths:
            path = np.maximum(path, paths[-1] + 1)
        paths.append(np.minimum(path, width - 1))
    return paths


def box_of(pieces):
    """The (left, top, right, bottom) box of some pieces' pixels, in the page."""
    return (
        min(piece.box[0] for piece in pieces), min(piece.box[1] for piece in pieces),
        max(piece.box[2] for piece in pieces), max(piece.box[3] for piece in pieces),
    )


def stroke(ink, labels, stats, label):
    """The ink of one stroke alone, cut out to its box."""
    left, top, width, tall = (int(value) for value in stats[label, :4])
    return np.where(labels[top : top + tall, left : left + width] == label, ink[top : top + tall, left : left + width], 0.0)


def crop(ink, labels, pieces):
    """The ink of some pieces alone, cut out to their box (`box_of`)."""
    left, top, right, bottom = box_of(pieces)
    window = labels[top:bottom, left:right]
    own = np.zeros(window.shape, bool)
    for piece in pieces:
        # The piece's stroke may reach beyond the window: its rows and columns inside it.
        first, last = max(top, piece.top), min(bottom, piece.top + len(piece.start))
        start, end = piece.start[first - piece.top : last - piece.top], piece.end[first - piece.top : last - piece.top]
        low, high = max(int(start.min()), left), min(int(end.max()), right)
        rows, columns = slice(first - top, last - top), slice(low - left, high - left)
        mine = window[rows, columns] == piece.label
        if (start != low).any() or (end != high).any():
            # Cut along a path: its columns in each row.
            inside = np.arange(low, high)
            mine &= (inside >= start[:, None]) & (inside < end[:, None])
        own[rows, columns] |= mine
    return ink[top:bottom, left:right] * own
