"""Finding the ink: an image turned into a map where 1 is ink and 0 background, whatever
its polarity and light; the sheet of paper found if a photo shows a table around it; the
digit's strokes told from specks."""

import functools
from typing import NamedTuple

import cv2
import numpy as np

from digitrec.errors import NoDigitError
from digitrec.preprocessing.reading import (
    NO_DIGIT_MESSAGE,
    NUMBER_SIZE,
    STROKES_SIZE,
    floats,
    normalize_array,
    read_image,
    shrink,
    shrink_factor,
    strokes_cut_out,
    to_array,
)

# The ink has to stand out from the background by this much (of full scale) to count.
MIN_CONTRAST = 0.1
# After stretching, pixels above this are ink for finding the digit and its specks.
INK_THRESHOLD = 0.3
# Components smaller than this fraction of the largest one are specks, not parts of the digit.
SPECK_FRACTION = 0.05
# Ink this faint (of full scale) still counts in a small image with a flat background: a
# digit stored on a scale of 0 to 16, as scikit-learn's are.
FAINTEST = 0.02
# Images smaller than this on their shorter side are not photos: no sheet of paper or uneven
# light to look for, and the ink may fill the frame.
PHOTO_SIZE = 64
# Where border and thresholding disagree on which is ink, the ink is the thresholded class
# holding less than this much under half of the pixels.
CLEAR_MINORITY = 0.1
# A border with fewer of its pixels than this at the level across from its median is all
# background: the ink does not reach it.
CLEAN_BORDER = 0.01
# Whole-image questions (is there a sheet of paper, which blocks hold ink) are asked of a copy
# shrunk to at most this on its longer side, a few hundred times fewer pixels than a photo;
# only the parts the answers point at are then looked at in full.
PREVIEW_SIZE = 128
# The surface that evens out the light is fitted to this many pixels of the border.
BORDER_SAMPLES = 1000
# That surface is evaluated on a coarse grid of this many points a side, then resized.
SURFACE_GRID = 33
# The digit's region is found on a preview of at most this on its longer side.
REGION_PREVIEW = 64


class Light(NamedTuple):
    """How an image's gray levels become ink: whether the ink is the dark side, and the
    paper's uneven light as a quadratic surface fitted to the image's border."""

    dark_on_light: bool
    # The surface's six coefficients (1, x, y, x², xy, y², for x and y from -0.5 to 0.5 across
    # the image), or None where the light is even.
    surface: np.ndarray | None
    shape: tuple  # The whole image's (height, width), which x and y are relative to.


def ink_map(image):
    """An (H, W) float32 map in [0, 1] where 1 is ink, whatever the input's form and polarity:
    for an image of one digit, only the part around its strokes, cut out on a preview."""
    if isinstance(image, dict):
        return _sketchpad_ink(image)
    # 8-bit images stay 8-bit until the digit's region is cut out: turning a whole page into
    # floats costs more than everything done to it before the cut.
    gray = _inside_sheet(_to_gray(to_array(image, gray=True, eight_bit=True)))
    light = lighting(gray)
    if min(gray.shape) < PHOTO_SIZE:
        return lit(gray, light)
    return _digit_region(gray, light)


def page_ink(image):
    """The ink map of the whole image, where several digits may be, and how to take its pixel
    coordinates back to the input's: (ink, factor, (left, top)), input = ink * factor + offset."""
    if isinstance(image, dict):
        # Only the strokes, with a margin, so that a wide canvas leaves them all its pixels.
        strokes_only = strokes_cut_out(image, margin=1 / 8)
        if strokes_only is not None:
            alpha, origin = strokes_only
            ink = normalize_array(alpha, NUMBER_SIZE)
            return ink, max(alpha.shape) / max(ink.shape), origin
        image = next((image[key] for key in ("composite", "background") if image.get(key) is not None), None)
    array, longest = read_image(image, NUMBER_SIZE)
    return _ink(_to_gray(array)), longest / max(array.shape[:2]), (0, 0)


def _ink(gray):
    return lit(gray, lighting(gray))


def lighting(gray):
    """The `Light` of a gray image: its polarity, and the surface of its paper's light fitted
    to its border, where only paper shows, so that even a blot of ink stays whole."""
    border = floats(_border_values(gray))
    dark_on_light = _dark_on_light(gray, border)
    light = Light(dark_on_light, None, gray.shape)
    if min(gray.shape) < PHOTO_SIZE:
        # Too small to be a photo, and too small a border to tell paper from ink.
        return light
    values = (1.0 - border if dark_on_light else border).astype(np.float64)
    ordered = np.sort(values)
    if ordered[-len(ordered) // 50] - ordered[len(ordered) // 50] < 0.05:
        return light  # The border is one level, but for a little ink: even light.
    _, _, terms = _border_pixels(*gray.shape)
    coefficients = _least_squares(terms, values)
    # Ink that reaches the border lies well above the paper: fit again without it.
    paper = values - terms @ coefficients < 0.1
    # (np.compress: the rows NumPy's boolean indexing takes, in a third of its time.)
    coefficients = _least_squares(np.compress(paper, terms, axis=0), values[paper])
    height, width = gray.shape
    light = light._replace(surface=coefficients.astype(np.float32))
    low, high = cv2.minMaxLoc(_surface(light, (SURFACE_GRID, SURFACE_GRID), (-0.5, height - 0.5), (-0.5, width - 0.5)))[:2]
    if high - low < 0.05:
        return light._replace(surface=None)  # Even light: nothing to flatten.
    return light


def _least_squares(terms, values):
    """The coefficients that fit `terms` @ coefficients to `values` best, by the normal
    equations: six unknowns, well conditioned on [-0.5, 0.5] (OpenCV's Cholesky solve: the
    same answer as NumPy's, a third of the time)."""
    return cv2.solve(terms.T @ terms, (terms.T @ values)[:, None], flags=cv2.DECOMP_CHOLESKY)[1][:, 0]


def lit(part, light, top=0, left=0, step=1):
    """The ink map of `part` of a gray image whose `Light` is `light`: the part whose top left
    pixel is at (top, left) in the whole image, shrunk by `step`. Light on paper multiplies what
    it reflects, so where the paper is dim the ink's contrast is smaller too: it is divided back
    out, as well as the background lifted to zero."""
    part = floats(part)
    ink = 1.0 - part if light.dark_on_light else part
    if light.surface is None:
        return ink
    height, width = part.shape
    # Each pixel of the part stands for `step` pixels of the image, centred on their middle.
    rows = (top - 0.5, top - 0.5 + height * step)
    columns = (left - 0.5, left - 0.5 + width * step)
    surface = _surface(light, (min(height, SURFACE_GRID), min(width, SURFACE_GRID)), rows, columns)
    surface = cv2.resize(surface, (width, height), interpolation=cv2.INTER_LINEAR)
    lifted = np.subtract(ink, surface)
    # In place from here: a crop is a few hundred thousand floats, each pass a new array.
    np.subtract(1.0, surface, out=surface)
    lifted /= np.maximum(surface, 0.05, out=surface)
    return np.minimum(np.maximum(lifted, 0.0, out=lifted), 1.0, out=lifted)


def _surface(light, grid, rows, columns):
    """The light's surface on a grid of `grid` (rows, columns) points, the centres of as many
    equal cells spanning `rows` and `columns` (edges, in the image's pixel coordinates)."""
    height, width = light.shape
    # As Python floats, which leave the grid in float32: a NumPy int64 corner (from OpenCV's
    # statistics) would make it, and every pass over the ink after it, float64.
    (top, bottom), (left, right) = map(float, rows), map(float, columns)
    y = (top + (np.arange(grid[0], dtype=np.float32) + 0.5) * (bottom - top) / grid[0]) / height - 0.5
    x = (left + (np.arange(grid[1], dtype=np.float32) + 0.5) * (right - left) / grid[1]) / width - 0.5
    a, b, c, d, e, f = light.surface
    # Grouped by rows, so that only three passes cover the whole grid:
    # (b + e y) x + d x² + (a + c y + f y²).
    surface = np.multiply((b + e * y)[:, None], x[None, :])
    surface += d * x * x
    surface += (a + y * (c + f * y))[:, None]
    return surface


def _digit_region(gray, light):
    """The ink map around the digit's strokes, cut out of the image before anything full-size
    runs: a small digit on a large page costs what the digit does.

    The strokes are found on a preview where each block holds its inkiest pixel, so a
    hairline shows at full strength; the framing then tells them from specks again in the cut,
    at full resolution, where a hairline is still a line. Where the preview finds nothing,
    the whole image goes on, to be judged in full.
    """
    factor = shrink_factor(gray.shape, REGION_PREVIEW)
    box = _strokes_box(lit(pooled(gray, factor, light.dark_on_light), light, step=factor)) if factor > 1 else None
    if box is None:
        return lit(gray, light)
    left, top, right, bottom = (side * factor for side in box)
    # A margin of an eighth of the digit, for the soft edges and specks near its strokes.
    margin = max(factor, max(right - left, bottom - top) // 8)
    top, left = max(0, top - margin), max(0, left - margin)
    bottom, right = min(gray.shape[0], bottom + margin), min(gray.shape[1], right + margin)
    return lit(gray[top:bottom, left:right], light, top, left)


def pooled(pixels, factor, dark_on_light):
    """The image shrunk by a whole `factor`, each block taking its inkiest level (darkest or
    lightest), so that a hairline stays a line at full strength."""
    block = np.ones((factor, factor), np.uint8)
    spread = cv2.erode(pixels, block) if dark_on_light else cv2.dilate(pixels, block)
    height, width = pixels.shape[0] // factor, pixels.shape[1] // factor
    return np.ascontiguousarray(spread[factor // 2 :: factor, factor // 2 :: factor][:height, :width])


def _strokes_box(preview):
    """(left, top, right, bottom) of the strokes in a preview's ink map, specks left out;
    None when nothing stands out."""
    try:
        background, top = _levels(preview)
    except NoDigitError:
        return None
    binary = (preview > background + INK_THRESHOLD * (top - background)).view(np.uint8)
    count, _, stats, _ = components(binary)
    if count <= 1:
        return None
    boxes = stats[_not_specks(stats[1:, cv2.CC_STAT_AREA])]
    left, top = boxes[:, 0].min(), boxes[:, 1].min()
    return left, top, (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()


def _dark_on_light(gray, border):
    """Whether the ink is darker than the background, as pen on paper (not chalk on a board).

    The background is what fills the border, and the ink departs from it furthest. That
    fails when the ink touches every border, as in a digit cut out tightly or stretched to
    fill its frame; so for images that cannot be photos (small ones, and those of two clean
    levels) whose ink reaches the border, the ink is also the minority after thresholding,
    and where the two judgements disagree, a clear minority wins. Where the ink does not
    reach the border, the border is paper whatever the minority: a bold digit cut out with
    only its anti-aliased edge left round it may cover more of its frame than the paper.
    """
    background = _median(border)
    # The darkest and lightest levels in [0, 1], as `floats` gives them for an 8-bit image.
    low, high = (float(level) for level in floats(np.array(cv2.minMaxLoc(gray)[:2], gray.dtype)))
    by_border = background - low > high - background
    sample = floats(_sample(gray))
    if high <= low or (min(gray.shape) >= PHOTO_SIZE and not _two_levels(sample, low, high)):
        return by_border
    if np.mean(np.abs(border - background) > 0.5 * (high - low)) < CLEAN_BORDER:
        return by_border  # The ink does not reach the border.
    light_share = (_otsu_levels(sample, low, high) > 0).mean()
    if abs(light_share - 0.5) > CLEAR_MINORITY:
        return light_share > 0.5
    return by_border


def _two_levels(sample, low, high):
    """Whether nearly every pixel (of an even sample) is close to the darkest or the lightest
    level: a binary or drawn image, not a photo, whose paper and shadows take every level in
    between."""
    near = (sample - low < 0.1 * (high - low)) | (high - sample < 0.1 * (high - low))
    return near.mean() > 0.9


def _to_gray(pixels):
    """Gray levels in [0, 1]; transparent images are laid on a background that contrasts."""
    if pixels.ndim == 2:
        return pixels
    pixels = floats(pixels)
    color, alpha = pixels[:, :, :3], pixels[:, :, 3:] if pixels.shape[2] == 4 else None
    gray = cv2.cvtColor(np.ascontiguousarray(color), cv2.COLOR_RGB2GRAY)
    if alpha is None:
        return gray
    alpha = alpha[:, :, 0]
    if alpha.sum() == 0:
        raise NoDigitError("No digit found: the image is fully transparent.")
    # Dark strokes on a transparent sheet go on white, light strokes on black, so the ink
    # keeps its contrast whichever colour it was drawn in.
    ink_level = float((gray * alpha).sum() / alpha.sum())
    background = 1.0 if ink_level < 0.5 else 0.0
    return gray * alpha + background * (1.0 - alpha)


def _border_values(gray):
    """The gray levels of the image's outer frame, a twentieth of its shorter side wide, where
    the background shows: all of them for a small image, BORDER_SAMPLES of them for a large one."""
    height, width = gray.shape
    if min(height, width) >= PHOTO_SIZE:
        rows, columns, _ = _border_pixels(height, width)
        return gray[rows, columns]
    band = max(1, min(height, width) // 20)
    return np.concatenate([gray[:band].ravel(), gray[-band:].ravel(), gray[:, :band].ravel(), gray[:, -band:].ravel()])


def _inside_sheet(gray):
    """A photo of a sheet of paper on a darker table: keep only the sheet.

    The sheet is the largest bright region, covering much of the photo, solid (the ink only
    pocks it), with table on every side, and written on. Chalk strokes on a board are bright
    too, but thin, or solid with nothing inside.
    """
    if min(gray.shape) < PHOTO_SIZE:
        return gray
    # Bright is what Otsu's threshold, taken from an even sample of the pixels, puts above it;
    # the sheet is looked for on the preview, then its edges found again in full.
    eight_bit = gray.dtype == np.uint8
    samples = (_sample(gray) if eight_bit else (_sample(gray) * 255).astype(np.uint8))[None]
    level = cv2.threshold(samples, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0] + 1
    level = level if eight_bit else level / 255
    # Most of the image's outermost pixels bright: paper runs to the edge, there is no table
    # around it (the common case, settled before the preview is made).
    ring = np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])
    if np.count_nonzero(ring >= level) > ring.size // 2:
        return gray
    factor, preview = shrink_factor(gray.shape, PREVIEW_SIZE), shrink(gray, PREVIEW_SIZE)
    count, labels, stats, _ = components((preview >= level).view(np.uint8))
    if count <= 1:
        return gray
    label = 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])
    left, top, width, height, area = stats[label]
    # Table all round: a bright region reaching the frame may be the lit half of a page.
    if not _surrounded(left, top, width, height, preview.shape):
        return gray
    if area < 0.08 * preview.size or area < 0.6 * width * height:
        return gray
    # A sheet's outline is a quadrilateral, even at an angle; a bold light digit's seldom is
    # (its ink can fill most of its box, and would be taken for paper): a 6 is not convex,
    # and a 0 or an 8 is round.
    outline = cv2.findContours((labels == label).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0][0]
    if not _quadrilateral(outline):
        return gray
    # Its edges lie within a block of the preview's: find them there in full.
    rows, columns = slice(max(0, top - 1) * factor, (top + height + 1) * factor), slice(max(0, left - 1) * factor, (left + width + 1) * factor)
    left, top, width, height = cv2.boundingRect((gray[rows, columns] >= level).view(np.uint8))
    left, top = left + columns.start, top + rows.start
    if not _surrounded(left, top, width, height, gray.shape):
        return gray
    # Step in from the sheet's edges, where shadow and table blur into the paper.
    inset_x, inset_y = max(1, width // 20), max(1, height // 20)
    sheet = gray[top + inset_y : top + height - inset_y, left + inset_x : left + width - inset_x]
    if (sheet >= level).mean() > 0.995:
        return gray  # Nothing is written on it: a bold bright stroke, not a sheet.
    return sheet


def _quadrilateral(outline):
    """Whether an outline is convex and, its wobbles within a fiftieth of its length
    smoothed away, has four corners: a round one keeps more."""
    if cv2.contourArea(outline) < 0.95 * cv2.contourArea(cv2.convexHull(outline)):
        return False
    return len(cv2.approxPolyDP(outline, 0.02 * cv2.arcLength(outline, True), True)) == 4


def _surrounded(left, top, width, height, shape):
    """Whether a box stays clear of every edge of an image of `shape`."""
    return left > 0 and top > 0 and left + width < shape[1] and top + height < shape[0]


@functools.lru_cache(maxsize=64)
def _border_pixels(height, width):
    """Rows and columns of about BORDER_SAMPLES pixels evenly spread, in row-major order, over
    those within a twentieth of the shorter side of the image's edge, and the terms of the
    light's surface at each (1, x, y, x², xy, y²): computed from their order, with no pass over
    the image, once for each size of image."""
    band = min(height, width) // 20
    top, middle = band * width, (height - 2 * band) * 2 * band
    total = 2 * top + middle
    order = np.arange(0, total, max(1, total // BORDER_SAMPLES))
    # The frame in row-major order: `band` whole rows, then 2 * band pixels (both sides) on
    # each row in between, then `band` whole rows again.
    in_middle, below = order - top, order - top - middle
    side = in_middle % (2 * band)
    rows = np.where(order < top, order // width, np.where(below < 0, band + in_middle // (2 * band), height - band + below // width))
    columns = np.where(order < top, order % width, np.where(below < 0, np.where(side < band, side, width - 2 * band + side), below % width))
    y, x = rows / height - 0.5, columns / width - 0.5
    terms = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)
    for shared in (rows, columns, terms):
        shared.flags.writeable = False  # Shared by every image of this size.
    return rows, columns, terms


def _sketchpad_ink(value):
    """The ink of a Gradio sketchpad value: the alpha of its stroke layers, else its images."""
    # Only the strokes matter: cut them out, with a margin of empty canvas, before anything
    # else looks at the pixels.
    strokes_only = strokes_cut_out(value, margin=1 / 4)
    if strokes_only is not None:
        return normalize_array(strokes_only[0], STROKES_SIZE)
    for key in ("composite", "background"):
        if value.get(key) is not None:
            return ink_map(value[key])
    raise NoDigitError("Draw a digit first: the canvas is empty.")


def strokes(ink):
    """Stretch an ink map so the background is 0 and the strongest stroke 1, and find its
    strokes: the stretched map, the label of each pixel's connected stroke, the strokes'
    statistics (OpenCV's), and for each label whether it is a stroke rather than a speck far
    smaller than the largest. Raises `NoDigitError` when nothing stands out."""
    background, top = _levels(ink)
    ink = _stretched(ink, background, top)
    count, labels, stats, _ = components((ink > INK_THRESHOLD).view(np.uint8))
    if count <= 1:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    return ink, labels, stats, _not_specks(stats[1:, cv2.CC_STAT_AREA])


def digit_strokes(ink, margin, dots=False):
    """`strokes` for an image of one digit, at the cost of the digit's box, not the image's:
    the stretched map within `margin` of the kept strokes' box, and the mask (uint8) of
    their pixels; with `dots`, the dots over the strokes too. Raises `NoDigitError` when
    nothing stands out.

    The strokes are told from the specks on the preview, where each block's share of ink is
    counted in full: a speck within a block or two of the digit goes with it.
    """
    background, top = _levels(ink)
    level = background + INK_THRESHOLD * (top - background)
    factor = shrink_factor(ink.shape, PREVIEW_SIZE)
    height, width = ink.shape
    binary = cv2.threshold(ink, level, 1.0, cv2.THRESH_BINARY)[1]
    binary = cv2.copyMakeBorder(binary, 0, -height % factor, 0, -width % factor, cv2.BORDER_CONSTANT, value=0)
    # Each block's count of ink pixels.
    counts = shrink(binary, -(-max(height, width) // factor)) * (factor * factor)
    blocks = (counts > 0.5).view(np.uint8)
    count, labels, stats, _ = components(blocks)
    if count <= 1:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    if count == 2:
        kept = np.array([False, True])  # One stroke, kept as it is.
    else:
        # Among several, the specks are told by their ink.
        kept = _not_specks(np.bincount(labels.ravel(), weights=counts.ravel(), minlength=count)[1:])
        if dots:
            kept |= _dots_over(stats, kept)
    boxes = stats[kept]
    left, top_row = boxes[:, 0].min(), boxes[:, 1].min()
    right, bottom = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    blocks = blocks[top_row:bottom, left:right] if count == 2 else kept[labels[top_row:bottom, left:right]].view(np.uint8)
    blocks = cv2.resize(blocks, ((right - left) * factor, (bottom - top_row) * factor), interpolation=cv2.INTER_NEAREST)
    # The kept blocks' box in full, and the margin around it, within the image.
    rows = slice(max(0, top_row * factor - margin), min(height, bottom * factor + margin))
    columns = slice(max(0, left * factor - margin), min(width, right * factor + margin))
    cut = _stretched(ink[rows, columns], background, top)
    digit = np.zeros(cut.shape, np.uint8)
    inner_top, inner_left = top_row * factor - rows.start, left * factor - columns.start
    inner = digit[inner_top : inner_top + blocks.shape[0], inner_left : inner_left + blocks.shape[1]]
    within = cut[inner_top : inner_top + inner.shape[0], inner_left : inner_left + inner.shape[1]]
    inner[:] = (within > INK_THRESHOLD) & (blocks[: inner.shape[0], : inner.shape[1]] > 0)
    return cut, digit


def components(binary):
    """OpenCV's connected components with statistics of a uint8 image, 8-connected, by the
    block-based algorithm (BBDT): on these images about three times faster than the default
    at the statistics, with the same labels."""
    return cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_BBDT)


def _levels(ink):
    """The background's level and the ink's strongest; `NoDigitError` when they are too close.

    The background's is the median, unless the ink covers half the image or near it (a digit
    filling its frame), when the median lies on the ink and the darker of the levels that
    thresholding tells apart is the background's.
    """
    background = _background_level(ink)
    top = cv2.minMaxLoc(ink)[1]
    if top - background < MIN_CONTRAST and not _faint_but_clean(ink, top):
        raise NoDigitError(NO_DIGIT_MESSAGE)
    return background, top


def _stretched(ink, background, top):
    stretched = np.subtract(ink, background, dtype=np.float32)
    stretched /= top - background
    return np.clip(stretched, 0.0, 1.0, out=stretched)


def _not_specks(areas):
    """For each component (background first) whether it is a stroke: not far smaller than the largest."""
    return np.concatenate([[False], areas >= SPECK_FRACTION * areas.max()])


def _dots_over(stats, kept):
    """Which components are a dot over the kept strokes, as an i's or a j's: ending above the
    strokes' top (or within a fifth of their height below it), less than their height above
    it, its middle over their columns (give or take a third of their height)."""
    boxes = stats[kept]
    left, top = boxes[:, 0].min(), boxes[:, 1].min()
    right, bottom = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    height = bottom - top
    middle = stats[:, 0] + stats[:, 2] / 2
    end = stats[:, 1] + stats[:, 3]
    over = (end <= top + 0.2 * height) & (end >= top - height) & (np.abs(middle - (left + right) / 2) <= (right - left) / 2 + height / 3)
    over[0] = False  # The background.
    return over


def _background_level(ink):
    """The median of the pixels, or of those below Otsu's threshold if that is lower, from at
    most about 4,000 of them sorted once: below the threshold are the first of them."""
    ordered = np.sort(_sample(ink))
    low, high = float(ordered[0]), float(ordered[-1])
    median = float(ordered[ordered.size // 2])
    if high <= low:
        return median
    levels = ((ordered - low) * (255 / (high - low))).astype(np.uint8)
    threshold = cv2.threshold(levels[None], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]
    darker = int(np.searchsorted(levels, threshold, side="right"))
    return min(median, float(ordered[darker // 2]))


def _otsu_levels(values, low, high):
    """Otsu's split of values in [low, high] (low < high): 255 above the threshold, 0 below."""
    levels = ((values - low) * (255 / (high - low))).astype(np.uint8)
    return cv2.threshold(levels.reshape(-1, levels.shape[-1]), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1].reshape(levels.shape)


def _faint_but_clean(ink, top):
    """A small image whose ink is faint on a background of one exact level, as digits stored
    on a scale of 0 to 16 are: drawn by a program, so its faint ink is not noise."""
    low = float(ink.min())
    return min(ink.shape) < PHOTO_SIZE and top - low >= FAINTEST and float(np.mean(ink == low)) >= 0.25


def ink_box(ink):
    """(left, top, width, height) of the nonzero pixels; all 0 when there are none."""
    return cv2.boundingRect((ink > 0).view(np.uint8))


def _median(values):
    """The median of an array's values, from at most about 4,000 of them (evenly spread).

    Sorted rather than partitioned: with as many equal values as a dark background has,
    NumPy's partition is several times slower than its sort.
    """
    values = np.sort(_sample(values))
    return float(values[values.size // 2])


def _sample(values):
    """At most about 4,000 of an array's values, evenly spread."""
    return values.ravel()[:: max(1, values.size // 4000)]
