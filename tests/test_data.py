import numpy as np
import pytest

import digitrec
from digitrec import DatasetError
from digitrec.data import checksum


def test_load_mnist_matches_keras_layout(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert set(np.unique(y_test)) == set(range(10))
    # MNIST's published training-set statistics on 0..255.
    assert x_train.mean() == pytest.approx(33.3184, abs=1e-3)
    assert x_train.std() == pytest.approx(78.5675, abs=1e-3)


def _write_npz(path, **overrides):
    arrays = {
        "x_train": np.zeros((60000, 28, 28), np.uint8),
        "y_train": np.zeros(60000, np.uint8),
        "x_test": np.zeros((10000, 28, 28), np.uint8),
        "y_test": np.arange(10000, dtype=np.uint8) % 10,
    }
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    np.savez(path, **arrays)
    return path


def test_explicit_path_and_environment_variable(tmp_path, monkeypatch):
    path = _write_npz(tmp_path / "mnist.npz")
    (_, _), (_, y_test) = digitrec.load_mnist(path)
    assert y_test[:3].tolist() == [0, 1, 2]
    monkeypatch.setenv("DIGITREC_MNIST", str(path))
    (_, _), (_, y_from_env) = digitrec.load_mnist()
    assert (y_from_env == y_test).all()


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DatasetError, match="nowhere.npz does not exist"):
        digitrec.load_mnist(tmp_path / "nowhere.npz")


def test_corrupt_file_is_named(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(DatasetError, match="broken.npz is not a readable npz"):
        digitrec.load_mnist(path)


def test_wrong_shape_and_missing_keys_are_explained(tmp_path):
    path = _write_npz(tmp_path / "small.npz", x_test=np.zeros((10000, 32, 32), np.uint8))
    with pytest.raises(DatasetError, match=r"x_test is uint8 \(10000, 32, 32\), expected uint8 \(10000, 28, 28\)"):
        digitrec.load_mnist(path)
    path = _write_npz(tmp_path / "partial.npz", y_test=None)
    with pytest.raises(DatasetError, match=r"lacks the arrays \['y_test'\]"):
        digitrec.load_mnist(path)


def test_offline_download_says_how_to_use_a_local_copy(monkeypatch):
    import keras

    def no_network():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: no network")

    monkeypatch.delenv("DIGITREC_MNIST", raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(DatasetError, match="DIGITREC_MNIST") as raised:
        digitrec.load_mnist()
    assert "no network" in str(raised.value)


def test_checksum_depends_on_every_array(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    changed = y_test.copy()
    changed[0] = (changed[0] + 1) % 10
    assert checksum(mnist) == checksum(((x_train, y_train), (x_test, y_test)))
    assert checksum(mnist) != checksum(((x_train, y_train), (x_test, changed)))
