"""Training a model on MNIST and writing its card."""

import dataclasses
import datetime
import os
import platform
import time
from dataclasses import dataclass

import keras
import numpy as np

from digitrec import data as mnist
from digitrec import models
from digitrec.augmentation import Augmentation, WriterBatches


@dataclass
class TrainConfig:
    # "mlp" is the user's dense network, "cnn" the convolutional one, "alnum" the CNN that reads
    # letters too (trained on UNIPEN's letters as well).
    model: str = "mlp"
    epochs: int = 60  # An upper bound: early stopping usually ends the run sooner.
    batch_size: int = 128  # Small enough for a good minimum, large enough to be quick on a CPU.
    learning_rate: float = 1e-3  # Adam's default, for the first epoch.
    # None halves the rate whenever validation loss stalls for 2 epochs; a number multiplies
    # it by that after every epoch. The dense network did better halving (98.4% against
    # 98.2% with 0.95), the CNN with a steady decay, which BatchNorm's noisy validation
    # loss cannot cut short.
    learning_rate_decay: float | None = None
    # The last MNIST training images, never trained on, that early stopping watches with the
    # UNIPEN validation writers; 0 trains on all 60,000 and runs every epoch.
    validation_size: int = 6000
    patience: int = 10  # Epochs without a better validation accuracy before stopping.
    seed: int = 1  # Fixes initialization, shuffling and augmentation, so a run can be repeated.
    # UNIPEN's tablet digits (unipen_digits.npz, its strokes file beside it) to train on with
    # MNIST: its training writers are trained on, its validation writers validated on. None
    # takes $DIGITREC_UNIPEN; "" or no such variable trains on MNIST alone.
    unipen: str | None = None
    # Each epoch shows UNIPEN's training digits this many times: its 181 writers are a sixth
    # of the images but most of the styles MNIST lacks.
    unipen_repeats: int = 1
    # Writer variety, drawn afresh for every batch (digitrec.augmentation).
    augmentation: Augmentation = dataclasses.field(default_factory=Augmentation)
    # A trained model ("cnn" or a path) whose weights training starts from, instead of
    # random ones: a shorter run that teaches a trained network the new writers and styles.
    init: str | None = None
    # Momentum of an exponential moving average of the weights, which the saved model keeps:
    # an average of the last few thousand steps generalises better than the last step alone.
    # 0 keeps the last step's weights.
    ema: float = 0.0
    # Distillation: a trained model ("cnn" or a path), or several separated by commas (their
    # probabilities averaged: an ensemble teaches more than any one of it), whose probabilities
    # for each training image (as it is, computed once) are mixed into its labels with this
    # share, softened by this temperature.
    teacher: str | None = None
    teacher_share: float = 0.0
    temperature: float = 1.0
    # "default" trains on one device; "mirrored" on every local GPU (or CPU device) at once;
    # "multi-worker" on the machines that the TF_CONFIG environment variable lists.
    strategy: str = "default"
    # Logit adjustment (Menon et al., 2021): after training, this times the log of each class's
    # share of the training images comes off the output's bias, so that a class seen seldom (a
    # letter, beside 8,000 of each digit) is not read as a common one of the same shape (an o
    # as 0). None chooses it among ADJUSTMENTS on the validation writers, as the one with the
    # highest mean recall per class; 0 keeps the training set's prior.
    logit_adjustment: float | None = 0.0
    # Train on this many of the training images, drawn at random from all of them (MNIST's,
    # UNIPEN's, the letters): a quick look at a recipe. 0 trains on every one.
    images: int = 0
    # The CNNs' head: the width of the last convolution and of the dense layer, where the
    # classes are told apart. 0 is the `init` model's, else the model's own (128 for the
    # digit CNN, 256 for letters).
    head: int = 0


# Where each model's recipe differs from the defaults.
# - The CNN has more capacity to fill: it runs its whole decaying schedule on all 60,000
#   MNIST digits and UNIPEN's training writers (three times an epoch), some of MNIST's traced
#   again with other pens, and the saved model is the weight average (a single CNN with batch
#   norm, augmentation and weight averaging is a published 99.7% recipe). The shipped one
#   went on from the letters model, as wide as it (`--init alnum --head 256 --seed 5`, see
#   its card); the CNN shipped before it was this recipe's run with seed 5.
# - The dense network learns from the CNN (distillation): the 784-128-64-10 network is too
#   small to learn much writer variety from hard labels alone, so it sees less of it, the
#   CNN's softened answers say which digits each training digit resembles, and it too keeps
#   the weight average of a fixed decaying schedule.
RECIPES = {
    "mlp": {
        "epochs": 40, "patience": 40, "learning_rate_decay": 0.92, "ema": 0.999,
        "augmentation": Augmentation(probability=0.7), "unipen_repeats": 2,
        "teacher": "cnn", "teacher_share": 0.8, "temperature": 3.0,
    },
    "cnn": {
        "epochs": 36, "patience": 36, "learning_rate_decay": 0.905, "validation_size": 0, "ema": 0.999,
        "unipen_repeats": 3, "augmentation": Augmentation(retrace=0.15),
    },
    # The letters model starts from the shipped digit CNN (all but its output, which has 62
    # classes here; only the convolutions whose shapes agree for a narrower CNN), which
    # already knows strokes, loops and writer variety; its own schedule, averaged like the CNN's.
    "alnum": {
        "epochs": 8, "patience": 8, "learning_rate": 1e-3, "learning_rate_decay": 0.75, "validation_size": 0,
        "ema": 0.999, "init": "cnn", "unipen_repeats": 2, "logit_adjustment": None,
    },
}
ADJUSTMENTS = np.arange(0, 1.51, 0.125)

# A run that starts from trained weights (`init`) needs fewer epochs, from a lower rate.
CONTINUED = {
    "mlp": {"epochs": 15, "learning_rate": 3e-4},
    "cnn": {"epochs": 12, "patience": 12, "learning_rate": 3e-4, "learning_rate_decay": 0.85},
    "alnum": {"epochs": 7, "patience": 7, "learning_rate": 5e-4, "learning_rate_decay": 0.75},
}


def default_config(model="mlp", **overrides):
    """The training recipe for `model`, with any field overridden."""
    if model not in RECIPES:
        raise ValueError(f"Unknown model {model!r}; expected one of {sorted(RECIPES)}.")
    continued = CONTINUED.get(model, {}) if overrides.get("init") else {}
    return TrainConfig(model=model, **{**RECIPES[model], **continued, **overrides})


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


def unipen_file(config):
    """The UNIPEN digits file the run uses, or None for MNIST alone."""
    return None if config.unipen == "" else mnist.unipen_path(config.unipen)


def training_data(config, data):
    """What `train` fits on and validates on: ((images, labels, strokes), (x_val, y_val)).

    MNIST's training images but the held-out last `validation_size`, and UNIPEN's training
    writers, each with its pen strokes (None for MNIST's, which has none); the held-out MNIST
    images and UNIPEN's validation writers to validate on. UNIPEN's test writers never enter.
    The letters model also gets UNIPEN's letters (labels 10-61, after the digits), split the
    same way.
    """
    (x_train, y_train), _ = data
    split = len(x_train) - config.validation_size
    images, labels, strokes = [x_train[:split]], [y_train[:split]], [None] * split
    x_val, y_val = [x_train[split:]], [y_train[split:]]
    unipen = unipen_file(config)
    if unipen is not None:
        x_unipen, y_unipen = mnist.load_unipen("train", unipen)
        unipen_strokes, _ = mnist.load_unipen_strokes("train", unipen)
        images += [x_unipen] * config.unipen_repeats
        labels += [y_unipen] * config.unipen_repeats
        strokes += unipen_strokes * config.unipen_repeats
        x_validation, y_validation = mnist.load_unipen("validation", unipen)
        x_val.append(x_validation)
        y_val.append(y_validation)
    if config.model == models.ALNUM:
        if unipen is None:
            raise ValueError("The letters model trains on UNIPEN's letters: set DIGITREC_UNIPEN or --unipen.")
        digits = len(models.DIGITS)
        letters = mnist.letters_path(digits=unipen)
        x_letters, y_letters = mnist.load_unipen_letters("train", letters)
        images.append(x_letters)
        labels.append(y_letters + digits)
        strokes += [None] * len(x_letters)
        x_validation, y_validation = mnist.load_unipen_letters("validation", letters)
        x_val.append(x_validation)
        y_val.append(y_validation + digits)
    images, labels = np.concatenate(images), np.concatenate(labels)
    if 0 < config.images < len(images):
        chosen = np.sort(np.random.default_rng(config.seed).choice(len(images), config.images, replace=False))
        images, labels, strokes = images[chosen], labels[chosen], [strokes[i] for i in chosen]
    return (images, labels, strokes), (np.concatenate(x_val), np.concatenate(y_val))


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
    convolutional = config.model in ("cnn", models.ALNUM)  # The networks with a head to widen.
    if config.head and not convolutional:
        raise ValueError(f"--head widens the CNNs; the {config.model!r} network's layers are fixed.")
    data = data or mnist.load_mnist()
    _, (x_test, y_test) = data
    # The same seed gives the same weights, batches and augmentations, so the same model.
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()

    (x_fit, y_fit, strokes), (x_val, y_val) = training_data(config, data)
    classes = len(models.ALPHANUMERIC if config.model == models.ALNUM else models.DIGITS)
    teacher = None
    if config.teacher and config.teacher_share > 0:
        teacher = np.mean(
            [models.load(name).predict(mnist.scale(x_fit), batch_size=1024, verbose=0) for name in teachers(config)], axis=0
        )
    batches = WriterBatches(
        x_fit, y_fit, config.batch_size, config.augmentation, config.seed, strokes=strokes,
        teacher=teacher, teacher_share=config.teacher_share, temperature=config.temperature, classes=classes,
    )
    validation = (mnist.scale(x_val), keras.utils.to_categorical(y_val, classes)) if len(x_val) else None

    strategy = distribution(config.strategy)
    with strategy.scope():
        # The average spans at most the last tenth of the run, so a short run (a smoke test,
        # one epoch in the notebook) is not mostly its first steps' weights.
        ema = min(config.ema, 1 - 10 / (len(batches) * config.epochs)) if config.ema else 0.0
        trained = models.load(config.init) if config.init else None
        # A CNN started from trained weights is as wide as they are, unless told otherwise.
        head = config.head or (models.head_width(trained) if trained is not None and convolutional else 0)
        model = models.BUILDERS[config.model](learning_rate=config.learning_rate, ema=max(ema, 0.0), **({"head": head} if head else {}))
        if trained is not None:
            start_from(model, trained)
    monitor = "val_accuracy" if validation else "accuracy"
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor=monitor, patience=config.patience, restore_best_weights=not config.ema
        ),
        keras.callbacks.ReduceLROnPlateau(monitor=monitor.replace("accuracy", "loss"), factor=0.5, patience=2, min_lr=1e-5)
        if config.learning_rate_decay is None
        else keras.callbacks.LearningRateScheduler(
            lambda epoch: config.learning_rate * config.learning_rate_decay**epoch
        ),
    ]
    started = time.perf_counter()
    if config.strategy == "multi-worker":
        from digitrec import multi_worker

        # Keras's fit cannot run across workers: a loop of distributed steps, on the same
        # schedule (a constant rate when the recipe would halve it on plateaus), no early stop.
        decay = config.learning_rate_decay or 1.0
        history = multi_worker.fit(
            model, batches, config.epochs, strategy, lambda epoch: config.learning_rate * decay**epoch, validation
        )
        measure = lambda images, targets: multi_worker.evaluate(model, images, targets)
    else:
        history = model.fit(
            batches,
            epochs=config.epochs,
            validation_data=validation,
            callbacks=callbacks,
            verbose=verbose,
        ).history
        measure = lambda images, targets: model.evaluate(images, targets, batch_size=1024, verbose=0)
    seconds = time.perf_counter() - started
    if config.logit_adjustment != 0:
        adjustment = adjust_prior(model, y_fit, validation, config.logit_adjustment)

    test_loss, test_accuracy = measure(mnist.scale(x_test), keras.utils.to_categorical(y_test, classes))
    history = {key: [float(value) for value in values] for key, values in history.items()}
    card = make_card(model, config, history, data, test_loss, test_accuracy, seconds)
    card["replicas"] = int(strategy.num_replicas_in_sync)
    card["training_images"] = int(len(x_fit))
    if config.logit_adjustment != 0:
        card["logit_adjustment"] = adjustment
    unipen = unipen_file(config)
    if unipen is not None:
        # Reported, never looked at during training: the test writers' digits as they are.
        x_unipen, y_unipen = mnist.load_unipen("test", unipen)
        unipen_test = measure(mnist.scale(x_unipen), keras.utils.to_categorical(y_unipen, classes))
        card["unipen_test_accuracy"] = round(float(unipen_test[1]), 6)
        card["unipen_test_images"] = int(len(y_unipen))
    if config.init:
        card["init"] = models.describe(config.init)
    if config.teacher and config.teacher_share > 0:
        described = [models.describe(name) for name in teachers(config)]
        card["teacher"] = described[0] if len(described) == 1 else described
    if config.model == models.ALNUM:
        from digitrec.letters import alnum_report

        card["alnum_test"] = alnum_report(lambda images: models.outputs(model, images), data[1], unipen)
    if validation:
        # The saved weights (the average, with `ema`), not those of the last epoch.
        card["validation_images"] = int(len(x_val))
        card["validation_accuracy"] = round(float(measure(*validation)[1]), 6)
    if out and _is_chief(strategy):
        models.save(model, out, card)
    return TrainResult(model=model, history=history, card=card)


def teachers(config):
    """The models `config.teacher` names: one, or several separated by commas."""
    return [name.strip() for name in config.teacher.split(",")]


def adjust_prior(model, labels, validation=None, adjustment=None):
    """Take `adjustment` times the log of each class's share of `labels` off the bias of
    `model`'s output layer (the prior it learnt from its training set); None chooses the
    adjustment among ADJUSTMENTS on the `validation` (images, one-hot) as the one with the
    highest mean recall per class. Returns the adjustment made."""
    log_prior = np.log(np.maximum(np.bincount(labels, minlength=model.output_shape[-1]), 1) / len(labels))
    if adjustment is None:
        if validation is None:
            raise ValueError("choosing the logit adjustment needs validation images: give one, or validation writers")
        images, targets = validation
        truth = targets.argmax(axis=1)
        log_p = np.log(np.clip(models.outputs(model, images), 1e-12, 1.0))
        recall = lambda read: np.mean([np.mean(read[truth == c] == c) for c in np.unique(truth)])
        adjustment = max(ADJUSTMENTS, key=lambda a: recall((log_p - a * log_prior).argmax(axis=1)))
    output = model.layers[-1]
    kernel, bias = output.get_weights()
    output.set_weights([kernel, bias - adjustment * log_prior])
    return float(adjustment)


def start_from(model, trained):
    """Copy a trained network's weights into `model`, layer by layer where the shapes agree:
    all of them for the same network; for the letters model started from the digit CNN, its
    convolutions but the last (its head is wider, and its output has 62 classes). A digit
    CNN of the letters model's width started from it takes every layer, and of its output
    the digits' columns (the first ten of its classes)."""
    last = len(model.layers) - 1
    for index, (layer, source) in enumerate(zip(model.layers, trained.layers, strict=True)):
        weights = source.get_weights()
        shapes = [w.shape for w in layer.get_weights()]
        if index == last and [w.shape[:-1] for w in weights] == [shape[:-1] for shape in shapes]:
            weights = [w[..., : shape[-1]] for w, shape in zip(weights, shapes)]
        if [w.shape for w in weights] == shapes:
            layer.set_weights(weights)


def _is_chief(strategy):
    """Whether this process writes the results: always, except on multi-worker's other workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return resolver is None or resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def make_card(model, config, history, data, test_loss, test_accuracy, seconds):
    import tensorflow as tf

    monitored = history.get("val_accuracy") or history["accuracy"]
    # With a weight average the saved weights are the last epoch's average, not a best epoch.
    best_epoch = len(monitored) if config.ema else int(np.argmax(monitored)) + 1
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
        "best_val_accuracy": round(monitored[best_epoch - 1], 6),
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
