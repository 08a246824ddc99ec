"""Write the app's example images: one MNIST test digit per class, as a person would upload it.

The digits are the first of each class in the test set, except the 3 (index 18), an unusual
3 that the models read as 3 or 8 about equally once it is rescaled; index 30 is taken instead.

Each is drawn dark on a white page at 280x280, the way a scan or a drawing app would save it,
so the examples also show off the preprocessing. Run: python examples/make_examples.py
"""

import cv2
import numpy as np

from digitrec import load_mnist
from digitrec.paths import EXAMPLES_DIR


def main():
    _, (images, labels) = load_mnist()
    for digit in range(10):
        index = 30 if digit == 3 else int(np.flatnonzero(labels == digit)[0])
        page = 255 - cv2.resize(images[index], (280, 280), interpolation=cv2.INTER_CUBIC)
        path = EXAMPLES_DIR / f"digit_{digit}_test_{index}.png"
        cv2.imwrite(str(path), page)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
