"""The Gradio app, launched on 127.0.0.1 and driven through gradio_client as an API user would."""

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from digitrec.app import build_demo, launch
from digitrec.bench import free_port
from digitrec.paths import EXAMPLES_DIR


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


SEVEN = EXAMPLES_DIR / "digit_7_test_0.png"


def png(pixels):
    return lambda path: cv2.imwrite(str(path.with_suffix(".png")), pixels) and path.with_suffix(".png")


def truncated_png(path):
    path = path.with_suffix(".png")
    data = (EXAMPLES_DIR / "digit_7_test_0.png").read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def text_named_png(path):
    path = path.with_suffix(".png")
    path.write_text("this is a text file")
    return path


def huge_png(path):
    # 20000x20000, one bit per pixel: 50 MB to write, a small file, 400 million pixels to decode.
    path = path.with_suffix(".png")
    Image.new("1", (20000, 20000), 1).save(path)
    return path


def animated_gif(path):
    path = path.with_suffix(".gif")
    seven = Image.open(SEVEN).convert("L")
    seven.save(path, save_all=True, append_images=[Image.new("L", seven.size, 0)], duration=500, loop=0)
    return path


def cmyk_jpeg(path):
    path = path.with_suffix(".jpg")
    page = 255 - cv2.resize(cv2.imread(str(SEVEN), cv2.IMREAD_GRAYSCALE), (280, 280), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(page).convert("CMYK").save(path, quality=95)
    return path


def png_16_bit(path):
    seven = cv2.imread(str(SEVEN), cv2.IMREAD_GRAYSCALE).astype(np.uint16) * 257
    return png(seven)(path)


# The bad-input table of the README: each file, and what the app answers through its API.
BAD_UPLOADS = {
    "fully transparent PNG": (png(np.zeros((200, 200, 4), np.uint8)), "No digit found: the image is fully transparent"),
    "all-black image": (png(np.zeros((200, 200), np.uint8)), "No digit found: the image is blank"),
    "all-white image": (png(np.full((200, 200), 255, np.uint8)), "No digit found: the image is blank"),
    "1x1 image": (png(np.zeros((1, 1), np.uint8)), "No digit found: the image is blank"),
    "20000x20000 image": (huge_png, "is too large to read"),
    "truncated PNG": (truncated_png, "is not a readable image: image file is truncated"),
    "text file named .png": (text_named_png, "is not a readable image: not in a format Pillow reads"),
}
GOOD_UPLOADS = {
    "animated GIF (its first frame is read)": animated_gif,
    "16-bit PNG": png_16_bit,
    "CMYK JPEG": cmyk_jpeg,
}


@pytest.mark.parametrize("name", BAD_UPLOADS)
def test_bad_uploads_get_specific_errors_and_the_app_keeps_serving(client, tmp_path, name):
    make, message = BAD_UPLOADS[name]
    with pytest.raises(AppError, match=message) as refused:
        client.predict(handle_file(str(make(tmp_path / "upload"))), api_name="/predict")
    assert "/" not in str(refused.value)  # The file is named, not the server's copy of it.
    assert client.predict(handle_file(str(SEVEN)), api_name="/predict")[1] == "7"


@pytest.mark.parametrize("name", GOOD_UPLOADS)
def test_unusual_but_valid_uploads_are_read(client, tmp_path, name):
    path = GOOD_UPLOADS[name](tmp_path / "upload")
    assert client.predict(handle_file(str(path)), api_name="/predict")[1] == "7"


def test_uploads_are_deleted_by_the_cache_cleanup(mlp, tmp_path):
    # Not an example image: Gradio keeps those cached for the examples gallery.
    upload = png_16_bit(tmp_path / "upload")
    demo = launch(build_demo(mlp, delete_cache=(1, 1)), port=free_port(), block=False, quiet=True)
    try:
        Client(demo.local_url, verbose=False).predict(handle_file(str(upload)), api_name="/predict")
        uploads = list(demo.upload_file_set)
        assert uploads and all(Path(path).exists() for path in uploads)
        deadline = time.monotonic() + 30
        while any(Path(path).exists() for path in uploads) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not any(Path(path).exists() for path in uploads)
    finally:
        demo.close()


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
