"""The JSON API beside the app, served by uvicorn on 127.0.0.1 as `serve` runs it, and called
over HTTP as a script would."""

import ast
import asyncio
import base64
import concurrent.futures
import contextlib
import io
import os
import re
import signal
import socket
import struct
import threading
import time
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn
from gradio_client import Client, handle_file
from PIL import Image

from digitrec.api import MAX_BATCH_IMAGES, MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES
from digitrec.batching import Batcher, Preprocessing
from digitrec.errors import InvalidImageError
from digitrec.bench import free_port
from digitrec.paths import EXAMPLES_DIR
from digitrec.server import create_app

EXAMPLES = {int(path.name.split("_")[1]): path for path in sorted(EXAMPLES_DIR.glob("digit_*.png"))}


@contextlib.contextmanager
def served(app):
    """`app` served by uvicorn in a thread on a free port; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def cnn():
    from digitrec import load_recognizer

    return load_recognizer("cnn")


@pytest.fixture(scope="module")
def app(mlp, cnn):
    return create_app([mlp, cnn])


@pytest.fixture(scope="module")
def url(app):
    with served(app) as base:
        yield base


@pytest.fixture(scope="module")
def http(url):
    with httpx.Client(base_url=url, timeout=60) as client:
        yield client


def image_file(path):
    return ("image", (path.name, path.read_bytes(), "image/png"))


def png_bytes(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_health_names_the_loaded_models(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "models": ["mlp", "cnn"]}


@pytest.mark.parametrize("model", [None, "mlp", "cnn"])
def test_predict_reads_every_example_digit(http, model):
    for digit, path in EXAMPLES.items():
        response = http.post("/api/v1/predict", files=[image_file(path)], params={"model": model} if model else {})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["model"] == (model or "mlp")
        assert answer["digit"] == digit
        assert len(answer["probabilities"]) == 10 and abs(sum(answer["probabilities"]) - 1) < 1e-4
        assert answer["confidence"] == max(answer["probabilities"]) and answer["unsure"] is False


def test_predict_matches_the_recognizer(http, cnn):
    path = EXAMPLES[4]
    answer = http.post("/api/v1/predict", files=[image_file(path)], params={"model": "cnn"}).json()
    expected = cnn.predict(path)
    np.testing.assert_allclose(answer["probabilities"], expected.probabilities, atol=1e-5)


def test_batch_answers_each_image_alone(http):
    blank = png_bytes(np.full((64, 64), 255, np.uint8))
    files = [
        image_file(EXAMPLES[3]),
        ("image", ("notes.txt", b"not an image at all", "text/plain")),
        ("image", ("blank.png", blank, "image/png")),
        image_file(EXAMPLES[8]),
        ("image", ("empty.png", b"", "image/png")),
    ]
    response = http.post("/api/v1/predict/batch", files=files)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["index"] for result in results] == [0, 1, 2, 3, 4]
    assert [result["filename"] for result in results] == ["digit_3_test_30.png", "notes.txt", "blank.png", "digit_8_test_61.png", "empty.png"]
    assert results[0]["digit"] == 3 and results[3]["digit"] == 8
    assert "not a readable image" in results[1]["error"]
    assert "No digit found" in results[2]["error"]
    assert "empty" in results[4]["error"]


def test_batch_of_too_many_images_is_refused(http):
    files = [image_file(EXAMPLES[1])] * (MAX_BATCH_IMAGES + 1)
    response = http.post("/api/v1/predict/batch", files=files)
    assert response.status_code == 413 and f"the most is {MAX_BATCH_IMAGES}" in response.json()["error"]


def test_number_is_read_with_boxes(http):
    response = http.post("/api/v1/number", files=[image_file(EXAMPLES_DIR / "numbers" / "2026.png")])
    assert response.status_code == 200, response.text
    reading = response.json()
    assert reading["number"] == "2026"
    assert [digit["digit"] for digit in reading["digits"]] == [2, 0, 2, 6]
    lefts = [digit["box"][0] for digit in reading["digits"]]
    assert lefts == sorted(lefts) and all(len(digit["box"]) == 4 for digit in reading["digits"])


def huge_png_header(width, height):
    """A PNG whose header says `width` x `height` pixels, without the pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")


def nan_tiff():
    image = np.full((64, 64), 0.0, np.float32)
    image[20:40, 30:34] = 1.0
    image[5, 5] = np.nan
    buffer = io.BytesIO()
    Image.fromarray(image, mode="F").save(buffer, format="TIFF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "files, params, status, message",
    [
        ([], {}, 400, "No image: send the image file in the multipart form field 'image'"),
        ([("picture", ("seven.png", b"x", "image/png"))], {}, 400, "No image"),
        ([("image", ("empty.png", b"", "image/png"))], {}, 400, "'empty.png' is empty (0 bytes)"),
        ([("image", ("notes.txt", b"hello", "text/plain"))], {}, 422, "not a readable image"),
        ([("image", ("cut.png", png_bytes(np.zeros((50, 50), np.uint8))[:60], "image/png"))], {}, 422, "not a readable image"),
        ([("image", ("huge.png", huge_png_header(40000, 40000), "image/png"))], {}, 422, "too large to read; the limit is 150,000,000 pixels"),
        ([("image", ("nan.tiff", nan_tiff(), "image/tiff"))], {}, 422, "NaN"),
        ([("image", ("blank.png", png_bytes(np.zeros((80, 80), np.uint8)), "image/png"))], {}, 422, "No digit found"),
        ([image_file(EXAMPLES[7])], {"model": "rnn"}, 400, "Unknown model 'rnn'; expected one of ['mlp', 'cnn']"),
    ],
    ids=["no file", "wrong field", "empty file", "not an image", "truncated", "huge image", "NaN TIFF", "blank", "bad model"],
)
def test_bad_requests_get_a_specific_4xx_json_error(http, files, params, status, message):
    for endpoint in ("/api/v1/predict", "/api/v1/number"):
        response = http.post(endpoint, files=files, params=params) if files else http.post(endpoint, params=params)
        assert response.status_code == status, (endpoint, response.text)
        assert message in response.json()["error"], (endpoint, response.text)


def test_uploads_over_the_size_limit_are_refused(http):
    big = np.random.default_rng(0).integers(0, 256, (2400, 2400), np.uint8)  # Noise does not compress.
    content = png_bytes(big) + b"\0" * (MAX_UPLOAD_BYTES - len(png_bytes(big)) + 1)
    response = http.post("/api/v1/predict", files=[("image", ("big.png", content, "image/png"))])
    assert response.status_code == 413 and "larger than the limit of 10 MB" in response.json()["error"]


def read_response(connection):
    """The whole answer: its headers and body may come in separate packets."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(4096) or b"\r\n\r\n"
    head, body = answer.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"content-length: *(\d+)", head, re.IGNORECASE).group(1))
    while len(body) < length and (more := connection.recv(4096)):
        body += more
    return (head + b"\r\n\r\n" + body).decode()


def test_a_request_over_the_limit_is_refused_before_it_is_read(url, http):
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(  # Only the headers: the answer comes before any of the body.
            b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            + f"Content-Length: {MAX_REQUEST_BYTES + 1}\r\n\r\n".encode()
        )
        declared = read_response(connection)
    assert declared.startswith("HTTP/1.1 413") and "larger than the limit" in declared

    def chunks():  # No Content-Length: a file sent in chunks, cut off once past the limit.
        yield b'--x\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n\r\n'
        for _ in range(MAX_REQUEST_BYTES // 2**20 + 2):
            yield b"\0" * 2**20

    undeclared = http.post("/api/v1/predict", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert undeclared.status_code == 413 and "larger than the limit" in undeclared.json()["error"]


def test_openapi_docs_describe_every_endpoint(http):
    assert http.get("/docs").status_code == 200
    paths = http.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/api/v1/predict", "/api/v1/predict/batch", "/api/v1/number"} <= set(paths)


def test_the_gradio_app_is_served_on_the_same_port(url):
    client = Client(url + "/", verbose=False)
    _, text = client.predict(handle_file(str(EXAMPLES[5])), "cnn", api_name="/predict")
    assert text == "5"
    assert "<gradio-app" in httpx.get(url + "/").text or "gradio" in httpx.get(url + "/").text.lower()


def test_concurrent_callers_each_get_their_own_answer(url, app):
    batchers = app.state.batchers
    calls_before, images_before = batchers["mlp"].calls, batchers["mlp"].images
    jobs = [EXAMPLES[i % 10] for i in range(80)]

    def ask(path):
        with httpx.Client(base_url=url, timeout=60) as client:
            return client.post("/api/v1/predict", files=[image_file(path)]).json()["digit"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, jobs))
    assert answers == [i % 10 for i in range(80)]
    assert batchers["mlp"].images - images_before == 80
    assert batchers["mlp"].calls - calls_before < 80  # Some requests shared a model call.


def test_batcher_hands_each_caller_its_own_row(mlp, test_set):
    images = test_set[0][:50].astype(np.float32) / 255
    batcher = Batcher(mlp)

    async def everyone():
        return await asyncio.gather(*(batcher.probabilities(image) for image in images))

    rows = asyncio.run(everyone())
    batcher.close()
    np.testing.assert_allclose(np.stack(rows), mlp.probabilities(images), atol=1e-5)
    assert batcher.images == 50 and batcher.calls < 5  # Arriving together, they went together.


def test_with_a_login_the_api_asks_for_it(mlp):
    with served(create_app([mlp], auth=("ada", "secret"))) as base:
        files = [image_file(EXAMPLES[2])]
        assert httpx.get(base + "/healthz").status_code == 200  # Open to load balancers.
        refused = httpx.post(base + "/api/v1/predict", files=files)
        assert refused.status_code == 401 and "login" in refused.json()["error"]
        wrong = httpx.post(base + "/api/v1/predict", files=files, auth=("ada", "guess"))
        assert wrong.status_code == 401
        answered = httpx.post(base + "/api/v1/predict", files=files, auth=("ada", "secret"))
        assert answered.status_code == 200 and answered.json()["digit"] == 2


def test_mcp_serves_recognition_as_a_tool(mlp):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    seven = base64.b64encode(EXAMPLES[7].read_bytes()).decode()

    async def use_the_tool(base):
        async with streamablehttp_client(base + "/gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = {tool.name: tool for tool in (await session.list_tools()).tools}
                answer = await session.call_tool("predict", {"image": "data:image/png;base64," + seven})
                return tools, answer

    with served(create_app([mlp], mcp=True)) as base:
        tools, answer = asyncio.run(use_the_tool(base))
    assert list(tools) == ["predict"]
    assert "handwritten digit" in tools["predict"].description
    assert set(tools["predict"].inputSchema["properties"]) == {"image", "model"}
    assert not answer.isError, answer
    texts = [part.text for part in answer.content if part.type == "text"]
    label, text = ast.literal_eval(texts[0])  # Gradio sends the endpoint's outputs as one text.
    assert text == "7" and label["label"] == "7"


def test_a_preprocessing_worker_that_dies_costs_only_its_own_image():
    preprocessing = Preprocessing(workers=1)
    preprocessing.start()
    seven = EXAMPLES[7].read_bytes()
    try:
        assert asyncio.run(preprocessing(seven)).shape == (28, 28)
        for worker in list(preprocessing._pool._processes.values()):
            os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(InvalidImageError, match="the process reading it stopped"):
            asyncio.run(preprocessing(seven))
        assert asyncio.run(preprocessing(seven)).shape == (28, 28)  # New workers.
    finally:
        preprocessing.close()


def test_preprocessing_workers_end_with_a_killed_server():
    from digitrec.bench import serving

    def children(pid):
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            with contextlib.suppress(OSError):
                if f"PPid:\t{pid}\n" in status.read_text():
                    found.append(int(status.parent.name))
        return found

    with serving("--model", "mlp") as (server, _, _):
        workers = children(server.pid)
        assert len(workers) >= 2  # The preprocessing workers (and Python's resource tracker).
        server.kill()  # SIGKILL: no chance to stop them.
        server.wait()
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def correction(http, path, label, headers=None, **params):
    return http.post("/api/v1/corrections", files=[image_file(path)], data={"label": label}, params=params, headers=headers)


def test_a_correction_is_stored_once_and_acknowledged_with_its_id(http):
    first = correction(http, EXAMPLES[3], "8")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] and body["label"] == 8 and body["answer"] == 3 and body["model"] == "mlp"
    again = correction(http, EXAMPLES[3], "8")
    assert again.status_code == 200 and again.json()["id"] == body["id"] and not again.json()["created"]
    other_model = correction(http, EXAMPLES[3], "5", model="cnn")
    assert other_model.status_code == 201 and other_model.json()["id"] != body["id"]


@pytest.mark.parametrize("label", ["10", "x", "", "-1", "3.5"])
def test_a_correction_with_a_bad_label_is_refused(http, label):
    response = correction(http, EXAMPLES[3], label)
    assert response.status_code == 400 and "label" in response.json()["error"]


def test_a_correction_without_its_label_or_image_is_refused(http):
    no_label = http.post("/api/v1/corrections", files=[image_file(EXAMPLES[3])])
    assert no_label.status_code == 400 and "label" in no_label.json()["error"]
    no_image = http.post("/api/v1/corrections", data={"label": "3"})
    assert no_image.status_code == 400 and "No image" in no_image.json()["error"]
    broken = http.post("/api/v1/corrections", files=[("image", ("x.png", b"not an image", "image/png"))], data={"label": "3"})
    assert broken.status_code == 422 and "not a readable image" in broken.json()["error"]


def test_corrections_need_the_admin_token_when_one_is_set(mlp, monkeypatch):
    monkeypatch.setenv("DIGITREC_ADMIN_TOKEN", "s3cret")
    with served(create_app([mlp])) as base, httpx.Client(base_url=base, timeout=60) as client:
        refused = correction(client, EXAMPLES[7], "1")
        assert refused.status_code == 401 and "X-Admin-Token" in refused.json()["error"]
        wrong = correction(client, EXAMPLES[7], "1", headers={"X-Admin-Token": "guess"})
        assert wrong.status_code == 401
        accepted = correction(client, EXAMPLES[7], "1", headers={"X-Admin-Token": "s3cret"})
        assert accepted.status_code in (200, 201), accepted.text
        # Predictions stay open to everyone.
        assert client.post("/api/v1/predict", files=[image_file(EXAMPLES[7])]).status_code == 200
