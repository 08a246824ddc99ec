"""Reading whole numbers: segmentation into digits, on drawings and on composed MNIST digits."""

import cv2
import numpy as np
import pytest
from PIL import Image

from digitrec import NoDigitError
from digitrec.drawing import GAP_BANDS, compose_number
from digitrec.paths import EXAMPLES_DIR


# Ink is what is darker than this on white paper: 30% of the way to black, as read_number finds it.
INK = 179


def strokes_of(page):
    return cv2.connectedComponents((page < INK).astype(np.uint8))[0] - 1


def test_a_single_digit_reads_as_one_digit(mlp):
    reading = mlp.read_number(EXAMPLES_DIR / "digit_7_test_0.png")
    assert reading.text == "7"
    assert len(reading.digits) == len(reading.boxes) == 1
    assert reading.digits[0].processed.shape == (28, 28)


def test_separated_digits_read_left_to_right_with_their_boxes(mlp):
    path = EXAMPLES_DIR / "numbers" / "2026.png"
    reading = mlp.read_number(path)
    assert reading.text == "2026"
    assert [p.digit for p in reading.digits] == [2, 0, 2, 6]
    page = np.asarray(Image.open(path))
    lefts = [left for left, _, _, _ in reading.boxes]
    assert lefts == sorted(lefts)
    for (left, top, width, height), (next_left, _, _, _) in zip(reading.boxes, reading.boxes[1:] + [(page.shape[1], 0, 0, 0)]):
        assert left + width <= next_left  # Apart, as they were written.
        box = page[top : top + height, left : left + width]
        # Each box holds its digit's ink, touching all four of its sides.
        assert all((side < INK).any() for side in (box[0], box[-1], box[:, 0], box[:, -1]))


def test_a_digit_written_in_two_strokes_is_one_digit(mlp):
    page = np.full((220, 420), 255, np.uint8)
    cv2.line(page, (40, 50), (130, 50), 0, 12)  # The bar of a 7...
    cv2.line(page, (122, 72), (75, 180), 0, 12)  # ...and its stem, not touching it.
    cv2.line(page, (260, 45), (260, 180), 0, 12)  # A 1.
    assert strokes_of(page) == 3
    reading = mlp.read_number(page)
    assert reading.text == "71"
    assert reading.boxes[0][:2] == (34, 44)  # The 7's box spans both of its strokes.


def test_touching_digits_are_split(mlp, test_set):
    images, labels = test_set
    pair = [int(np.flatnonzero(labels == digit)[2]) for digit in (3, 5)]
    page = 255 - compose_number(images[pair], np.random.default_rng(2), touching=True)[0]
    assert strokes_of(page) == 1  # One stroke: the digits touch.
    reading = mlp.read_number(page)
    assert reading.text == "35"
    assert len(reading.boxes) == 2 and reading.boxes[0][0] < reading.boxes[1][0]


def chained(digits, overlap, size=90):
    """Digits written joined, as dark ink on white: each pushed into the one before by
    `overlap` of its width, so that their strokes cross."""
    inks = []
    for digit in digits:
        big = cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC)
        columns = np.flatnonzero(big.max(axis=0) > 60)
        inks.append(big[:, columns[0] : columns[-1] + 1])
    page = np.zeros((size + 60, sum(ink.shape[1] for ink in inks) + 60), np.uint8)
    left = 30
    for ink in inks:
        region = page[30 : 30 + size, left : left + ink.shape[1]]
        np.maximum(region, ink, out=region)
        left += ink.shape[1] - int(overlap * ink.shape[1])
    return 255 - page


@pytest.mark.parametrize("first", [0, 12])
def test_zeros_written_joined_are_cut_where_their_loops_cross(mlp, test_set, first):
    images, labels = test_set
    page = chained(images[labels == 0][first : first + 3], overlap=0.12)
    assert strokes_of(page) == 1
    # Where two loops cross, a column holds more ink than a loop's middle: the cut is at the
    # neck, where the outline dips in from above and below.
    assert mlp.read_number(page).text == "000"


def test_digits_that_overlap_where_they_touch_are_read_by_the_pair_reader(mlp, test_set, monkeypatch):
    import digitrec.numbers

    images, labels = test_set
    pages = {}
    for text, index, seed in (("76", 0, 1), ("10", 0, 2), ("74", 2, 2)):
        pair = [int(np.flatnonzero(labels == int(digit))[index]) for digit in text]
        pages[text] = 255 - compose_number(images[pair], np.random.default_rng(seed), touching=True)[0]
        assert strokes_of(pages[text]) == 1  # One stroke: a 6 under the 7's arm, a 1 in the 0.
    for text, page in pages.items():
        reading = mlp.read_number(page)
        assert reading.text == text
        assert len(reading.boxes) == 2 and reading.boxes[0][0] < reading.boxes[1][0]
        assert all(digit.processed.shape == (28, 28) and digit.processed.any() for digit in reading.digits)
    # Cut apart, each side keeps a piece of the other: without the pair reader they read wrong
    # (but the 7 and 6, which a cut at their neck parts).
    monkeypatch.setattr(digitrec.numbers, "load_pair_reader", lambda: None)
    assert all(mlp.read_number(pages[text]).text != text for text in ("10", "74"))


def test_two_ones_that_touch_are_read_as_two_digits(mlp, test_set):
    """Two 1s that touch are one stroke too narrow to be cut as touching digits are; the pair
    reader reads it as two, and it is cut all the same (read as one digit before)."""
    images, labels = test_set
    ones = np.flatnonzero(labels == 1)
    for first in range(0, 8, 2):
        page = 255 - compose_number(images[ones[first : first + 2]], np.random.default_rng(first), touching=True)[0]
        assert strokes_of(page) == 1
        reading = mlp.read_number(page)
        assert reading.text == "11"
        assert len(reading.boxes) == 2 and reading.boxes[0][0] < reading.boxes[1][0]


def test_a_stroke_the_pair_reader_finds_no_pair_is_never_read_as_one():
    """A 6 the pair reader read 40% "10" and 60% no pair was read "10" when the digit model
    was unsure of it; now its pieces are grouped as digits only."""
    from digitrec.numbers import _pair_runs
    from digitrec.numbers.pieces import Piece
    from digitrec.pairs import NOT_A_PAIR

    def piece(label, left, right):
        return Piece(label, 0, np.full(10, left), np.full(10, right), (left, 0, right, 10), False)

    pieces = [piece(1, 0, 5), piece(1, 5, 10), piece(2, 12, 20)]
    ten = np.zeros(NOT_A_PAIR + 1, np.float32)
    ten[10], ten[NOT_A_PAIR] = 0.4, 0.6
    assert _pair_runs(pieces, {1: ten}) == {}
    ten[10], ten[NOT_A_PAIR] = 0.6, 0.4
    ((run, (probabilities, score)),) = _pair_runs(pieces, {1: ten}).items()
    assert run == (0, 2) and score == pytest.approx(0.6)


def test_a_cutting_that_leaves_no_piece_of_a_digits_height_finds_no_line_and_warns_not(mlp, test_set):
    """A 9 and a small 5 (MNIST test digits 104 and 2772): cut along paths, no piece is of a
    digit's height, and the line of digits was the median of nothing (numpy's warning)."""
    import warnings

    images, _ = test_set
    rng = np.random.default_rng(13)
    slant = rng.uniform(-0.2, 0.2)
    page = 255 - compose_number(images[[104, 2772]], rng, False, GAP_BANDS["spaced"], slant)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert mlp.read_number(page).text == "95"


def test_strokes_that_lean_into_each_other_are_parted_along_a_path():
    from digitrec.numbers.pieces import box_of, crop, cut_into_pieces, digits_height, wide_strokes
    from digitrec.preprocessing import strokes

    # Two broad strokes slanting the same way, the second's foot under the first's head (no
    # column parts them), joined at mid-height: one stroke, wider than it is tall.
    left_stroke, page = np.zeros((60, 100), bool), np.zeros((60, 100), np.float32)
    for row in range(10, 50):
        lean = (50 - row) // 3
        left_stroke[row, 20 + lean : 40 + lean] = True
        page[row, 46 + lean : 66 + lean] = 1.0
    page[left_stroke] = 1.0
    page[28:32, 40:56] = 1.0
    ink, labels, stats, kept = strokes(page)
    height = digits_height(stats, kept)
    assert kept.sum() == 1 and wide_strokes(stats, kept, height) == [1]

    def best_part(pieces):
        """The share of the left stroke's pixels in the piece that holds most of them, and the
        share of that piece's pixels that are the left stroke's."""
        best = 0.0, 0.0
        for piece in pieces:
            own = np.zeros(page.shape, bool)
            left, top, right, bottom = box_of([piece])
            own[top:bottom, left:right] = crop(ink, labels, [piece]) > 0
            best = max(best, ((own & left_stroke).sum() / left_stroke.sum(), (own & left_stroke).sum() / max(own.sum(), 1)))
        return best

    straight = best_part(cut_into_pieces(ink, labels, stats, kept, height))
    along = best_part(cut_into_pieces(ink, labels, stats, kept, height, along_paths=[1]))
    assert straight[0] < 0.85  # Every straight cut leaves a fifth of the left stroke to the right.
    assert along[0] > 0.95 and along[1] > 0.95  # One piece is (nearly) the left stroke alone.


def test_a_number_on_a_sketchpad(mlp):
    layer = np.zeros((240, 640, 4), np.uint8)
    for x in (120, 320):
        cv2.line(layer, (x, 50), (x, 190), (0, 0, 0, 255), 16)  # 1 ...
    cv2.ellipse(layer, (480, 120), (45, 70), 0, 0, 360, (0, 0, 0, 255), 16)  # ... 0
    value = {"background": np.full_like(layer, 255), "layers": [layer], "composite": None}
    reading = mlp.read_number(value)
    assert reading.text == "110"
    assert reading.boxes[2][0] == pytest.approx(480 - 45 - 8, abs=3)  # In the canvas's pixels.


def written(test_set, digits, seed=0):
    """MNIST test digits of `digits` written apart on white paper, and where each was placed."""
    images, labels = test_set
    chosen = [int(np.flatnonzero(labels == int(d))[3]) for d in digits]
    page, placed = compose_number(images[chosen], np.random.default_rng(seed), gaps=(0.6, 0.7))
    return 255 - page, placed


def test_a_decimal_point_and_a_comma_are_read_between_the_digits(mlp, test_set):
    page, placed = written(test_set, "314")
    height = max(ink.shape[0] for _, _, ink in placed)
    (x, top, three), (next_x, _, _) = placed[0], placed[1]
    between, baseline = (x + three.shape[1] + next_x) // 2, max(t + ink.shape[0] for _, t, ink in placed[:2])
    dot = page.copy()
    cv2.circle(dot, (between, baseline - height // 12), height // 12, 0, -1)
    assert mlp.read_number(dot).text == "3.14"
    comma = page.copy()
    cv2.circle(comma, (between, baseline - height // 12), height // 12, 0, -1)
    cv2.line(comma, (between + height // 24, baseline - height // 12), (between - height // 16, baseline + height // 5), 0, height // 14)
    reading = mlp.read_number(comma)
    assert reading.text == "3,14"
    assert [p.digit for p in reading.digits] == [3, 1, 4]  # The digits alone.


def test_a_leading_minus_is_read_and_a_trailing_dash_or_equals_left_out(mlp, test_set):
    page, placed = written(test_set, "12")
    height = max(ink.shape[0] for _, _, ink in placed)
    middle = int(np.mean([top + ink.shape[0] / 2 for _, top, ink in placed]))
    page = cv2.copyMakeBorder(page, 0, 0, height, height, cv2.BORDER_CONSTANT, value=255)
    first, last = placed[0][0] + height, placed[-1][0] + height + placed[-1][2].shape[1]
    minus = page.copy()
    cv2.line(minus, (first - height * 2 // 3, middle), (first - height // 4, middle), 0, height // 10)
    assert mlp.read_number(minus).text == "-12"
    closed = page.copy()
    for row in (middle - height // 8, middle + height // 8):
        cv2.line(closed, (last + height // 4, row), (last + height * 2 // 3, row), 0, height // 10)
    assert mlp.read_number(closed).text == "12"


def test_a_speck_is_left_out(mlp, test_set):
    page, placed = written(test_set, "58")
    (x, top, five), (next_x, _, _) = placed
    cv2.circle(page, ((x + five.shape[1] + next_x) // 2, top - 4), 2, 0, -1)  # Above the line.
    assert mlp.read_number(page).text == "58"


def test_digits_on_a_ruled_line_are_read_without_it(mlp, test_set):
    page, placed = written(test_set, "907")
    baseline = max(top + ink.shape[0] for _, top, ink in placed)
    cv2.line(page, (5, baseline - 3), (page.shape[1] - 5, baseline - 3), 90, 3)  # Through the digits' feet.
    cv2.line(page, (5, placed[0][1] - 12), (page.shape[1] - 5, placed[0][1] - 12), 150, 2)  # A fainter line above.
    reading = mlp.read_number(page)
    assert reading.text == "907"
    assert all(box[2] < page.shape[1] / 2 for box in reading.boxes)  # No box spans the line.


def test_digits_on_lined_paper_are_read_without_its_lines(mlp, test_set):
    page, placed = written(test_set, "52", seed=1)
    baseline = max(top + ink.shape[0] for _, top, ink in placed)
    height = max(ink.shape[0] for _, _, ink in placed)
    for row in range(baseline % (height // 2), page.shape[0], height // 2):  # Lines half a digit apart.
        cv2.line(page, (0, row), (page.shape[1], row), 100, 2)
    assert mlp.read_number(page).text == "52"


def test_a_four_written_in_two_strokes_is_one_digit(mlp):
    page = np.full((220, 420), 255, np.uint8)
    cv2.line(page, (90, 40), (45, 130), 0, 12)  # The 4's slanted stroke and its bar...
    cv2.line(page, (45, 130), (95, 130), 0, 12)
    cv2.line(page, (112, 40), (112, 185), 0, 12)  # ...and its stem, not quite meeting the bar.
    cv2.line(page, (260, 45), (260, 180), 0, 12)  # A 1.
    assert strokes_of(page) == 3
    reading = mlp.read_number(page)
    assert reading.text == "41"
    assert 0 < reading.confidence <= min(p.confidence for p in reading.digits)
    assert reading.record()["number"] == "41" and reading.record()["confidence"] == round(reading.confidence, 6)


def test_a_five_of_two_strokes_each_under_half_the_height_is_one_digit(mlp):
    """Neither stroke is tall enough to be a digit on its own (each could be a mark), but the
    two together are: the 5 is read, not left out as two marks."""
    page = np.full((240, 460), 255, np.uint8)
    cv2.line(page, (90, 30), (90, 190), 0, 12)  # A 1.
    cv2.line(page, (250, 50), (320, 50), 0, 12)  # The 5's bar and its stem...
    cv2.line(page, (250, 50), (246, 95), 0, 12)
    cv2.ellipse(page, (268, 145), (42, 30), 0, -140, 140, 0, 12)  # ...and its bowl, apart.
    assert strokes_of(page) == 3
    _, _, stats, _ = cv2.connectedComponentsWithStats((page < INK).astype(np.uint8))
    assert stats[2:, cv2.CC_STAT_HEIGHT].max() < 0.45 * stats[1, cv2.CC_STAT_HEIGHT]
    reading = mlp.read_number(page)
    assert reading.text == "15"
    assert reading.boxes[1][1] == stats[2, cv2.CC_STAT_TOP]  # The 5's box holds both strokes.


def test_the_foot_of_a_broken_one_is_not_a_decimal_point(mlp):
    """A 1 the pen skipped on, in three strokes none of a digit's height: its foot is the size
    and place of a decimal point, but a point has no ink over it."""
    page = np.full((240, 460), 255, np.uint8)
    cv2.line(page, (40, 40), (130, 40), 0, 12)  # A 7.
    cv2.line(page, (130, 40), (80, 190), 0, 12)
    cv2.line(page, (262, 35), (260, 110), 0, 12)  # A 1's top,
    cv2.line(page, (259, 124), (257, 165), 0, 12)  # its middle,
    cv2.circle(page, (254, 184), 9, 0, -1)  # and its foot, a dot under them.
    assert strokes_of(page) == 4
    assert mlp.read_number(page).text == "71"


def test_a_zero_wider_than_a_digit_is_read_whole(mlp):
    """A 0 written flat, half as wide again as the line is tall: its stroke is cut, and its
    halves read as a 6 and a 7, unless the stroke whole is read too."""
    page = np.full((240, 520), 255, np.uint8)
    cv2.line(page, (90, 70), (90, 170), 0, 12)  # A 1,
    cv2.ellipse(page, (270, 120), (78, 50), -8, 0, 360, 0, 12)  # and a 0 as tall, 1.6 times as wide.
    assert strokes_of(page) == 2
    assert mlp.read_number(page).text == "10"


def test_short_pieces_stacked_into_a_digits_height_are_dearer_to_leave_out():
    """A 5's flag over its body, each a third of the line's height, are a digit's parts: left
    out, they cost as much as a cut piece; an "=" (two dashes, short together) and a lone speck
    are marks."""
    from digitrec.numbers.grouping import LEFT_OUT, LEFT_OUT_CUT, left_out
    from digitrec.numbers.pieces import Piece

    def piece(label, box):
        return Piece(label, box[1], np.array([box[0]]), np.array([box[2]]), box, True)

    pieces = [
        piece(1, (0, 0, 30, 100)),  # A 1, the line's height.
        piece(2, (60, 5, 110, 35)),  # A 5's flag,
        piece(3, (58, 60, 100, 100)),  # and its body under it.
        piece(4, (140, 40, 180, 48)),  # An "=".
        piece(5, (140, 56, 180, 64)),
        piece(6, (210, 90, 216, 96)),  # A speck.
    ]
    assert left_out(pieces, 100, [False] * 6)[1:] == [LEFT_OUT_CUT, LEFT_OUT_CUT, LEFT_OUT, LEFT_OUT, LEFT_OUT]


def test_each_character_read_costs_a_factor_in_the_grouping():
    """Two pieces each read surely (an H's post as l, the rest as n) beat the two read as one
    letter less surely, unless each character chosen costs a factor, as in text."""
    from digitrec.numbers.grouping import best_grouping

    scores = {(0, 1): 0.95, (1, 2): 0.95, (0, 2): 0.8}
    left_out = [1e-6, 1e-6]
    assert best_grouping(scores, left_out)[0] == [(0, 1), (1, 2)]
    chosen, _, score, _ = best_grouping(scores, left_out, each=0.7)
    assert chosen == [(0, 2)]
    assert score == pytest.approx(np.log(0.8 * 0.7))


@pytest.mark.parametrize("blank", [np.full((200, 600), 255, np.uint8), np.zeros((200, 600, 4), np.uint8)], ids=["white page", "empty canvas"])
def test_a_blank_page_has_no_number(mlp, blank):
    with pytest.raises(NoDigitError):
        mlp.read_number(blank)


def test_the_verifier_labels_runs_by_the_ink_they_hold():
    from digitrec.numbers.verifier_training import label

    totals = np.array([100.0, 40.0])  # A 7's ink and a 1's beside it.
    assert label(np.array([95.0, 0.0]), totals) == 1.0  # The 7 less a sliver, nothing of the 1.
    assert label(np.array([100.0, 40.0]), totals) == 0.0  # Both digits.
    assert label(np.array([50.0, 0.0]), totals) == 0.0  # Half of the 7.
    assert label(np.array([40.0, 40.0]), totals) == 0.0  # The 1 and a part of the 7 as large.
    assert label(np.array([80.0, 0.0]), totals) is None  # Four fifths of the 7: too close to call.


def test_the_verifier_learns_from_the_runs_the_reader_cuts(test_set):
    from digitrec.numbers.verifier_training import labelled_runs, owned

    images, labels = test_set
    digits = [int(np.flatnonzero(labels == digit)[0]) for digit in (2, 0, 7)]
    page, placed = compose_number(images[digits], np.random.default_rng(0), gaps=(0.4, 0.5))
    found = list(labelled_runs(page, owned(page.shape, placed)))
    # Apart, each digit is one of the reader's runs, and whole; a wide one may be cut too,
    # and all of it but a sliver is whole as well.
    assert sum(whole for _, whole in found) >= 3
    assert all(run.shape == (28, 28) for run, _ in found)
    page, placed = compose_number(images[digits[:2]], np.random.default_rng(2), touching=True)
    found = [whole for _, whole in labelled_runs(page, owned(page.shape, placed))]
    # Touching, the pair is one stroke, cut: some runs are both digits or parts of them.
    assert 0.0 in found and 1.0 in found


def test_the_shipped_verifier_tells_whole_digits_from_pieces_of_test_digits(test_set):
    from digitrec.numbers.verifier_training import examples
    from digitrec.verifier import load_verifier

    images, _ = test_set
    inputs, whole = examples(images, 600, np.random.default_rng(3))
    verifier = load_verifier()
    told = verifier(inputs) > 0.5
    assert 0.2 < whole.mean() < 0.6  # Both kinds are drawn.
    assert (told == (whole == 1)).mean() >= 0.9


@pytest.mark.parametrize("network", ["verifier", "pairs"])
def test_the_number_readers_onnx_exports_give_the_keras_networks_answers(network, test_set, monkeypatch):
    from digitrec.exporting import runner
    from digitrec.numbers import pair_training, verifier_training
    from digitrec.pairs import PAIRS_PATH, load_pair_reader
    from digitrec.verifier import VERIFIER_PATH, load_verifier

    images, labels = test_set
    rng = np.random.default_rng(4)
    if network == "verifier":
        path, load, (inputs, _) = VERIFIER_PATH, load_verifier, verifier_training.examples(images, 300, rng)
        varied = lambda answers: 0.1 < (answers > 0.5).mean() < 0.9  # Whole digits and pieces.
    else:
        path, load, (inputs, _) = PAIRS_PATH, load_pair_reader, pair_training.examples(images, labels, 300, rng)
        varied = lambda answers: len(np.unique(answers.argmax(axis=1))) > 30  # Many pairs, and none.
    assert runner(path) is not None  # models/verifier.onnx or pairs.onnx, from these weights.
    exported = load.__wrapped__()  # Not the cached one: built anew each time.
    monkeypatch.setenv("DIGITREC_RUNTIME", "tensorflow")
    keras_answers = load.__wrapped__()(inputs)
    assert varied(keras_answers)
    np.testing.assert_allclose(exported(inputs), keras_answers, atol=1e-5)


def test_the_verifier_trains_and_saves_its_card(tmp_path, mnist):
    from digitrec.numbers.verifier_training import VerifierConfig, train
    from digitrec.verifier import load_verifier

    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:2000], y_train[:2000]), (x_test[:500], y_test[:500]))
    card = train(VerifierConfig(examples=400, epochs=1), small, unipen="", out=tmp_path / "verifier.keras", verbose=0)
    assert card["training_pieces"] == 400 and card["test_pieces"] == 40
    assert (tmp_path / "verifier.json").is_file()
    assert 0.0 <= load_verifier(tmp_path / "verifier.keras")(np.zeros((1, 28, 28)))[0] <= 1.0


def test_the_pair_reader_labels_strokes_by_the_digits_they_hold():
    from digitrec.numbers.pair_training import pair_label
    from digitrec.pairs import NOT_A_PAIR

    digits = np.array([7, 6, 3])
    assert pair_label(np.array([1.0, 0.95, 0.0]), digits) == 76  # The 7 and the 6 touching.
    assert pair_label(np.array([0.0, 1.0, 1.0]), digits) == 63
    assert pair_label(np.array([1.0, 0.0, 0.0]), digits) == NOT_A_PAIR  # A wide 7 alone.
    assert pair_label(np.array([0.3, 0.0, 0.0]), digits) is None  # A part of the 7: too close to call.
    assert pair_label(np.array([0.05, 0.0, 0.0]), digits) == NOT_A_PAIR  # A speck of it.
    assert pair_label(np.array([1.0, 1.0, 1.0]), digits) == NOT_A_PAIR  # Three.
    assert pair_label(np.array([1.0, 0.0, 1.0]), digits) is None  # Not neighbours.


def test_the_pair_reader_learns_from_the_strokes_the_reader_meets(test_set):
    from digitrec.numbers.pair_training import labelled_strokes
    from digitrec.numbers.verifier_training import owned
    from digitrec.pairs import NOT_A_PAIR, PAIR_FRAME

    images, labels = test_set
    digits = [int(np.flatnonzero(labels == digit)[2]) for digit in (3, 5)]
    page, placed = compose_number(images[digits], np.random.default_rng(2), touching=True)
    found = list(labelled_strokes(page, owned(page.shape, placed), np.array([3, 5])))
    assert [label for _, label in found] == [35]  # One stroke, both digits.
    assert found[0][0].shape == PAIR_FRAME and found[0][0].max() == 1.0
    page, placed = compose_number(images[digits], np.random.default_rng(2), gaps=(0.4, 0.5))
    found = [label for _, label in labelled_strokes(page, owned(page.shape, placed), np.array([3, 5]))]
    assert found and set(found) == {NOT_A_PAIR}  # Apart: each wide stroke is one digit.


def test_the_shipped_pair_reader_reads_touching_pairs_of_test_digits(test_set):
    from digitrec.numbers.pair_training import examples
    from digitrec.pairs import NOT_A_PAIR, load_pair_reader

    images, labels = test_set
    inputs, pairs = examples(images, labels, 600, np.random.default_rng(3))
    read = load_pair_reader()(inputs).argmax(axis=1)
    touching = pairs != NOT_A_PAIR
    assert 0.4 < touching.mean() < 0.9  # Both kinds are drawn.
    assert (read[touching] == pairs[touching]).mean() >= 0.9
    assert (read[~touching] == NOT_A_PAIR).mean() >= 0.9


def test_the_pair_reader_trains_and_saves_its_card(tmp_path, mnist):
    from digitrec.numbers.pair_training import PairConfig, train
    from digitrec.pairs import PAIR_FRAME, load_pair_reader

    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:2000], y_train[:2000]), (x_test[:500], y_test[:500]))
    card = train(PairConfig(examples=300, epochs=1), small, unipen="", out=tmp_path / "pairs.keras", verbose=0)
    assert card["training_strokes"] == 300 and card["test_strokes"] == 30
    assert (tmp_path / "pairs.json").is_file()
    probabilities = load_pair_reader(tmp_path / "pairs.keras")(np.zeros((2, *PAIR_FRAME)))
    assert probabilities.shape == (2, 101)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
