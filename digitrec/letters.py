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


def worst_pairs(predicted, labels, top=12):
    """The commonest confusions between labels that the balanced merges keep apart, as
    [((true label, read label), count)], most frequent first: what the model could learn to
    tell apart, and not what no one can (c read as C)."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    wrong = balanced(predicted) != balanced(labels)
    pairs, counts = np.unique(np.stack([labels[wrong], predicted[wrong]], axis=1), axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:top]
    return [((ALPHANUMERIC[pairs[i, 0]], ALPHANUMERIC[pairs[i, 1]]), int(counts[i])) for i in order]


def plot_worst_pairs(images, labels, predicted, top=12, examples=3):
    """A picture of the worst pairs: for each, a few of the images it was read wrong on."""
    from matplotlib.figure import Figure

    predicted, labels = np.asarray(predicted), np.asarray(labels)
    pairs = worst_pairs(predicted, labels, top)
    figure = Figure(figsize=(1.1 * len(pairs), 1.2 * examples + 0.9), layout="constrained")
    axes_grid = np.array(figure.subplots(examples, len(pairs), squeeze=False))
    for axes in axes_grid.ravel():
        axes.axis("off")
    for column, ((true, read), count) in enumerate(pairs):
        chosen = np.flatnonzero((labels == ALPHANUMERIC.index(true)) & (predicted == ALPHANUMERIC.index(read)))
        for axes, index in zip(axes_grid[:, column], chosen[:examples]):
            axes.imshow(images[index], cmap="gray")
        axes_grid[0, column].set_title(f"{true} read {read}\n{count} times", fontsize=8)
    merged = np.mean(balanced(predicted) == balanced(labels)) - np.mean(predicted == labels)
    figure.suptitle(
        f"the {len(pairs)} commonest confusions; {np.mean(predicted != labels):.1%} of the images "
        f"read wrong, {merged:.1%} only in case (c for C)", fontsize=10,
    )
    return figure
