"""How the letters model is measured on the test writers: digits, and letters in 62 classes
and with EMNIST's balanced merges (47)."""

import numpy as np

from digitrec import data as datasets
from digitrec.labels import ALPHANUMERIC, BALANCED, DIGITS


def balanced(indices):
    """Indices into ALPHANUMERIC mapped to the index of their merged class's first label."""
    first = np.array([ALPHANUMERIC.index(BALANCED[label]) for label in ALPHANUMERIC])
    return first[np.asarray(indices)]


def unipen_letters(split, path=None):
    """One split of UNIPEN's letters, labelled as ALPHANUMERIC indices (10-61)."""
    images, labels = datasets.load_unipen_letters(split, path)
    return images, labels + len(DIGITS)


def alnum_report(probabilities, mnist_test, unipen=None, split="test"):
    """The letters model's figures on one split of UNIPEN's writers (and MNIST's test set,
    when `mnist_test` is given), as a dict for its card.

    `probabilities` maps (N, 28, 28) float images to (N, 62). Digits are read two ways: the
    most probable of all 62 labels (a digit read as "O" is wrong), and the most probable
    digit (what the digit classes alone say, as a digit field would ask). Letters are read
    among all 62 labels, exactly and with the balanced merges.
    """
    digits = len(DIGITS)
    unipen = datasets.unipen_path(unipen)
    sets = {"unipen_digits": datasets.load_unipen(split, unipen)}
    if mnist_test is not None:
        sets = {"mnist_digits": mnist_test, **sets}
    x_letters, y_letters = unipen_letters(split, datasets.letters_path(digits=unipen))
    report = {}
    for name, (images, labels) in sets.items():
        p = probabilities(datasets.scale(images))
        report[name] = {
            "images": int(len(labels)),
            "any_label": _share(p.argmax(axis=1) == labels),
            "as_digits": _share(p[:, :digits].argmax(axis=1) == labels),
        }
    predicted = probabilities(datasets.scale(x_letters)).argmax(axis=1)
    report["unipen_letters"] = {
        "images": int(len(y_letters)),
        "classes_62": _share(predicted == y_letters),
        "balanced_47": _share(balanced(predicted) == balanced(y_letters)),
    }
    return report


def _share(hits):
    return round(float(np.mean(hits)), 6)
