"""The fourth stage, for text: capital or small, for the letters whose two cases have one shape.

Framed alone as MNIST frames a digit, a "c" and a "C" are the same image: only the line the
writer wrote on tells them apart. On a line that holds both tall characters and short ones
(the x-height of "a", "e", "n"), such a letter about as tall as the tall ones is a capital,
and one about as short as the short ones a small letter. On a line of one height ("OX",
"ox") there is nothing to compare with, and the model's answer stands.
"""

import numpy as np

from digitrec.prediction import Prediction

# Letters that look the same in both cases, but for their height; each small one sits on the
# baseline with neither an ascender nor a descender.
SAME_SHAPE = "cosuvwxz"
# A character is short when it is at most this share of the line's tall characters' height.
SHORT = 0.75


def with_case(characters, boxes, height):
    """`characters` (a `Prediction` each, with their page `boxes`) with the case of each
    same-shaped letter set by its height on the line the tall characters are `height` of."""
    heights = np.array([bottom - top for _, top, _, bottom in boxes], float)
    short = heights <= SHORT * height
    if short.all() or not short.any():
        return characters
    small_height = float(np.median(heights[short]))
    cased = []
    for prediction, tall in zip(characters, heights):
        label = prediction.label
        if label.lower() in SAME_SHAPE:
            # Nearer the tall characters' height than the short ones': a capital.
            wanted = label.upper() if abs(tall - height) < abs(tall - small_height) else label.lower()
            prediction = _as(prediction, wanted)
        cased.append(prediction)
    return cased


def _as(prediction, label):
    """The prediction with `label` taking its case twin's probability as well."""
    if label == prediction.label:
        return prediction
    classes = prediction.classes
    probabilities = prediction.probabilities.copy()
    twin = classes.index(prediction.label)
    probabilities[classes.index(label)] += probabilities[twin]
    probabilities[twin] = 0.0
    return Prediction.of(probabilities, prediction.processed, classes)
