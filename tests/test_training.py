"""A short training run: the whole path from data to a saved model and its card."""

import json

import numpy as np

from digitrec import models
from digitrec.evaluation import plot_history
from digitrec.training import TrainConfig, train


def test_short_training_run_saves_a_working_model_and_card(mnist, tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:3000], y_train[:3000]), (x_test[:1000], y_test[:1000]))
    config = TrainConfig(epochs=2, validation_size=500, patience=1)
    out = tmp_path / "mlp.keras"
    result = train(config, small, out=out, verbose=0)

    card = json.loads(out.with_suffix(".json").read_text())
    assert card == result.card
    assert card["epochs_run"] == 2 and len(card["history"]["val_accuracy"]) == 2
    assert card["test_images"] == 1000 and card["parameters"] == 109386
    # Two epochs on 2,500 images already beat chance by far.
    assert card["test_accuracy"] > 0.7
    reloaded = models.load(out)
    probabilities = np.asarray(reloaded(x_test[:100] / 255.0))
    accuracy = (probabilities.argmax(axis=1) == y_test[:100]).mean()
    assert abs(accuracy - (result.model(x_test[:100] / 255.0).numpy().argmax(axis=1) == y_test[:100]).mean()) < 1e-9
    assert plot_history(result.history).axes


def test_unknown_model_name_is_refused():
    import pytest

    with pytest.raises(ValueError, match="Unknown model 'rnn'"):
        train(TrainConfig(model="rnn"), data=((None, None), (None, None)))
