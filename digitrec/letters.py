"""How the letters model is measured on the test writers: digits, and letters in 62 classes
and with EMNIST's balanced merges (47)."""

import numpy as np

from digitrec import data as datasets
from digitrec.labels import ALPHANUMERIC, BALANCED, DIGITS


def balanced(indices):
    """Indices into ALPHANUMERIC mapped to the index of their merged class's first label."""
    first = np.array([ALPHANUMERIC.index(BALANCED[label]) for label in ALPHANUMERIC])
    return first[np.asarray(indices)]


def letters_test(path=None):
    """UNIPEN's test writers' letters, labelled as ALPHANUMERIC indices (10-61)."""
    images, labels = datasets.load_unipen_letters("test", path)
    return images, labels + len(DIGITS)


def alnum_report(probabilities, mnist_test, unipen=None):
    """The letters model's figures on the test sets, as a dict for its card.

    `probabilities` maps (N, 28, 28) float images to (N, 62). Digits are read two ways: the
    most probable of all 62 labels (a digit read as "O" is wrong), and the most probable
    digit (what the digit classes alone say, as a digit field would ask). Letters are read
    among all 62 labels, exactly and with the balanced merges.
    """
    digits = len(DIGITS)
    unipen = datasets.unipen_path(unipen)
    x_mnist, y_mnist = mnist_test
    x_unipen, y_unipen = datasets.load_unipen("test", unipen)
    x_letters, y_letters = letters_test(datasets.letters_path(digits=unipen))
    report = {}
    for name, (images, labels) in {"mnist_digits": (x_mnist, y_mnist), "unipen_digits": (x_unipen, y_unipen)}.items():
        p = probabilities(datasets.scale(images))
        report[f"{name}_any_label"] = _share(p.argmax(axis=1) == labels)
        report[f"{name}_as_digits"] = _share(p[:, :digits].argmax(axis=1) == labels)
        report[f"{name}_images"] = int(len(labels))
    predicted = probabilities(datasets.scale(x_letters)).argmax(axis=1)
    report["unipen_letters_62"] = _share(predicted == y_letters)
    report["unipen_letters_balanced_47"] = _share(balanced(predicted) == balanced(y_letters))
    report["unipen_letters_images"] = int(len(y_letters))
    return report


def _share(hits):
    return round(float(np.mean(hits)), 6)
