"""The marks between digits that a number's text keeps: a decimal point or comma, a minus
or a dash. Other marks (a speck, a dash or "=" after the last digit) are left out.

Marks are told by their size and place on the line the digits make: its middle and its
baseline, the median of the digits' middles and bottoms.
"""

import numpy as np

# A dot fits in a square of this share of the digits' height, is at most this many times as
# long one way as the other, fills this share of its box at least (a fragment of a stroke
# does not), and sits below the line's middle by at least this share of the height.
DOT_SIZE = 0.3
DOT_ASPECT = 2.5
DOT_FILL = 0.4
DOT_BELOW_MIDDLE = 0.1
# A comma is taller than wide, at most this share of the digits' height tall, fills at least
# this share of its box, starts below the line's middle and reaches this far below the baseline.
COMMA_SIZE = 0.45
COMMA_FILL = 0.25
COMMA_BELOW_BASELINE = 0.08
# A dash is at least this many times as wide as it is tall and this share of the digits'
# height wide, and its middle is within this share of the height from the line's middle.
DASH_ASPECT = 2.0
DASH_WIDTH = 0.2
DASH_OFF_MIDDLE = 0.25


def line_of(boxes):
    """The middle row and the baseline of a line of digits' boxes (left, top, right, bottom)."""
    return float(np.median([(top + bottom) / 2 for _, top, _, bottom in boxes])), float(np.median([bottom for *_, bottom in boxes]))


def point(box, fill, height, line):
    """"." or "," when a mark's box, its ink filling `fill` of it, is a decimal point's or a
    comma's on a `line` (middle, baseline) of digits `height` tall; None otherwise."""
    middle, baseline = line
    left, top, right, bottom = box
    width, tall = right - left, bottom - top
    if tall > width and tall <= COMMA_SIZE * height and fill >= COMMA_FILL and top >= middle and bottom >= baseline + COMMA_BELOW_BASELINE * height:
        return ","
    longer, shorter = max(width, tall), max(1, min(width, tall))
    if longer <= DOT_SIZE * height and longer <= DOT_ASPECT * shorter and fill >= DOT_FILL and (top + bottom) / 2 >= middle + DOT_BELOW_MIDDLE * height:
        return "."
    return None


def beside(box, boxes):
    """Whether a box shares no column with any of `boxes`."""
    return all(min(box[2], other[2]) <= max(box[0], other[0]) for other in boxes)


def separator(box, fill, height, line, before, after):
    """The character a mark stands for ("." "," "-") with `before` digits to its left and
    `after` to its right on a `line` (middle, baseline), or None when it is not kept."""
    middle, _ = line
    left, top, right, bottom = box
    width, tall = right - left, bottom - top
    mark = point(box, fill, height, line)
    if mark:
        return mark if before and after else None  # Not a full stop or a speck after the number.
    dash = width >= DASH_ASPECT * tall and width >= DASH_WIDTH * height and abs((top + bottom) / 2 - middle) <= DASH_OFF_MIDDLE * height
    if dash and after:
        return "-"  # A minus sign, or a dash between groups of digits.
    return None


def text_with_marks(digits, digit_boxes, marks, height):
    """The number's text: its digits, with the separators among the marks, (box, fill) each,
    that stand between them, apart from the digits' columns."""
    line = line_of(digit_boxes)
    centres = [(left + right) / 2 for left, _, right, _ in digit_boxes]
    boxes = [box for box, _ in marks]
    inserted = {}
    for box, fill in marks:
        if not beside(box, digit_boxes) or not beside(box, [other for other in boxes if other is not box]):
            continue  # Part of a digit's columns, or stacked with another mark: an "=".
        position = sum(centre < (box[0] + box[2]) / 2 for centre in centres)
        character = separator(box, fill, height, line, position, len(digits) - position)
        if character and position not in inserted:
            inserted[position] = character
    return "".join(inserted.get(position, "") + str(digit) for position, digit in enumerate(digits))
