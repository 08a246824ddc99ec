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


def test_unipen_splits_are_writer_disjoint_and_complete(unipen):
    from digitrec.data import load_unipen, load_unipen_strokes

    sizes = {"train": 11029, "validation": 2226, "test": 1832}
    writers = {}
    for split, size in sizes.items():
        images, labels = load_unipen(split, unipen)
        assert images.shape == (size, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (size,) and set(np.unique(labels)) == set(range(10))
        with np.load(unipen) as archive:
            writers[split] = set(archive["writer"][archive["split"] == {"train": 0, "validation": 1, "test": 2}[split]])
    assert not writers["train"] & writers["validation"] and not writers["train"] & writers["test"]
    assert not writers["validation"] & writers["test"]
    strokes, labels = load_unipen_strokes("validation", unipen)
    assert len(strokes) == sizes["validation"] and (labels == load_unipen("validation", unipen)[1]).all()
    assert all(stroke.ndim == 2 and stroke.shape[1] == 2 for stroke in strokes[0])


def test_unipen_needs_a_file_and_a_known_split(tmp_path, monkeypatch):
    from digitrec.data import load_unipen

    monkeypatch.delenv("DIGITREC_UNIPEN", raising=False)
    with pytest.raises(DatasetError, match="DIGITREC_UNIPEN"):
        load_unipen("train")
    with pytest.raises(DatasetError, match="does not exist"):
        load_unipen("train", tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="Unknown UNIPEN split 'dev'"):
        load_unipen("dev", tmp_path / "missing.npz")
