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

import ctypes

import cv2

from digitrec.preprocessing.framing import CENTRE, already_mnist, centre_digit, fit_frame
from digitrec.preprocessing.ink import ink_box, ink_map, page_ink, strokes
from digitrec.preprocessing.reading import sketchpad_strokes, to_array

# Preprocessing works on images of a few hundred pixels, where waking OpenCV's threads costs
# more than they save: one thread took the benchmark's sketchpad from 2.1 to 1.5 ms per image
# on two cores. The server runs a worker process per core instead.
cv2.setNumThreads(1)


def _keep_freed_memory(limit=64 * 2**20):
    """Have the C library keep up to `limit` bytes of freed memory for the next image.

    glibc hands memory freed at the top of its heap back to the system once 128 KiB of it is
    free, and takes arrays over that size from the system afresh: each image's full-size
    arrays (a marker digit's crop is a few hundred KiB a pass) were faulted in again, page
    by page, costing a tenth of the marker's preprocessing. Elsewhere (macOS, Windows, musl)
    this does nothing.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc's own: mallopt is a no-op elsewhere.
    except (AttributeError, OSError, TypeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_trim_threshold, limit)
    # Setting the trim threshold also stops glibc raising the mmap one as it goes (it starts
    # at 128 KiB, and arrays above it would be mapped afresh each time): set it too.
    libc.mallopt(m_mmap_threshold, limit // 4)


_keep_freed_memory()

# What the rest of the package uses; each stage's module has the rest.
__all__ = [
    "CENTRE",
    "centre_digit",
    "fit_frame",
    "ink_box",
    "ink_map",
    "page_ink",
    "preprocess",
    "sketchpad_strokes",
    "strokes",
    "to_array",
]


def preprocess(image, dots=False):
    """Return the (28, 28) float32 image in [0, 1], white digit on black, that a model reads;
    `dots` keeps a dot over the strokes (an i's, a j's), as the letters model needs.

    `image` may be a numpy array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) of any integer or
    float type, a PIL image, a path to an image file, or the dict a Gradio sketchpad sends.
    Raises `InvalidImageError` for what is not a usable image and `NoDigitError` for a blank one.
    """
    ready = already_mnist(image)
    if ready is not None:
        return ready
    return centre_digit(ink_map(image), dots)
