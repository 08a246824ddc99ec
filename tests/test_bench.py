"""The robustness benchmark runs end to end: every style drawn, preprocessed and read."""

import re

import pytest

from digitrec import bench


def test_robustness_table_has_every_style_read(capsys):
    bench.robustness(["mlp"], count=40, seed=0)
    lines = [line for line in capsys.readouterr().out.splitlines() if re.fullmatch(r"\|.*\| [\d.]+% \|", line)]
    rows = {
        cells[0]: [float(cell.rstrip("%")) for cell in cells[1:]]
        for cells in (line.strip("| ").split(" | ") for line in lines)
    }
    assert set(bench.STYLES) < set(rows) and "MNIST test images as they are" in rows
    # Ours reads MNIST-like digits in every style; the seed's pipeline inverts MNIST's own.
    assert all(ours >= 85 for _, ours in rows.values())
    assert rows["MNIST test images as they are"][0] < 30


def test_explain_table_has_each_model_and_its_ratio(capsys):
    bench.main(["explain", "--models", "mlp", "--count", "40"])
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| mlp |"))
    ranked, random, ratio = (float(cell.rstrip("x")) for cell in row.strip("| ").split(" | ")[1:4])
    assert ranked > 2 * random > 0
    assert ratio == pytest.approx(ranked / random, abs=0.1)
