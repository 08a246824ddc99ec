"""Training a model on MNIST and writing its card."""

import dataclasses
import datetime
import os
import platform
import time
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from digitrec import data as mnist
from digitrec import models


@dataclass
class TrainConfig:
    model: str = "mlp"  # "mlp" is the user's dense network, "cnn" the convolutional one.
    epochs: int = 60  # An upper bound: early stopping usually ends the run sooner.
    batch_size: int = 128  # Small enough for a good minimum, large enough to be quick on a CPU.
    learning_rate: float = 1e-3  # Adam's default, for the first epoch.
    # None halves the rate whenever validation loss stalls for 2 epochs; a number multiplies
    # it by that after every epoch. The dense network did better halving (98.4% against
    # 98.2% with 0.95), the CNN with a steady decay, which BatchNorm's noisy validation
    # loss cannot cut short.
    learning_rate_decay: float | None = None
    validation_size: int = 6000  # The last 10% of the training set, never trained on.
    patience: int = 10  # Epochs without a better validation accuracy before stopping.
    seed: int = 1  # Fixes initialization and shuffling, so a run can be repeated.
    # Augmentation, applied to training batches only. Small, because the preprocessing already
    # centres and scales every digit; it teaches the model the wobble that remains.
    rotation: float = 10.0  # Degrees, either way.
    shift: float = 0.08  # Fraction of the image, either way.
    zoom: float = 0.1  # Fraction, in or out.
    shear: float = 0.1  # Shear intensity, either way.
    # "default" trains on one device; "mirrored" on every local GPU (or CPU device) at once;
    # "multi-worker" on the machines that the TF_CONFIG environment variable lists.
    strategy: str = "default"


# Where the CNN's recipe differs from the dense network's: it has more capacity to fill, so
# it runs its whole decaying schedule (its best epoch came late, 40 of 45), with wider shifts
# to learn from.
RECIPES = {
    "mlp": {},
    "cnn": {"epochs": 45, "patience": 45, "learning_rate_decay": 0.95, "shift": 0.1},
}


def default_config(model="mlp", **overrides):
    """The training recipe for `model`, with any field overridden."""
    if model not in RECIPES:
        raise ValueError(f"Unknown model {model!r}; expected one of {sorted(RECIPES)}.")
    return TrainConfig(model=model, **{**RECIPES[model], **overrides})


def distribution(name):
    """The tf.distribute strategy called `name`."""
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        # Replicas on every GPU; without GPUs, on every logical CPU device.
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}; expected 'default', 'mirrored' or 'multi-worker'.")


def augmentation(config):
    """The random transforms of training: rotation, shift, shear and zoom, as the user listed."""
    fill = {"fill_mode": "constant", "seed": config.seed}
    return keras.Sequential(
        [
            layers.RandomRotation(config.rotation / 360, **fill),
            layers.RandomTranslation(config.shift, config.shift, **fill),
            layers.RandomShear(config.shear, config.shear, **fill),
            layers.RandomZoom(config.zoom, **fill),
        ],
        name="augmentation",
    )


def training_batches(images, labels, config):
    """A shuffled, augmented tf.data pipeline over (images, one-hot labels)."""
    import tensorflow as tf

    augment = augmentation(config)
    has_augmentation = any((config.rotation, config.shift, config.zoom, config.shear))

    def transform(batch, batch_labels):
        if has_augmentation:
            batch = augment(batch[..., None], training=True)[..., 0]
        return batch, batch_labels

    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(images), seed=config.seed, reshuffle_each_iteration=True)
        .batch(config.batch_size)
        .map(transform, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


@dataclass
class TrainResult:
    model: keras.Model
    history: dict  # Keras's per-epoch metrics: loss, accuracy, val_loss, val_accuracy, lr.
    card: dict  # What is written beside the model file.


def train(config=None, data=None, out=None, verbose="auto"):
    """Train `config.model` on MNIST, keep the best validation epoch, evaluate on the test set.

    `data` is what `load_mnist()` returns (loaded when not given); `out` is where the model and
    its card are saved, nowhere when None.
    """
    import tensorflow as tf

    config = config or TrainConfig()
    if config.model not in models.BUILDERS:
        raise ValueError(f"Unknown model {config.model!r}; expected one of {sorted(models.BUILDERS)}.")
    data = data or mnist.load_mnist()
    (x_train, y_train), (x_test, y_test) = data
    # The same seed gives the same weights, batches and augmentations, so the same model.
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()

    split = len(x_train) - config.validation_size
    x_fit, y_fit = mnist.scale(x_train[:split]), keras.utils.to_categorical(y_train[:split], 10)
    x_val, y_val = mnist.scale(x_train[split:]), keras.utils.to_categorical(y_train[split:], 10)

    strategy = distribution(config.strategy)
    with strategy.scope():
        model = models.BUILDERS[config.model](learning_rate=config.learning_rate)
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_accuracy", patience=config.patience, restore_best_weights=True
        ),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5)
        if config.learning_rate_decay is None
        else keras.callbacks.LearningRateScheduler(
            lambda epoch: config.learning_rate * config.learning_rate_decay**epoch
        ),
    ]
    started = time.perf_counter()
    history = model.fit(
        training_batches(x_fit, y_fit, config),
        epochs=config.epochs,
        validation_data=(x_val, y_val),
        shuffle=False,  # The dataset shuffles itself, with the config's seed.
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds = time.perf_counter() - started

    test_loss, test_accuracy = model.evaluate(
        mnist.scale(x_test), keras.utils.to_categorical(y_test, 10), batch_size=1024, verbose=0
    )
    history = {key: [float(value) for value in values] for key, values in history.history.items()}
    card = make_card(model, config, history, data, test_loss, test_accuracy, seconds)
    card["replicas"] = int(strategy.num_replicas_in_sync)
    if out and _is_chief(strategy):
        models.save(model, out, card)
    return TrainResult(model=model, history=history, card=card)


def _is_chief(strategy):
    """Whether this process writes the results: always, except on multi-worker's other workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return resolver is None or resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def make_card(model, config, history, data, test_loss, test_accuracy, seconds):
    import tensorflow as tf

    best_epoch = int(np.argmax(history["val_accuracy"])) + 1
    return {
        "name": config.model,
        "architecture": " -> ".join(
            f"{layer.name} {tuple(layer.output.shape[1:])}" for layer in model.layers
        ),
        "parameters": int(model.count_params()),
        "test_accuracy": round(float(test_accuracy), 6),
        "test_loss": round(float(test_loss), 6),
        "test_images": int(len(data[1][0])),
        "epochs_run": len(history["loss"]),
        "best_epoch": best_epoch,
        "best_val_accuracy": round(history["val_accuracy"][best_epoch - 1], 6),
        "training_seconds": round(seconds, 1),
        "config": dataclasses.asdict(config),
        "history": history,
        "data_sha256": mnist.checksum(data),
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
        "machine": f"{platform.machine()}, {platform.system()}, {os.cpu_count()} cores",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
