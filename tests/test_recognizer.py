import json

import numpy as np
import pytest

import digitrec
from digitrec import NoDigitError, Prediction
from digitrec.data import scale
from digitrec.paths import EXAMPLES_DIR


def test_prediction_fields(mlp, test_set):
    images, labels = test_set
    prediction = mlp.predict(images[0])
    assert isinstance(prediction, Prediction)
    assert isinstance(prediction.digit, int) and prediction.digit == labels[0]
    assert isinstance(prediction.confidence, float)
    assert prediction.probabilities.shape == (10,)
    assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert prediction.confidence == pytest.approx(prediction.probabilities.max())
    assert prediction.processed.shape == (28, 28) and prediction.processed.dtype == np.float32


def test_predict_through_preprocessing_keeps_the_model_accuracy(mlp, test_set):
    """All 10,000 test images through `predict_batch`, against the model on the raw images."""
    images, labels = test_set
    own = (mlp.probabilities(scale(images)).argmax(axis=1) == labels).mean()
    through_predict = np.mean([p.digit for p in mlp.predict_batch(images)] == labels)
    assert through_predict >= own - 0.003


def test_predict_batch_matches_predict(mlp, test_set):
    images = test_set[0][:20]
    batch = mlp.predict_batch(list(images))
    for image, batched in zip(images, batch):
        single = mlp.predict(image)
        assert single.digit == batched.digit
        np.testing.assert_allclose(single.probabilities, batched.probabilities, atol=1e-5)
    assert mlp.predict_batch([]) == []


def test_predict_batch_names_the_bad_image(mlp, test_set):
    images = [test_set[0][0], np.zeros((28, 28), np.uint8)]
    with pytest.raises(NoDigitError, match="Image 1: "):
        mlp.predict_batch(images)


def test_predict_batch_returns_each_bad_image_its_own_error(mlp, test_set):
    images, labels = test_set
    batch = [images[0], np.zeros((28, 28), np.uint8), "no/such/file.png", images[1], np.full((5, 5), np.nan)]
    results = mlp.predict_batch(batch, return_exceptions=True)
    assert len(results) == 5
    assert [type(r).__name__ for r in results] == [
        "Prediction", "NoDigitError", "InvalidImageError", "Prediction", "InvalidImageError",
    ]
    assert results[0].digit == labels[0] and results[3].digit == labels[1]
    # The good images' answers are those they get on their own.
    np.testing.assert_allclose(results[3].probabilities, mlp.predict(images[1]).probabilities, atol=1e-5)
    assert mlp.predict_batch([np.zeros((28, 28))], return_exceptions=True)[0].args[0].startswith("No digit")


def test_example_images_are_recognized(mlp):
    paths = sorted(EXAMPLES_DIR.glob("digit_*.png"))
    assert len(paths) == 10
    for path in paths:
        assert mlp.predict(path).digit == int(path.name.split("_")[1]), path.name


def test_predict_digit_returns_label_dict_and_text(test_set):
    images, labels = test_set
    confidences, text = digitrec.predict_digit(255 - images[1])  # Dark ink on white paper.
    assert text == str(labels[1])
    assert sorted(confidences) == [str(d) for d in range(10)]
    assert all(isinstance(p, float) for p in confidences.values())
    assert sum(confidences.values()) == pytest.approx(1.0, abs=1e-5)
    assert max(confidences, key=confidences.get) == text


def test_predict_digit_refuses_a_blank_canvas():
    with pytest.raises(NoDigitError):
        digitrec.predict_digit(np.full((400, 400, 3), 255, np.uint8))


def test_load_recognizer_rejects_a_wrong_argument_type():
    with pytest.raises(ValueError, match="takes 'mlp', 'cnn', 'alnum' or a path"):
        digitrec.load_recognizer(3)


def test_unsure_answers_name_the_runner_up():
    probabilities = np.zeros(10, np.float32)
    probabilities[[4, 9]] = 0.55, 0.45
    hesitant = Prediction(4, 0.55, probabilities, np.zeros((28, 28), np.float32))
    assert hesitant.unsure and hesitant.text() == "4 or 9?"
    probabilities = np.full(10, 0.01, np.float32)
    probabilities[7] = 0.91
    sure = Prediction(7, 0.91, probabilities, np.zeros((28, 28), np.float32))
    assert not sure.unsure and sure.text() == "7"


def test_few_mnist_answers_are_unsure(mlp, test_set):
    predictions = mlp.predict_batch(test_set[0][:2000])
    unsure = [p for p in predictions if p.unsure]
    # The distilled dense network, taught softened answers, hesitates on 5.65% of these (113);
    # the MNIST-only one did on under 5%.
    assert 0 < len(unsure) < 0.06 * len(predictions)
    # The hesitant answers are where the errors gather.
    wrong = [p.digit != label for p, label in zip(predictions, test_set[1][:2000])]
    wrong_when_unsure = np.mean([w for p, w in zip(predictions, wrong) if p.unsure])
    assert wrong_when_unsure > 5 * np.mean(wrong)


@pytest.mark.parametrize("runtime", ["onnxruntime", "tensorflow"])
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_fast_path_gives_the_plain_keras_probabilities(model, runtime, test_set, monkeypatch):
    from digitrec.data import scale

    if runtime == "tensorflow":
        monkeypatch.setenv("DIGITREC_RUNTIME", "tensorflow")
    recognizer = digitrec.load_recognizer(model)
    # The shipped models run through their ONNX export in web/models unless told otherwise.
    assert recognizer.runtime == runtime
    images = scale(test_set[0])
    plain = recognizer.network.predict(images, batch_size=1000, verbose=0)
    np.testing.assert_allclose(recognizer.probabilities(images), plain, atol=1e-5)
    # One image at a time, through the graph XLA compiled for that shape.
    singles = np.concatenate([recognizer.probabilities(image[None]) for image in images[:500]])
    np.testing.assert_allclose(singles, plain[:500], atol=1e-5)


def test_an_export_of_other_weights_is_not_run(tmp_path):
    import shutil

    from digitrec.paths import MODELS_DIR, WEB_MODELS_DIR

    shutil.copy(MODELS_DIR / "mlp.keras", tmp_path / "mine.keras")
    shutil.copy(WEB_MODELS_DIR / "mlp.onnx", tmp_path / "mine.onnx")
    card = json.loads((WEB_MODELS_DIR / "mlp.onnx.json").read_text())
    (tmp_path / "mine.onnx.json").write_text(json.dumps(card))
    # Exported from these very bytes: run in onnxruntime.
    assert digitrec.load_recognizer(tmp_path / "mine.keras").runtime == "onnxruntime"
    # Retrained since (the card names other bytes): the Keras network itself runs.
    card["source"]["sha256"] = "0" * 64
    (tmp_path / "mine.onnx.json").write_text(json.dumps(card))
    assert digitrec.load_recognizer(tmp_path / "mine.keras").runtime == "tensorflow"
