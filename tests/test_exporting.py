"""Exported models: ONNX run by onnxruntime and LiteRT run by its interpreter answer as the
Keras models do, on the full MNIST test set."""

import json

import numpy as np
import pytest

import digitrec
from digitrec import cli, models
from digitrec.exporting import ExportedModel, card_path, export


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Both shipped models in both formats, exported once through the command line."""
    out = tmp_path_factory.mktemp("export")
    assert cli.main(["export", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def test_digits(test_set):
    images, labels = test_set
    return images.astype(np.float32) / 255, labels


@pytest.mark.parametrize("name", ["mlp", "cnn"])
@pytest.mark.parametrize("suffix", [".onnx", ".tflite"])
def test_exported_model_answers_as_keras_on_all_of_mnist_test(exported, test_digits, name, suffix):
    images, labels = test_digits
    keras_answers = digitrec.load_recognizer(name).probabilities(images).argmax(axis=1)
    model = ExportedModel(exported / f"{name}{suffix}")
    probabilities = model.probabilities(images)
    assert probabilities.shape == (10000, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    agreement = float(np.mean(probabilities.argmax(axis=1) == keras_answers))
    print(f"{name}{suffix}: answers as Keras on {agreement:.2%} of the 10,000 MNIST test images")
    assert agreement >= 0.999, f"{name}{suffix} agrees with Keras on {agreement:.2%} of MNIST test"
    card = models.read_card(models.model_path(name))
    assert np.mean(probabilities.argmax(axis=1) == labels) == pytest.approx(card["test_accuracy"], abs=0.001)


@pytest.mark.parametrize("suffix", [".onnx", ".tflite"])
def test_card_says_what_the_model_takes_and_where_it_came_from(exported, suffix):
    path = exported / f"cnn{suffix}"
    card = json.loads(card_path(path).read_text())
    source = models.describe("cnn")
    assert card["source"]["sha256"] == source["sha256"]
    assert card["file"] == path.name and card["bytes"] == path.stat().st_size
    assert card["input"]["shape"] == ["batch", 28, 28] and card["input"]["dtype"] == "float32"
    assert card["labels"] == [str(digit) for digit in range(10)]
    assert card["format"] == {".onnx": "onnx", ".tflite": "litert"}[suffix]


def test_onnx_graph_has_plain_names(exported):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(exported / "mlp.onnx"), providers=["CPUExecutionProvider"])
    (image,), (probabilities,) = session.get_inputs(), session.get_outputs()
    assert (image.name, image.shape) == ("image", ["batch", 28, 28])
    assert (probabilities.name, probabilities.shape) == ("probabilities", ["batch", 10])


def test_exported_model_reads_a_preprocessed_drawing(exported, test_set):
    """A single image, as the app would give it after preprocessing, is one batch of one."""
    images, labels = test_set
    assert labels[0] == 7
    seven = digitrec.preprocess(np.pad(images[0], 40))
    for suffix in (".onnx", ".tflite"):
        assert ExportedModel(exported / f"mlp{suffix}").probabilities(seven).argmax() == 7


def test_export_refuses_what_it_cannot_do(tmp_path, capsys):
    with pytest.raises(ValueError, match="Unknown export format"):
        export("mlp", "coreml", tmp_path)
    assert cli.main(["export", "--model", str(tmp_path / "none.keras"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    other = tmp_path / "model.bin"
    other.write_bytes(b"not a model")
    with pytest.raises(digitrec.errors.ModelFileError, match="neither"):
        ExportedModel(other)
