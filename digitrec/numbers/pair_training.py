"""Teaching the pair reader: the wide strokes the reader meets in numbers written with
training digits, each labelled by the digits whose ink it holds.

The reader asks the pair reader about each stroke wide enough to be digits that touch, whole,
so it learns from exactly those: numbers of 2 to 4 training digits (MNIST's, and UNIPEN's
training writers' when given), most with a pair that touches, some written close, slanted, as
written or redrawn with another pen (`verifier_training.written`). A stroke holding nearly all
of two neighbours' ink and little of any other's is that pair; one holding one digit (a wide
0), a part of one (a 4's bar) or three is no pair. The reader also asks it about narrower
strokes of a digit's height, which it has not learnt from: it reads two 1s that touch as
"11", and a lone 1 as no pair (tests in test_numbers).
"""

from dataclasses import dataclass

import numpy as np

from digitrec.errors import NoDigitError
from digitrec.numbers.pieces import digits_height, stroke, wide_strokes
from digitrec.numbers.verifier_training import digit_sources, drawn_sets, fit_and_save, written
from digitrec.pairs import NOT_A_PAIR, PAIRS_PATH, as_the_pair_reader_sees, build_pair_reader
from digitrec.preprocessing import strokes

# A digit is in a stroke when the stroke holds at least this share of its ink, out of it when
# at most the second share; a stroke with a digit in between (a 5 whose flag is a stroke of its
# own) is too close to call and left out.
HELD = 0.75
NOT_HELD = 0.1
# Most numbers have a pair that touches; the others are written close, where strokes meet by
# chance and most wide strokes are one digit.
BANDS = ("one pair touching",) * 4 + ("tight",)
# Wide strokes that are one digit are common (most digits are wider than 0.6 of their height):
# this share of them is kept, so that pairs are most of what is learnt.
SINGLES_KEPT = 0.35


@dataclass
class PairConfig:
    examples: int = 150000  # Strokes drawn for training; a tenth as many to validate and to test on.
    epochs: int = 8  # The best epoch is kept.
    batch_size: int = 128
    learning_rate: float = 1e-3  # Adam's default, for the first epoch,
    learning_rate_decay: float = 0.75  # then multiplied by this after each one.
    seed: int = 1  # Fixes the numbers drawn, the initialization and the shuffling.


def examples(images, labels, count, rng):
    """`count` wide strokes cut from numbers written with `images` (uint8 MNIST-framed digits,
    `labels` their digits), as the pair reader sees them: (N, *PAIR_FRAME) float32 inputs, and for
    each its pair 10 * left + right or `NOT_A_PAIR`."""
    inputs, targets = [], []
    while len(targets) < count:
        page, owners, chosen = written(images, rng, BANDS)
        for stroke_input, target in labelled_strokes(page, owners, labels[chosen]):
            if target != NOT_A_PAIR or rng.uniform() < SINGLES_KEPT:
                inputs.append(stroke_input)
                targets.append(target)
    return np.stack(inputs[:count]), np.array(targets[:count], np.int64)


def labelled_strokes(page, owners, digits):
    """Every stroke on `page` the reader would ask the pair reader about, as its `PAIR_FRAME`
    input, with its label from the ink of each digit in `owners` (whose digits are `digits`,
    left to right) it holds; strokes too close to call are left out."""
    try:
        ink, labels, stats, kept = strokes(page.astype(np.float32) / 255)
    except NoDigitError:
        return
    height = digits_height(stats, kept)
    totals = (owners * (labels > 0)).sum(axis=(1, 2), dtype=np.float64)
    for label in wide_strokes(stats, kept, height):
        left, top, width, tall = (int(value) for value in stats[label, :4])
        own = labels[top : top + tall, left : left + width] == label
        inside = (owners[:, top : top + tall, left : left + width] * own).sum(axis=(1, 2), dtype=np.float64)
        target = pair_label(inside / np.maximum(totals, 1.0), digits)
        if target is not None:
            yield as_the_pair_reader_sees(stroke(ink, labels, stats, label)), target


def pair_label(shares, digits):
    """The label of a stroke holding `shares` of each digit's ink: 10 * left + right when it
    holds two neighbours, `NOT_A_PAIR` for one digit, a part of one or three, None when a digit
    is partly in it."""
    held = np.flatnonzero(shares >= HELD)
    if ((shares > NOT_HELD) & (shares < HELD)).any():
        return None
    if len(held) == 2 and held[1] == held[0] + 1:
        return int(10 * digits[held[0]] + digits[held[1]])
    return NOT_A_PAIR if len(held) != 2 else None


def train(config=None, data=None, unipen=None, out=PAIRS_PATH, verbose="auto"):
    """Train the pair reader on strokes from numbers of MNIST's training digits (the last
    tenth held out to validate on) and UNIPEN's training writers (`unipen`, or
    $DIGITREC_UNIPEN; its validation writers validated on); measure it on strokes from the test
    digits of both; save it with its card at `out` (nowhere when None). Returns the card."""
    config = config or PairConfig()
    sources, unipen = digit_sources(data, unipen)
    sets, drawn = drawn_sets(sources, config, examples)

    def figures(model, x_test, y_test):
        read = model.predict(x_test, verbose=0).argmax(axis=1)
        pairs = y_test != NOT_A_PAIR
        return {
            "test_strokes": len(y_test),
            "test_pairs_read_right": round(float(np.mean(read[pairs] == y_test[pairs])), 6),
            "test_singles_read_as_no_pair": round(float(np.mean(read[~pairs] == NOT_A_PAIR)), 6),
            "test_pair_share": round(float(pairs.mean()), 4),
            "training_strokes": len(sets["train"][1]),
        }

    schedule = lambda epoch: config.learning_rate * config.learning_rate_decay**epoch
    task = "which two digits a stroke wide enough to be two touching digits holds, or none"
    return fit_and_save(build_pair_reader(config.learning_rate), task, config, sets, figures, unipen, drawn, out, verbose, schedule)
