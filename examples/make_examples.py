"""Write the app's example images: one MNIST test digit per class, as a person would upload it.

The digits are the first of each class in the test set, except two unusual ones: the 3
(index 18), that the models read as 3 or 8 about equally once it is rescaled, and the 5
(index 8), written with a loop at its foot like a 6 (the CNN reads it at 84%, dense networks
as "5 or 6?"); indices 30 and 15 are taken instead.

Each is drawn dark on a white page at 280x280, the way a scan or a drawing app would save it,
so the examples also show off the preprocessing. numbers/2026.png writes a year with the
first test images of 2, 0 and 6 (and the second 2), as the number benchmark composes them.
Run: python examples/make_examples.py
"""

import cv2
import numpy as np

from digitrec import load_mnist
from digitrec.bench import compose_number
from digitrec.paths import EXAMPLES_DIR

# The test image shown for these digits instead of their first.
INSTEAD = {3: 30, 5: 15}


def main():
    _, (images, labels) = load_mnist()
    for digit in range(10):
        index = INSTEAD.get(digit, int(np.flatnonzero(labels == digit)[0]))
        page = 255 - cv2.resize(images[index], (280, 280), interpolation=cv2.INTER_CUBIC)
        path = EXAMPLES_DIR / f"digit_{digit}_test_{index}.png"
        cv2.imwrite(str(path), page)
        print(f"wrote {path}")

    twos, zeros, sixes = (np.flatnonzero(labels == digit) for digit in (2, 0, 6))
    page = compose_number(images[[twos[0], zeros[0], twos[1], sixes[0]]], np.random.default_rng(2026))
    path = EXAMPLES_DIR / "numbers" / "2026.png"
    path.parent.mkdir(exist_ok=True)
    cv2.imwrite(str(path), 255 - page)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
