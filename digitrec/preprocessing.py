"""Turning any image a person gives us into a 28x28 digit the way MNIST draws them.

MNIST digits are white on black, scaled so that the ink fits a 20x20 box, and placed in a
28x28 frame with their centre of mass at the centre. A model trained on MNIST only knows
digits like that, so every input is brought there:

1. read: files with their EXIF rotation, transparency kept, any bit depth, shrunk early;
2. turned into an ink map: the sheet of paper found if the photo shows a table around it,
   dark-on-light told from light-on-dark by the border, uneven light evened out;
3. cropped to the digit, without the specks far smaller than its strokes;
4. strokes far thinner or bolder than MNIST's pen brought near its width;
5. fitted into 20x20, keeping the aspect ratio, and centred by mass in 28x28.
"""

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitrec.errors import InvalidImageError, NoDigitError

# Larger images are shrunk before any other work: a digit needs no more pixels than this to
# be read, and a 4000x3000 photo would otherwise cost every later step 50 times as much.
WORKING_SIZE = 512
# A line of digits is read from twice as many pixels: it is several digits wide, and where two
# of them touch, the cut between them needs the detail.
NUMBER_SIZE = 2 * WORKING_SIZE
# Strokes cut out of a sketchpad are shrunk to this: all the digit's own pixels a 28x28
# result can use, and few enough to be quick.
STROKES_SIZE = 160
# Images with more pixels than this are refused from their header, not decoded: a 108 MP
# phone photo passes, a 20000x20000 image does not.
MAX_PIXELS = 150_000_000
# The ink has to stand out from the background by this much (of full scale) to count.
MIN_CONTRAST = 0.1
# After stretching, pixels above this are ink for finding the digit and its specks.
INK_THRESHOLD = 0.3
# Components smaller than this fraction of the largest one are specks, not parts of the digit.
SPECK_FRACTION = 0.05
# Stroke width relative to the digit's longer side: MNIST's median, and the band outside
# which strokes are thickened or thinned towards the median. The thin end is about MNIST's
# 2nd percentile; the bold end (its 98th is 0.2) was lowered to where it helped most on the
# robustness benchmark: the dense model reads 1,000 marker digits at 96.8% instead of 95.9%.
MNIST_STROKE = 0.12
THINNEST_STROKE = 0.07
BOLDEST_STROKE = 0.16
# MNIST's centre of mass sits at pixel (14, 14), measured over its 60,000 training images.
CENTRE = 14.0
NO_DIGIT_MESSAGE = "No digit found: the image is blank. Draw or upload a digit (0-9) first."


def preprocess(image):
    """Return the (28, 28) float32 image in [0, 1], white digit on black, that a model reads.

    `image` may be a numpy array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) of any integer or
    float type, a PIL image, a path to an image file, or the dict a Gradio sketchpad sends.
    Raises `InvalidImageError` for what is not a usable image and `NoDigitError` for a blank one.
    """
    ready = _already_mnist(image)
    if ready is not None:
        return ready
    return centre_digit(ink_map(image))


def _already_mnist(image):
    """An 8-bit 28x28 image already laid out as MNIST's are, as floats; None for any other.

    White ink on black, fitting a 20x20 box, centred by mass: the rest of the pipeline would
    give it back nearly unchanged, so it is passed through, several times faster.
    """
    if not (isinstance(image, np.ndarray) and image.shape == (28, 28) and image.dtype == np.uint8):
        return None
    if image[0].any() or image[-1].any() or image[:, 0].any() or image[:, -1].any():
        return None  # Ink or a light background on the frame's edge.
    _, _, width, height = ink_box(image)
    top = int(image.max())
    if max(width, height) != 20 or top < MIN_CONTRAST * 255:
        return None
    mass, positions = float(image.sum()), np.arange(28)
    centre_row = float(image.sum(axis=1) @ positions) / mass
    centre_column = float(image.sum(axis=0) @ positions) / mass
    if abs(centre_row - CENTRE) > 0.5 or abs(centre_column - CENTRE) > 0.5:
        return None
    return image.astype(np.float32) / top  # Stretched, as every other image is.


def ink_map(image):
    """An (H, W) float32 map in [0, 1] where 1 is ink, whatever the input's form and polarity."""
    if isinstance(image, dict):
        return _sketchpad_ink(image)
    return _ink(_inside_sheet(_to_gray(to_array(image))))


def page_ink(image):
    """The ink map of the whole image, where several digits may be, and how to take its pixel
    coordinates back to the input's: (ink, factor, (left, top)), input = ink * factor + offset."""
    if isinstance(image, dict):
        # Only the strokes, with a margin, so that a wide canvas leaves them all its pixels.
        strokes_only = _strokes_cut_out(image, margin=1 / 8)
        if strokes_only is not None:
            alpha, origin = strokes_only
            ink = _normalize_array(alpha, NUMBER_SIZE)
            return ink, max(alpha.shape) / max(ink.shape), origin
        image = next((image[key] for key in ("composite", "background") if image.get(key) is not None), None)
    array, longest = _read(image, NUMBER_SIZE)
    return _ink(_to_gray(array)), longest / max(array.shape[:2]), (0, 0)


def _ink(gray):
    # The background is what fills the border, and the ink departs from it furthest: towards
    # black for pen on paper (then invert), towards white for chalk on a board.
    background = _border_level(gray)
    if background - gray.min() > gray.max() - background:
        gray = 1.0 - gray
    return _flatten(gray)


def to_array(image):
    """Read `image` into a float32 array in [0, 1] of shape (H, W) or (H, W, C), C in 1, 3, 4,
    shrunk to at most WORKING_SIZE on its longer side."""
    return _read(image)[0]


def _read(image, size=WORKING_SIZE):
    """`to_array`, shrunk to at most `size`, and the longer side of the image as given."""
    if image is None:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    longest = None
    if isinstance(image, (str, os.PathLike)):
        image, longest = _open(Path(image), size)
    if isinstance(image, Image.Image):
        longest = longest or max(image.size)
        image = _from_pil(image)
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(
            f"Cannot read an image from {type(image).__name__}; expected a numpy array, a PIL "
            "image, a file path or a Gradio sketchpad dict."
        )
    array = _normalize_array(image, size)
    return array, longest or max(image.shape[:2])


def _open(path, size=WORKING_SIZE):
    if not path.is_file():
        raise InvalidImageError(f"Image file {path} does not exist.")
    try:
        with Image.open(path) as opened:
            _check_size(opened.width, opened.height, f"Image file {path}")
            longest = max(opened.size)
            # A JPEG can be decoded at a half, quarter or eighth of its size, much faster.
            opened.draft(opened.mode, (size, size))
            # Photos from phones store their rotation in EXIF rather than in the pixels.
            image = ImageOps.exif_transpose(opened)
            image.load()
            return image, longest
    except Image.DecompressionBombError as error:
        # Pillow refuses the largest images itself, from their header, before we see them.
        raise InvalidImageError(
            f"Image file {path} is too large to read; the limit is {MAX_PIXELS:,} pixels."
        ) from error
    except InvalidImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InvalidImageError(f"Image file {path} is not a readable image: {error}") from error


def _check_size(width, height, what):
    if width * height > MAX_PIXELS:
        raise InvalidImageError(
            f"{what} is {width}x{height} pixels, too large to read; the limit is "
            f"{MAX_PIXELS:,} pixels."
        )


def _from_pil(image):
    """A PIL image as a numpy array, keeping transparency and high bit depths."""
    _check_size(image.width, image.height, "Image")
    # Animated images (GIF, APNG) are read from their first frame.
    if getattr(image, "is_animated", False):
        image.seek(0)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return np.asarray(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        return np.asarray(image.convert("RGBA"))
    if image.mode in ("L", "1"):
        return np.asarray(image.convert("L"))
    return np.asarray(image.convert("RGB"))


def _normalize_array(array, longest=WORKING_SIZE):
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidImageError(f"Image array has dtype {array.dtype}; expected integers or floats.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidImageError(
            f"Image array has shape {array.shape}; expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)."
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InvalidImageError(f"Image array has shape {array.shape}, with no pixels.")
    if array.size > MAX_PIXELS * 4:
        raise InvalidImageError(f"Image array of shape {array.shape} is too large to read.")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InvalidImageError("Image array holds NaN or infinite values; expected finite pixel values.")
    # 8-bit images, the common case, need no look at their values.
    low, high = (0, 255) if array.dtype == np.uint8 else (float(array.min()), float(array.max()))
    if low < 0:
        raise InvalidImageError(f"Image array has negative values (down to {low:g}); expected 0 or more.")
    if np.issubdtype(array.dtype, np.floating):
        if high > 255:
            raise InvalidImageError(f"Float image has values up to {high:g}; expected [0, 1] or [0, 255].")
        full_scale = 1.0 if high <= 1.0 else 255.0
    else:
        # uint16 images (16-bit PNGs) use the full range; other integers hold 8-bit values.
        full_scale = 65535.0 if array.dtype == np.uint16 or high > 255 else 255.0
        if high > 65535:
            raise InvalidImageError(f"Integer image has values up to {high:g}; expected 0..65535.")
    # Shrink first, in the image's own type where OpenCV takes it, so that a large photo is
    # converted to floats only once it is small.
    if array.dtype not in (np.uint8, np.uint16, np.float32):
        array = array.astype(np.float32)
    return np.clip(_shrink(array, longest).astype(np.float32) / full_scale, 0.0, 1.0)


def _shrink(pixels, longest=WORKING_SIZE):
    """Scale the image down by a whole factor, so that its longer side is at most `longest`.

    OpenCV averages whole blocks of pixels several times faster than fractional ones; the
    few rows and columns that do not fill a last block are dropped.
    """
    height, width = pixels.shape[:2]
    factor = -(-max(height, width) // longest)
    if factor <= 1:
        return pixels
    height, width = max(factor, height // factor * factor), max(factor, width // factor * factor)
    pixels = pixels[:height, :width]
    return cv2.resize(pixels, (width // factor, height // factor), interpolation=cv2.INTER_AREA)


def _to_gray(pixels):
    """Gray levels in [0, 1]; transparent images are laid on a background that contrasts."""
    if pixels.ndim == 2:
        return pixels
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


def _border_level(gray):
    """The median gray level of the image's outer frame, where the background shows."""
    height, width = gray.shape
    band = max(1, min(height, width) // 20)
    border = np.concatenate(
        [gray[:band].ravel(), gray[-band:].ravel(), gray[:, :band].ravel(), gray[:, -band:].ravel()]
    )
    return _median(border)


def _inside_sheet(gray):
    """A photo of a sheet of paper on a darker table: keep only the sheet.

    The sheet is the largest bright region, covering much of the photo, solid (the ink only
    pocks it), with table on every side, and written on. Chalk strokes on a board are bright
    too, but thin, or solid with nothing inside.
    """
    if min(gray.shape) < 64:
        return gray
    _, bright = cv2.threshold((gray * 255).astype(np.uint8), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=4)
    if count <= 1:
        return gray
    label = 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])
    left, top, width, height, area = stats[label]
    # Table all round: a bright region reaching the frame may be the lit half of a page.
    surrounded = left > 0 and top > 0 and left + width < gray.shape[1] and top + height < gray.shape[0]
    if not surrounded or area < 0.08 * gray.size or area < 0.6 * width * height:
        return gray
    # A sheet's outline is convex, even at an angle; a bold light digit's seldom is (its ink
    # can fill most of its box, and would be taken for paper).
    outline = cv2.findContours((labels == label).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0][0]
    if cv2.contourArea(outline) < 0.95 * cv2.contourArea(cv2.convexHull(outline)):
        return gray
    # Step in from the sheet's edges, where shadow and table blur into the paper.
    inset_x, inset_y = max(1, width // 20), max(1, height // 20)
    rows = slice(top + inset_y, top + height - inset_y)
    columns = slice(left + inset_x, left + width - inset_x)
    if bright[rows, columns].mean() > 0.995:
        return gray  # Nothing is written on it: a bold bright stroke, not a sheet.
    return gray[rows, columns]


def _flatten(ink):
    """Even out uneven lighting, with a smooth surface fitted to the image's border, where
    only paper shows. The digit itself never enters the fit, so even a blot of ink stays whole.
    """
    height, width = ink.shape
    if min(height, width) < 64:
        return ink  # Too small to be a photo, and too small a border to tell paper from ink.
    band = min(height, width) // 20
    border = np.zeros((height, width), bool)
    border[:band], border[-band:], border[:, :band], border[:, -band:] = True, True, True, True
    rows, columns = np.nonzero(border)
    step = max(1, len(rows) // 1000)
    rows, columns = rows[::step], columns[::step]
    values = ink[rows, columns]
    y, x = rows / height - 0.5, columns / width - 0.5
    terms = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)
    for _ in range(2):
        coefficients = np.linalg.lstsq(terms, values, rcond=None)[0]
        # Ink that reaches the border lies well above the paper: fit again without it.
        paper = values - terms @ coefficients < 0.1
        terms, values = terms[paper], values[paper]
    # The surface is smooth: evaluate it on a coarse grid and let resizing fill it in.
    y, x = np.mgrid[0:33, 0:33].astype(np.float32) / 32 - 0.5
    a, b, c, d, e, f = coefficients.astype(np.float32)
    surface = a + b * x + c * y + d * x * x + e * x * y + f * y * y
    if surface.max() - surface.min() < 0.05:
        return ink  # Even light: nothing to flatten.
    surface = cv2.resize(surface, (width, height), interpolation=cv2.INTER_LINEAR)
    # Light multiplies what the paper reflects, so where the paper is dim the ink's contrast
    # is smaller too: divide it back out, as well as lifting the background to zero.
    return ((ink - surface) / np.maximum(1.0 - surface, 0.05)).clip(0.0, 1.0)


def _stroke_width(crop):
    """Mean stroke width relative to the crop's longer side, as twice the area over the outline.

    Measured at a fixed 80 pixels, so that a 20-pixel MNIST digit and a 500-pixel drawing
    compare alike.
    """
    height, width = crop.shape
    factor = 80 / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    scaled = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    mask = (scaled > 0.5 * scaled.max()).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(contour, True) for contour in contours)
    return 2 * float(mask.sum()) / max(outline, 1.0) / 80


def _line_width(crop):
    """Median stroke width relative to the crop's longer side, along the strokes' centre lines.

    Read off the ridge of the distance to the background, where a stroke is widest across. A
    blob where a fine pen filled a loop shut is a few ridge pixels among many, so, unlike the
    mean, this does not make a hairline digit look bold. Crops are measured as they are, fine
    lines and all; small ones scaled up to 80 pixels.
    """
    crop = _scaled_up(crop)
    mask = np.pad(crop > 0.5 * crop.max(), 1).astype(np.uint8)
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    ridge = (mask > 0) & (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8)))
    # A stroke n pixels wide is (n + 1) / 2 from the background at its centre.
    return (2 * float(np.median(distance[ridge])) - 1) / max(crop.shape)


def _normalize_strokes(crop):
    """Thicken strokes far thinner than MNIST's pen, thin those far bolder; others stay.

    Thin is judged by the median line width, so a fine-pen digit with a blob is still thin;
    bold by the mean width: the ridge of a marker's 8 with its loops inked shut runs through
    the filled loops, and eroding by its median wore such 8s to pieces. Measured on all
    10,000 test digits (`python -m digitrec.bench robustness`): with the mean for both, the
    dense model read 96.96% of thin-pen digits; with the median for both, the CNN read 98.85%
    of marker ones.
    """
    if max(crop.shape) <= 20:
        return crop  # MNIST's own size or smaller: too few pixels to judge a stroke by.
    width = _line_width(crop)
    if width >= THINNEST_STROKE:
        width = _stroke_width(crop)
    if THINNEST_STROKE <= width <= BOLDEST_STROKE:
        return crop
    # Small crops are scaled up first, so that a morphology step is a fine one.
    crop = _scaled_up(crop)
    radius = round(abs(width - MNIST_STROKE) * max(crop.shape) / 2)
    if radius < 1:
        return crop
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    # Pad with background, so strokes grow past the crop's edge and are worn from it too.
    crop = np.pad(crop, radius)
    return cv2.dilate(crop, disk) if width < THINNEST_STROKE else cv2.erode(crop, disk)


def _scaled_up(crop, side=80):
    """The crop scaled up, keeping its aspect ratio, so its longer side is at least `side`."""
    height, width = crop.shape
    if max(height, width) >= side:
        return crop
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)


def _sketchpad_ink(value):
    """The ink of a Gradio sketchpad value: the alpha of its stroke layers, else its images."""
    # Only the strokes matter: cut them out, with a margin of empty canvas, before anything
    # else looks at the pixels.
    strokes_only = _strokes_cut_out(value, margin=1 / 4)
    if strokes_only is not None:
        return _normalize_array(strokes_only[0], STROKES_SIZE)
    for key in ("composite", "background"):
        if value.get(key) is not None:
            return ink_map(value[key])
    raise NoDigitError("Draw a digit first: the canvas is empty.")


def _strokes_cut_out(value, margin):
    """The alpha of a sketchpad's strokes within their bounding box and a margin of `margin`
    times its longer side, and the (left, top) of that cut in the canvas; None when no
    stroke is drawn."""
    alpha = sketchpad_strokes(value)
    left, top, width, height = cv2.boundingRect(alpha) if alpha is not None else (0, 0, 0, 0)
    if not width:
        return None
    margin = int(max(width, height) * margin)
    left, top, right, bottom = max(0, left - margin), max(0, top - margin), left + width + margin, top + height + margin
    return alpha[top:bottom, left:right], (left, top)


def sketchpad_strokes(value):
    """The strokes of a Gradio sketchpad value, as the 8-bit alpha of its layers put
    together; None when it has no layer with an alpha channel."""
    alphas = [_alpha(layer) for layer in value.get("layers") or [] if layer is not None]
    alphas = [alpha for alpha in alphas if alpha is not None]
    return np.maximum.reduce(alphas) if len(alphas) > 1 else alphas[0] if alphas else None


def _alpha(layer):
    """A sketchpad layer's alpha channel, the strokes drawn on it; None if it has none."""
    if isinstance(layer, np.ndarray) and layer.dtype == np.uint8 and layer.ndim == 3 and layer.shape[2] == 4:
        return layer[:, :, 3]  # What Gradio sends: read it as it is.
    layer = to_array(layer)
    if layer.ndim == 3 and layer.shape[2] == 4:
        return (layer[:, :, 3] * 255).round().astype(np.uint8)
    return None


def centre_digit(ink):
    """Crop the digit out of an ink map, fit it in 20x20 and centre it by mass in 28x28."""
    # The digit: its connected strokes, without the specks.
    ink, labels, _, kept = strokes(ink)
    digit = kept[labels].astype(np.uint8)
    # Keep the soft edges around kept strokes, as MNIST's anti-aliasing has them.
    radius = max(1, round(max(ink.shape) / 100))
    near = cv2.dilate(digit, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)).astype(bool)
    ink = np.where(near, ink, 0.0).astype(np.float32)
    # Stretch again, so a bright speck that was dropped does not dim the digit.
    ink /= ink.max()

    crop = _normalize_strokes(_crop(ink))
    if not crop.any():
        raise NoDigitError(NO_DIGIT_MESSAGE)
    crop = _crop(crop)

    # Fit the longer side to 20 pixels, keeping the aspect ratio, as MNIST did.
    height, width = crop.shape
    factor = 20.0 / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    digit = cv2.resize(crop, size, interpolation=interpolation)

    # Place it, by whole pixels, so that its centre of mass falls on MNIST's, inside the frame.
    mass = digit.sum()
    centre_row = (digit.sum(axis=1) * np.arange(size[1])).sum() / mass
    centre_column = (digit.sum(axis=0) * np.arange(size[0])).sum() / mass
    top = min(max(round(CENTRE - centre_row), 0), 28 - size[1])
    left = min(max(round(CENTRE - centre_column), 0), 28 - size[0])
    frame = np.zeros((28, 28), np.float32)
    frame[top : top + size[1], left : left + size[0]] = np.clip(digit, 0.0, 1.0)
    return frame


def strokes(ink):
    """Stretch an ink map so the background is 0 and the strongest stroke 1, and find its
    strokes: the stretched map, the label of each pixel's connected stroke, the strokes'
    statistics (OpenCV's), and for each label whether it is a stroke rather than a speck far
    smaller than the largest. Raises `NoDigitError` when nothing stands out."""
    background = _median(ink)
    top = float(ink.max())
    if top - background < MIN_CONTRAST:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    ink = np.clip((ink - background) / (top - background), 0.0, 1.0, dtype=np.float32)
    mask = (ink > INK_THRESHOLD).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    if count <= 1:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    kept = np.concatenate([[False], areas >= SPECK_FRACTION * areas.max()])
    return ink, labels, stats, kept


def ink_box(ink):
    """(left, top, width, height) of the nonzero pixels; all 0 when there are none."""
    return cv2.boundingRect((ink > 0).view(np.uint8))


def _crop(ink):
    """The bounding box of the nonzero pixels."""
    left, top, width, height = ink_box(ink)
    return ink[top : top + height, left : left + width]


def _median(values):
    """The median of an array's values, from at most about 4,000 of them (evenly spread).

    Sorted rather than partitioned: with as many equal values as a dark background has,
    NumPy's partition is several times slower than its sort.
    """
    values = np.sort(values.ravel()[:: max(1, values.size // 4000)])
    return float(values[values.size // 2])
