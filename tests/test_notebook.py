"""main.ipynb, run from top to bottom as a user would, with one training epoch (and the
letters model's on 3,000 images)."""

import os
import re

import nbformat
from nbclient import NotebookClient

from digitrec.paths import PROJECT_ROOT


def outputs_of(notebook, kind):
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if kind == "text" and output.get("name") == "stdout":
                yield output["text"]
            elif kind == "image" and "image/png" in output.get("data", {}):
                yield output["data"]["image/png"]


def test_notebook_runs_top_to_bottom(monkeypatch, unipen):
    monkeypatch.setenv("DIGITREC_UNIPEN", str(unipen))  # The letters section trains on UNIPEN.
    monkeypatch.setenv("DIGITREC_EPOCHS", "1")
    monkeypatch.setenv("DIGITREC_LETTER_IMAGES", "3000")  # The letters model's brief run, briefer.
    monkeypatch.setenv("DIGITREC_CLOSE_APP", "1")
    notebook = nbformat.read(PROJECT_ROOT / "main.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(PROJECT_ROOT)}},
    )
    client.execute()  # Raises CellExecutionError, with the cell and traceback, on any failure.

    text = "".join(outputs_of(notebook, "text"))
    assert "training images (60000, 28, 28) uint8" in text
    assert "epochs (best 1)" in text
    assert "precision  recall" in text
    assert "predicted digit: 7" in text
    assert "blank page: No digit found" in text
    assert "read: 2026" in text
    assert "of ink ranked highest costs the answer" in text
    assert "scikit-learn digits, 64x64" in text
    assert "letters model: 3,000 training images, 1 epoch(s)" in text
    assert re.search(r"shipped alnum +unipen_letters +14,504  classes_62 \d+\.\d\d%  balanced_47 \d+\.\d\d%", text)
    assert "written: A7bE3  read: " in text
    assert "Running on local URL" in text or "running locally" in text
    # The sample grid, the curves, the confusion matrix, the mistakes, the samples, the example.
    assert len(list(outputs_of(notebook, "image"))) >= 6
    assert os.environ["DIGITREC_EPOCHS"] == "1"
