"""A short training run: the whole path from data to a saved model and its card."""

import json

import numpy as np
import pytest

from digitrec import models, training
from digitrec.evaluation import plot_history
from digitrec.training import ADJUSTMENTS, TrainConfig, adjust_prior, train


def test_short_training_run_saves_a_working_model_and_card(mnist, tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:3000], y_train[:3000]), (x_test[:1000], y_test[:1000]))
    config = TrainConfig(epochs=2, validation_size=500, patience=1, unipen="")
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


def test_mirrored_strategy_trains_on_two_logical_cpu_devices(tmp_path):
    """tf.distribute's mirrored path, on a CPU split in two, as it would run on two GPUs."""
    import subprocess
    import sys

    script = """
import sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from digitrec import load_mnist
from digitrec.training import default_config, train

(x_train, y_train), (x_test, y_test) = load_mnist()
config = default_config("mlp", epochs=2, validation_size=500, strategy="mirrored", unipen="", teacher=None)
small = ((x_train[:3000], y_train[:3000]), (x_test[:1000], y_test[:1000]))
result = train(config, small, out=sys.argv[1], verbose=0)
print(result.card["replicas"], result.card["test_accuracy"])
"""
    out = tmp_path / "mirrored.keras"
    completed = subprocess.run(
        [sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    replicas, accuracy = completed.stdout.split()
    assert int(replicas) == 2
    assert float(accuracy) > 0.7
    assert out.is_file()


def test_cnn_recipe_and_a_short_cnn_run(mnist):
    from digitrec.training import default_config

    config = default_config("cnn", epochs=1, validation_size=200, unipen="")
    # The whole decaying schedule on all of MNIST, kept as a weight average, some MNIST digits
    # traced again with other pens.
    assert config.model == "cnn" and config.learning_rate_decay == 0.905 and config.ema == 0.999
    assert default_config("cnn").validation_size == 0 and config.augmentation.retrace == 0.15
    (x_train, y_train), (x_test, y_test) = mnist
    result = train(config, ((x_train[:1200], y_train[:1200]), (x_test[:300], y_test[:300])), verbose=0)
    # The recipe's network from random weights; the shipped CNN is the same network with the
    # letters model's wider head (--init alnum --head 256).
    assert result.card["parameters"] == result.model.count_params() == 286378
    assert models.build_cnn(head=256).count_params() == models.read_card(models.model_path("cnn"))["parameters"]
    assert result.model.output_shape == (None, 10)


def test_training_on_mnist_and_unipen_writers(mnist, unipen, tmp_path):
    """UNIPEN's training writers are trained on, its validation writers validated on, and its
    test writers only reported."""
    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:1500], y_train[:1500]), (x_test[:500], y_test[:500]))
    config = TrainConfig(epochs=1, validation_size=500, unipen=str(unipen))
    card = train(config, small, out=tmp_path / "mlp.keras", verbose=0).card
    assert card["training_images"] == 1000 + 11029
    assert card["validation_images"] == 500 + 2226
    assert card["unipen_test_images"] == 1832 and card["unipen_test_accuracy"] > 0.8
    assert 0.8 < card["validation_accuracy"] <= 1


def test_distillation_and_warm_start_are_recorded_and_work(mnist, tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:1500], y_train[:1500]), (x_test[:1000], y_test[:1000]))
    shipped = models.read_card(models.model_path("mlp"))["test_accuracy"]
    config = TrainConfig(
        epochs=1, validation_size=300, unipen="", init="mlp", learning_rate=1e-4,
        teacher="cnn", teacher_share=0.7, temperature=2.0,
    )
    card = train(config, small, verbose=0).card
    assert card["init"] == models.describe("mlp") and card["teacher"] == models.describe("cnn")
    assert card["teacher"]["test_accuracy"] == models.read_card(models.model_path("cnn"))["test_accuracy"]
    # One gentle epoch on 1,200 images keeps what the shipped weights knew; from random
    # weights the same epoch reaches far less.
    assert card["test_accuracy"] > shipped - 0.02
    assert card["test_accuracy"] > train(TrainConfig(epochs=1, validation_size=300, unipen=""), small, verbose=0).card["test_accuracy"] + 0.05


def test_several_teachers_teach_their_averaged_answers(mnist, monkeypatch):
    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:600], y_train[:600]), (x_test[:200], y_test[:200]))
    seen = {}
    original = training.WriterBatches

    def batches(*args, teacher=None, **kwargs):
        seen["teacher"] = teacher
        return original(*args, teacher=teacher, **kwargs)

    monkeypatch.setattr(training, "WriterBatches", batches)
    config = TrainConfig(epochs=1, validation_size=100, unipen="", teacher="cnn, mlp", teacher_share=0.5)
    card = train(config, small, verbose=0).card
    assert card["teacher"] == [models.describe("cnn"), models.describe("mlp")]
    images = x_train[:500] / 255.0  # The 500 trained on; the last 100 validate.
    both = [models.load(name).predict(images, verbose=0) for name in ("cnn", "mlp")]
    np.testing.assert_allclose(seen["teacher"], (both[0] + both[1]) / 2, atol=1e-5)


def test_a_digit_cnn_as_wide_as_the_letters_model_starts_from_all_of_it(mnist):
    """Started from the letters model, a digit CNN of its width takes every layer, and of the
    output its digits' columns: it reads a digit as the letters model's likeliest digit, with
    the letters model's odds between the digits."""
    from digitrec.training import start_from

    letters = models.load("alnum")
    wide = models.build_cnn(head=256)
    start_from(wide, letters)
    images = mnist[1][0][:64] / 255.0
    scores = models.outputs(letters, images)[:, :10]
    np.testing.assert_allclose(models.outputs(wide, images), scores / scores.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)
    narrow = models.build_cnn()
    start_from(narrow, letters)  # Only the convolutions whose shapes agree.
    np.testing.assert_array_equal(narrow.layers[1].get_weights()[0], letters.layers[1].get_weights()[0])
    assert not np.allclose(models.outputs(narrow, images), scores / scores.sum(axis=1, keepdims=True), atol=1e-2)
    with pytest.raises(ValueError, match="--head widens the CNNs"):
        train(TrainConfig(model="mlp", head=256), data=((None, None), (None, None)))
    # Going on from a trained CNN, the new one is as wide as it unless told otherwise.
    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:400], y_train[:400]), (x_test[:100], y_test[:100]))
    config = TrainConfig(model="cnn", init="alnum", epochs=1, validation_size=100, unipen="", learning_rate=1e-6)
    card = train(config, small, verbose=0).card
    assert card["parameters"] == models.build_cnn(head=256).count_params() and card["test_accuracy"] > 0.95


def test_same_seed_same_model(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:1500], y_train[:1500]), (x_test[:100], y_test[:100]))
    config = TrainConfig(epochs=2, validation_size=300, unipen="")
    first, second = (train(config, small, verbose=0).model.get_weights() for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    other = train(TrainConfig(epochs=1, validation_size=300, seed=2, unipen=""), small, verbose=0).model.get_weights()
    assert not np.array_equal(first[0], other[0])



MULTI_WORKER = """
import json
import os
import sys

import numpy as np

index, ports, out = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3]
os.environ["TF_CONFIG"] = json.dumps(
    {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]}, "task": {"type": "worker", "index": index}}
)
from digitrec import load_mnist
from digitrec.training import default_config, train

(x_train, y_train), (x_test, y_test) = load_mnist()
config = default_config("mlp", epochs=2, validation_size=500, strategy="multi-worker", unipen="", teacher=None)
small = ((x_train[:3000], y_train[:3000]), (x_test[:1000], y_test[:1000]))
result = train(config, small, out=out, verbose=0)
np.savez(f"{out}.worker{index}.npz", *result.model.get_weights())
print(result.card["replicas"], result.card["test_accuracy"])
"""


def test_multi_worker_strategy_trains_the_same_weights_on_two_workers(tmp_path):
    """tf.distribute's multi-worker path: two worker processes on loopback, as two machines
    would run it with TF_CONFIG, train one model together; only the first saves it."""
    import socket
    import subprocess
    import sys

    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(str(probe.getsockname()[1]))
    out = tmp_path / "multi.keras"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", MULTI_WORKER, str(index), ",".join(ports), str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for index in range(2)
    ]
    results = [worker.communicate(timeout=900) for worker in workers]
    for worker, (_, stderr) in zip(workers, results):
        assert worker.returncode == 0, stderr[-3000:]
    for stdout, _ in results:
        replicas, accuracy = stdout.split()
        assert int(replicas) == 2 and float(accuracy) > 0.7
    first, second = (np.load(f"{out}.worker{index}.npz") for index in range(2))
    assert len(first.files) == 6
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key])
    # The chief alone writes the model and its card; the other worker, nothing.
    assert out.is_file() and out.with_suffix(".json").is_file()
    assert json.loads(out.with_suffix(".json").read_text())["replicas"] == 2


def test_a_short_letters_run_on_a_sample_of_the_images(mnist, unipen, tmp_path):
    """The letters recipe end to end on 12,000 images drawn from MNIST, UNIPEN's digits and its
    letters: the 62 outputs, the adjustment for the prior chosen on the validation writers,
    and the card's figures on every test image of each set."""
    from digitrec.training import default_config

    config = default_config("alnum", epochs=1, images=12000, unipen=str(unipen))  # From the digit CNN.
    card = train(config, mnist, out=tmp_path / "alnum.keras", verbose=0).card
    assert card["training_images"] == 12000 and card["validation_images"] == 2226 + 8459
    assert card["logit_adjustment"] in [float(a) for a in ADJUSTMENTS]
    report = card["alnum_test"]
    assert [report[name]["images"] for name in report] == [10000, 1832, 14504]
    assert report["mnist_digits"]["as_digits"] > 0.9 and report["unipen_letters"]["classes_62"] > 0.2
    assert models.load(tmp_path / "alnum.keras").output_shape == (None, 62)


def test_the_prior_adjustment_gives_a_rare_class_its_share():
    """Two overlapping classes, one nine times as common: trained as they come, the model
    reads about half the rare class's images as the common one; adjusted, it reads most of
    them right (the balanced optimum is 86 %) and the mean recall rises."""
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    points = lambda centre, count: rng.normal(centre, 1.0, (count, 2)).astype(np.float32)
    x = np.concatenate([points(0.0, 1800), points(1.5, 200)])
    y = np.repeat([0, 1], [1800, 200])
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="categorical_crossentropy")
    model.fit(x, keras.utils.to_categorical(y, 2), epochs=30, batch_size=200, verbose=0)
    x_val = np.concatenate([points(0.0, 500), points(1.5, 500)])
    truth = np.repeat([0, 1], 500)
    recalls = lambda: [np.mean(model.predict(x_val, verbose=0).argmax(axis=1)[truth == c] == c) for c in (0, 1)]
    before, bias = recalls(), model.layers[-1].get_weights()[1]
    adjustment = adjust_prior(model, y, (x_val, keras.utils.to_categorical(truth, 2)))
    after = recalls()
    assert adjustment > 0 and after[1] > before[1] + 0.2 and np.mean(after) > np.mean(before) + 0.05
    shift = model.layers[-1].get_weights()[1] - bias
    assert shift[1] - shift[0] == pytest.approx(adjustment * np.log(9), rel=1e-4)
