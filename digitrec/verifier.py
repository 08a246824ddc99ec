"""The number reader's check that a piece of ink is one whole digit.

A model trained on MNIST has only ever seen whole digits, so it reads whatever it is shown
as one, and often surely: half a 0 as a confident 1, two touching digits as a 4. When the
reader weighs where to cut touching digits, it multiplies each piece's confidence by this
small network's probability that the piece is one whole digit. The network learns from
MNIST's training digits written side by side, touching, and cut at random columns, each
piece shown to it exactly as the reader shows it to the digit model.
"""

import dataclasses
import datetime
import functools
import time
from dataclasses import dataclass

import cv2
import keras
import numpy as np
from keras import layers

from digitrec import data as mnist
from digitrec.drawing import compose_number
from digitrec.errors import NoDigitError
from digitrec.models import save
from digitrec.paths import MODELS_DIR
from digitrec.preprocessing import centre_digit, ink_box

VERIFIER_PATH = MODELS_DIR / "verifier.keras"
# A cut leaves at least this much of the piece's height on either side, as the reader's do.
NARROWEST_PIECE = 0.15
# A piece is one whole digit when it holds at least this much of one digit's ink and the
# other digit makes up at most 1 - this much of its ink; it is not one when it holds less
# than the second figure of any digit, or more than 1 - that of another. Pieces in between
# are left out of training: they are neither.
WHOLE = 0.9
NOT_WHOLE = 0.75


@dataclass
class VerifierConfig:
    examples: int = 60000  # Pieces drawn for training; a tenth more from the validation digits.
    epochs: int = 10  # Enough for the small network to settle; the best epoch is kept.
    batch_size: int = 128
    learning_rate: float = 1e-3  # Adam's default.
    seed: int = 1  # Fixes the pieces drawn, the initialization and the shuffling.


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


def examples(images, count, rng):
    """`count` pieces drawn from MNIST digit images, as the reader would show them: (N, 28,
    28) float32 inputs, and 1.0 for one whole digit or 0.0 for anything else.

    A quarter are single digits, whole; a quarter single digits cut at a random column, one
    side kept; a fifth two touching digits, whole; the rest two touching digits cut at a
    random column, one side kept, whole when the cut fell between them.
    """
    inputs, labels = [], []
    while len(inputs) < count:
        kind = rng.uniform()
        pair = kind >= 0.5
        chosen = rng.choice(len(images), 2 if pair else 1, replace=False)
        composed = compose_number(images[chosen], rng, touching=pair)
        if composed is None:
            continue  # These two shapes cannot touch side by side.
        page, placed = composed
        left, _, width, height = ink_box(page)
        start, end = left, left + width
        if kind >= 0.7 or 0.25 <= kind < 0.5:
            margin = max(1, int(NARROWEST_PIECE * height))
            if width <= 2 * margin:
                continue
            cut = int(rng.integers(left + margin, left + width - margin))
            start, end = (start, cut) if rng.uniform() < 0.5 else (cut, end)
        label = _label(placed, start, end)
        if label is None:
            continue
        try:
            inputs.append(as_the_reader_sees(page[:, start:end].astype(np.float32) / 255))
        except NoDigitError:
            continue
        labels.append(label)
    return np.stack(inputs), np.array(labels, np.float32)


def _label(placed, start, end):
    """1.0 when columns start:end hold one whole digit of those placed, 0.0 when they do not,
    None when it is too close to call."""
    inside = np.array([ink[:, max(start - x, 0) : max(end - x, 0)].sum(dtype=np.float64) for x, _, ink in placed])
    shares = inside / np.array([ink.sum(dtype=np.float64) for _, _, ink in placed])
    best = int(np.argmax(shares))
    others = (inside.sum() - inside[best]) / max(inside.sum(), 1.0)
    if shares[best] >= WHOLE and others <= 1 - WHOLE:
        return 1.0
    if shares[best] < NOT_WHOLE or others > 1 - NOT_WHOLE:
        return 0.0
    return None


def train(config=None, data=None, out=VERIFIER_PATH, verbose="auto"):
    """Train the verifier on pieces of MNIST's training digits; measure it on pieces of the
    test digits; save it with its card at `out` (nowhere when None). Returns the card."""
    config = config or VerifierConfig()
    (x_train, _), (x_test, _) = data or mnist.load_mnist()
    rng = np.random.default_rng(config.seed)
    keras.utils.set_random_seed(config.seed)
    split = len(x_train) - len(x_train) // 10
    started = time.perf_counter()
    x_fit, y_fit = examples(x_train[:split], config.examples, rng)
    x_val, y_val = examples(x_train[split:], config.examples // 10, rng)
    x_test_pieces, y_test_pieces = examples(x_test, config.examples // 10, rng)
    drawn = time.perf_counter() - started

    model = build_verifier(config.learning_rate)
    history = model.fit(
        x_fit, y_fit, batch_size=config.batch_size, epochs=config.epochs,
        validation_data=(x_val, y_val), verbose=verbose,
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.epochs, restore_best_weights=True)],
    )
    test_loss, test_accuracy = model.evaluate(x_test_pieces, y_test_pieces, verbose=0)
    history = {key: [float(value) for value in values] for key, values in history.history.items()}
    card = {
        "name": "verifier",
        "task": "P(one whole digit) for a piece of ink the number reader considers",
        "parameters": int(model.count_params()),
        "test_accuracy": round(float(test_accuracy), 6),
        "test_loss": round(float(test_loss), 6),
        "test_pieces": len(y_test_pieces),
        "test_whole_share": round(float(y_test_pieces.mean()), 4),
        "training_pieces": len(y_fit),
        "best_epoch": int(np.argmin(history["val_loss"])) + 1,
        "drawing_seconds": round(drawn, 1),
        "training_seconds": round(time.perf_counter() - started - drawn, 1),
        "config": dataclasses.asdict(config),
        "history": history,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if out:
        save(model, out, card)
    return card


@functools.cache
def load_verifier(path=VERIFIER_PATH):
    """A function from (N, 28, 28) inputs to each one's P(one whole digit), (N,); None when
    no verifier is shipped. Its ONNX export runs in its place where there is one."""
    from digitrec.exporting import runner

    if not path.is_file():
        return None
    exported = runner(path)
    if exported is not None:
        run = exported.probabilities
    else:
        import tensorflow as tf

        network = keras.models.load_model(path, safe_mode=True)
        forward = tf.function(
            lambda batch: network(batch, training=False),
            input_signature=[tf.TensorSpec((None, 28, 28), tf.float32)],
        )
        run = lambda batch: forward(batch).numpy()
    verify = lambda images: run(np.asarray(images, np.float32).reshape(-1, 28, 28))[:, 0]
    verify(np.zeros((1, 28, 28)))  # The first call traces: pay for it now.
    return verify
