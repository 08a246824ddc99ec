"""MNIST digits drawn anew: redrawn with other pens (their centre line traced with a round
pen of any width, as a sketchpad's brush, a marker or a fine pen would draw them), or written
side by side as a number; MNIST-framed characters written on a line as a word or a code.

The benchmarks draw MNIST's test digits this way; the number reader's verifier learns from
training digits drawn the same way.
"""

import cv2
import numpy as np

from digitrec.preprocessing import ink_box

# Gaps between digits, as shares of their mean width: as people space them, and written close
# (negative: their columns overlap), where some pairs touch.
GAP_BANDS = {"spaced": (0.2, 0.5), "tight": (-0.06, 0.12)}
# Small letters with neither ascender nor descender are written at this share of a capital's
# height; the others (capitals, digits, b d f g h j k l p q t y) as tall as a capital.
AT_X_HEIGHT = set("acemnorsuvwxz")
X_HEIGHT = 0.6


def _thinning_tables():
    """For each of Zhang-Suen's two steps, whether a pixel whose eight neighbours (P2 .. P9,
    clockwise from the top, bit i for P(i + 2)) form each 8-bit code is removed."""
    codes = np.arange(256)
    n = [(codes >> i) & 1 for i in range(8)]
    count = sum(n)
    transitions = sum((n[i] == 0) & (n[(i + 1) % 8] == 1) for i in range(8))
    common = (count >= 2) & (count <= 6) & (transitions == 1)
    first = (n[0] * n[2] * n[4] == 0) & (n[2] * n[4] * n[6] == 0)
    second = (n[0] * n[2] * n[6] == 0) & (n[0] * n[4] * n[6] == 0)
    return [(common & side).astype(np.uint8) for side in (first, second)]


_REMOVED = _thinning_tables()
# Each neighbour's bit in the code: P2 (above) bit 0, then clockwise.
_NEIGHBOUR_BITS = np.float32([[128, 1, 2], [64, 0, 4], [32, 16, 8]])


def thin(mask):
    """Zhang-Suen thinning of a binary mask to one-pixel-wide centre lines."""
    image = (mask > 0).astype(np.uint8)
    while True:
        changed = False
        for removed in _REMOVED:
            codes = cv2.filter2D(image.astype(np.float32), -1, _NEIGHBOUR_BITS, borderType=cv2.BORDER_CONSTANT)
            remove = (image == 1) & (removed[codes.astype(np.uint8)] == 1)
            if remove.any():
                image[remove] = 0
                changed = True
        if not changed:
            return image.astype(bool)


def centre_line(digit, height):
    """The digit's centre line as a mask, scaled so the 28x28 frame is `height` tall, and
    its filled parts: where the writer inked a loop shut, the ink is far wider than the pen,
    and its centre line alone would draw a 9 as a 7."""
    large = cv2.resize(digit, (112, 112), interpolation=cv2.INTER_CUBIC)
    mask = (large > 110).astype(np.uint8)
    skeleton = thin(mask)
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    pen_radius = float(np.median(depth[skeleton])) if skeleton.any() else 0.0
    size = 2 * round(1.8 * pen_radius) + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    filled = cv2.morphologyEx(mask, cv2.MORPH_OPEN, disk) if pen_radius >= 1 else np.zeros_like(mask)
    scale = lambda part: cv2.resize(part.astype(np.float32), (height, height), interpolation=cv2.INTER_LINEAR)
    return scale(skeleton) > 0, scale(filled) > 0.5


def pen(digit, height, radius):
    """The digit redrawn with a round pen of `radius` pixels; float ink in [0, 1], anti-aliased."""
    line, filled = centre_line(digit, height)
    size = 2 * radius + 1
    brush = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    ink = (cv2.dilate(line.astype(np.uint8), brush) | filled).astype(np.float32)
    return cv2.GaussianBlur(ink, (3, 3), 0)


def compose_number(digits, rng, touching=False, gaps=None, slant=0.0, pen_radius=None):
    """MNIST-framed digits written side by side as one number, on a page of white ink on
    black (uint8), and each digit as it was placed there, (left, top, its ink): sizes, gaps and
    baselines vary; with `touching`, one pair's strokes meet (None when that pair's shapes
    cannot meet side by side).

    `gaps` (low, high) draws each gap from that range times the mean width of the two digits
    beside it (negative: their columns overlap); without it, gaps are 0.15 to 0.6 of the
    digits' height. `slant` shears the page (x moves by `slant` times the height above the
    middle), and `pen_radius`, as a fraction of the digits' height, redraws each digit's centre
    line with a round pen of that width."""
    height = rng.uniform(60, 110)  # Of a digit's ink, in pixels.
    inks = []
    for digit in digits:
        size = round(28 * height / 20 * rng.uniform(0.85, 1.15))
        if pen_radius is None:
            ink = cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC)
        else:
            ink = (pen(digit, size, max(0, round(pen_radius * height))) * 255).astype(np.uint8)
        left, top, width, tall = ink_box(ink)
        inks.append(ink[top : top + tall, left : left + width])
    pair = rng.integers(len(digits) - 1) if touching else -1
    margin = round(height / 2)
    widest_gap = max(1.0, gaps[1] if gaps else 0.0)
    page = np.zeros((round(height * 2.2) + 2 * margin, round(sum(i.shape[1] for i in inks) * (1 + widest_gap) + height * len(inks)) + 2 * margin), np.uint8)
    x = end = margin
    placed = []
    for index, ink in enumerate(inks):
        top = round(page.shape[0] / 2 - ink.shape[0] / 2 + rng.uniform(-0.1, 0.1) * height)
        if touching and index == pair + 1:
            x = _touching_position(page, ink, top, end)
            if x is None:
                return None
        region = page[top : top + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink, out=region)
        placed.append((x, top, ink))
        end = x + ink.shape[1]
        if gaps:
            beside = inks[min(index + 1, len(inks) - 1)]
            gap = rng.uniform(*gaps) * (ink.shape[1] + beside.shape[1]) / 2
        else:
            gap = rng.uniform(0.15, 0.6) * height
        x = max(1, round(end + gap))
    if slant:
        page, placed = _slanted(page, placed, slant)
    columns = np.flatnonzero(page.any(axis=0))
    return page[:, : columns[-1] + margin], placed


def _slanted(page, placed, slant):
    """The page sheared by `slant` (`shear`), and the digits' places moved with it (their ink
    as it was)."""
    matrix = _shear_matrix(page.shape[0], slant)
    moved = [(round(x + matrix[0, 2] - slant * (top + ink.shape[0] / 2)), top, ink) for x, top, ink in placed]
    return shear(page, slant), moved


def shear(image, slant):
    """`image` sheared by `slant` about its middle row (x moves by `slant` times the height
    above it), widened to keep every stroke."""
    height, width = image.shape
    size = (round(width + abs(slant) * height), height)
    return cv2.warpAffine(image, _shear_matrix(height, slant), size, flags=cv2.INTER_LINEAR)


def _shear_matrix(height, slant):
    return np.float32([[1, -slant, abs(slant) * height / 2 + slant * height / 2], [0, 1, 0]])


def _touching_position(page, ink, top, start):
    """The first column, going left from `start`, at which `ink` placed there touches the
    strokes already on the page; None if it overlaps them by its whole width first."""
    strokes = lambda image: cv2.connectedComponents((image > 76).astype(np.uint8))[0] - 1
    height, width = ink.shape
    for left in range(start, max(0, start - width), -1):
        window = page[top : top + height, max(0, left - width) : left + width].copy()
        offset = left - max(0, left - width)
        before = strokes(window) + strokes(ink)
        region = window[:, offset : offset + width]
        np.maximum(region, ink, out=region)
        if strokes(window) < before:
            return left
    return None


def compose_text(characters, text, gaps, tall=150, width=None):
    """MNIST-framed characters (white on black) written left to right on one baseline as dark
    ink on a white page (uint8): the characters of `text`, `tall` pixels high, or `X_HEIGHT`
    of that for the small letters written at x-height; `gaps[i]` pixels after character i;
    the page `width` wide, or as wide as the line with a margin."""
    inks = []
    for character, label in zip(characters, text):
        ys, xs = np.nonzero(character > 40)
        ink = character[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        high = int(tall * (X_HEIGHT if label in AT_X_HEIGHT else 1.0))
        inks.append(cv2.resize(ink, (max(8, int(ink.shape[1] * high / ink.shape[0])), high), interpolation=cv2.INTER_CUBIC))
    margin, line = 40, tall + 50
    width = width or 2 * margin + sum(ink.shape[1] for ink in inks) + int(sum(gaps))
    page = np.full((tall + 150, width), 255, np.uint8)
    left = margin
    for ink, gap in zip(inks, gaps):
        high, wide = ink.shape
        region = page[line - high : line, left : left + wide]
        np.minimum(region, 255 - ink[:, : region.shape[1]], out=region)
        left += wide + int(gap)
    return page
