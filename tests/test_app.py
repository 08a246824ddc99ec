"""The Gradio app, launched on 127.0.0.1 and driven through gradio_client as an API user would."""

import socket

import cv2
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from digitrec.app import build_demo, launch
from digitrec.paths import EXAMPLES_DIR


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    """A second model for the selector: the dense network before any training."""
    from digitrec import load_recognizer, models

    path = tmp_path_factory.mktemp("models") / "untrained.keras"
    models.build_mlp().save(path)
    return load_recognizer(path)


@pytest.fixture(scope="module")
def client(mlp, untrained):
    demo = launch(build_demo([mlp, untrained]), port=free_port(), block=False, quiet=True)
    yield Client(demo.local_url, verbose=False)
    demo.close()


def test_only_the_predict_endpoint_is_public(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert list(endpoints) == ["/predict"]
    parameters = endpoints["/predict"]["parameters"]
    assert [p["parameter_name"] for p in parameters] == ["image", "model"]
    assert parameters[1]["parameter_default"] == "mlp"  # The first model, the best.
    assert len(endpoints["/predict"]["returns"]) == 2  # The label and the prediction text.


def test_the_model_can_be_chosen(client, untrained):
    path = next(EXAMPLES_DIR.glob("digit_7_*.png"))
    trained = client.predict(handle_file(str(path)), "mlp", api_name="/predict")[0]
    guessing = client.predict(handle_file(str(path)), "untrained", api_name="/predict")[0]
    top = lambda label: max(c["confidence"] for c in label["confidences"])
    assert trained["label"] == "7" and top(trained) > 0.9
    assert top(guessing) < 0.5  # An untrained network spreads its bets.
    with pytest.raises(AppError, match="Unknown model 'rnn'"):
        client.predict(handle_file(str(path)), "rnn", api_name="/predict")


@pytest.mark.parametrize("digit", [0, 3, 7])
def test_uploaded_digit_comes_back_as_the_right_label(client, digit):
    path = next(EXAMPLES_DIR.glob(f"digit_{digit}_*.png"))
    label, text = client.predict(handle_file(str(path)), api_name="/predict")
    assert text == str(digit)
    assert label["label"] == str(digit)
    assert len(label["confidences"]) == 10


def test_photo_like_upload_with_alpha(client, tmp_path, test_set):
    # Black strokes on a transparent sheet, the way drawing apps export them.
    digit = cv2.resize(test_set[0][2], (300, 300), interpolation=cv2.INTER_CUBIC)
    rgba = np.zeros((300, 300, 4), np.uint8)
    rgba[:, :, 3] = digit
    path = tmp_path / "transparent.png"
    cv2.imwrite(str(path), rgba)
    _, text = client.predict(handle_file(str(path)), api_name="/predict")
    assert text == str(test_set[1][2])


def test_blank_and_broken_uploads_get_specific_errors(client, tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200), 255, np.uint8))
    with pytest.raises(AppError, match="No digit found"):
        client.predict(handle_file(str(blank)), api_name="/predict")
    fake = tmp_path / "fake.png"
    fake.write_text("this is a text file")
    with pytest.raises(AppError, match="is not a readable image"):
        client.predict(handle_file(str(fake)), api_name="/predict")
    # The server keeps serving after refusing them.
    path = next(EXAMPLES_DIR.glob("digit_4_*.png"))
    assert client.predict(handle_file(str(path)), api_name="/predict")[1] == "4"


def test_share_without_a_reachable_share_server_stays_local(mlp, capsys):
    # Port 9 on this machine refuses connections, as Gradio's share server is unreachable offline.
    demo = launch(
        build_demo(mlp), share=True, port=free_port(), block=False, quiet=True,
        share_server_address="127.0.0.1:9",
    )
    try:
        assert demo.share_url is None
        assert "No public share link could be made" in capsys.readouterr().out
        path = next(EXAMPLES_DIR.glob("digit_1_*.png"))
        assert Client(demo.local_url, verbose=False).predict(handle_file(str(path)), api_name="/predict")[1] == "1"
    finally:
        demo.close()
