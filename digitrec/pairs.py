"""The number reader's reader of two touching digits as one picture.

Where two digits touch, their strokes are one piece of ink, and where they overlap (a 6 under
a 7's arm, a 1 through a 0) no cut parts them cleanly: each side keeps a piece of the other,
and the digit model reads the pieces wrong or the verifier calls them broken. This network
reads such a stroke whole, as one of the 100 pairs "00" to "99" or as no pair at all (one
digit, or three), the way people read a touching pair: by its shape together. It learns from
the strokes the reader itself meets in numbers written with training digits
(`digitrec.numbers.pair_training`).
"""

import functools

import keras
import numpy as np
from keras import layers

from digitrec.paths import MODELS_DIR
from digitrec.verifier import boxed

PAIRS_PATH = MODELS_DIR / "pairs.keras"
# Its outputs: the pairs 10 * left + right, then "not two digits".
PAIRS = 100
NOT_A_PAIR = PAIRS
# The reader's frame, (height, width): two MNIST frames side by side, so that each digit of a
# pair is seen about as large as the digit model sees one.
PAIR_FRAME = (28, 56)
# The stroke is scaled to fit this box, (height, width), centred in the frame.
PAIR_BOX = (26, 54)


def build_pair_reader(learning_rate=1e-3):
    """Five convolutions and a dense layer: P(each pair, or no pair) for a `PAIR_FRAME` picture."""
    model = keras.Sequential(
        [
            keras.Input(shape=PAIR_FRAME, name="image"),
            layers.Reshape((*PAIR_FRAME, 1), name="channel"),
            layers.Conv2D(32, 3, activation="relu"),  # 26x54
            layers.Conv2D(32, 3, activation="relu"),  # 24x52
            layers.MaxPooling2D(),  # 12x26
            layers.Conv2D(64, 3, activation="relu"),  # 10x24
            layers.Conv2D(64, 3, activation="relu"),  # 8x22
            layers.MaxPooling2D(),  # 4x11
            layers.Conv2D(128, 3, activation="relu"),  # 2x9
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.4),
            layers.Dense(PAIRS + 1, activation="softmax", name="pair"),
        ],
        name="pairs",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def as_the_pair_reader_sees(crop):
    """The `PAIR_FRAME` input the pair reader takes for a stroke `crop`: fitted in `PAIR_BOX`,
    the shape kept, centred by its box (a pair's mass may lie to one side)."""
    frame = boxed(crop, min(PAIR_BOX[0] / crop.shape[0], PAIR_BOX[1] / crop.shape[1]), PAIR_FRAME)
    peak = frame.max()
    return frame / peak if peak > 0 else frame


def pair_digits(probabilities):
    """Each digit's probabilities in a pair reading, (left, right), 10 each: its share of the
    pairs, given that the stroke is a pair."""
    pairs = np.asarray(probabilities[:PAIRS], np.float64).reshape(10, 10)
    pairs = pairs / max(pairs.sum(), 1e-12)
    return pairs.sum(axis=1).astype(np.float32), pairs.sum(axis=0).astype(np.float32)


@functools.cache
def load_pair_reader(path=PAIRS_PATH):
    """A function from (N, *PAIR_FRAME) inputs to their (N, 101) probabilities (`PAIRS` pairs, then no
    pair); None when no pair reader is shipped. Its ONNX export runs in its place where there is
    one."""
    from digitrec.exporting import forward

    return forward(path) if path.is_file() else None
