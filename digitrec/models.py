"""The networks, and how trained ones are saved, described and loaded."""

import hashlib
import json
from pathlib import Path

import keras
import numpy as np
from keras import layers

from digitrec.errors import ModelFileError
from digitrec.labels import ALPHANUMERIC, DIGITS
from digitrec.paths import MODELS_DIR

# The models the package ships, best first: a bare `load_recognizer()` takes the first found.
# The alphanumeric model reads letters too, so it is never the default digit reader.
SHIPPED = ("cnn", "mlp")
ALNUM = "alnum"


def compiled(model, learning_rate, ema=0.0):
    """Both networks learn the same way: Adam on categorical crossentropy, scored by accuracy.

    With `ema`, Adam also keeps an exponential moving average of the weights with that
    momentum, and the model ends its training with the averaged weights.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, use_ema=ema > 0, ema_momentum=ema or 0.99),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_mlp(learning_rate=1e-3, ema=0.0):
    """The user's dense network: 784 inputs, 128 and 64 ReLU units, 10 softmax outputs."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28), name="image"),
            layers.Flatten(name="pixels"),
            layers.Dense(128, activation="relu", name="hidden_1"),
            layers.Dense(64, activation="relu", name="hidden_2"),
            layers.Dense(10, activation="softmax", name="digit"),
        ],
        name="mlp",
    )
    return compiled(model, learning_rate, ema)


def build_cnn(learning_rate=1e-3, ema=0.0, classes=DIGITS, name="cnn", head=128):
    """The upgrade the user's documents name: convolutions with batch normalization, pooling
    and dropout, then a dense layer with dropout; Adam and categorical crossentropy as before.

    Each block halves the image with a strided 5x5 convolution, a pooling the network learns,
    which did better on MNIST than fixed max pooling in published comparisons. `head` is the
    width of the last convolution and of the dense layer, where the classes are told apart.
    """

    def convolution(filters, size=3, strides=1, padding="same"):
        # No bias: the batch normalization that follows has its own offset.
        return [
            layers.Conv2D(filters, size, strides=strides, padding=padding, use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
        ]

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28), name="image"),
            layers.Reshape((28, 28, 1), name="channel"),
            *convolution(32, padding="valid"),  # 26x26
            *convolution(32, padding="valid"),  # 24x24
            *convolution(32, size=5, strides=2),  # 12x12
            layers.Dropout(0.4),
            *convolution(64, padding="valid"),  # 10x10
            *convolution(64, padding="valid"),  # 8x8
            *convolution(64, size=5, strides=2),  # 4x4
            layers.Dropout(0.4),
            *convolution(head, padding="valid"),  # 2x2
            layers.MaxPooling2D(name="to_1x1"),
            layers.Flatten(),
            layers.Dense(head, use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(0.4),
            layers.Dense(len(classes), activation="softmax", name="digit" if classes == DIGITS else "character"),
        ],
        name=name,
    )
    return compiled(model, learning_rate, ema)


def build_alnum(learning_rate=1e-3, ema=0.0, head=256):
    """The CNN with an output for each digit and letter: the same convolutions up to the 4x4
    ones, so that it starts from the digit CNN's trained weights, and a head twice as wide
    for 62 classes."""
    return build_cnn(learning_rate, ema, classes=ALPHANUMERIC, name=ALNUM, head=head)


BUILDERS = {"mlp": build_mlp, "cnn": build_cnn, ALNUM: build_alnum}


def head_width(model):
    """The width of a trained CNN's head: the units of its dense layer before the output."""
    return [layer for layer in model.layers if isinstance(layer, layers.Dense)][-2].units


def outputs(model, images, batch_size=1024):
    """`model`'s outputs for (N, 28, 28) float images, called directly in batches: no
    Keras predict loop, so it also runs inside a distribution strategy's workers."""
    return np.concatenate(
        [np.asarray(model(images[start : start + batch_size], training=False)) for start in range(0, len(images), batch_size)]
    )


def model_path(model):
    """Resolve "mlp", "cnn", "alnum" or a path to a `.keras` file."""
    if str(model) in BUILDERS or str(model) in SHIPPED:
        return MODELS_DIR / f"{model}.keras"
    return Path(model).expanduser()


def shipped():
    """The names of the models present in models/, best first."""
    return [name for name in SHIPPED if model_path(name).is_file()]


def card_path(path):
    return Path(path).with_suffix(".json")


def save(model, path, card):
    """Save the model and its JSON card side by side."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    card_path(path).write_text(json.dumps(card, indent=2) + "\n")


def read_card(path):
    """The JSON card beside a model file, or an empty dict when there is none."""
    card = card_path(path)
    return json.loads(card.read_text()) if card.is_file() else {}


def describe(model):
    """Which trained model a run started from or learned from: its file, its SHA-256 and the
    test accuracy its card gives."""
    path = model_path(model)
    return {
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "test_accuracy": read_card(path).get("test_accuracy"),
    }


def load(model):
    """Load a trained digit classifier, refusing files that are not one."""
    path = model_path(model)
    if not path.is_file():
        raise ModelFileError(
            f"Model file {path} does not exist. Ship it in models/ or train it with "
            f"`python -m digitrec train --model {path.stem}`."
        )
    try:
        network = keras.models.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for a broken archive.
        raise ModelFileError(f"Model file {path} could not be loaded: {error}") from error
    input_shape = tuple(network.input_shape[1:])
    output_shape = tuple(network.output_shape[1:])
    if input_shape not in ((28, 28), (28, 28, 1), (784,)) or output_shape not in ((10,), (62,)):
        raise ModelFileError(
            f"Model file {path} maps {input_shape} to {output_shape}; a model here takes a "
            "28x28 image and gives 10 digit probabilities (or 62, digits and letters)."
        )
    return network
