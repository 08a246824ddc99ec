"""Writer variety for training, drawn afresh for every batch.

MNIST's 500 writers and UNIPEN's 181 training writers do not cover how people everywhere
write. Each training digit is transformed the way another writer, pen or scanner would have
made it: tilted and slanted, narrower or wider, wobbled by an elastic distortion, drawn with
a thinner or bolder pen, broken by a gap, blurred, or stretched to fill its box; the UNIPEN
digits are also redrawn from their pen strokes with other pen widths and with fewer tablet
points (polygonal strokes), and MNIST's, which have no strokes, along their centre line with
a pen from a fine one to a marker. Every result is framed as MNIST frames its digits (ink fitted in
20x20, centred by mass), the way the app's preprocessing frames every input.
"""

import math
from dataclasses import dataclass

import cv2
import keras
import numpy as np

from digitrec.drawing import pen as redrawn_with
from digitrec.preprocessing import CENTRE, fit_frame, preprocess

# Transforms run on a canvas of this side, with the digit drawn at SCALE times MNIST's size,
# so that rotating, slanting and a one-step change of pen width stay fine-grained.
CANVAS = 64
SCALE = 1.5
# The canvas's pixel coordinates, x and y, that an elastic distortion displaces.
GRID_Y, GRID_X = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float32)


@dataclass
class Augmentation:
    probability: float = 0.85  # Share of images transformed; the rest are shown as they are.
    rotation: float = 12.0  # Degrees, either way: a tilted page or hand.
    shear: float = 0.3  # Horizontal shear, either way: the writer's slant.
    aspect: float = 0.3  # Natural log of the width-to-height change, either way: narrow to wide.
    elastic: float = 1.2  # Pixels (of 28): the typical wobble of a smooth elastic distortion.
    elastic_share: float = 0.5  # Share of transformed images that are also distorted elastically.
    pen: float = 0.4  # Share drawn with a pen about a pixel thinner or bolder.
    broken: float = 0.05  # Share with a stroke broken by a gap, as a pen lifting or skipping does.
    blur: float = 0.15  # Share blurred, as an out-of-focus scan.
    noise: float = 0.1  # Share with uneven ink.
    stretch: float = 0.05  # Share stretched to fill their box, as some forms and scanners keep them.
    jitter: int = 1  # Pixels, either way, that the framed digit may sit off MNIST's centre.
    redraw: float = 0.5  # Share of pen-stroke digits redrawn with another pen width each epoch.
    polygonal: float = 0.4  # Share of redrawn digits that keep only every few tablet points.
    # Share of digits without pen strokes (MNIST's) traced along their centre line with a
    # round pen, from a fine one to a marker, each epoch.
    retrace: float = 0.0


NONE = Augmentation(probability=0.0, redraw=0.0)


def vary(image, rng, augmentation):
    """One uint8 (28, 28) MNIST-framed digit transformed as another writer would have made it,
    as a float32 (28, 28) image in [0, 1]."""
    if rng.random() >= augmentation.probability:
        return image.astype(np.float32) / 255.0
    a = augmentation
    angle = math.radians(rng.uniform(-a.rotation, a.rotation))
    shear = rng.uniform(-a.shear, a.shear)
    aspect = math.exp(rng.uniform(-a.aspect, a.aspect) / 2)
    # Scale about MNIST's centre of mass, slant, rotate, and put the centre in the canvas's.
    scale = np.diag([SCALE * aspect, SCALE / aspect])
    slant = np.array([[1.0, -shear], [0.0, 1.0]])
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    linear = turn @ slant @ scale
    offset = CANVAS / 2 - linear @ np.array([CENTRE, CENTRE])
    canvas = cv2.warpAffine(image, np.hstack([linear, offset[:, None]]), (CANVAS, CANVAS), flags=cv2.INTER_LINEAR)
    if rng.random() < a.elastic_share:
        canvas = _elastic(canvas, rng, a.elastic * SCALE)
    if rng.random() < a.pen:
        canvas = _other_pen(canvas, rng)
    if rng.random() < a.broken:
        canvas = _broken(canvas, rng)
    if rng.random() < a.blur:
        canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.5, 1.5))
    ink = canvas.astype(np.float32) / 255.0
    if rng.random() < a.noise:
        ink = ink * rng.uniform(0.6, 1.0, ink.shape).astype(np.float32)
    return frame(ink, rng, a)


def _elastic(canvas, rng, size):
    """A smooth random displacement: a coarse grid of random shifts, interpolated."""
    coarse = rng.normal(0.0, size, (2, 4, 4)).astype(np.float32)
    dx, dy = (cv2.resize(c, (CANVAS, CANVAS), interpolation=cv2.INTER_CUBIC) for c in coarse)
    return cv2.remap(canvas, GRID_X + dx, GRID_Y + dy, cv2.INTER_LINEAR)


def _other_pen(canvas, rng):
    """The strokes grown or worn by one step of about two thirds of a pixel (of 28)."""
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    if rng.random() < 0.6:
        return cv2.dilate(canvas, disk, iterations=int(rng.integers(1, 3)))
    thinner = cv2.erode(canvas, disk)
    # A thin pen's digit worn further would lose whole strokes: keep it as it was.
    return thinner if thinner.sum() > 0.5 * canvas.sum() else canvas


def _broken(canvas, rng):
    """A gap cut across a stroke, at a random ink pixel and angle."""
    rows, columns = np.nonzero(canvas > 128)
    if len(rows) == 0:
        return canvas
    pick = rng.integers(len(rows))
    angle = rng.uniform(0, math.pi)
    reach = 6
    dx, dy = reach * math.cos(angle), reach * math.sin(angle)
    centre = columns[pick], rows[pick]
    start = (round(centre[0] - dx), round(centre[1] - dy))
    end = (round(centre[0] + dx), round(centre[1] + dy))
    return cv2.line(canvas.copy(), start, end, 0, thickness=int(rng.integers(2, 4)))


def frame(ink, rng, augmentation):
    """Frame float ink as MNIST does; sometimes stretched to fill the box, sometimes a pixel
    off centre."""
    mask = (ink > 0.1).astype(np.uint8)
    left, top, width, height = cv2.boundingRect(mask)
    if width == 0:
        return np.zeros((28, 28), np.float32)
    crop = ink[top : top + height, left : left + width]
    if rng.random() < augmentation.stretch:
        # Stretched towards a square; a narrow 1 at most twice as wide, as it would stay a bar.
        side = max(width, height)
        crop = cv2.resize(crop, (min(side, 2 * width), min(side, 2 * height)), interpolation=cv2.INTER_LINEAR)
    framed = fit_frame(crop)
    shift = augmentation.jitter
    if shift:
        dy, dx = rng.integers(-shift, shift + 1, 2)
        framed = np.roll(framed, (dy, dx), axis=(0, 1))
    return framed / max(float(framed.max()), 1e-6)


def redraw(strokes, rng, augmentation):
    """A digit's pen strokes (x, y in mm) drawn again with a round pen of a random width, at
    times through fewer points, framed as MNIST's: uint8 (28, 28)."""
    if rng.random() < augmentation.polygonal:
        keep = int(rng.integers(2, 6))
        strokes = [np.concatenate([s[:-1:keep], s[-1:]]) if len(s) > 2 else s for s in strokes]
    points = np.concatenate(strokes)
    low = points.min(axis=0)
    longer = float((points.max(axis=0) - low).max())
    if longer <= 0:
        return None
    # The pen, against the digit's longer side: a fine pen (0.06) to a marker (0.2).
    pen = rng.uniform(0.06, 0.2)
    side = 80.0
    thickness = max(1, round(pen * side))
    margin = thickness + 2
    extent = np.ceil((points.max(axis=0) - low) / longer * side).astype(int) + 2 * margin
    canvas = np.zeros((extent[1] + 1, extent[0] + 1), np.uint8)
    shift = 4  # Fixed-point bits, for drawing between pixels.
    for stroke in strokes:
        fixed = np.round(((stroke - low) / longer * side + margin) * (1 << shift)).astype(np.int32)
        if len(fixed) == 1 or np.all(fixed == fixed[0]):
            cv2.circle(canvas, tuple(int(v) for v in fixed[0]), thickness << shift >> 1, 255, -1, cv2.LINE_AA, shift)
        else:
            cv2.polylines(canvas, [fixed.reshape(-1, 1, 2)], False, 255, thickness, cv2.LINE_AA, shift)
    left, top, width, height = cv2.boundingRect(canvas)
    framed = fit_frame(canvas[top : top + height, left : left + width].astype(np.float32) / 255.0)
    return (framed / max(float(framed.max()), 1e-6) * 255).round().astype(np.uint8)


def retrace(image, rng):
    """An MNIST-framed uint8 digit traced along its centre line with a round pen from a hair's
    width to a marker's (1 % to 20 % of the digit's height), as the app's preprocessing
    frames that drawing: uint8 (28, 28)."""
    side = 4 * 28  # The digit about 80 pixels tall, where the centre line is found.
    radius = round(rng.uniform(0.005, 0.1) * 80)
    drawn = (redrawn_with(image, side, radius) * 255).round().astype(np.uint8)
    try:
        return (preprocess(drawn) * 255).round().astype(np.uint8)
    except ValueError:  # Too little of it left to be read as a digit: keep it as it was.
        return image


class WriterBatches(keras.utils.PyDataset):
    """Shuffled training batches of (images, one-hot labels over `classes`), every image
    varied afresh.

    `strokes`, when given, holds for each image its pen strokes or None. `teacher`, when
    given, holds for each image a trained model's probabilities, which are mixed into its
    labels (distillation): `(1 - teacher_share) * one_hot + teacher_share * teacher ** (1 /
    temperature)` (normalised), so that the student learns how alike the teacher finds the
    digits. They are the teacher's answers for the images as they are, computed once: the
    digit a varied image shows is the same, and a teacher run on every varied batch would
    cost the dense network's training ten times its own work.
    """

    def __init__(self, images, labels, batch_size, augmentation, seed, strokes=None,
                 teacher=None, teacher_share=0.0, temperature=1.0, classes=10, **kwargs):
        super().__init__(**kwargs)
        self.images, self.labels = images, np.asarray(labels)
        self.batch_size, self.augmentation, self.seed = batch_size, augmentation, seed
        self.strokes = strokes
        self.targets = keras.utils.to_categorical(self.labels, classes).astype(np.float32)
        if teacher is not None and teacher_share > 0:
            soft = np.asarray(teacher, np.float64) ** (1.0 / temperature)
            soft /= soft.sum(axis=1, keepdims=True)
            self.targets = ((1 - teacher_share) * self.targets + teacher_share * soft).astype(np.float32)
        self.epoch = 0
        self._order = np.random.default_rng([seed, 0]).permutation(len(images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        chosen = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        batch = np.stack([self._one(i, rng) for i in chosen])
        return batch, self.targets[chosen]

    def _one(self, index, rng):
        image = self.images[index]
        strokes = self.strokes[index] if self.strokes is not None else None
        if strokes is not None and rng.random() < self.augmentation.redraw:
            image = redraw(strokes, rng, self.augmentation)
            if image is None:
                image = self.images[index]
        elif strokes is None and rng.random() < self.augmentation.retrace:
            image = retrace(image, rng)
        return vary(image, rng, self.augmentation)

    def on_epoch_end(self):
        self.epoch += 1
        self._order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))
