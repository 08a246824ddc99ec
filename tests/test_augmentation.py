"""Writer-variety augmentation: every varied digit is framed as MNIST frames its digits, the
batches are repeatable from their seed, and pen strokes redraw the digits they came from."""

import cv2
import numpy as np

from digitrec.augmentation import NONE, Augmentation, WriterBatches, redraw, retrace, vary
from digitrec.preprocessing import CENTRE


def centre_of_mass(image):
    rows, columns = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


def test_varied_digits_are_framed_as_mnist_frames_them(test_set):
    images, _ = test_set
    rng = np.random.default_rng(0)
    augmentation = Augmentation(probability=1.0, jitter=0)
    changed = 0
    for image in images[:200]:
        varied = vary(image, rng, augmentation)
        assert varied.shape == (28, 28) and varied.dtype == np.float32
        assert varied.min() >= 0 and varied.max() == 1.0
        rows, columns = np.nonzero(varied > 0.05)
        assert max(rows.max() - rows.min(), columns.max() - columns.min()) + 1 in (19, 20, 21)
        assert np.allclose(centre_of_mass(varied), CENTRE, atol=1.0)
        changed += np.abs(varied - image / 255.0).mean() > 0.02
    assert changed > 180  # Each is another writer's digit, not the same one again.


def test_without_augmentation_the_digit_is_unchanged(test_set):
    image = test_set[0][0]
    np.testing.assert_array_equal(vary(image, np.random.default_rng(0), NONE), image / np.float32(255))


def test_redrawn_strokes_give_back_the_digit(unipen):
    from digitrec.data import load_unipen, load_unipen_strokes

    strokes, labels = load_unipen_strokes("validation", unipen)
    images, _ = load_unipen("validation", unipen)
    rng = np.random.default_rng(0)
    smooth = Augmentation(polygonal=0.0)
    correlations = []
    for index in range(100):
        drawn = redraw(strokes[index], rng, smooth)
        assert drawn.shape == (28, 28) and drawn.dtype == np.uint8 and drawn.max() == 255
        correlations.append(np.corrcoef(drawn.ravel(), images[index].ravel())[0, 1])
    # The same digit with another pen width: alike, never identical.
    assert np.median(correlations) > 0.75 and max(correlations) < 0.999
    polygonal = Augmentation(polygonal=1.0)
    assert np.median([np.corrcoef(redraw(strokes[i], rng, polygonal).ravel(), images[i].ravel())[0, 1] for i in range(100)]) > 0.6


def test_retraced_digits_keep_their_shape_with_pens_from_fine_to_marker(test_set, mlp):
    images, labels = test_set
    rng = np.random.default_rng(0)
    retraced = np.stack([retrace(image, rng) for image in images[:200]])
    assert retraced.shape == (200, 28, 28) and retraced.dtype == np.uint8
    correlations = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(retraced, images[:200])]
    assert np.median(correlations) > 0.6 and max(correlations) < 0.999  # Alike, never the same.
    # The same digit, traced again and again: as the app frames them, the pens range from
    # MNIST's own width to a marker's, the ink's area growing by more than half.
    ink = [(retrace(images[0], rng) > 128).sum() for _ in range(30)]
    assert max(ink) > 1.5 * min(ink)
    # Still the digit it was: the dense network reads them nearly as well as the originals.
    read = mlp.probabilities(retraced / np.float32(255)).argmax(axis=1)
    assert np.mean(read == labels[:200]) > 0.95


def test_batches_are_repeatable_and_new_every_epoch(test_set):
    images, labels = test_set
    make = lambda seed: WriterBatches(images[:300], labels[:300], 64, Augmentation(), seed)
    first, again, other = make(1), make(1), make(2)
    x, y = first[0]
    assert x.shape == (64, 28, 28) and y.shape == (64, 10) and len(first) == 5
    np.testing.assert_array_equal(x, again[0][0])
    assert not np.array_equal(x, other[0][0])
    assert (y.sum(axis=1) == 1).all()
    first.on_epoch_end()
    assert not np.array_equal(first[0][0], x)


def test_teacher_probabilities_are_mixed_into_the_labels(test_set):
    images, labels = test_set
    uniform = np.full((64, 10), 0.1, np.float32)
    batches = WriterBatches(images[:64], labels[:64], 64, NONE, 1, teacher=uniform, teacher_share=0.7, temperature=2.0)
    _, targets = batches[0]
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-6)
    chosen = batches._order[:64]
    np.testing.assert_allclose(targets[np.arange(64), labels[chosen]], 0.3 + 0.07, atol=1e-6)
    # A confident teacher, softened by the temperature, keeps the label on top.
    sure = np.eye(10, dtype=np.float32)[labels[:64]] * 0.91 + 0.01
    _, targets = WriterBatches(images[:64], labels[:64], 64, NONE, 1, teacher=sure, teacher_share=0.7, temperature=2.0)[0]
    assert (targets.argmax(axis=1) == labels[chosen]).all()


def test_thinning_leaves_one_pixel_centre_lines_that_keep_loops_closed():
    from digitrec.drawing import thin

    bar = np.zeros((30, 80), bool)
    bar[10:19, 10:70] = True  # A stroke 9 pixels thick.
    line = thin(bar)
    assert line[:, 20:60].sum(axis=0).tolist() == [1] * 40
    assert set(np.flatnonzero(line[:, 40])) == {14}  # Its middle row.
    ring = cv2.circle(np.zeros((60, 60), np.uint8), (30, 30), 20, 1, 5).astype(bool)
    loop = thin(ring)
    assert loop.sum() < ring.sum() / 4
    # One stroke still, and still a loop: the inside stays apart from the outside.
    assert cv2.connectedComponents(loop.astype(np.uint8), connectivity=8)[0] - 1 == 1
    assert cv2.connectedComponents((~loop).astype(np.uint8), connectivity=4)[0] - 1 == 2
