"""The app in a real browser: Debian's Chromium, driven by Playwright with real mouse strokes.

Each test saves a screenshot in build/screenshots (or $DIGITREC_SCREENSHOTS). Without
Chromium the tests are skipped, saying why; under CI=true a missing browser fails them.
"""

import math
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from digitrec.app import CANVAS_SIZE, NUMBER_CANVAS_SIZE, build_demo, launch
from digitrec.bench import free_port, photo
from digitrec.paths import EXAMPLES_DIR, PROJECT_ROOT

CHROMIUM = os.environ.get("DIGITREC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(os.environ.get("DIGITREC_SCREENSHOTS", PROJECT_ROOT / "build" / "screenshots"))


def strokes(digit, x, y, size):
    """Pen strokes for `digit` centred at (x, y), `size` high, in fractions of the canvas."""
    half = size / 2
    if digit == "0":
        return [[(x + 0.6 * half * math.sin(t * math.pi / 12), y - half * math.cos(t * math.pi / 12)) for t in range(25)]]
    if digit == "1":
        return [[(x, y - half), (x, y + half)]]
    if digit == "2":
        return [[(x - 0.6 * half, y - 0.6 * half), (x - 0.2 * half, y - half), (x + 0.4 * half, y - half),
                 (x + 0.6 * half, y - 0.6 * half), (x + 0.4 * half, y - 0.1 * half), (x - 0.7 * half, y + half),
                 (x + 0.7 * half, y + half)]]
    if digit == "4":
        return [[(x + 0.3 * half, y - half), (x - 0.7 * half, y + 0.3 * half), (x + 0.7 * half, y + 0.3 * half)],
                [(x + 0.3 * half, y - 0.4 * half), (x + 0.3 * half, y + half)]]
    if digit == "7":
        return [[(x - 0.8 * half, y - half), (x + 0.8 * half, y - half), (x - 0.2 * half, y + half)]]
    # Letters, for the letters tab.
    if digit == "H":
        return [[(x - 0.6 * half, y - half), (x - 0.6 * half, y + half)], [(x + 0.6 * half, y - half), (x + 0.6 * half, y + half)],
                [(x - 0.6 * half, y), (x + 0.6 * half, y)]]
    if digit == "T":
        return [[(x - 0.7 * half, y - half), (x + 0.7 * half, y - half)], [(x, y - half), (x, y + half)]]
    raise ValueError(digit)


def camera_video(path, rgb, frames=30):
    """A Y4M video of `frames` frames of one RGB picture: what Chromium's fake camera plays."""
    height, width = rgb.shape[:2]
    planes = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes()
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)


@pytest.fixture(scope="module")
def playwright():
    if not Path(CHROMIUM).is_file():
        reason = f"Chromium not found at {CHROMIUM}; install it with `apt-get install chromium`"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true runs the browser tests)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright):
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def camera(playwright, test_set, tmp_path_factory):
    """A browser whose camera films a phone photo of MNIST's first test digit, a 7, on paper."""
    video = tmp_path_factory.mktemp("camera") / "seven.y4m"
    camera_video(video, photo(test_set[0][0], np.random.default_rng(0)))
    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + fake_camera)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def app_url():
    from digitrec.recognizer import load_shipped

    demo = launch(build_demo(load_shipped()), port=free_port(), block=False, quiet=True)
    yield demo.local_url
    demo.close()


@pytest.fixture
def page(browser, app_url, request):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(app_url)
    page.locator("#sketchpad canvas").first.wait_for()
    yield page
    screenshot(page, request.node.name)
    page.close()


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def draw(page, digit, x=0.5, y=0.5, size=0.7, canvas="#sketchpad", page_size=CANVAS_SIZE):
    """Draw `digit` with the mouse, as a person would, pressing and moving. The sketchpad
    shows its white page, `page_size` pixels, at the centre of its canvas element; `x`, `y`
    and `size` are fractions of the page's height, from its top left corner."""
    box = page.locator(f"{canvas} canvas").first.bounding_box()
    side = page_size[1]
    left, top = box["x"] + (box["width"] - page_size[0]) / 2, box["y"] + (box["height"] - page_size[1]) / 2
    for stroke in strokes(digit, x, y, size):
        points = [(left + px * side, top + py * side) for px, py in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            # A pointer event every 20 pixels or so: smooth enough, and each one costs a redraw.
            page.mouse.move(x1, y1, steps=max(1, round(math.hypot(x1 - x0, y1 - y0) / 20)))
        page.mouse.up()


def prediction(page, settle=1.5, timeout=30, box="#prediction", stale=None, awaited=None):
    """The Prediction box once its text has stopped changing for `settle` seconds, and is not
    `stale` (what it said before the drawing being answered). With `awaited`, a settled text
    other than it is taken as an answer to an earlier stroke, still being overtaken, until
    `timeout`: on a busy machine the app may answer the last stroke seconds after it."""
    box = page.locator(f"{box} textarea")
    deadline = time.monotonic() + timeout
    last, since = box.input_value(), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(200)
        value = box.input_value()
        if value != last:
            last, since = value, time.monotonic()
        elif value and value != stale and time.monotonic() - since >= settle and awaited in (None, value):
            return value
    return last


@pytest.mark.parametrize(
    "digit, x, y, size",
    [("7", 0.5, 0.5, 0.75), ("1", 0.5, 0.5, 0.75), ("0", 0.22, 0.22, 0.28), ("4", 0.75, 0.72, 0.3), ("2", 0.35, 0.62, 0.45)],
    ids=["7 large", "1 large", "0 small top-left", "4 small bottom-right", "2 off-centre"],
)
def test_drawn_digit_is_read(page, digit, x, y, size):
    draw(page, digit, x, y, size)
    assert prediction(page, awaited=digit) == digit
    assert page.locator("#answered").inner_text().startswith("Answered by CNN")


def test_digit_drawn_with_the_thinnest_brush_is_read(page):
    # The visitor picks size 1 on the sketchpad's own brush size slider (1 to 100).
    size = page.locator('#sketchpad button[aria-label="Brush Size"]')
    size.click()
    slider = page.locator("#sketchpad input[type=range]")
    slider.fill("1")
    assert slider.input_value() == "1"
    size.click()
    draw(page, "2", 0.45, 0.55, 0.5)
    assert prediction(page, awaited="2") == "2"


def test_clear_leaves_no_stale_answer_and_drawing_works_again(page):
    draw(page, "7")
    assert prediction(page, awaited="7") == "7"
    page.locator("#clear").click()
    page.wait_for_timeout(1500)
    # The emptied canvas may be answered too, asking for a digit.
    assert page.locator("#prediction textarea").input_value() in ("", "Draw a digit first")
    # No "Answered by" is left; under load Gradio's progress timer ("0.1s") may show in the
    # note for a moment while the emptied canvas is answered.
    from playwright.sync_api import expect

    expect(page.locator("#answered")).to_have_text("", use_inner_text=True, timeout=30_000)
    # The brush is picked again after the clear, so the next stroke draws.
    before = page.locator("#prediction textarea").input_value()
    draw(page, "1")
    assert prediction(page, stale=before or None, awaited="1") == "1"


def test_switching_model_answers_the_drawing_again(page):
    draw(page, "4", size=0.6)
    assert prediction(page, awaited="4") == "4"
    page.get_by_label("Dense (MLP)").check()
    page.wait_for_timeout(500)
    assert prediction(page, awaited="4") == "4"
    # The note may still show Gradio's progress timer ("0.2s") for a moment under load.
    page.locator("#answered", has_text="Answered by Dense (MLP)").wait_for(timeout=30_000)
    assert "Answered by Dense (MLP)" in page.locator("#answered").inner_text()
    screenshot(page, "app")


def test_uploaded_png_is_read(page):
    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload input[type=file]").set_input_files(str(EXAMPLES_DIR / "digit_3_test_30.png"))
    assert prediction(page, awaited="3") == "3"


def test_bad_upload_shows_a_message_not_a_traceback(page, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("not an image")
    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload input[type=file]").set_input_files(str(fake))
    message = page.get_by_text("is not a readable image")
    message.first.wait_for(timeout=30_000)
    assert "Traceback" not in page.content()
    assert page.locator("#prediction textarea").input_value() == ""


def test_number_tab_reads_a_number_drawn_digit_by_digit(page):
    page.get_by_role("tab", name="Number").click()
    page.locator("#number_sketchpad canvas").first.wait_for()
    across = NUMBER_CANVAS_SIZE[0] / NUMBER_CANVAS_SIZE[1]  # The page's width, in heights.
    for index, digit in enumerate("2047"):
        x = across * (index + 1) / 5
        draw(page, digit, x=x, y=0.5, size=0.6, canvas="#number_sketchpad", page_size=NUMBER_CANVAS_SIZE)
        page.wait_for_timeout(300)
    assert prediction(page, box="#number", awaited="2047") == "2047"
    assert page.locator("#number_digits img").count() == 4


def test_number_tab_reads_an_uploaded_number(page):
    page.get_by_role("tab", name="Number").click()
    page.locator("#number_upload input[type=file]").set_input_files(str(EXAMPLES_DIR / "numbers" / "2026.png"))
    assert prediction(page, box="#number", awaited="2026") == "2026"
    page.locator("#number_boxes img").first.wait_for()  # The picture with a box round each digit.


def test_letters_tab_reads_a_code_drawn_character_by_character(page):
    page.get_by_role("tab", name="Letters & digits").click()
    page.locator("#letters_sketchpad canvas").first.wait_for()
    across = NUMBER_CANVAS_SIZE[0] / NUMBER_CANVAS_SIZE[1]
    for index, character in enumerate("HT4"):
        draw(page, character, x=across * (index + 1) / 4, y=0.5, size=0.6, canvas="#letters_sketchpad", page_size=NUMBER_CANVAS_SIZE)
        page.wait_for_timeout(300)
    assert prediction(page, box="#letters_text", awaited="HT4") == "HT4"
    assert page.locator("#letters_crops img").count() == 3


def test_the_explain_view_shows_why_beside_the_answer(page):
    draw(page, "7")
    assert prediction(page, awaited="7") == "7"
    why = page.locator("#why")
    why.locator("img").first.wait_for()
    # Its title names the answer it explains, or the two an unsure answer hesitates between.
    assert why.inner_text().startswith(("Why 7: red for", "Why 7, not"))


def test_a_webcam_snapshot_of_a_digit_on_paper_is_read(camera, app_url):
    context = camera.new_context(viewport={"width": 1280, "height": 1000}, permissions=["camera"])
    page = context.new_page()
    page.goto(app_url)
    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload button[aria-label='Capture from camera']").click()
    page.get_by_text("Click to Access Webcam").click()
    page.locator("#upload button[aria-label='capture photo']").click()
    assert prediction(page, awaited="7") == "7"
    screenshot(page, "webcam")
    context.close()


def touch_stroke(session, points, steps=15):
    """A finger drawing through `points` (page pixels), as the touch events a phone sends."""
    touch = lambda kind, x, y: session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    touch("touchStart", *points[0])
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        for step in range(1, steps + 1):
            touch("touchMove", x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_on_a_phone_a_finger_draws_without_scrolling_and_the_answer_is_in_view(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(app_url)
    canvas = page.locator("#sketchpad canvas").first
    canvas.wait_for()
    page.wait_for_timeout(1000)  # The brush is picked for the visitor.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # Fits the width.
    box = canvas.bounding_box()
    x, y, side = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, min(box["width"], box["height"])
    seven = [(x - 0.3 * side, y - 0.3 * side), (x + 0.3 * side, y - 0.3 * side), (x - 0.05 * side, y + 0.35 * side)]
    touch_stroke(context.new_cdp_session(page), seven)
    assert prediction(page, awaited="7") == "7"
    assert page.evaluate("window.scrollY") == 0
    answer = page.locator("#prediction").bounding_box()
    assert answer["y"] + answer["height"] <= 844
    screenshot(page, "phone")
    context.close()


def test_a_correction_is_saved_from_the_app(page):
    from digitrec.corrections import CorrectionStore

    draw(page, "7")
    assert prediction(page, awaited="7") == "7"
    page.locator("#right_digit input").click()
    page.get_by_role("option", name="1", exact=True).click()
    page.locator("#save_correction").click()
    page.get_by_text("Saved as a 1").wait_for(timeout=30_000)
    store = CorrectionStore()  # The app's default: $DIGITREC_DB, the tests' throwaway file.
    last = store.all()[-1]
    store.close()
    assert (last.label, last.answer, last.model_name) == (1, 7, "cnn")
    # The drawing goes on being answered.
    page.locator("#clear").click()
    page.wait_for_timeout(1500)
    before = page.locator("#prediction textarea").input_value()
    draw(page, "4", size=0.6)
    assert prediction(page, stale=before or None, awaited="4") == "4"
