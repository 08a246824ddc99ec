"""Known answers for the preprocessing: where MNIST would put a digit, whatever its form."""

import cv2
import numpy as np
import pytest
from PIL import Image

from digitrec import InvalidImageError, NoDigitError, preprocess


def centre_of_mass(image):
    rows, columns = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


def looks_alike(first, second, tolerance=0.05):
    """Whether two 28x28 images show the same shape, forgiving a one-pixel shift or edge.

    Centring by mass moves a symmetric shape of even size by half a pixel, which whole-pixel
    shifts must round one way or the other.
    """
    blur = lambda image: cv2.GaussianBlur(image, (0, 0), 1.0)
    differences = [
        np.abs(blur(np.roll(first, (rows, columns), axis=(0, 1))) - blur(second)).mean()
        for rows in (-1, 0, 1)
        for columns in (-1, 0, 1)
    ]
    return min(differences) < tolerance


def ink_box(image):
    rows, columns = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[0], rows[-1], columns[0], columns[-1]


def test_centred_box_stays_where_mnist_puts_it(box_digit):
    result = preprocess(box_digit)
    assert result.shape == (28, 28) and result.dtype == np.float32
    np.testing.assert_allclose(result, box_digit, atol=1e-6)


def test_large_off_centre_drawing_is_cropped_scaled_and_centred(box_digit):
    # The same outline drawn 10 times larger, dark on a white page, in its top-left corner.
    page = np.full((400, 300), 255, np.uint8)
    page[20:220, 10:210] = 0
    page[50:190, 40:180] = 255
    result = preprocess(page)
    assert ink_box(result > 0.5) == (4, 23, 4, 23)
    # A symmetric box of even size is centred by whole pixels half a pixel off, either way as
    # rounding falls.
    assert centre_of_mass(result) == pytest.approx((14.0, 14.0), abs=0.5 + 1e-4)
    assert np.abs(result - box_digit).mean() < 0.05


def test_tall_digit_keeps_its_aspect_ratio():
    # A 1 drawn as a 200x40 bar: 20 pixels tall, about 4 wide, centred by mass.
    page = np.zeros((300, 300), np.uint8)
    page[50:250, 130:170] = 255
    result = preprocess(page)
    top, bottom, left, right = ink_box(result > 0.5)
    assert bottom - top + 1 == 20
    assert 3 <= right - left + 1 <= 5
    assert centre_of_mass(result) == pytest.approx((14.0, 14.0), abs=0.5)


def test_asymmetric_digit_is_centred_by_mass_not_by_box():
    # An L: its box is centred differently from its mass, and MNIST centres the mass.
    page = np.zeros((200, 200), np.uint8)
    page[20:180, 40:70] = 255
    page[150:180, 40:160] = 255
    result = preprocess(page)
    assert centre_of_mass(result) == pytest.approx((14.0, 14.0), abs=0.5)


@pytest.fixture(scope="module")
def plain(test_set):
    """An MNIST test digit, uint8 white on black, and the model input made from it."""
    digit = test_set[0][0]
    return digit, preprocess(digit)


def _variants(digit):
    ink = digit.astype(np.float32) / 255
    rgba_transparent = np.zeros((28, 28, 4), np.uint8)
    rgba_transparent[:, :, 3] = digit  # Black ink whose opacity is the stroke.
    white = np.full((28, 28, 4), 255, np.uint8)
    return {
        "inverted": 255 - digit,
        "float 0..1": ink,
        "float 0..255": digit.astype(np.float64),
        "16-bit": digit.astype(np.uint16) * 257,
        "1-channel": digit[:, :, None],
        "3-channel": np.repeat(digit[:, :, None], 3, axis=2),
        "4-channel opaque": np.dstack([np.repeat(digit[:, :, None], 3, axis=2), np.full((28, 28), 255, np.uint8)]),
        "transparent background": rgba_transparent,
        "PIL image": Image.fromarray(digit),
        "PIL inverted RGB": Image.fromarray(255 - digit).convert("RGB"),
        "sketchpad dict": {"background": white, "layers": [rgba_transparent], "composite": None},
    }


@pytest.mark.parametrize("name", list(_variants(np.zeros((28, 28), np.uint8))))
def test_every_form_of_the_same_digit_gives_the_same_input(plain, name):
    digit, expected = plain
    np.testing.assert_allclose(preprocess(_variants(digit)[name]), expected, atol=1e-5)


def test_file_paths_png_and_16_bit_png(plain, tmp_path):
    digit, expected = plain
    path = tmp_path / "digit.png"
    cv2.imwrite(str(path), 255 - digit)
    np.testing.assert_allclose(preprocess(path), expected, atol=1e-5)
    np.testing.assert_allclose(preprocess(str(path)), expected, atol=1e-5)
    deep = tmp_path / "digit16.png"
    cv2.imwrite(str(deep), digit.astype(np.uint16) * 257)
    assert Image.open(deep).mode.startswith("I")
    np.testing.assert_allclose(preprocess(deep), expected, atol=1e-5)


def test_transparent_png_file(plain, tmp_path):
    digit, expected = plain
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[:, :, 3] = digit
    path = tmp_path / "transparent.png"
    Image.fromarray(rgba, "RGBA").save(path)
    np.testing.assert_allclose(preprocess(path), expected, atol=1e-5)


def test_specks_far_from_the_digit_are_ignored(plain):
    digit, expected = plain
    page = np.zeros((280, 280), np.uint8)
    page[:] = 0
    large = cv2.resize(digit, (200, 200), interpolation=cv2.INTER_LINEAR)
    page[40:240, 40:240] = large
    clean = preprocess(page)
    speckled = page.copy()
    speckled[5:8, 270:273] = 255  # A 3x3 speck in the corner, like dust on a scan.
    np.testing.assert_allclose(preprocess(speckled), clean, atol=1e-6)


def test_mnist_digits_pass_through_nearly_unchanged(test_set):
    images = test_set[0][:500]
    processed = np.stack([preprocess(image) for image in images])
    assert np.abs(processed - images / 255.0).mean() < 0.002


def test_images_already_in_mnist_layout_are_passed_through_as_the_pipeline_would_give_them(test_set):
    from digitrec.preprocessing import already_mnist, centre_digit, ink_map

    images = test_set[0][:300]
    passed = [already_mnist(image) for image in images]
    assert sum(image is not None for image in passed) >= 295  # MNIST's own layout, nearly all.
    for image, fast in zip(images, passed):
        if fast is not None:
            assert looks_alike(fast, centre_digit(ink_map(image)), tolerance=0.01)
    # Moved off centre, a digit is no longer in that layout, and is centred again.
    moved = np.roll(images[0], 3, axis=1)
    assert already_mnist(moved) is None
    assert looks_alike(preprocess(moved), passed[0])


@pytest.mark.parametrize(
    "blank",
    [
        np.zeros((28, 28), np.uint8),
        np.full((200, 200), 255, np.uint8),
        np.full((50, 50, 3), 128, np.uint8),
        np.zeros((64, 64, 4), np.uint8),  # Fully transparent.
        np.random.default_rng(0).integers(120, 135, (100, 100)).astype(np.uint8),  # Faint noise.
        None,
        {"background": np.full((10, 10, 4), 255, np.uint8), "layers": [np.zeros((10, 10, 4), np.uint8)], "composite": None},
        {"background": None, "layers": [], "composite": None},
    ],
    ids=["black", "white", "gray", "transparent", "faint noise", "None", "empty sketchpad", "cleared sketchpad"],
)
def test_blank_input_raises_no_digit(blank):
    with pytest.raises(NoDigitError):
        preprocess(blank)


@pytest.mark.parametrize(
    "bad, message",
    [
        ([[0, 255], [255, 0]], "Cannot read an image from list"),
        (np.zeros(784, np.uint8), r"shape \(784,\)"),
        (np.zeros((2, 28, 28, 1), np.uint8), r"shape \(2, 28, 28, 1\)"),
        (np.zeros((28, 28, 2), np.uint8), r"shape \(28, 28, 2\)"),
        (np.zeros((0, 0), np.uint8), "no pixels"),
        (np.full((28, 28), np.nan, np.float32), "NaN or infinite"),
        (np.full((28, 28), np.inf), "NaN or infinite"),
        (np.full((28, 28), -1.0), "negative values"),
        (np.full((28, 28), 1000.0), "expected \\[0, 1\\] or \\[0, 255\\]"),
        (np.zeros((28, 28), object), "dtype object"),
        (np.zeros((28, 28), np.complex64), "dtype complex64"),
        ("no/such/file.png", "does not exist"),
        (12, "Cannot read an image from int"),
    ],
    ids=["list", "1-D", "4-D", "2 channels", "empty", "NaN", "inf", "negative", "too bright", "object", "complex", "missing file", "int"],
)
def test_unusable_input_raises_invalid_image(bad, message):
    with pytest.raises(InvalidImageError, match=message):
        preprocess(bad)


def test_text_file_named_png_is_refused(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image at all")
    with pytest.raises(InvalidImageError, match="notes.png is not a readable image"):
        preprocess(path)


def test_errors_are_value_errors():
    assert issubclass(InvalidImageError, ValueError) and issubclass(NoDigitError, ValueError)


def outline(page_size, box, thickness, ink=0, paper=255):
    """A square outline drawn on a page: the test's stand-in for a digit."""
    page = np.full((page_size, page_size), paper, np.uint8)
    top, left, side = box
    page[top : top + side, left : left + side] = ink
    page[top + thickness : top + side - thickness, left + thickness : left + side - thickness] = paper
    return page


@pytest.mark.parametrize("thickness", [2, 70], ids=["thin pen", "thick marker"])
def test_strokes_far_from_mnist_width_are_brought_near_it(box_digit, thickness):
    from digitrec.preprocessing.framing import BOLDEST_STROKE, THINNEST_STROKE, _stroke_width, crop_to_ink

    result = preprocess(outline(400, (50, 80, 250), thickness))
    assert THINNEST_STROKE <= _stroke_width(crop_to_ink(result)) <= BOLDEST_STROKE
    # Whole-pixel shifts leave a symmetric shape of even size half a pixel off either way.
    assert centre_of_mass(result) == pytest.approx((14.0, 14.0), abs=0.51)
    assert result[4:24, 4:24].mean() > 0.2 and result[11:17, 11:17].max() < 0.1  # Still a ring.


def test_uneven_light_is_flattened(box_digit):
    page = outline(400, (60, 60, 280), 40).astype(np.float32)
    # Light falls from full at the left to 45% at the right, as beside a window.
    light = np.linspace(1.0, 0.45, 400, dtype=np.float32)[None, :]
    photo = (page * light).astype(np.uint8)
    assert photo[:, -5:].mean() < 120  # The dim side of the paper is darker than mid-gray.
    flattened, even = preprocess(photo), preprocess(page.astype(np.uint8))
    assert looks_alike(flattened, even)
    # The ring is as bright on the dim side as on the lit side: as much ink in its left and
    # right halves (wherever whole-pixel centring put it).
    assert flattened[10:18, :14].sum() == pytest.approx(flattened[10:18, 14:].sum(), rel=0.1)


def test_dark_ink_on_gray_paper_is_inverted(box_digit):
    gray_paper = outline(200, (20, 20, 160), 24, ink=20, paper=100)
    assert looks_alike(preprocess(gray_paper), box_digit)


def test_huge_photo_is_shrunk_early(box_digit):
    page = np.full((3000, 4000, 3), 230, np.uint8)
    page[500:2500, 1000:3000] = 30
    page[800:2200, 1300:2700] = 230
    assert looks_alike(preprocess(page), box_digit)


@pytest.mark.parametrize("size", [16, 32])
def test_tiny_images_are_scaled_up(test_set, mlp, size):
    images, labels = test_set
    small = [cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA) for image in images[:200]]
    predictions = mlp.predict_batch(small)
    assert np.mean([p.digit for p in predictions] == labels[:200]) > 0.9


def test_exif_orientation_of_photos_is_applied(plain, tmp_path):
    digit, _ = plain
    # The camera saved the pixels turned a quarter, with EXIF orientation 6 to undo it.
    stored = np.ascontiguousarray(np.rot90(255 - digit, k=1))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    upright = preprocess(255 - digit)
    assert looks_alike(preprocess(path), upright)
    assert not looks_alike(preprocess(stored), upright)


def test_sheet_of_paper_on_a_dark_table(box_digit):
    photo = np.full((480, 640), 60, np.uint8)  # The table.
    photo[60:420, 150:470] = 220  # The sheet, lit.
    photo[120:320, 210:410] = 30  # An outline drawn on it.
    photo[150:290, 240:380] = 220
    assert looks_alike(preprocess(photo), box_digit)


def test_chalk_digit_is_not_taken_for_a_sheet():
    board = np.full((300, 300), 30, np.uint8)
    board[40:260, 130:175] = 230  # A bold chalk 1: bright, solid, but not a sheet.
    result = preprocess(board)
    top, bottom, left, right = ink_box(result > 0.5)
    assert bottom - top + 1 == 20 and right - left + 1 < 8


def test_bold_chalk_digit_filling_its_box_is_not_taken_for_a_sheet(mlp):
    board = np.full((300, 300), 20, np.uint8)
    # A bold 6: its ink fills most of its box, as a sheet of paper's would.
    cv2.ellipse(board, (150, 185), (50, 50), 0, 0, 360, 230, 48)
    cv2.ellipse(board, (180, 160), (80, 100), 0, 180, 265, 230, 48)
    image = preprocess(board)
    assert mlp.predict(image).digit == 6


@pytest.mark.parametrize("thickness", [40, 50])
def test_bold_round_chalk_zero_is_not_taken_for_a_sheet(mlp, thickness):
    board = np.full((240, 240), 20, np.uint8)
    # A bold 0: convex and solid round a small hole, as a sheet with writing on it would be.
    cv2.ellipse(board, (120, 120), (45, 65), 10, 0, 360, 230, thickness)
    image = preprocess(board)
    assert image[14, 14] == 0  # The hole stays background, not ink.
    assert mlp.predict(image).digit == 0


def test_a_hairline_digit_with_a_loop_inked_shut_is_still_thickened():
    page = np.full((400, 400), 255, np.uint8)
    cv2.circle(page, (200, 110), 45, 0, -1)  # A 9's loop, filled in...
    cv2.line(page, (240, 130), (230, 350), 0, 1)  # ...and its tail, a hairline.
    digit = preprocess(page)
    tail = digit[21:24]  # Rows across the tail, below the loop.
    # Brought near MNIST's pen, two or three pixels wide, as the loop's bulk is not counted.
    assert ((tail > 0.5).sum(axis=1) >= 2).all()


@pytest.mark.parametrize("hairline", [False, True], ids=["brush strokes", "hairline strokes"])
def test_a_sketchpads_strokes_are_found_exactly_from_a_sample_of_its_pixels(hairline):
    from digitrec.preprocessing.reading import strokes_cut_out

    # A 2 drawn on an 800x800 canvas; with a 1-pixel pen, most of it falls between the
    # sampled pixels, and a hairline tail runs on far beyond the sampled box.
    layer = np.zeros((800, 800, 4), np.uint8)
    points = np.array([(300, 300), (380, 250), (450, 300), (320, 520), (470, 520)], np.int32)
    cv2.polylines(layer, [points], False, (0, 0, 0, 255), 1 if hairline else 30)
    cv2.line(layer, (470, 521), (790, 521), (0, 0, 0, 255), 1)  # On no sampled row.
    alpha, (left, top) = strokes_cut_out({"background": None, "layers": [layer], "composite": None}, margin=0)
    assert (left, top, alpha.shape[1], alpha.shape[0]) == cv2.boundingRect(np.ascontiguousarray(layer[:, :, 3]))
