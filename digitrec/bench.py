"""Benchmarks that print a table: python -m digitrec.bench robustness | writers | speed | numbers | text | load | explain | finetune.

`robustness` redraws MNIST test digits the way people hand them to the app (a sketchpad
canvas, a marker, a thin pen, a photo of paper, a small digit in a corner, white chalk on
black, a tilted page) and measures each shipped model through `predict`, against the seed's
pipeline (grayscale, resize the whole image to 28x28, invert, scale). It also reads
scikit-learn's own handwritten digits, written by other people than MNIST's.

`writers` reads collections of digits by other writers that the project did not make
(digitrec.other_writers). `speed` times one answer, a batch and the app's start; `load` sends many users' uploads to
the app at once and checks every answer. `text` reads codes of letters and digits by UNIPEN's
test writers with the letters model. `explain` checks that the explanations point at the
ink the models use (the deletion test) and times them. `finetune` fine-tunes on corrections
from UNIPEN writers the model never trained on and measures it on their other digits.
"""

import argparse
import contextlib
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from digitrec import load_mnist, models
from digitrec.drawing import GAP_BANDS, compose_number, compose_text, pen
from digitrec.errors import NoDigitError
from digitrec.paths import EXAMPLES_DIR
from digitrec.preprocessing import preprocess
from digitrec.recognizer import load_recognizer


def seed_preprocess(image):
    """The seed notebook's pipeline: grayscale, resize to 28x28, invert, scale to [0, 1].

    It read uploads through `gr.Image(image_mode="RGB")`, so a sketchpad is seen as its
    composite and a transparent image loses its alpha channel.
    """
    if isinstance(image, dict):
        image = image["composite"]
    image = np.asarray(image)
    if image.ndim == 3:
        image = cv2.cvtColor(image[:, :, :3], cv2.COLOR_RGB2GRAY)
    resized = cv2.resize(image, (28, 28))
    return (255 - resized).astype(np.float32) / 255.0


def smooth(digit, height):
    """The digit scaled up as it is, with MNIST's own stroke widths."""
    return cv2.resize(digit, (height, height), interpolation=cv2.INTER_CUBIC).clip(0, 255) / 255.0


def place(ink, page_shape, top, left):
    """Put an ink patch on an empty page of `page_shape`, clipped to the page."""
    page = np.zeros(page_shape, np.float32)
    height, width = ink.shape
    page[top : top + height, left : left + width] = ink[: page_shape[0] - top, : page_shape[1] - left]
    return page


def random_spot(rng, page, size, margin=0):
    return int(rng.integers(margin, page[0] - size - margin + 1)), int(rng.integers(margin, page[1] - size - margin + 1))


def dark_on_white(ink):
    return ((1.0 - ink) * 255).astype(np.uint8)


# The styles. Each takes an MNIST digit and a random generator, returns what the app receives.


def sketchpad(digit, rng):
    """Drawn on an 800x800 sketchpad with a fixed brush: strokes on a transparent layer."""
    height = int(rng.integers(250, 650))
    ink = place(pen(digit, height, radius=16), (800, 800), *random_spot(rng, (800, 800), height))
    layer = np.zeros((800, 800, 4), np.uint8)
    layer[:, :, 3] = (ink * 255).astype(np.uint8)
    white = np.full((800, 800, 4), 255, np.uint8)
    composite = white.copy()
    composite[:, :, :3] = dark_on_white(ink)[:, :, None]
    return {"background": white, "layers": [layer], "composite": composite}


def marker(digit, rng):
    """A thick felt marker on white paper: strokes 12% to 17% of the digit's height, where
    MNIST's pen has a median of 12% (and a 98th percentile of 20%)."""
    height = int(rng.integers(200, 300))
    radius = int(height * rng.uniform(0.06, 0.085))
    return dark_on_white(place(pen(digit, height, radius), (400, 400), *random_spot(rng, (400, 400), height)))


def thin_pen(digit, rng):
    """A fine pen on white paper: strokes one or two pixels wide on a 300-pixel digit."""
    height = int(rng.integers(250, 350))
    ink = place(pen(digit, height, radius=int(rng.integers(0, 2))), (400, 400), *random_spot(rng, (400, 400), height))
    return dark_on_white(ink)


def photo(digit, rng):
    """Ink on paper, photographed under uneven light with a phone, saved as JPEG."""
    shape = (480, 640)
    height = int(rng.integers(160, 300))
    ink = place(smooth(digit, height), shape, *random_spot(rng, shape, height, margin=20))
    # Light falls off across the page in a random direction, down to about half.
    rows, columns = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = rows / shape[0] * np.sin(angle) + columns / shape[1] * np.cos(angle)
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    light = 1.0 - rng.uniform(0.3, 0.5) * ramp
    paper = rng.uniform(190, 235) * light
    ink_level = rng.uniform(30, 80)
    gray = paper - ink * (paper - ink_level * light)
    gray = cv2.GaussianBlur(gray, (3, 3), 0.8) + rng.normal(0, 4, shape)
    tint = np.array([1.0, 0.97, 0.9])  # Warm indoor light.
    rgb = (gray[:, :, None] * tint).clip(0, 255).astype(np.uint8)
    quality = int(rng.integers(50, 85))
    _, encoded = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1]


def sheet_on_table(digit, rng):
    """A photo of a sheet of paper lying on a dark table, the sheet filling half the frame."""
    shape = (480, 640)
    sheet_height, sheet_width = int(rng.integers(260, 380)), int(rng.integers(220, 340))
    top, left = int(rng.integers(20, shape[0] - sheet_height - 20)), int(rng.integers(20, shape[1] - sheet_width - 20))
    height = int(min(sheet_height, sheet_width) * rng.uniform(0.5, 0.8))
    ink_top = top + int(rng.integers(10, sheet_height - height - 10))
    ink_left = left + int(rng.integers(10, sheet_width - height - 10))
    ink = place(smooth(digit, height), shape, ink_top, ink_left)
    table = cv2.GaussianBlur(rng.normal(rng.uniform(40, 90), 12, shape), (0, 0), 3)
    gray = table.copy()
    gray[top : top + sheet_height, left : left + sheet_width] = rng.uniform(190, 235)
    gray = gray * (1 - ink) + rng.uniform(30, 70) * ink
    gray = cv2.GaussianBlur(gray, (3, 3), 0.8) + rng.normal(0, 4, shape)
    _, encoded = cv2.imencode(".jpg", gray.clip(0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 75])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)


def small_corner(digit, rng):
    """A small digit, 30 to 50 pixels, near a corner of a 400x400 page."""
    height = int(rng.integers(30, 50))
    top = int(rng.integers(5, 40)) if rng.random() < 0.5 else 400 - height - int(rng.integers(5, 40))
    left = int(rng.integers(5, 40)) if rng.random() < 0.5 else 400 - height - int(rng.integers(5, 40))
    return dark_on_white(place(smooth(digit, height), (400, 400), top, left))


def white_on_black(digit, rng):
    """Chalk on a blackboard: light strokes on a dark background."""
    height = int(rng.integers(160, 260))
    ink = place(smooth(digit, height), (300, 300), *random_spot(rng, (300, 300), height))
    board, chalk = rng.uniform(10, 50), rng.uniform(200, 250)
    return (board + ink * (chalk - board)).astype(np.uint8)


def rotated(digit, rng):
    """Written on a page held at an angle: rotated by up to 15 degrees either way."""
    ink = place(smooth(digit, 200), (300, 300), 50, 50)
    turn = cv2.getRotationMatrix2D((150, 150), rng.uniform(-15, 15), 1.0)
    return dark_on_white(cv2.warpAffine(ink, turn, (300, 300)))


STYLES = {
    "sketchpad canvas 800x800": sketchpad,
    "thick marker": marker,
    "thin pen": thin_pen,
    "paper photo, uneven light, JPEG": photo,
    "sheet of paper on a dark table": sheet_on_table,
    "small digit in a corner": small_corner,
    "white on black": white_on_black,
    "rotated up to 15 degrees": rotated,
}


def sklearn_digits():
    """scikit-learn's 1,797 handwritten digits (8x8, 0..16), as 8-bit images."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images * (255 / 16)).round().astype(np.uint8)
    return list(images), digits.target


def _render(job):
    """One digit drawn in one style (None: as it is), through the seed's preprocessing and
    ours: two (28, 28) inputs, ours None when it found no digit."""
    style, digit, seed = job
    image = digit if style is None else STYLES[style](digit, np.random.default_rng(seed))
    try:
        ours = preprocess(image)
    except NoDigitError:
        ours = None
    return seed_preprocess(image), ours


def robustness(model_names, count, seed):
    _, (test_images, test_labels) = load_mnist()
    chosen = np.sort(np.random.default_rng(seed).choice(len(test_labels), count, replace=False))
    labels = test_labels[chosen]
    digit_images, digit_labels = sklearn_digits()
    rows = {"MNIST test images as they are": None, **{name: name for name in STYLES}}
    inputs = {}
    # Drawing is the slow part: on every core, each digit from a generator of its own. Forked
    # before any model is loaded, so the workers never touch TensorFlow.
    with multiprocessing.get_context("fork").Pool() as pool:
        for number, (name, style) in enumerate(rows.items()):
            started = time.perf_counter()
            jobs = [(style, test_images[i], (seed, number, int(i))) for i in chosen]
            inputs[name] = (pool.map(_render, jobs, chunksize=50), labels)
            print(f"<!-- drew and preprocessed {name} in {time.perf_counter() - started:.1f} s -->", flush=True)
        jobs = [(None, image, 0) for image in digit_images]
        inputs[f"scikit-learn digits (8x8, all {len(digit_labels)})"] = (pool.map(_render, jobs, chunksize=50), digit_labels)

    recognizers = {name: load_recognizer(name) for name in model_names}
    print(f"\n{count} MNIST test digits per style (seed {seed}); accuracy through predict\n")
    print("| style | " + " | ".join(f"{name} seed | {name} ours" for name in recognizers) + " |")
    print("|" + " --- |" * (1 + 2 * len(recognizers)))
    for name, (pairs, truth) in inputs.items():
        cells = []
        for recognizer in recognizers.values():
            for which in (0, 1):
                # To the hundredth: the goals are 99% and 97%, and 98.96% is not 99%.
                cells.append(f"{accuracy(recognizer, [pair[which] for pair in pairs], truth):.2%}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def accuracy(recognizer, inputs, labels):
    """Share of the (28, 28) inputs read right; None (no digit found) counts as wrong."""
    found = [i for i, x in enumerate(inputs) if x is not None]
    if not found:
        return 0.0
    read = recognizer.probabilities(np.stack([inputs[i] for i in found])).argmax(axis=1)
    return float(np.sum(read == np.asarray(labels)[found])) / len(labels)


def edit_distance(a, b):
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def numbers(model_names, count, seed):
    """Numbers of 2 to 6 test digits (MNIST's, and UNIPEN's test writers' when
    `DIGITREC_UNIPEN` is set), spaced, tight or with one pair touching, slanted, as written or
    redrawn with another pen, half on a paper photo and half on a wide sketchpad, read whole;
    spaced numbers on ruled and on grid paper, as on forms; and the time for six digits on a
    1600x400 sketchpad."""
    from digitrec.data import load_unipen, scale, unipen_path

    _, mnist_test = load_mnist()
    sources = {"MNIST test": mnist_test}
    if unipen_path():
        sources["UNIPEN test"] = load_unipen("test")
    rng = np.random.default_rng(seed)
    recognizers = {name: load_recognizer(name) for name in model_names}
    print(f"{count} numbers of 2 to 6 test digits per row (seed {seed}), read with read_number")
    for source, (images, labels) in sources.items():
        single = ", ".join(f"{name} {np.mean(r.probabilities(scale(images)).argmax(1) == labels):.2%}" for name, r in recognizers.items())
        print(f"single {source} digits, 28x28 as given: {single}")
    print("\n| digits | gaps | pen | " + " | ".join(f"{n}: whole number right | {n}: digits right" for n in recognizers) + " |")
    print("|" + " --- |" * (3 + 2 * len(recognizers)))
    for source, (images, labels) in sources.items():
        for band in ("spaced", "tight", "one pair touching"):
            for pen_name in ("as written", "another pen"):
                inputs = []
                while len(inputs) < count:
                    composed = _number(images, labels, rng, band, pen_name == "another pen")
                    if composed is not None:
                        text, page = composed
                        inputs.append((text, _on_paper(page, rng) if len(inputs) % 2 else _on_sketchpad(page)))
                cells = [cell for recognizer in recognizers.values() for cell in _read_numbers(recognizer, inputs)[:2]]
                print(f"| {source} | {band} | {pen_name} | " + " | ".join(cells) + " |", flush=True)
    print("\n| digits | paper (spaced, as written) | " + " | ".join(f"{n}: whole number right | {n}: digits right" for n in recognizers) + " |")
    print("|" + " --- |" * (2 + 2 * len(recognizers)))
    for source, (images, labels) in sources.items():
        for paper, on_paper in (("ruled, a line under the digits", _on_ruled_paper), ("printed grid, noisy", _on_grid_paper)):
            inputs = [(text, on_paper(page, rng)) for text, page in (_number(images, labels, rng, "spaced", False) for _ in range(count))]
            cells = [cell for recognizer in recognizers.values() for cell in _read_numbers(recognizer, inputs)[:2]]
            print(f"| {source} | {paper} | " + " | ".join(cells) + " |", flush=True)
    images, labels = mnist_test
    inputs = []
    while len(inputs) < count:
        text, page = _number(images, labels, rng, "spaced", False, digits=6)
        factor = 0.9 * min(1600 / page.shape[1], 400 / page.shape[0])  # As large as the canvas allows.
        inputs.append((text, _on_sketchpad(cv2.resize(page, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR))))
    times = ", ".join(f"{name} {_read_numbers(r, inputs)[2]} ms" for name, r in recognizers.items())
    print(f"\nmedian time for {count} numbers of 6 spaced MNIST test digits on a 1600x400 sketchpad: {times}")


# Gaps between the characters of a code, as shares of a capital's height: as people print
# them, and close, where some nearly touch.
TEXT_GAPS = {"spaced": (0.15, 0.3), "close": (0.0, 0.08)}
CAPITAL = 150  # A capital's height on the page, in pixels.


def text(count, seed):
    """Codes of 3 to 5 characters (digits and letters) from UNIPEN's test writers, each
    drawn from the labels alike, spaced or close, read with `read_text` by the letters model."""
    from digitrec.data import letters_path, load_unipen, unipen_path
    from digitrec.labels import ALPHANUMERIC
    from digitrec.letters import unipen_letters

    letters, letter_labels = unipen_letters("test", letters_path(digits=unipen_path()))
    digits, digit_labels = load_unipen("test")
    images, labels = np.concatenate([digits, letters]), np.concatenate([digit_labels, letter_labels])
    recognizer = load_recognizer("alnum")
    rng = np.random.default_rng(seed)
    print(f"{count} codes of 3 to 5 characters from UNIPEN's test writers per row (seed {seed}), read with read_text by alnum\n")
    print("| gaps (share of a capital's height) | codes read exactly | characters found | characters right | median ms |")
    print("| --- | --- | --- | --- | --- |")
    for band, gaps in TEXT_GAPS.items():
        inputs = []
        for _ in range(count):
            code = "".join(rng.choice(list(ALPHANUMERIC), rng.integers(3, 6)))
            chosen = [images[rng.choice(np.flatnonzero(labels == ALPHANUMERIC.index(c)))] for c in code]
            inputs.append((code, compose_text(chosen, code, rng.uniform(*gaps, len(code)) * CAPITAL, tall=CAPITAL)))
        exact, right, milliseconds, found = _read_all(lambda image: recognizer.read_text(image).text, inputs)
        print(f"| {band} {gaps[0]:.2f}-{gaps[1]:.2f} | {exact} | {found} | {right} | {milliseconds} |", flush=True)


def _number(images, labels, rng, band, another_pen, digits=None):
    """(text, page) of a number composed from `images` for a row of the table; None when
    its touching pair cannot touch."""
    chosen = rng.choice(len(labels), digits or rng.integers(2, 7), replace=False)
    slant = rng.uniform(-0.2, 0.2)
    radius = rng.uniform(0.03, 0.09) if another_pen else None
    gaps = GAP_BANDS.get(band, GAP_BANDS["spaced"])
    composed = compose_number(images[chosen], rng, band == "one pair touching", gaps, slant, radius)
    return None if composed is None else ("".join(map(str, labels[chosen])), composed[0])


def _read_numbers(recognizer, inputs):
    """`_read_all` for numbers read with `recognizer`, their digits alone."""
    return _read_all(lambda image: "".join(filter(str.isdigit, recognizer.read_number(image).text)), inputs)


def _read_all(read, inputs):
    """Table cells for the (text, image) `inputs` read by `read(image)` (a str; none when it
    raises NoDigitError): the share read exactly, the share of characters right (less the
    edits between the text read and the true one), the median milliseconds, and the share read
    with as many characters as written."""
    exact, found, wrong, total, times = 0, 0, 0, 0, []
    for text, image in inputs:
        started = time.perf_counter()
        try:
            answer = read(image)
        except NoDigitError:
            answer = ""
        times.append(time.perf_counter() - started)
        exact += answer == text
        found += len(answer) == len(text)
        wrong += min(len(text), edit_distance(answer, text))
        total += len(text)
    return [f"{exact / len(inputs):.1%}", f"{1 - wrong / total:.1%}", f"{np.median(times) * 1000:.0f}", f"{found / len(inputs):.1%}"]


def _on_paper(page, rng):
    """Dark ink on slightly gray paper with sensor noise, as an RGB photo."""
    paper = 235 - page.astype(np.float32) * (200 / 255) + rng.normal(0, 4, page.shape)
    return cv2.cvtColor(paper.clip(0, 255).astype(np.uint8), cv2.COLOR_GRAY2RGB)


def _on_ruled_paper(page, rng):
    """The number written on ruled paper, as on a form: gray lines across the page 50 to 80
    pixels apart, and one, darker, through the digits' feet; an RGB photo."""
    height, width = page.shape
    paper = np.full(page.shape, 240.0, np.float32)
    _, top, _, tall = cv2.boundingRect(page)
    bottom = top + tall
    for row in range((bottom + int(rng.integers(-4, 3))) % 40, height, int(rng.integers(50, 80))):
        cv2.line(paper, (0, row), (width, row), float(rng.integers(120, 190)), int(rng.integers(1, 3)))
    under = bottom - int(rng.integers(0, 5))
    cv2.line(paper, (0, under), (width, under), 130.0, 2)
    return _inked(paper, page)


def _on_grid_paper(page, rng):
    """The number written on paper printed with a faint grid (8 to 15 pixels), with noise."""
    paper = np.full(page.shape, 240.0, np.float32)
    step = int(rng.integers(8, 16))
    paper[::step, :] -= 35
    paper[:, ::step] -= 35
    return _inked(paper + rng.normal(0, 6, page.shape).astype(np.float32), page)


def _inked(paper, page):
    """Dark ink (level 30) laid on a gray `paper` where `page` (white ink on black) has it."""
    ink = page.astype(np.float32) / 255
    return cv2.cvtColor((paper * (1 - ink) + 30 * ink).clip(0, 255).astype(np.uint8), cv2.COLOR_GRAY2RGB)


def _on_sketchpad(page):
    """The page's strokes on a wide transparent sketchpad layer, as Gradio sends it."""
    height, width = page.shape
    layer = np.zeros((max(400, height), max(1600, width), 4), np.uint8)
    layer[:height, :width, 3] = page
    background = np.full_like(layer, 255)
    composite = background.copy()
    composite[:, :, :3] = 255 - layer[:, :, 3:]
    return {"background": background, "layers": [layer], "composite": composite}


def timings(function, repeats):
    """Median and 95th percentile of `function`'s wall time, in milliseconds."""
    function()  # Warm caches and lazy initialization first.
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return np.median(times) * 1000, np.percentile(times, 95) * 1000


def seed_predict(network, image):
    """The seed's single prediction: its preprocessing, then Keras's `model.predict`."""
    return network.predict(seed_preprocess(image)[None], verbose=0)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answer(client, path, model=None):
    """The app's answer for an image file, through its `predict` API endpoint."""
    from gradio_client import handle_file

    arguments = (handle_file(str(path)),) if model is None else (handle_file(str(path)), model)
    return client.predict(*arguments, api_name="/predict")


@contextlib.contextmanager
def serving(*arguments, auth=None, timeout=120):
    """Run `python -m digitrec serve ARGUMENTS` on a free port of 127.0.0.1; once the app has
    answered a first image, yield the server process, a connected `gradio_client.Client`
    (logged in with `auth`, a (user, password) pair) and the file collecting its stderr."""
    from gradio_client import Client

    port = free_port()
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "digitrec", "serve", "--port", str(port), *arguments],
            stdout=subprocess.DEVNULL, stderr=log, text=True,
        )
        try:
            while True:
                try:
                    client = Client(f"http://127.0.0.1:{port}/", auth=auth, verbose=False)
                    answer(client, EXAMPLES_DIR / "digit_7_test_0.png")
                    break
                except Exception:
                    if server.poll() is not None:
                        raise RuntimeError(f"the app stopped: {Path(log.name).read_text()[-2000:]}")
                    if time.perf_counter() - started > timeout:
                        raise RuntimeError(f"the app did not answer within {timeout} s")
                    time.sleep(0.1)
            yield server, client, Path(log.name)
        finally:
            server.terminate()
            server.wait()


def memory_mib(pid, field="VmRSS"):
    """A process's resident memory (VmRSS) or its peak (VmHWM), in MiB; Linux only."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith(field))
    return int(line.split()[1]) / 1024


def cold_start(model):
    """Seconds from starting `python -m digitrec serve` to its first answer through the API,
    and the server's peak memory in MiB."""
    started = time.perf_counter()
    with serving("--model", model) as (server, _, _):
        seconds = time.perf_counter() - started
        peak = memory_mib(server.pid, "VmHWM")
    return seconds, peak


def load(users, requests):
    """Many people at once: `users` threads send `requests` uploads in all to one server of
    every shipped model, alternating between models, first through the app's Gradio API (a
    gradio_client each), then through the JSON API (an HTTP connection each)."""
    import httpx

    examples = sorted(EXAMPLES_DIR.glob("digit_*.png"))
    names = models.shipped()
    jobs = [(examples[job % len(examples)], names[job // len(examples) % len(names)]) for job in range(requests)]
    contents = {path: path.read_bytes() for path in examples}

    def through_json(connection, path, model):
        response = connection.post("/api/v1/predict", params={"model": model}, files={"image": (path.name, contents[path], "image/png")})
        response.raise_for_status()
        return str(response.json()["digit"])

    with serving() as (server, client, _):
        gradio_users = [client] + [type(client)(client.src, verbose=False) for _ in range(users - 1)]
        json_users = [httpx.Client(base_url=client.src, timeout=60) for _ in range(users)]
        rows = {
            "Gradio API (`/predict`, gradio_client)": crowd(server, gradio_users, jobs, lambda user, path, model: answer(user, path, model)[1]),
            "JSON API (`POST /api/v1/predict`, httpx)": crowd(server, json_users, jobs, through_json),
        }
    print(f"{users} users, {requests} uploads of the {len(examples)} example digits per API, models {', '.join(names)}, one server, {os.cpu_count()} cores\n")
    print("| API | requests | errors | wrong answers | throughput | p50 | p95 | p99 | server memory before / after |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, row in rows.items():
        p50, p95, p99 = np.percentile(np.array(row["latencies"]) * 1000, [50, 95, 99])
        print(
            f"| {name} | {requests} | {len(row['errors'])} | {len(row['wrong'])} | {row['throughput']:.1f} requests/s | "
            f"{p50:.0f} ms | {p95:.0f} ms | {p99:.0f} ms | {row['before']:.0f} / {row['after']:.0f} MiB (+{row['after'] - row['before']:.1f}) |"
        )
    gradio, plain = rows.values()
    print(f"\nthe JSON API answered {plain['throughput'] / gradio['throughput']:.1f}x the Gradio API's requests per second")
    for row in rows.values():
        for problem in (row["errors"] + row["wrong"])[:10]:
            print(problem)
    return not any(row["errors"] or row["wrong"] for row in rows.values())


def crowd(server, users, jobs, ask):
    """Each user, a thread, takes the next (path, model) job and `ask(user, path, model)`s the
    server for the digit's text; latencies, errors, wrong answers, throughput and the server's
    memory before and after."""
    for user in users:  # Each connection answers once before the clock starts.
        ask(user, *jobs[0])
    before = memory_mib(server.pid)
    latencies, wrong, errors = [], [], []
    queue = iter(jobs)
    lock = threading.Lock()

    def work(user):
        while True:
            with lock:
                job = next(queue, None)
            if job is None:
                return
            path, model = job
            started = time.perf_counter()
            try:
                text = ask(user, path, model)
            except Exception as error:
                errors.append(f"{path.name}: {error}")
                continue
            latencies.append(time.perf_counter() - started)
            if text != path.name.split("_")[1]:
                wrong.append(f"{path.name} ({model}): {text}")

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "latencies": latencies, "wrong": wrong, "errors": errors, "throughput": len(jobs) / seconds,
        "before": before, "after": memory_mib(server.pid),
    }


def speed(model_names, repeats, seed):
    import resource

    from PIL import Image

    _, (test_images, test_labels) = load_mnist()
    rng = np.random.default_rng(seed)
    canvas = sketchpad(test_images[0], rng)
    photo_file = tempfile.NamedTemporaryFile(suffix=".jpg", delete=False)
    large = cv2.resize(photo(test_images[1], rng), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(large).save(photo_file.name, quality=90)
    decode = lambda: np.asarray(Image.open(photo_file.name).convert("RGB"))
    inputs = {
        "800x800 sketchpad": (canvas, lambda: canvas["composite"]),
        "4000x3000 JPEG photo": (photo_file.name, decode),
    }

    print(f"preprocessing alone, one image of each of {repeats} MNIST test digits per style, milliseconds, {os.cpu_count()} cores\n")
    print("| style | median | 95th percentile |")
    print("| --- | --- | --- |")
    for name, style in STYLES.items():
        drawn = [style(test_images[i], np.random.default_rng((seed, i))) for i in range(repeats)]
        times = []
        for image in drawn:
            preprocess(image)  # Warm, then time a second run of the same image.
            started = time.perf_counter()
            preprocess(image)
            times.append((time.perf_counter() - started) * 1000)
        print(f"| {name} | {np.median(times):.2f} | {np.percentile(times, 95):.2f} |", flush=True)

    print(f"\nmedian / 95th percentile milliseconds over {repeats} runs, one process, {os.cpu_count()} cores\n")
    print("| model | input | preprocess | model | predict, end to end | seed's way (resize + model.predict) | faster by |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    recognizers = {name: load_recognizer(name) for name in model_names}
    for name, recognizer in recognizers.items():
        for label, (image, seed_input) in inputs.items():
            processed = preprocess(image)
            prep = timings(lambda: preprocess(image), repeats)
            model = timings(lambda: recognizer.probabilities(processed[None]), repeats)
            ours = timings(lambda: recognizer.predict(image), repeats)
            theirs = timings(lambda: seed_predict(recognizer.network, seed_input()), max(5, repeats // 5))
            cells = [f"{median:.2f} / {p95:.2f}" for median, p95 in (prep, model, ours, theirs)]
            print(f"| {name} | {label} | " + " | ".join(cells) + f" | {theirs[0] / ours[0]:.0f}x |", flush=True)
    os.unlink(photo_file.name)

    print("\n| model | predict_batch, 10,000 MNIST test images | app cold start to first answer | app peak memory |")
    print("| --- | --- | --- | --- |")
    for name, recognizer in recognizers.items():
        started = time.perf_counter()
        predictions = recognizer.predict_batch(test_images)
        seconds = time.perf_counter() - started
        right = np.mean([p.digit for p in predictions] == test_labels)
        start_seconds, server_peak = cold_start(name)
        print(
            f"| {name} | {len(test_images) / seconds:,.0f} images/s ({right:.2%} right) | "
            f"{start_seconds:.1f} s | {server_peak:.0f} MiB |",
            flush=True,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis benchmark's own peak memory, every model loaded: {peak:.0f} MiB")


def explanations(model_names, count):
    """The deletion test on the first `count` MNIST test digits, and the time of one explanation."""
    from digitrec.explaining import DELETED_SHARE, deletion_test

    (_, _), (test_images, _) = load_mnist()
    images = list(test_images[:count])
    share = f"{DELETED_SHARE:.0%}"
    print(f"\n{count} MNIST test digits: the answer's probability lost when {share} of the ink is erased\n")
    print(f"| model | {share} ranked highest by the map | {share} at random | ratio | explanation, median / 95th percentile ms |")
    print("| --- | --- | --- | --- | --- |")
    for name in model_names:
        recognizer = load_recognizer(name)
        ranked, random = deletion_test(recognizer, images)
        prediction = recognizer.predict(images[0])
        median, p95 = timings(lambda: recognizer.explain_prediction(prediction), 50)
        print(f"| {name} | {ranked.mean():.3f} | {random.mean():.3f} | {ranked.mean() / random.mean():.1f}x | {median:.1f} / {p95:.1f} |")


def writer_corrections(count=700, split="validation", seed=0):
    """Corrections as new writers would give them: writers of a UNIPEN split taken in a random
    order, half of each one's digits as corrections until there are `count`; the other half
    of the same writers' digits held out. Two (images, labels) pairs."""
    from digitrec.data import load_unipen, unipen_path

    images, labels = load_unipen(split)
    with np.load(unipen_path()) as arrays:
        writers = arrays["writer"][arrays["split"] == {"train": 0, "validation": 1}[split]]
    rng = np.random.default_rng(seed)
    corrections, held_out = [], []
    for writer in rng.permutation(np.unique(writers)):
        if len(corrections) >= count:
            break
        digits = rng.permutation(np.flatnonzero(writers == writer))
        corrections.extend(digits[: len(digits) // 2])
        held_out.extend(digits[len(digits) // 2 :])
    corrections, held_out = np.array(corrections[:count]), np.array(held_out)
    return (images[corrections], labels[corrections]), (images[held_out], labels[held_out])


def finetuning(model_name, count, split, seed):
    """Fine-tune on `count` corrections from new writers; measure on their other digits."""
    from digitrec.data import scale
    from digitrec.finetuning import FinetuneConfig, finetune

    corrections, (held_images, held_labels) = writer_corrections(count, split, seed)
    result = finetune(corrections, load_mnist(), FinetuneConfig(model=model_name, seed=seed))
    accuracy = lambda network: np.mean(np.argmax(network.predict(scale(held_images), verbose=0), axis=1) == held_labels)
    before, after = accuracy(models.load(model_name)), accuracy(result.network)
    mnist = result.card["figures"]["mnist_test"]
    print(f"\n{count} corrections from UNIPEN {split} writers; their other {len(held_labels)} digits held out\n")
    print("| model | those writers' other digits | MNIST test | gate | seconds |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| {model_name} | {before:.2%} -> {after:.2%} | {mnist['before']:.2%} -> {mnist['after']:.2%} | "
        f"{'accepted' if result.accepted else 'refused'} | {result.card['seconds']:.0f} |"
    )
    return before, after, result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m digitrec.bench", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    robust = commands.add_parser("robustness", help="accuracy on digits drawn, photographed and scanned")
    shipped = models.shipped()
    robust.add_argument("--models", nargs="+", default=shipped, help="models to measure (default: %(default)s)")
    robust.add_argument("--count", type=int, default=10000, help="MNIST test digits per style (default: all %(default)s)")
    robust.add_argument("--seed", type=int, default=0, help="picks the digits and their rendering (default: %(default)s)")
    writers = commands.add_parser("writers", help="accuracy and refusals on digit collections by other writers")
    writers.add_argument("--models", nargs="+", default=shipped, help="models to measure (default: %(default)s)")
    writers.add_argument("--seed", type=int, default=0, help="picks the images shown inverted (default: %(default)s)")
    writers.add_argument("--out", default="out/writers", help="where the failure montages go (default: %(default)s)")
    writers.add_argument("--unipen", metavar="NPZ", help="UNIPEN unipen_digits.npz (default: $DIGITREC_UNIPEN)")
    fast = commands.add_parser("speed", help="latency, throughput, start-up time and memory")
    fast.add_argument("--models", nargs="+", default=shipped, help="models to measure (default: %(default)s)")
    fast.add_argument("--repeats", type=int, default=100, help="timed runs per figure (default: %(default)s)")
    fast.add_argument("--seed", type=int, default=0, help="picks the rendering of the inputs (default: %(default)s)")
    number = commands.add_parser("numbers", help="whole numbers read from composed MNIST digits")
    number.add_argument("--models", nargs="+", default=shipped[:1], help="models to measure (default: %(default)s)")
    number.add_argument("--count", type=int, default=500, help="numbers per row (default: %(default)s)")
    number.add_argument("--seed", type=int, default=0, help="picks the digits and their layout (default: %(default)s)")
    code = commands.add_parser("text", help="codes of letters and digits read with the letters model")
    code.add_argument("--count", type=int, default=200, help="codes per row (default: %(default)s)")
    code.add_argument("--seed", type=int, default=0, help="picks the characters and their gaps (default: %(default)s)")
    crowd_parser = commands.add_parser("load", help="many users at once, through the Gradio API and the JSON API")
    crowd_parser.add_argument("--users", type=int, default=8, help="concurrent users (default: %(default)s)")
    crowd_parser.add_argument("--requests", type=int, default=2000, help="uploads in all, per API (default: %(default)s)")
    explain = commands.add_parser("explain", help="whether explanations are faithful, and their speed")
    explain.add_argument("--models", nargs="+", default=shipped, help="models to measure (default: %(default)s)")
    explain.add_argument("--count", type=int, default=200, help="MNIST test digits (default: %(default)s)")
    tune = commands.add_parser("finetune", help="fine-tuning on corrections from writers the model never trained on")
    tune.add_argument("--model", default="mlp", help="model to start from (default: %(default)s)")
    tune.add_argument("--count", type=int, default=700, help="corrections (default: %(default)s)")
    tune.add_argument("--split", default="validation", choices=["train", "validation"], help="UNIPEN split the writers come from; never test (default: %(default)s)")
    tune.add_argument("--seed", type=int, default=0, help="picks the writers, held-out corrections and replay (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.command == "robustness":
        robustness(args.models, args.count, args.seed)
    elif args.command == "writers":
        from digitrec import other_writers

        other_writers.bench(args.models, args.seed, args.out, args.unipen)
    elif args.command == "speed":
        speed(args.models, args.repeats, args.seed)
    elif args.command == "numbers":
        numbers(args.models, args.count, args.seed)
    elif args.command == "text":
        text(args.count, args.seed)
    elif args.command == "explain":
        explanations(args.models, args.count)
    elif args.command == "finetune":
        finetuning(args.model, args.count, args.split, args.seed)
    else:
        return 0 if load(args.users, args.requests) else 1


if __name__ == "__main__":
    sys.exit(main())
