"""The robustness benchmark runs end to end: every style drawn, preprocessed and read."""

import re

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
    # The ratio is of the unrounded losses, rounded to 0.1: within what the cells, rounded
    # to 0.001, allow.
    assert (ranked - 5e-4) / (random + 5e-4) - 0.05 <= ratio <= (ranked + 5e-4) / (random - 5e-4) + 0.05


def test_numbers_table_reads_each_band_pen_and_paper(capsys):
    bench.main(["numbers", "--models", "mlp", "--count", "4"])
    out = capsys.readouterr().out
    rows = [line.strip("| ").split(" | ") for line in out.splitlines() if line.startswith("| MNIST test |")]
    # Three gap bands by two pens, then ruled and grid paper.
    assert [row[1] for row in rows[:6:2]] == ["spaced", "tight", "one pair touching"]
    assert [row[1] for row in rows[6:]] == ["ruled, a line under the digits", "printed grid, noisy"]
    # Spaced digits as written are read nearly whole, on plain paper and on a form.
    digits_right = lambda row: float(row[-1].rstrip("%"))
    assert digits_right(rows[0]) >= 75 and digits_right(rows[6]) >= 75 and digits_right(rows[7]) >= 75
    assert re.search(r"1600x400 sketchpad: mlp \d+ ms", out)


def test_text_table_reads_codes_spaced_and_close(capsys, unipen):
    bench.main(["text", "--count", "6"])
    rows = [line.strip("| ").split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith(("| spaced", "| close"))]
    assert [row[0].split()[0] for row in rows] == ["spaced", "close"]
    # Spaced codes from test writers: most of their characters read right (80% on 200 codes).
    assert float(rows[0][3].rstrip("%")) >= 50
