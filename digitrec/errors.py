"""The errors a user of the package can meet, each with a message that says what to do."""


class InvalidImageError(ValueError):
    """The input is not an image the recognizer can read (wrong type, shape, values or file)."""


class NoDigitError(ValueError):
    """The image is readable but holds no ink: a blank canvas, an empty or uniform image."""


class DatasetError(OSError):
    """MNIST could not be loaded: the local file is missing or broken, or the download failed."""


class ModelFileError(ValueError):
    """A model file is missing, unreadable or not a digit classifier."""
