"""MNIST digits redrawn with other pens: their centre line traced with a round pen of any
width, as a sketchpad's brush, a marker or a fine pen would draw them.

The robustness benchmark draws MNIST's test digits this way.
"""

import cv2
import numpy as np


def thin(mask):
    """Zhang-Suen thinning of a binary mask to one-pixel-wide centre lines."""
    image = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = image
            # The eight neighbours, clockwise from the top: P2 .. P9.
            n = [
                p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
                p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2],
            ]
            count = sum(n)
            transitions = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)) for i in range(8))
            if step == 0:
                side = (n[0] * n[2] * n[4] == 0) & (n[2] * n[4] * n[6] == 0)
            else:
                side = (n[0] * n[2] * n[6] == 0) & (n[0] * n[4] * n[6] == 0)
            remove = (p[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if remove.any():
                image[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            return image[1:-1, 1:-1].astype(bool)


def centre_line(digit, height):
    """The digit's centre line as a mask, scaled so the 28x28 frame is `height` tall, and
    its filled parts: where the writer inked a loop shut, the ink is far wider than the pen,
    and its centre line alone would draw a 9 as a 7."""
    large = cv2.resize(digit, (112, 112), interpolation=cv2.INTER_CUBIC)
    mask = (large > 110).astype(np.uint8)
    skeleton = thin(mask)
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    pen_radius = float(np.median(depth[skeleton])) if skeleton.any() else 0.0
    size = 2 * round(1.8 * pen_radius) + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    filled = cv2.morphologyEx(mask, cv2.MORPH_OPEN, disk) if pen_radius >= 1 else np.zeros_like(mask)
    scale = lambda part: cv2.resize(part.astype(np.float32), (height, height), interpolation=cv2.INTER_LINEAR)
    return scale(skeleton) > 0, scale(filled) > 0.5


def pen(digit, height, radius):
    """The digit redrawn with a round pen of `radius` pixels; float ink in [0, 1], anti-aliased."""
    line, filled = centre_line(digit, height)
    size = 2 * radius + 1
    brush = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    ink = (cv2.dilate(line.astype(np.uint8), brush) | filled).astype(np.float32)
    return cv2.GaussianBlur(ink, (3, 3), 0)
