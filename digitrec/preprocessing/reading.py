"""Reading what a person gives us into pixels: files with their EXIF rotation, transparency
kept, any bit depth, shrunk early; arrays checked for type, shape and values; the strokes of
a Gradio sketchpad."""

import io
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
NO_DIGIT_MESSAGE = "No digit found: the image is blank. Draw or upload a digit (0-9) first."


def to_array(image, gray=False, eight_bit=False):
    """Read `image` into a float32 array in [0, 1] of shape (H, W) or (H, W, C), C in 1, 3, 4,
    shrunk to at most WORKING_SIZE on its longer side; with `gray`, colours (but not
    transparency) are turned to gray levels. With `eight_bit`, an 8-bit image stays uint8
    (0-255), for `floats` to turn only the part that is needed into floats."""
    return read_image(image, gray=gray, eight_bit=eight_bit)[0]


def floats(pixels):
    """Gray levels in [0, 1] as float32: 8-bit ones scaled as `normalize_array` scales them,
    floats as they are."""
    return np.multiply(pixels, np.float32(1 / 255), dtype=np.float32) if pixels.dtype == np.uint8 else pixels


def read_image(image, size=WORKING_SIZE, gray=False, eight_bit=False):
    """`to_array`, shrunk to at most `size`, and the longer side of the image as given."""
    if image is None:
        raise NoDigitError(NO_DIGIT_MESSAGE)
    longest = None
    if isinstance(image, (bytes, bytearray, memoryview)):
        if not len(image):
            raise InvalidImageError("The image file is empty (0 bytes).")
        image, longest = _open(io.BytesIO(image), size, "The image file")
    elif isinstance(image, (str, os.PathLike)):
        if not Path(image).is_file():
            raise InvalidImageError(f"Image file {image} does not exist.")
        image, longest = _open(Path(image), size, f"Image file {image}")
    if isinstance(image, Image.Image):
        longest = longest or max(image.size)
        image = _from_pil(image)
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(
            f"Cannot read an image from {type(image).__name__}; expected a numpy array, a PIL "
            "image, a file path, the bytes of an image file or a Gradio sketchpad dict."
        )
    array = normalize_array(image, size, gray, eight_bit)
    return array, longest or max(image.shape[:2])


def _open(file, size, what):
    """Decode an image file (a path or a binary file object); `what` names it in errors."""
    try:
        with Image.open(file) as opened:
            _check_size(opened.width, opened.height, what)
            longest = max(opened.size)
            # A JPEG can be decoded at a half, quarter or eighth of its size, much faster.
            opened.draft(opened.mode, (size, size))
            # Photos from phones store their rotation in EXIF rather than in the pixels.
            image = ImageOps.exif_transpose(opened)
            image.load()
            return image, longest
    except Image.DecompressionBombError as error:
        # Pillow refuses the largest images itself, from their header, before we see them.
        raise InvalidImageError(f"{what} is too large to read; the limit is {MAX_PIXELS:,} pixels.") from error
    except InvalidImageError:
        raise
    except UnidentifiedImageError as error:
        raise InvalidImageError(
            f"{what} is not a readable image: not in a format Pillow reads (PNG, JPEG, GIF, BMP, TIFF, WebP, ...)."
        ) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImageError(f"{what} is not a readable image: {error}") from error


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


def normalize_array(array, longest=WORKING_SIZE, gray=False, eight_bit=False):
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
    array = shrink(_contiguous(array, gray), longest)
    if gray and array.ndim == 3 and array.shape[2] == 3:
        # Turned to gray in the image's own type: a third of the pixels to convert to floats.
        array = cv2.cvtColor(array, cv2.COLOR_RGB2GRAY)
    if eight_bit and array.dtype == np.uint8:
        return array
    scaled = np.multiply(array, np.float32(1 / full_scale), dtype=np.float32)
    # Integers below full scale need no clipping; floats may exceed 1 by rounding.
    return scaled if np.issubdtype(array.dtype, np.integer) else np.clip(scaled, 0.0, 1.0, out=scaled)


def _contiguous(array, gray=False):
    """The array laid out as OpenCV reads it without a copy (in gray levels, with `gray`,
    where that costs nothing more): a crop of a larger image is taken as it is.

    OpenCV's own BGR images are often handed over as `image[:, :, ::-1]`, a view with its
    channels reversed, which NumPy copies ten times slower than OpenCV swaps them.
    """
    if _opencv_layout(array):
        return array
    reversed_channels = array[:, :, ::-1] if array.ndim == 3 else None
    if reversed_channels is not None and reversed_channels.flags.c_contiguous:
        if gray and array.shape[2] == 3:
            return cv2.cvtColor(reversed_channels, cv2.COLOR_BGR2GRAY)
        swap = cv2.COLOR_BGR2RGB if array.shape[2] == 3 else cv2.COLOR_BGRA2RGBA
        return cv2.cvtColor(reversed_channels, swap)
    return np.ascontiguousarray(array)


def _opencv_layout(array):
    """Whether OpenCV reads the array as it is: its rows may lie apart (a crop of a larger
    image), but each row's pixels, and their channels, follow one another."""
    strides, itemsize = array.strides, array.itemsize
    return strides[-1] == itemsize and (array.ndim == 2 or strides[1] == itemsize * array.shape[2]) and strides[0] >= strides[1] * array.shape[1]


def shrink(pixels, longest=WORKING_SIZE):
    """Scale the image down by a whole factor, so that its longer side is at most `longest`.

    OpenCV averages whole blocks of pixels several times faster than fractional ones; the
    few rows and columns that do not fill a last block are dropped.
    """
    height, width = pixels.shape[:2]
    factor = shrink_factor(pixels.shape, longest)
    if factor <= 1:
        return pixels
    height, width = max(factor, height // factor * factor), max(factor, width // factor * factor)
    pixels = pixels[:height, :width]
    return cv2.resize(pixels, (width // factor, height // factor), interpolation=cv2.INTER_AREA)


def shrink_factor(shape, longest):
    """The whole factor `shrink` divides an image of `shape` by, for a longer side of at most `longest`."""
    return max(1, -(-max(shape[:2]) // longest))


def sketchpad_strokes(value):
    """The strokes of a Gradio sketchpad value, as the 8-bit alpha of its layers put
    together; None when it has no layer with an alpha channel."""
    alphas = [_alpha(layer) for layer in value.get("layers") or [] if layer is not None]
    alphas = [alpha for alpha in alphas if alpha is not None]
    return np.maximum.reduce(alphas) if len(alphas) > 1 else alphas[0] if alphas else None


def strokes_cut_out(value, margin):
    """The alpha of a sketchpad's strokes within their bounding box and a margin of `margin`
    times its longer side, and the (left, top) of that cut in the canvas; None when no
    stroke is drawn."""
    alpha = sketchpad_strokes(value)
    if alpha is None:
        return None
    (left, top, width, height), window, (window_left, window_top) = _canvas_strokes_box(alpha)
    if not width:
        return None
    margin = int(max(width, height) * margin)
    left, top, right, bottom = max(0, left - margin), max(0, top - margin), left + width + margin, top + height + margin
    right, bottom = min(right, alpha.shape[1]), min(bottom, alpha.shape[0])
    if window_left <= left and window_top <= top and right <= window_left + window.shape[1] and bottom <= window_top + window.shape[0]:
        # Cut from the window already copied out of the canvas, rather than copying again.
        return window[top - window_top : bottom - window_top, left - window_left : right - window_left], (left, top)
    return alpha[top:bottom, left:right], (left, top)


def _canvas_strokes_box(alpha):
    """(left, top, width, height) of a canvas's strokes, found first on every fourth pixel of
    every fourth row, a sixteenth of the canvas's memory to read, then exactly in that box
    widened by a quarter; and that window of the canvas, copied into one block of memory, with
    its (left, top). Where the sampled box misses strokes (none found, or strokes running on
    past its widened edge: a hairline between the samples), the whole canvas is searched."""
    step = 4
    whole = lambda: (cv2.boundingRect(alpha), alpha, (0, 0))
    left, top, width, height = cv2.boundingRect(np.ascontiguousarray(alpha[::step, ::step]))
    if not width:
        return whole()
    reach = step + max(width, height) * step // 4
    rows = slice(max(0, top * step - reach), (top + height) * step + reach)
    columns = slice(max(0, left * step - reach), (left + width) * step + reach)
    # The layer's alpha is every fourth byte of its pixels: OpenCV would copy it to read it.
    window = np.ascontiguousarray(alpha[rows, columns])
    left, top, width, height = cv2.boundingRect(window)
    edges = (left == 0 and columns.start > 0, top == 0 and rows.start > 0,
             left + width == window.shape[1] and columns.stop < alpha.shape[1],
             top + height == window.shape[0] and rows.stop < alpha.shape[0])
    if any(edges):
        return whole()
    return (left + columns.start, top + rows.start, width, height), window, (columns.start, rows.start)


def _alpha(layer):
    """A sketchpad layer's alpha channel, the strokes drawn on it; None if it has none."""
    if isinstance(layer, np.ndarray) and layer.dtype == np.uint8 and layer.ndim == 3 and layer.shape[2] == 4:
        return layer[:, :, 3]  # What Gradio sends: read it as it is.
    layer = to_array(layer)
    if layer.ndim == 3 and layer.shape[2] == 4:
        return (layer[:, :, 3] * 255).round().astype(np.uint8)
    return None
