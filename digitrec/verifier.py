"""The number reader's check that a piece of ink is one whole digit.

A model trained on MNIST has only ever seen whole digits, so it reads whatever it is shown
as one, and often surely: half a 0 as a confident 1, two touching digits as a 4. When the
reader weighs where to cut touching digits, it multiplies each piece's confidence by this
small network's probability that the piece is one whole digit. It learns from the runs of
pieces the reader itself cuts from numbers written with training digits
(`digitrec.numbers.verifier_training`).
"""

import functools

import cv2
import keras
import numpy as np
from keras import layers

from digitrec.paths import MODELS_DIR
from digitrec.preprocessing import centre_digit

VERIFIER_PATH = MODELS_DIR / "verifier.keras"
# The verifier's frame is this many times the line's height: MNIST's 28 pixels to a digit's 20.
LINE_FRAME = 1.4


def build_verifier(learning_rate=1e-3):
    """Three small convolutions and a dense layer: P(the 28x28 image is one whole digit)."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28), name="image"),
            layers.Reshape((28, 28, 1), name="channel"),
            layers.Conv2D(16, 3, activation="relu"),  # 26x26
            layers.MaxPooling2D(),  # 13x13
            layers.Conv2D(32, 3, activation="relu"),  # 11x11
            layers.MaxPooling2D(),  # 5x5
            layers.Conv2D(64, 3, activation="relu"),  # 3x3
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(1, activation="sigmoid", name="one_digit"),
        ],
        name="verifier",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def as_the_reader_sees(crop, dots=False):
    """The (28, 28) input the reader makes of a piece of ink: a margin of background around
    it, as every digit image has, then centred as MNIST's digits are (`dots` kept, for
    letters)."""
    margin = max(crop.shape) // 4
    return centre_digit(cv2.copyMakeBorder(crop, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0), dots)


def as_the_verifier_sees(crop, height):
    """The (28, 28) input the verifier takes for a run of ink `crop` on a line of digits
    `height` pixels tall: the crop at the line's scale, where a digit as tall as the line is
    20 pixels tall (as MNIST's are in their frame), centred. So two digits read as one look as
    wide as they are, and a piece of a digit as small, where fitting each run to the frame,
    as the digit model's input is, would hide both."""
    return boxed(crop, 28 / max(LINE_FRAME * height, *crop.shape))


def boxed(crop, factor, shape=(28, 28)):
    """`crop` scaled by `factor` (small enough to fit) and centred by its box in a frame of
    `shape`: the reader's own networks see a run of ink so, not centred by mass."""
    tall, wide = crop.shape
    size = (max(1, round(wide * factor)), max(1, round(tall * factor)))
    frame = np.zeros(shape, np.float32)
    top, left = (shape[0] - size[1]) // 2, (shape[1] - size[0]) // 2
    frame[top : top + size[1], left : left + size[0]] = cv2.resize(crop.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return frame


@functools.cache
def load_verifier(path=VERIFIER_PATH):
    """A function from (N, 28, 28) inputs to each one's P(one whole digit), (N,); None when
    no verifier is shipped. Its ONNX export runs in its place where there is one."""
    from digitrec.exporting import forward

    if not path.is_file():
        return None
    one_digit = forward(path)
    return lambda images: one_digit(images)[:, 0]
