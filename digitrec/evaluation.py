"""Measuring a model on the MNIST test set, and the figures that show how it did.

Figures are built as `matplotlib.figure.Figure` objects, outside pyplot's global state, so a
notebook displays them and the command line saves them without a display.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from digitrec.data import scale


@dataclass
class Evaluation:
    accuracy: float
    loss: float  # Mean categorical crossentropy.
    precision: np.ndarray  # Per digit: of the images predicted as d, the share that are d.
    recall: np.ndarray  # Per digit: of the images of d, the share predicted as d.
    confusion: np.ndarray  # confusion[true, predicted] counts.
    images: np.ndarray  # The test images, uint8 (N, 28, 28).
    labels: np.ndarray  # Their true digits.
    probabilities: np.ndarray  # The model's (N, 10) output.

    @property
    def predicted(self):
        return self.probabilities.argmax(axis=1)

    def summary(self):
        """The figures as plain numbers, for JSON."""
        return {
            "accuracy": round(self.accuracy, 6),
            "loss": round(self.loss, 6),
            "images": int(len(self.labels)),
            "errors": int((self.predicted != self.labels).sum()),
            "precision": {str(d): round(float(p), 4) for d, p in enumerate(self.precision)},
            "recall": {str(d): round(float(r), 4) for d, r in enumerate(self.recall)},
            "confusion": self.confusion.tolist(),
        }

    def report(self):
        """A text table: accuracy, then precision and recall per digit."""
        lines = [
            f"accuracy {self.accuracy:.2%} ({(self.predicted != self.labels).sum()} errors "
            f"in {len(self.labels)} images), loss {self.loss:.4f}",
            "digit  precision  recall  images",
        ]
        for digit in range(10):
            lines.append(
                f"{digit:>5}  {self.precision[digit]:>9.2%}  {self.recall[digit]:>6.2%}  "
                f"{self.confusion[digit].sum():>6}"
            )
        return "\n".join(lines)


def evaluate(recognizer, images, labels, preprocess=False):
    """Run `recognizer` on MNIST-format uint8 `images` and measure it against `labels`.

    With `preprocess`, every image goes through `digitrec.preprocess` first, as the app's
    inputs do; without it the model reads the images as they are, the usual MNIST figure.
    """
    if preprocess:
        probabilities = np.stack([p.probabilities for p in recognizer.predict_batch(images)])
    else:
        probabilities = recognizer.probabilities(scale(images))
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    correct = np.diag(confusion).astype(np.float64)
    # A digit never predicted has no precision to speak of; report 0 rather than divide by 0.
    precision = correct / np.maximum(confusion.sum(axis=0), 1)
    recall = correct / np.maximum(confusion.sum(axis=1), 1)
    picked = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())
    return Evaluation(
        accuracy=float(correct.sum() / len(labels)),
        loss=loss,
        precision=precision,
        recall=recall,
        confusion=confusion,
        images=images,
        labels=labels,
        probabilities=probabilities,
    )


def plot_history(history):
    """Training and validation loss and accuracy per epoch, from Keras's history dict."""
    figure = Figure(figsize=(10, 3.5), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = np.arange(1, len(history["loss"]) + 1)
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, history[metric], label="training")
        axes.plot(epochs, history[f"val_{metric}"], label="validation")
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    best = int(np.argmax(history["val_accuracy"])) + 1
    accuracy_axes.axvline(best, color="gray", linestyle=":", label="kept")
    accuracy_axes.set_title(f"best validation epoch: {best}")
    loss_axes.set_title("loss")
    return figure


def plot_confusion(evaluation):
    """The confusion matrix as a heatmap, counts written in each cell."""
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    axes = figure.subplots()
    matrix = evaluation.confusion
    # A log scale keeps the few errors visible beside the thousand-strong diagonal.
    image = axes.imshow(np.log1p(matrix), cmap="Blues")
    for true in range(10):
        for predicted in range(10):
            count = matrix[true, predicted]
            if count:
                color = "white" if true == predicted else "black"
                axes.text(predicted, true, count, ha="center", va="center", fontsize=7, color=color)
    axes.set_xticks(range(10))
    axes.set_yticks(range(10))
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("true digit")
    axes.set_title(f"confusion matrix, accuracy {evaluation.accuracy:.2%}")
    figure.colorbar(image, ax=axes, label="log(1 + count)")
    return figure


def plot_misclassified(evaluation, count=24):
    """The test digits the model got wrong, the most confident mistakes first."""
    wrong = np.flatnonzero(evaluation.predicted != evaluation.labels)
    confidence = evaluation.probabilities.max(axis=1)
    wrong = wrong[np.argsort(-confidence[wrong])][:count]
    return _grid(
        evaluation,
        wrong,
        lambda i: f"true {evaluation.labels[i]}, said {evaluation.predicted[i]}\n{confidence[i]:.0%} sure",
        f"{len(np.flatnonzero(evaluation.predicted != evaluation.labels))} misclassified test "
        f"digits, most confident first",
    )


def plot_samples(evaluation, count=16, seed=0):
    """A random sample of test digits with the model's answer and confidence."""
    chosen = np.random.default_rng(seed).choice(len(evaluation.labels), count, replace=False)
    confidence = evaluation.probabilities.max(axis=1)
    return _grid(
        evaluation,
        chosen,
        lambda i: f"{evaluation.predicted[i]} ({confidence[i]:.1%})"
        + ("" if evaluation.predicted[i] == evaluation.labels[i] else f"\ntrue {evaluation.labels[i]}"),
        "sample predictions (red: wrong)",
    )


def _grid(evaluation, indices, caption, title, columns=8):
    rows = max(1, -(-len(indices) // columns))
    figure = Figure(figsize=(columns * 1.3, rows * 1.6), layout="constrained")
    axes_grid = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for axes in axes_grid:
        axes.axis("off")
    for axes, index in zip(axes_grid, indices):
        axes.imshow(evaluation.images[index], cmap="gray")
        wrong = evaluation.predicted[index] != evaluation.labels[index]
        axes.set_title(caption(index), fontsize=8, color="red" if wrong else "black")
    figure.suptitle(title)
    return figure


def save_figures(figures, directory):
    """Write {name: figure} as PNG files into `directory`; return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, figure in figures.items():
        path = directory / f"{name}.png"
        figure.savefig(path, dpi=110)
        paths.append(path)
    return paths


def all_figures(evaluation, history=None):
    """Every evaluation figure by name; the training curves when a history is known."""
    figures = {
        "confusion_matrix": plot_confusion(evaluation),
        "misclassified": plot_misclassified(evaluation),
        "samples": plot_samples(evaluation),
    }
    if history:
        figures["training_curves"] = plot_history(history)
    return figures
