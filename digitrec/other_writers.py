"""The writers benchmark: digit collections the project did not make, read image by image.

The robustness benchmark redraws MNIST's own test digits in new styles; this one reads
digits written by other people on other devices, each image on its own through `predict`,
as a user would hand them over, half of them inverted to dark ink on light paper:

- MNIST's 10,000 test digits (its writers, but never trained on);
- UNIPEN's test writers: 1,832 digits drawn on tablets by 38 people in the early 1990s,
  none of whom wrote any training or validation digit;
- scikit-learn's 1,797 digits: 8x8 images on a 0..16 scale from 43 other people, scaled up to
  64x64 as a scan of them would be.

For each collection and model it prints the accuracy, the refusals (`NoDigitError`, which a
readable digit must never get) and the most frequent confusions, and saves a montage of the
failures for a person to look at.
"""

import collections
from pathlib import Path

import cv2
import numpy as np

from digitrec import data
from digitrec.errors import NoDigitError
from digitrec.recognizer import load_recognizer

# The failures shown per collection and model in its montage.
MONTAGE_SIZE = 60


def collections_to_read(unipen=None):
    """{name: (images, labels)} of every collection available: UNIPEN's only when its file
    is given or `DIGITREC_UNIPEN` names it."""
    from sklearn.datasets import load_digits

    _, (mnist_images, mnist_labels) = data.load_mnist()
    found = {"MNIST test": (list(mnist_images), mnist_labels)}
    if data.unipen_path(unipen) is not None:
        images, labels = data.load_unipen("test", unipen)
        found["UNIPEN test writers"] = (list(images), labels)
    digits = load_digits()
    scanned = [cv2.resize((image * (255 / 16)).astype(np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC) for image in digits.images]
    found["scikit-learn digits, 64x64"] = (scanned, digits.target)
    return found


def half_inverted(images, seed):
    """The images with a random half turned to dark ink on white, and which ones."""
    inverted = np.random.default_rng(seed).permutation(len(images)) < len(images) // 2
    return [255 - image if flip else image for image, flip in zip(images, inverted)], inverted


def read_each(recognizer, images):
    """Each image through `predict` on its own: its `Prediction`, or the error it met."""
    results = []
    for image in images:
        try:
            results.append(recognizer.predict(image))
        except ValueError as error:
            results.append(error)
    return results


def summary(results, labels):
    """Accuracy (a refusal counts as wrong), refusals, and the three commonest confusions."""
    refusals = sum(isinstance(result, NoDigitError) for result in results)
    read = [getattr(result, "digit", None) for result in results]
    right = sum(digit == label for digit, label in zip(read, labels))
    confusions = collections.Counter(
        (int(label), digit) for digit, label in zip(read, labels) if digit is not None and digit != label
    )
    return {
        "images": len(labels),
        "accuracy": right / len(labels),
        "refusals": refusals,
        "errors": sum(isinstance(result, ValueError) for result in results),
        "confusions": confusions.most_common(3),
    }


def montage(images, results, labels, path, title):
    """The failures, each as the image given and the 28x28 the model saw, with what it read."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    failures = [i for i, (result, label) in enumerate(zip(results, labels)) if getattr(result, "digit", None) != label]
    shown = failures[:MONTAGE_SIZE]
    columns = 10
    rows = max(1, -(-len(shown) // columns))
    figure, axes = plt.subplots(rows, 2 * columns, figsize=(2 * columns * 0.9, rows * 1.15), squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    for slot, index in enumerate(shown):
        given, seen = axes[slot // columns, 2 * (slot % columns)], axes[slot // columns, 2 * (slot % columns) + 1]
        given.imshow(images[index], cmap="gray")
        result = results[index]
        read = "refused" if isinstance(result, ValueError) else f"read {result.digit}"
        given.set_title(f"{labels[index]}: {read}", fontsize=7, loc="left")
        if not isinstance(result, ValueError):
            seen.imshow(result.processed, cmap="gray", vmin=0, vmax=1)
    figure.suptitle(f"{title}: {len(failures)} failures, the first {len(shown)} (image given, what the model saw)", fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def bench(model_names, seed, out, unipen=None):
    """Print the writers table and save a failure montage per collection and model in `out`."""
    found = collections_to_read(unipen)
    recognizers = {name: load_recognizer(name) for name in model_names}
    print(f"each image through predict on its own, half of them inverted (seed {seed}); montages in {out}\n")
    print("| collection | images | model | accuracy | refused | other errors | commonest confusions (true -> read) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for collection, (images, labels) in found.items():
        given, _ = half_inverted(images, seed)
        for name, recognizer in recognizers.items():
            results = read_each(recognizer, given)
            figures = summary(results, labels)
            confusions = ", ".join(f"{true} -> {read} ({count})" for (true, read), count in figures["confusions"])
            print(
                f"| {collection} | {figures['images']:,} | {name} | {figures['accuracy']:.2%} | "
                f"{figures['refusals']} | {figures['errors'] - figures['refusals']} | {confusions} |",
                flush=True,
            )
            slug = "".join(c if c.isalnum() else "_" for c in f"{collection}_{Path(name).stem}").lower()
            montage(given, results, labels, Path(out) / f"{slug}.png", f"{collection}, {name}")
