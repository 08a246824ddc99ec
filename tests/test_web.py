"""The in-browser page (web/): served by a plain static server with every request to any
other origin blocked, it reads digits drawn with the mouse and with a finger in real
Chromium, and its JavaScript preprocessing gives what the Python's does.

The drawings are UNIPEN validation writers' own pen strokes, replayed as pointer events.
"""

import hashlib
import json
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

import digitrec
from digitrec.bench import free_port
from digitrec.data import load_unipen_strokes
from digitrec.paths import MODELS_DIR, PROJECT_ROOT
from test_browser import CHROMIUM_FLAGS, browser, playwright, screenshot, touch_stroke  # noqa: F401

WEB = PROJECT_ROOT / "web"
# Digits per class drawn with the mouse.
PER_CLASS = 3


@pytest.fixture(scope="module")
def site():
    """web/ served by Python's plain static file server on loopback."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(WEB), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail("the static server did not start")
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait()


def opened(browser, site, **options):  # noqa: F811
    """The page in a new context whose requests to any other origin are blocked and listed;
    returns (context, page, blocked, errors) once the model is loaded."""
    context = browser.new_context(**options)
    blocked, errors = [], []

    def only_own_origin(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_own_origin)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(site)
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Draw')", timeout=60000)
    return context, page, blocked, errors


@pytest.fixture(scope="module")
def desktop(browser, site):  # noqa: F811
    context, page, blocked, errors = opened(browser, site, viewport={"width": 1024, "height": 768})
    yield page, blocked, errors
    screenshot(page, "web_desktop")
    context.close()


@pytest.fixture(scope="module")
def drawings(unipen):
    """PER_CLASS validation digits of each class, as (strokes in mm, label)."""
    strokes, labels = load_unipen_strokes("validation")
    rng = np.random.default_rng(0)
    chosen = [i for digit in range(10) for i in rng.choice(np.flatnonzero(labels == digit), PER_CLASS, replace=False)]
    return [(strokes[i], int(labels[i])) for i in chosen]


def on_pad(page, strokes, size=0.6):
    """Page pixels for pen strokes, scaled so the digit is `size` of the pad high, centred."""
    box = page.locator("#pad").bounding_box()
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = size * box["height"] / max(high[1] - low[1], 0.5 * (high[0] - low[0]), 1e-3)
    middle = (low + high) / 2
    centre = np.array([box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    return [[tuple(centre + (point - middle) * scale) for point in stroke] for stroke in strokes]


def read(page, strokes, draw):
    """Clear the pad, draw the strokes with `draw(page, points)`, and return what the page
    read: its digit, and window.digitrec.last."""
    page.click("#clear")
    before = page.evaluate("window.digitrec.answered")
    for points in on_pad(page, strokes):
        draw(page, points)
    page.wait_for_function(f"window.digitrec.answered > {before} && window.digitrec.last !== null", timeout=30000)
    page.wait_for_timeout(50)
    return page.locator("#digit").text_content(), page.evaluate("window.digitrec.last")


def mouse(page, points):
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1::2]:  # Every other tablet point: a mouse moves less finely.
        page.mouse.move(*point)
    page.mouse.move(*points[-1])
    page.mouse.up()


def python_side(last):
    """The Python preprocessing of the image the page read, and its model's answer."""
    ink = np.array(last["ink"]["data"], np.uint8).reshape(last["ink"]["height"], last["ink"]["width"], 4)
    processed = digitrec.preprocess(ink)
    return processed, int(digitrec.load_recognizer(last["model"]).predict(processed).digit)


def test_page_reads_writers_digits_drawn_with_the_mouse_as_python_does(desktop, drawings):
    page, blocked, errors = desktop
    page.select_option("#model", "cnn")
    differences, right, same = [], 0, 0
    for strokes, label in drawings:
        digit, last = read(page, strokes, mouse)
        processed, python_digit = python_side(last)
        javascript = np.array(last["input"], np.float32).reshape(28, 28)
        differences.append(float(np.abs(javascript - processed).mean()))
        assert int(digit) == int(np.argmax(last["probabilities"]))
        same += int(digit) == python_digit
        right += int(digit) == label
    worst = max(differences)
    print(f"JS vs Python preprocessing on {len(drawings)} drawings: mean |difference| {np.mean(differences):.2e}, worst {worst:.2e}; "
          f"{right} read right; {same} as the Python read them")
    assert worst < 0.02, f"JS and Python preprocessing differ by {worst:.2%} of full scale on one drawing"
    assert same == len(drawings)
    assert right >= 0.9 * len(drawings)
    assert not blocked and not errors


def test_switching_to_the_mlp_reads_the_drawing_again(desktop, drawings):
    page, blocked, errors = desktop
    strokes, label = next((strokes, label) for strokes, label in drawings if label == 3)
    read(page, strokes, mouse)
    before = page.evaluate("window.digitrec.answered")
    page.select_option("#model", "mlp")
    page.wait_for_function(f"window.digitrec.answered > {before}", timeout=30000)
    last = page.evaluate("window.digitrec.last")
    assert last["model"] == "mlp"
    assert page.locator("#digit").text_content() == str(python_side(last)[1])
    assert page.locator("#top li").count() == 3
    page.select_option("#model", "cnn")
    assert not blocked and not errors


def test_clear_and_a_blank_pad_give_a_message_not_an_answer(desktop):
    page, blocked, errors = desktop
    page.click("#clear")
    assert page.locator("#digit").text_content() == "–"
    assert page.locator("#top li").count() == 0
    assert "Draw a digit" in page.locator("#status").text_content()
    assert not blocked and not errors


def test_on_a_phone_a_finger_draws_without_scrolling(browser, site, drawings):  # noqa: F811
    context, page, blocked, errors = opened(browser, site, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("getComputedStyle(document.getElementById('pad')).touchAction") == "none"
    session = context.new_cdp_session(page)
    finger = lambda page, points: touch_stroke(session, points[::2] + [points[-1]], steps=1)
    wrong = []
    for strokes, label in drawings[::PER_CLASS]:  # One of each digit.
        digit, _ = read(page, strokes, finger)
        if digit != str(label):
            wrong.append((label, digit))
    assert page.evaluate("window.scrollY") == 0
    answer = page.locator("#digit").bounding_box()
    assert answer["y"] + answer["height"] <= 844
    assert len(wrong) <= 1, f"read wrong (label, page): {wrong}"
    screenshot(page, "web_phone")
    assert not blocked and not errors
    context.close()


def test_committed_models_are_the_shipped_ones_exported():
    for name in ("mlp", "cnn"):
        card = json.loads((WEB / "models" / f"{name}.onnx.json").read_text())
        assert card["source"]["sha256"] == hashlib.sha256((MODELS_DIR / f"{name}.keras").read_bytes()).hexdigest()
        assert card["bytes"] == (WEB / "models" / f"{name}.onnx").stat().st_size


def test_committed_runtime_is_the_locked_onnxruntime_web():
    locked = json.loads((WEB / "package-lock.json").read_text())["packages"]["node_modules/onnxruntime-web"]["version"]
    assert json.loads((WEB / "package.json").read_text())["dependencies"]["onnxruntime-web"] == locked
    assert f"ONNX Runtime Web v{locked}" in (WEB / "vendor" / "ort.wasm.min.mjs").read_text()[:200]
    assert (WEB / "vendor" / "ort-wasm-simd-threaded.wasm").read_bytes()[:4] == b"\0asm"
