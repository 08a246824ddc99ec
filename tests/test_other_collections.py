"""Inputs as other digit collections store them: binary digits cut out tightly or stretched to
fill their frame, small images (8x8 to 32x32), faint scales such as 0..16. None of them is
refused, and each is read the same way as the same digit with a margin of background."""

import cv2
import numpy as np
import pytest

from digitrec import NoDigitError, preprocess
from test_preprocessing import looks_alike


def filling_the_frame(digit, size):
    """An MNIST digit made binary, cut to its ink box and stretched to a size x size frame:
    its ink touches all four borders."""
    binary = (digit > 100).astype(np.uint8)
    left, top, width, height = cv2.boundingRect(binary)
    crop = binary[top : top + height, left : left + width]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_NEAREST) * 255


def with_margin(image, background):
    side = max(image.shape)
    return np.pad(image, side // 2, constant_values=background)


def touches_every_border(image, ink):
    return all((edge == ink).any() for edge in (image[0], image[-1], image[:, 0], image[:, -1]))


@pytest.mark.parametrize("size", [16, 32])
@pytest.mark.parametrize("dark_on_light", [False, True])
def test_binary_digits_filling_their_frame_are_read_as_with_a_margin(test_set, size, dark_on_light):
    images, _ = test_set
    checked = 0
    for digit in images[:60]:
        frame = filling_the_frame(digit, size)
        # A 1 stretched to a square is a blob of ink, no digit any collection holds.
        if not touches_every_border(frame, 255) or frame.mean() > 0.5 * 255:
            continue
        if dark_on_light:
            frame = 255 - frame
        background = 255 if dark_on_light else 0
        result = preprocess(frame.astype(np.uint8))
        reference = preprocess(with_margin(frame, background).astype(np.uint8))
        # White digit on black, whichever way it came: the ink is the minority of the frame.
        assert result.mean() < 0.4
        assert looks_alike(result, reference, tolerance=0.06)
        checked += 1
    assert checked >= 30  # Most digits touch all four borders once stretched.


def test_scikit_learn_digits_on_their_0_to_16_scale_are_not_refused(mlp):
    from sklearn.datasets import load_digits

    digits = load_digits()
    results = mlp.predict_batch(list(digits.images), return_exceptions=True)
    refused = [index for index, result in enumerate(results) if isinstance(result, ValueError)]
    assert refused == []
    # The same 8x8 digits on the usual 0..255 scale give the same 28x28 images.
    for image in digits.images[:50]:
        assert looks_alike(preprocess(image), preprocess(image * (255 / 16)), tolerance=0.02)
    # Read on their own, from 64 pixels each: far above chance (see the writers benchmark).
    accuracy = np.mean([r.digit for r in results] == digits.target)
    assert accuracy > 0.8


@pytest.mark.parametrize("size", [8, 12, 16, 28, 32])
def test_small_digits_are_read_like_large_ones(test_set, size):
    images, _ = test_set
    for digit in images[:20]:
        small = cv2.resize(digit, (size, size), interpolation=cv2.INTER_AREA)
        large = cv2.resize(digit, (200, 200), interpolation=cv2.INTER_CUBIC)
        for image in (small, 255 - small):
            # An 8x8 digit has about 6 pixels of height to show its shape with.
            assert looks_alike(preprocess(image), preprocess(large), tolerance=0.1 if size < 12 else 0.07)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((8, 8)),
        np.full((8, 8), 16.0),
        np.full((16, 16), 255, np.uint8),
        np.zeros((32, 32), np.uint8),
        np.full((12, 12), 0.5, np.float32),
    ],
    ids=["8x8 zeros", "8x8 all 16", "16x16 white", "32x32 black", "12x12 grey"],
)
def test_small_blank_images_are_still_refused(image):
    with pytest.raises(NoDigitError):
        preprocess(image)


def test_a_faint_speck_on_a_small_noisy_image_is_not_a_digit():
    """The faint-but-clean rule needs a flat background: faint noise is no digit."""
    noise = np.random.default_rng(0).integers(100, 104, (16, 16)).astype(np.uint8)
    with pytest.raises(NoDigitError):
        preprocess(noise)


@pytest.mark.parametrize("dark_on_light", [False, True])
def test_bold_digits_cut_out_to_their_ink_are_read_as_with_a_margin(test_set, dark_on_light):
    from digitrec.drawing import pen

    images, labels = test_set
    for digit in images[labels == 1][:10]:
        # A marker's 1, its ink covering more of its narrow box than the paper does; cut out
        # where the ink starts, so only the anti-aliased edge reaches the border.
        bold = (pen(digit, 119, 7) * 255).astype(np.uint8)
        rows, columns = np.nonzero(bold > 30)
        cut = bold[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
        if dark_on_light:
            cut = 255 - cut
        reference = preprocess(with_margin(cut, 255 if dark_on_light else 0))
        assert looks_alike(preprocess(cut), reference)
