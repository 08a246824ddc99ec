import numpy as np
import pytest

from digitrec.evaluation import all_figures, evaluate, save_figures


@pytest.fixture(scope="module")
def scores(mlp, test_set):
    return evaluate(mlp, *test_set)


def test_confusion_precision_and_recall_agree_with_the_predictions(scores, test_set):
    images, labels = test_set
    predicted = scores.predicted
    assert scores.confusion.sum() == 10000
    assert scores.accuracy == pytest.approx((predicted == labels).mean())
    assert scores.accuracy == pytest.approx(np.trace(scores.confusion) / 10000)
    for digit in (0, 4, 9):
        true_positive = ((predicted == digit) & (labels == digit)).sum()
        assert scores.precision[digit] == pytest.approx(true_positive / (predicted == digit).sum())
        assert scores.recall[digit] == pytest.approx(true_positive / (labels == digit).sum())
    summary = scores.summary()
    assert summary["errors"] == (predicted != labels).sum()
    assert "precision" in scores.report()


def test_figures_are_drawn_and_saved(scores, mlp, tmp_path):
    figures = all_figures(scores, mlp.card["history"])
    assert set(figures) == {"confusion_matrix", "misclassified", "samples", "training_curves"}
    misclassified_titles = [axes.get_title() for axes in figures["misclassified"].axes if axes.get_title()]
    assert misclassified_titles and all(title.startswith("true ") for title in misclassified_titles)
    paths = save_figures(figures, tmp_path)
    assert all(path.stat().st_size > 5000 for path in paths)
