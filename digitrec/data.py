"""Loading MNIST: from Keras's download, or from a local copy for machines without internet."""

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

from digitrec.errors import DatasetError

# The environment variable that names a local copy of Keras's mnist.npz.
MNIST_ENV = "DIGITREC_MNIST"

# What every array in the file must look like: (trailing shape, number of images).
EXPECTED = {
    "x_train": ((28, 28), 60000),
    "y_train": ((), 60000),
    "x_test": ((28, 28), 10000),
    "y_test": ((), 10000),
}


def load_mnist(path=None):
    """Return MNIST as `(x_train, y_train), (x_test, y_test)`, uint8, like Keras does.

    A local npz is used when `path` is given or the `DIGITREC_MNIST` environment variable
    names one; otherwise `keras.datasets.mnist.load_data()` downloads (and caches) it.
    """
    path = path or os.environ.get(MNIST_ENV)
    if path:
        return _load_npz(Path(path).expanduser())

    import keras

    try:
        return keras.datasets.mnist.load_data()
    except Exception as error:  # Keras wraps network failures in a bare Exception.
        raise DatasetError(
            f"Could not download MNIST through keras.datasets ({error}). Without internet, "
            f"point {MNIST_ENV} at a local copy of mnist.npz, for example "
            f"`export {MNIST_ENV}=/path/to/mnist.npz`, or pass load_mnist(path=...)."
        ) from error


def _load_npz(path):
    if not path.is_file():
        raise DatasetError(f"MNIST file {path} does not exist (expected Keras's mnist.npz).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in EXPECTED if key in archive.files}
            found = sorted(archive.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetError(f"MNIST file {path} is not a readable npz archive: {error}") from error

    missing = sorted(set(EXPECTED) - set(arrays))
    if missing:
        raise DatasetError(f"MNIST file {path} lacks the arrays {missing}; it holds {found}.")
    for key, (trailing_shape, count) in EXPECTED.items():
        array = arrays[key]
        if array.shape != (count, *trailing_shape) or array.dtype != np.uint8:
            raise DatasetError(
                f"MNIST file {path}: {key} is {array.dtype} {array.shape}, "
                f"expected uint8 {(count, *trailing_shape)}."
            )
    for key in ("y_train", "y_test"):
        if arrays[key].max() > 9:
            raise DatasetError(f"MNIST file {path}: {key} has labels above 9.")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def scale(images):
    """uint8 MNIST images to float32 in [0, 1], as the models expect."""
    return images.astype(np.float32) / 255.0


def checksum(data):
    """A SHA-256 of the four arrays, the same whichever way the data was loaded."""
    digest = hashlib.sha256()
    (x_train, y_train), (x_test, y_test) = data
    for array in (x_train, y_train, x_test, y_test):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


# UNIPEN: digits written on tablets by 258 writers, split by writer (see README, Data).
UNIPEN_ENV = "DIGITREC_UNIPEN"
SPLITS = {"train": 0, "validation": 1, "test": 2}


def unipen_path(path=None):
    """The UNIPEN digits file: `path`, else what `DIGITREC_UNIPEN` names; None when neither."""
    path = path or os.environ.get(UNIPEN_ENV)
    return Path(path).expanduser() if path else None


def load_unipen(split, path=None):
    """One writer-disjoint split of the UNIPEN digits ("train", "validation" or "test") as
    `(images, labels)`: uint8 (N, 28, 28) white on black in MNIST's framing, and int64 digits."""
    code = SPLITS[_checked(split)]
    arrays = _unipen_arrays(unipen_path(path), ("x", "y"))
    chosen = arrays["split"] == code
    return arrays["x"][chosen], arrays["y"][chosen]


def load_unipen_strokes(split, path=None):
    """The pen strokes the digits of one split were drawn from, and their labels: for each
    digit, a list of (P, 2) float32 arrays of x, y in millimetres (y down)."""
    code = SPLITS[_checked(split)]
    digits = unipen_path(path)
    keys = ("points", "stroke_offsets", "sample_offsets", "ppmm", "y")
    arrays = _unipen_arrays(digits.with_name("unipen_strokes.npz") if digits else None, keys)
    chosen = np.flatnonzero(arrays["split"] == code)
    points, strokes, samples = arrays["points"].astype(np.float32), arrays["stroke_offsets"], arrays["sample_offsets"]
    digits_strokes = [
        [points[strokes[j] : strokes[j + 1]] / arrays["ppmm"][i] for j in range(samples[i], samples[i + 1])]
        for i in chosen
    ]
    return digits_strokes, arrays["y"][chosen]


# UNIPEN's letters, from the same project and writers: A-Z are labels 0-25, a-z 26-51.
LETTERS_ENV = "DIGITREC_UNIPEN_LETTERS"


def letters_path(path=None, digits=None):
    """The UNIPEN letters file: `path`, else what `DIGITREC_UNIPEN_LETTERS` names, else
    unipen_letters.npz beside the digits file (`digits` or the one `unipen_path` names);
    None when none is named."""
    path = path or os.environ.get(LETTERS_ENV)
    if path:
        return Path(path).expanduser()
    digits = unipen_path(digits)
    return digits.with_name("unipen_letters.npz") if digits else None


def load_unipen_letters(split, path=None):
    """One writer-disjoint split of the UNIPEN letters as `(images, labels)`: uint8 (N, 28, 28)
    white on black in MNIST's framing, and int64 labels, 0-25 for A-Z and 26-51 for a-z."""
    code = SPLITS[_checked(split)]
    path = letters_path(path)
    if path is None:
        raise DatasetError(
            f"No UNIPEN letters file given: point {LETTERS_ENV} at unipen_letters.npz (or "
            f"{UNIPEN_ENV} at unipen_digits.npz, with the letters file beside it)."
        )
    arrays = _unipen_arrays(path, ("x", "y"))
    chosen = arrays["split"] == code
    return arrays["x"][chosen], arrays["y"][chosen]


def _checked(split):
    if split not in SPLITS:
        raise ValueError(f"Unknown UNIPEN split {split!r}; expected one of {sorted(SPLITS)}.")
    return split


def _unipen_arrays(path, keys):
    if path is None:
        raise DatasetError(
            f"No UNIPEN file given: point {UNIPEN_ENV} at unipen_digits.npz, for example "
            f"`export {UNIPEN_ENV}=/path/to/unipen_digits.npz`."
        )
    if not path.is_file():
        raise DatasetError(f"UNIPEN file {path} does not exist.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = sorted({*keys, "split"} - set(archive.files))
            if missing:
                raise DatasetError(f"UNIPEN file {path} lacks the arrays {missing}.")
            return {key: archive[key] for key in (*keys, "split")}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetError(f"UNIPEN file {path} is not a readable npz archive: {error}") from error
