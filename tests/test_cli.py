"""The command line, run as a user runs it: a separate process on real files."""

import json
import subprocess
import sys

import pytest
from gradio_client import Client

from digitrec.bench import answer, serving
from digitrec.paths import EXAMPLES_DIR, PROJECT_ROOT


def run(*arguments, check=True):
    completed = subprocess.run(
        [sys.executable, "-m", "digitrec", *arguments],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600,
    )
    if check:
        assert completed.returncode == 0, completed.stderr[-2000:]
    return completed


def test_predict_json_on_image_files(tmp_path):
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image")
    paths = sorted(EXAMPLES_DIR.glob("digit_*.png"))
    completed = run("predict", "--model", "mlp", "--json", *map(str, paths), str(text_file), check=False)
    assert completed.returncode == 1  # One file could not be read.
    records = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len(records) == len(paths) + 1
    for path, record in zip(paths, records):
        assert record["file"] == str(path)
        assert record["digit"] == int(path.name.split("_")[1])
        assert len(record["probabilities"]) == 10 and 0.5 < record["confidence"] <= 1
    assert records[-1]["file"] == str(text_file)
    assert "is not a readable image" in records[-1]["error"]


def test_predict_plain_text():
    path = EXAMPLES_DIR / "digit_7_test_0.png"
    completed = run("predict", str(path))
    assert completed.stdout.startswith(f"{path}: 7 (")


def test_evaluate_json_and_plots(tmp_path):
    completed = run("evaluate", "--model", "mlp", "--json", "--plots", str(tmp_path))
    summary = json.loads(completed.stdout)
    assert summary["model"] == "mlp" and summary["images"] == 10000
    assert summary["accuracy"] >= 0.978
    written = sorted(path.name for path in tmp_path.glob("*.png"))
    assert written == ["confusion_matrix.png", "misclassified.png", "samples.png", "training_curves.png"]


def test_evaluate_through_preprocessing():
    completed = run("evaluate", "--model", "mlp", "--preprocess")
    assert completed.stdout.startswith("model mlp, images through the app's preprocessing")
    accuracy = float(completed.stdout.splitlines()[1].split()[1].rstrip("%")) / 100
    assert accuracy >= 0.978


def test_train_one_epoch(tmp_path):
    out = tmp_path / "quick.keras"
    completed = run("train", "--model", "mlp", "--epochs", "1", "--teacher-share", "0.5", "--out", str(out))
    assert out.is_file() and out.with_suffix(".json").is_file()
    assert "test accuracy" in completed.stdout
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["epochs_run"] == 1 and card["test_accuracy"] > 0.9
    assert card["config"]["teacher_share"] == 0.5 and card["teacher"]["file"] == "cnn.keras"


def test_missing_model_is_a_clear_error():
    completed = run("evaluate", "--model", "no/such/model.keras", check=False)
    assert completed.returncode == 2
    assert "error: Model file no/such/model.keras does not exist" in completed.stderr


def test_help_shows_defaults():
    help_text = " ".join(run("train", "--help").stdout.split())  # argparse wraps lines.
    assert "(default: 40 for mlp, 36 for cnn)" in help_text and "(default: 128)" in help_text
    assert "(default: 2 for mlp, 3 for cnn)" in help_text  # --unipen-repeats
    assert "(default: 0.8 for mlp, 0.0 for cnn)" in help_text  # --teacher-share


def test_serve_warns_when_reachable_without_a_login():
    with serving("--model", "mlp", "--host", "0.0.0.0") as (_, client, log):
        assert answer(client, EXAMPLES_DIR / "digit_3_test_30.png")[1] == "3"
        assert "has no login" in log.read_text()


def test_serve_with_a_login_refuses_visitors_without_it():
    with serving("--model", "mlp", "--share", "--auth", "ada:secret", auth=("ada", "secret")) as (_, client, log):
        assert answer(client, EXAMPLES_DIR / "digit_3_test_30.png")[1] == "3"
        assert "has no login" not in log.read_text()
        with pytest.raises(Exception, match="(?i)login|auth|401|403"):
            Client(client.src, verbose=False)


def test_serve_refuses_a_malformed_login():
    completed = run("serve", "--auth", "nopassword", check=False)
    assert completed.returncode == 2 and "--auth takes USER:PASSWORD" in completed.stderr
