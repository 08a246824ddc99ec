"""Shared fixtures: MNIST and the shipped model are loaded once per test session."""

import os

import numpy as np
import pytest

import digitrec
from digitrec.data import MNIST_ENV, UNIPEN_ENV, unipen_path


@pytest.fixture(scope="session", autouse=True)
def corrections_database(tmp_path_factory):
    """Corrections the tests save go to a throwaway SQLite file, never the user's own."""
    url = f"sqlite:///{tmp_path_factory.mktemp('corrections') / 'corrections.sqlite'}"
    previous = os.environ.get("DIGITREC_DB")
    os.environ["DIGITREC_DB"] = url
    yield url
    if previous is None:
        del os.environ["DIGITREC_DB"]
    else:
        os.environ["DIGITREC_DB"] = previous


@pytest.fixture(scope="session")
def postgres_url():
    """The throwaway PostgreSQL server that .ci/run starts ($DIGITREC_TEST_POSTGRES): without
    it the PostgreSQL tests are skipped, saying why, except under CI=true, which fails them."""
    url = os.environ.get("DIGITREC_TEST_POSTGRES")
    if not url:
        reason = "DIGITREC_TEST_POSTGRES names no PostgreSQL server (`bash .ci/postgres start DIR` starts one)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true runs the PostgreSQL tests)")
        pytest.skip(reason)
    return url


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
