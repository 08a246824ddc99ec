"""Shared fixtures: MNIST and the shipped model are loaded once per test session."""

import os

import numpy as np
import pytest

import digitrec
from digitrec.data import MNIST_ENV, UNIPEN_ENV, unipen_path


@pytest.fixture(scope="session")
def mnist():
    """The full MNIST set, from $DIGITREC_MNIST or Keras's download."""
    return digitrec.load_mnist()


@pytest.fixture(scope="session")
def test_set(mnist):
    return mnist[1]


@pytest.fixture(scope="session")
def mlp():
    return digitrec.load_recognizer("mlp")


@pytest.fixture(scope="session")
def unipen():
    """The UNIPEN digits file $DIGITREC_UNIPEN names: without it the tests that read it are
    skipped, saying why, except under CI=true, which fails them."""
    path = unipen_path()
    if path is None or not path.is_file():
        reason = f"{UNIPEN_ENV} does not name UNIPEN's unipen_digits.npz"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true runs the UNIPEN tests)")
        pytest.skip(reason)
    return path


@pytest.fixture
def box_digit():
    """A 28x28 image holding a 20x20 white square outline, 3 pixels thick (MNIST's pen),
    centred as MNIST centres digits."""
    image = np.zeros((28, 28), np.float32)
    image[4:24, 4:24] = 1.0
    image[7:21, 7:21] = 0.0
    return image


def pytest_report_header():
    return [
        f"MNIST from: {os.environ.get(MNIST_ENV) or 'keras.datasets download'}",
        f"UNIPEN from: {os.environ.get(UNIPEN_ENV) or 'nowhere (its tests are skipped)'}",
    ]
