"""Teaching the verifier: the runs of pieces that the reader itself cuts from numbers written
with training digits, each labelled by the ink it holds.

The verifier is asked about the runs the reader makes (strokes cut at their columns of least
ink or along paths, then one to four consecutive pieces), so it learns from exactly those:
numbers of 2 to 4 training digits (MNIST's, and UNIPEN's training writers' when given),
spaced, written close or with a pair that touches, slanted, as written or redrawn with
another pen, cut by the reader's first stage, each run shown to it at the line's scale as the
reader shows it. A run is one whole digit when it holds nearly all of one digit's ink and
little of any other's.
"""

import dataclasses
import datetime
import time
from dataclasses import dataclass

import keras
import numpy as np

from digitrec import data as mnist
from digitrec.drawing import GAP_BANDS, compose_number, shear
from digitrec.errors import NoDigitError
from digitrec.models import save
from digitrec.numbers.grouping import runs
from digitrec.numbers.pieces import box_of, crop, cut_into_pieces, digits_height, wide_strokes
from digitrec.preprocessing import strokes
from digitrec.verifier import VERIFIER_PATH, as_the_reader_sees, as_the_verifier_sees, build_verifier

# A run is one whole digit when it holds at least this much of one digit's ink and the other
# digits make up at most 1 - this much of its ink; it is not one when it holds less than the
# second figure of any digit, or more than 1 - that of others. Runs in between are left out
# of training: they are neither.
WHOLE = 0.9
NOT_WHOLE = 0.75
# How the numbers are written, as the benchmark writes its own (from test digits): each band of
# gaps as often, half of the numbers redrawn with a pen of this range of widths (shares of the
# digits' height), every one slanted by up to this much.
BANDS = ("spaced", "tight", "one pair touching")
PEN_WIDTHS = (0.03, 0.09)
SLANT = 0.2


@dataclass
class VerifierConfig:
    examples: int = 80000  # Runs drawn for training; a tenth as many to validate and to test on.
    epochs: int = 10  # Enough for the small network to settle; the best epoch is kept.
    batch_size: int = 128
    learning_rate: float = 1e-3  # Adam's default.
    seed: int = 1  # Fixes the numbers drawn, the initialization and the shuffling.


def examples(images, count, rng):
    """`count` runs of pieces cut from numbers written with `images` (uint8 MNIST-framed
    digits), as the reader shows them to the verifier: (N, 28, 28) float32 inputs, and 1.0
    for one whole digit or 0.0 for anything else."""
    inputs, labels = [], []
    while len(labels) < count:
        page, owners, _ = written(images, rng)
        for run_input, label in labelled_runs(page, owners):
            inputs.append(run_input)
            labels.append(label)
    return np.stack(inputs[:count]), np.array(labels[:count], np.float32)


def written(images, rng, bands=BANDS):
    """A number of 2 to 4 of `images` written on a page of white ink on black, with gaps of
    one of `bands` (drawn evenly): the page, each digit's ink alone on a page of its own
    (D, H, W), and the indices of the digits in `images`, left to right."""
    while True:
        chosen = rng.choice(len(images), int(rng.integers(2, 5)), replace=False)
        band = bands[rng.integers(len(bands))]
        pen_radius = rng.uniform(*PEN_WIDTHS) if rng.uniform() < 0.5 else None
        gaps = GAP_BANDS.get(band, GAP_BANDS["spaced"])
        composed = compose_number(images[chosen], rng, band == "one pair touching", gaps, pen_radius=pen_radius)
        if composed is not None:
            break  # Otherwise the touching pair's shapes cannot meet side by side.
    page, placed = composed
    slant = rng.uniform(-SLANT, SLANT)
    return shear(page, slant), np.stack([shear(owner, slant) for owner in owned(page.shape, placed)]), chosen


def owned(shape, placed):
    """Each digit `compose_number` placed, its ink alone on a page of `shape`: (D, H, W)."""
    owners = np.zeros((len(placed), *shape), np.uint8)
    for owner, (left, top, ink) in zip(owners, placed):
        owner[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return owners


def labelled_runs(page, owners):
    """Every run of pieces the reader would read on `page`, as the verifier's (28, 28) input,
    with its label (`label`) from the ink of each digit in `owners` it holds; runs too close to call
    are left out."""
    try:
        ink, labels, stats, kept = strokes(page.astype(np.float32) / 255)
    except NoDigitError:
        return
    height = digits_height(stats, kept)
    # Each digit's ink on the strokes the reader sees: a faint edge below the ink threshold
    # is in no piece, so it is in no digit's total either.
    stroked = labels > 0
    totals = (owners * stroked).sum(axis=(1, 2), dtype=np.float64)
    wide = wide_strokes(stats, kept, height)
    # Both of the reader's cuttings: straight, and along paths where strokes may lean into
    # each other (there, only the runs that hold a piece cut so).
    for along_paths in ((), wide) if wide else ((),):
        pieces = cut_into_pieces(ink, labels, stats, kept, height, along_paths)
        for first, end in runs(pieces, height, [False] * len(pieces)):
            if along_paths and not any(piece.label in along_paths for piece in pieces[first:end]):
                continue
            part = crop(ink, labels, pieces[first:end])
            try:
                as_the_reader_sees(part)  # The reader asks only about runs it could read.
            except NoDigitError:
                continue
            left, top, right, bottom = box_of(pieces[first:end])
            inside = (owners[:, top:bottom, left:right] * (part > 0)).sum(axis=(1, 2), dtype=np.float64)
            whole = label(inside, totals)
            if whole is not None:
                yield as_the_verifier_sees(part, height), whole


def label(inside, totals):
    """1.0 when a run holding `inside` of each digit's ink (of `totals`) is one whole digit,
    0.0 when it is not, None when it is too close to call."""
    shares = inside / np.maximum(totals, 1.0)
    best = int(np.argmax(shares))
    others = (inside.sum() - inside[best]) / max(inside.sum(), 1.0)
    if shares[best] >= WHOLE and others <= 1 - WHOLE:
        return 1.0
    if shares[best] < NOT_WHOLE or others > 1 - NOT_WHOLE:
        return 0.0
    return None


def digit_sources(data=None, unipen=None):
    """The digits numbers are written with, by split: {"train" | "validation" | "test":
    (images, labels)}, MNIST's (the last tenth of its training digits to validate on) and,
    with `unipen` (or $DIGITREC_UNIPEN), UNIPEN's writers of the same split; and the UNIPEN
    file used, or None."""
    (x_train, y_train), (x_test, y_test) = data or mnist.load_mnist()
    split = len(x_train) - len(x_train) // 10
    sources = {
        "train": [(x_train[:split], y_train[:split])],
        "validation": [(x_train[split:], y_train[split:])],
        "test": [(x_test, y_test)],
    }
    unipen = None if unipen == "" else mnist.unipen_path(unipen)
    if unipen is not None:
        for name in sources:
            sources[name].append(mnist.load_unipen(name, unipen))
    joined = {name: tuple(np.concatenate(parts) for parts in zip(*sets)) for name, sets in sources.items()}
    return joined, unipen


def train(config=None, data=None, unipen=None, out=VERIFIER_PATH, verbose="auto"):
    """Train the verifier on runs cut from numbers of MNIST's training digits (the last tenth
    held out to validate on) and UNIPEN's training writers (`unipen`, or $DIGITREC_UNIPEN; its
    validation writers validated on); measure it on runs from the test digits of both; save it
    with its card at `out` (nowhere when None). Returns the card."""
    config = config or VerifierConfig()
    sources, unipen = digit_sources(data, unipen)
    sets, drawn = drawn_sets(sources, config, lambda images, _, count, rng: examples(images, count, rng))

    def figures(model, x_test, y_test):
        return {
            "test_pieces": len(y_test),
            "test_whole_share": round(float(y_test.mean()), 4),
            "training_pieces": len(sets["train"][1]),
        }

    task = "P(one whole digit) for a run of pieces of ink the number reader considers"
    return fit_and_save(build_verifier(config.learning_rate), task, config, sets, figures, unipen, drawn, out, verbose)


def drawn_sets(sources, config, draw):
    """Seed the run with `config.seed`, then draw each split's examples from its digits in
    `sources` with `draw(images, labels, count, rng)`: `config.examples` to train on, a tenth
    as many to validate and to test on. Returns ({split: (inputs, labels)}, seconds taken)."""
    rng = np.random.default_rng(config.seed)
    keras.utils.set_random_seed(config.seed)
    started = time.perf_counter()
    sets = {name: draw(*digits, config.examples // (1 if name == "train" else 10), rng) for name, digits in sources.items()}
    return sets, time.perf_counter() - started


def fit_and_save(model, task, config, sets, figures, unipen, drawn, out, verbose, schedule=None):
    """Fit one of the reader's own networks on sets["train"] (inputs, labels), keeping its
    best epoch by the loss on sets["validation"], at the rate `schedule(epoch)` if given; save
    it at `out` (nowhere when None) with a card of its `task`, its loss and accuracy on
    sets["test"] and its own `figures(model, *sets["test"])`, and the run's record (`drawn`:
    the seconds its examples took). Returns the card."""
    started = time.perf_counter()
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.epochs, restore_best_weights=True)]
    if schedule:
        callbacks.append(keras.callbacks.LearningRateScheduler(schedule))
    history = model.fit(
        *sets["train"], batch_size=config.batch_size, epochs=config.epochs,
        validation_data=sets["validation"], verbose=verbose, callbacks=callbacks,
    )
    history = {key: [float(value) for value in values] for key, values in history.history.items()}
    test_loss, test_accuracy = model.evaluate(*sets["test"], verbose=0)
    card = {
        "name": model.name,
        "task": task,
        "parameters": int(model.count_params()),
        "test_accuracy": round(float(test_accuracy), 6),
        "test_loss": round(float(test_loss), 6),
        **figures(model, *sets["test"]),
        "unipen": unipen is not None,
        "best_epoch": int(np.argmin(history["val_loss"])) + 1,
        "drawing_seconds": round(drawn, 1),
        "training_seconds": round(time.perf_counter() - started, 1),
        "config": dataclasses.asdict(config),
        "history": history,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if out:
        save(model, out, card)
    return card
