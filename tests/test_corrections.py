"""The corrections database, on SQLite and on PostgreSQL: rows stored once, whole, and read back."""

import concurrent.futures
import datetime
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import sqlalchemy
from PIL import Image

from digitrec import cli
from digitrec.bench import free_port
from digitrec.corrections import CorrectionStore, png_of
from digitrec.corrections.store import MAX_PNG_BYTES
from digitrec.paths import EXAMPLES_DIR


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'corrections.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    # Each test starts from an empty database, as a new user's would be.
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP TABLE IF EXISTS corrections, alembic_version"))
    engine.dispose()
    return url


@pytest.fixture
def store(url):
    store = CorrectionStore(url)
    yield store
    store.close()


def digit_png(name="digit_3_test_30.png"):
    return (EXAMPLES_DIR / name).read_bytes()


def test_a_correction_is_stored_whole(store, mlp):
    upload = digit_png()
    prediction = mlp.predict(upload)
    saved = store.add(upload, 8, prediction, "mlp", "2026-12-02")
    assert saved.created
    (row,) = store.all()
    assert row.id == saved.id and row.label == 8 and row.answer == prediction.digit == 3
    assert row.confidence == pytest.approx(prediction.confidence)
    assert (row.model_name, row.model_version) == ("mlp", "2026-12-02")
    assert row.sha256 == hashlib.sha256(row.image_png).hexdigest()
    # The stored PNG holds the upload's pixels; the 28x28 is the model's input in 8 bits.
    with Image.open(io.BytesIO(row.image_png)) as stored, Image.open(io.BytesIO(upload)) as original:
        assert np.array_equal(np.asarray(stored.convert("L")), np.asarray(original.convert("L")))
    assert np.abs(row.image28 / 255 - prediction.processed).max() <= 0.5 / 255 + 1e-6
    assert row.created_at.utcoffset() in (None, datetime.timedelta(0))
    assert abs(row.created_at.replace(tzinfo=datetime.timezone.utc) - datetime.datetime.now(datetime.timezone.utc)) < datetime.timedelta(minutes=5)


def test_the_same_image_and_label_is_stored_once(store, mlp):
    upload = digit_png()
    prediction = mlp.predict(upload)
    first = store.add(upload, 8, prediction, "mlp", "v")
    again = store.add(upload, 8, prediction, "mlp", "v")
    other_label = store.add(upload, 5, prediction, "mlp", "v")
    assert (again.id, again.created) == (first.id, False)
    assert other_label.created and other_label.id != first.id
    assert store.count() == 2


@pytest.mark.parametrize("label", [10, -1, "7", 2.0, True, None])
def test_a_label_that_is_not_a_digit_is_refused(store, mlp, label):
    with pytest.raises(ValueError, match="digit from 0 to 9"):
        store.add(digit_png(), label, mlp.predict(digit_png()), "mlp", "v")
    assert store.count() == 0


def test_concurrent_writers_each_get_their_own_row(store, mlp):
    prediction = mlp.predict(digit_png())
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 40), dtype=np.uint8) for _ in range(40)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        saved = list(pool.map(lambda image: store.add(image, 1, prediction, "mlp", "v"), images + images))
    assert len({s.id for s in saved}) == 40 and store.count() == 40
    assert sum(s.created for s in saved) == 40


def test_export_and_stats(store, mlp, tmp_path):
    for name, label in [("digit_3_test_30.png", 8), ("digit_7_test_0.png", 1), ("digit_4_test_4.png", 9)]:
        store.add(digit_png(name), label, mlp.predict(digit_png(name)), "mlp", "v")
    out = tmp_path / "corrections.npz"
    assert store.export(out) == 3
    with np.load(out) as exported:
        assert exported["images"].shape == (3, 28, 28) and exported["images"].dtype == np.uint8
        assert exported["labels"].dtype == np.int64 and exported["labels"].tolist() == [8, 1, 9]
        assert exported["images"].max() == 255
    stats = store.stats()
    assert stats["total"] == 3 and stats["per_model"] == {"mlp": 3}
    assert stats["per_label"][8] == stats["per_label"][1] == stats["per_label"][9] == 1
    assert stats["confusion"][3][8] == stats["confusion"][7][1] == stats["confusion"][4][9] == 1


def test_the_schema_is_migrated_once_and_reopened(url, mlp):
    first = CorrectionStore(url)
    first.add(digit_png(), 8, mlp.predict(digit_png()), "mlp", "v")
    first.close()
    again = CorrectionStore(url)  # Opening runs the migrations again: nothing to do.
    assert again.count() == 1
    with again.engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    again.close()


def test_large_uploads_are_stored_within_the_cap():
    noise = np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
    png = png_of(noise)
    assert len(png) <= MAX_PNG_BYTES
    with Image.open(io.BytesIO(png)) as stored:
        assert max(stored.size) < 2000


def test_a_sketchpad_drawing_is_stored_as_its_strokes():
    layer = np.zeros((100, 100, 4), np.uint8)
    layer[20:80, 45:55, 3] = 255
    with Image.open(io.BytesIO(png_of({"background": None, "layers": [layer], "composite": None}))) as stored:
        pixels = np.asarray(stored)
    assert pixels[50, 50] == 0 and pixels[5, 5] == 255  # Black strokes on white.


def test_cli_stats_and_export(url, mlp, tmp_path, capsys):
    store = CorrectionStore(url)
    store.add(digit_png(), 8, mlp.predict(digit_png()), "mlp", "v")
    store.close()
    assert cli.main(["corrections", "stats", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confusion"][3][8] == 1
    assert cli.main(["corrections", "stats", "--db", url]) == 0
    assert "1 corrections in" in capsys.readouterr().out
    out = tmp_path / "out.npz"
    assert cli.main(["corrections", "export", str(out), "--db", url]) == 0
    assert np.load(out)["labels"].tolist() == [8]


def test_cli_says_when_the_database_cannot_be_opened(capsys):
    assert cli.main(["corrections", "stats", "--db", "nosuchdriver://x"]) == 2
    assert "cannot open the corrections database" in capsys.readouterr().err


def start_server(port, url, log):
    """`python -m digitrec serve` on the dense model, its corrections in `url`."""
    env = {**os.environ, "DIGITREC_DB": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "digitrec", "serve", "--model", "mlp", "--port", str(port)],
        stdout=log, stderr=log, env=env,
    )
    deadline = time.monotonic() + 180
    while True:
        assert server.poll() is None, f"the server stopped: {Path(log.name).read_text()[-2000:]}"
        assert time.monotonic() < deadline, "the server did not start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def test_a_killed_server_loses_no_acknowledged_correction(url, test_set, tmp_path):
    """SIGKILL while 8 clients post corrections: every correction acknowledged before the
    kill is in the export afterwards, no row is half-written, and the server starts again."""
    images, labels = test_set
    uploads = []
    for index in range(400):
        buffer = io.BytesIO()
        Image.fromarray(255 - images[index]).save(buffer, format="PNG")
        uploads.append((buffer.getvalue(), int((labels[index] + 1) % 10)))
    port = free_port()
    acknowledged, lock, stop = {}, threading.Lock(), threading.Event()

    def client(user):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for index in range(user, len(uploads), 8):
                if stop.is_set():
                    return
                png, label = uploads[index]
                try:
                    response = http.post("/api/v1/corrections", files=[("image", (f"{index}.png", png, "image/png"))], data={"label": str(label)})
                except httpx.HTTPError:
                    return  # The server is gone.
                assert response.status_code == 201, response.text
                with lock:
                    acknowledged[response.json()["id"]] = label

    with open(tmp_path / "server.log", "w+") as log:
        server = start_server(port, url, log)
        threads = [threading.Thread(target=client, args=(user,)) for user in range(8)]
        for thread in threads:
            thread.start()
        while len(acknowledged) < 60 and any(thread.is_alive() for thread in threads):
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)
        server.wait()
        stop.set()
        for thread in threads:
            thread.join()
        assert 60 <= len(acknowledged) < len(uploads), "the kill should land while clients are posting"

        restarted = start_server(port, url, log)
        try:
            store = CorrectionStore(url)
            rows = {row.id: row for row in store.all()}
            store.close()
            for row_id, label in acknowledged.items():
                assert rows[row_id].label == label
            for row in rows.values():  # Whole rows only: the PNG reads, the 28x28 is all there.
                with Image.open(io.BytesIO(row.image_png)) as stored:
                    assert stored.size == (28, 28)
                assert len(row.processed) == 784
            # And it takes corrections again on the same database.
            png, label = uploads[-1]
            response = httpx.post(f"http://127.0.0.1:{port}/api/v1/corrections", files=[("image", ("last.png", png, "image/png"))], data={"label": str(label)}, timeout=30)
            assert response.status_code in (200, 201), response.text
        finally:
            restarted.terminate()
            restarted.wait()
