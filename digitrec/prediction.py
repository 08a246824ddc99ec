"""What a model answers for one image: the digit (or letter), how sure it is, and the image it
saw."""

from dataclasses import dataclass

import numpy as np

from digitrec.labels import DIGITS

# Below this top probability an answer is flagged as unsure and names the runner-up: the
# second class then holds a real share, as in a 4 that could be a 9.
UNSURE_BELOW = 0.7


@dataclass(frozen=True)
class Prediction:
    digit: int | None  # The most probable class, as an int; None when it is a letter.
    confidence: float  # Its probability.
    probabilities: np.ndarray  # One per class: the 10 digits, or the letters model's 62.
    processed: np.ndarray  # The (28, 28) image the model saw.
    classes: str = DIGITS  # The label of each probability, in order.

    @classmethod
    def of(cls, probabilities, processed, classes=DIGITS):
        """The prediction that a network's probabilities for `processed` make."""
        best = int(np.argmax(probabilities))
        label = classes[best]
        return cls(int(label) if label in DIGITS else None, float(probabilities[best]), probabilities, processed, classes)

    @property
    def label(self):
        """The answer as text: "7", or "a" and "Q" from the letters model."""
        return self.classes[int(np.argmax(self.probabilities))]

    @property
    def unsure(self):
        return self.confidence < UNSURE_BELOW

    @property
    def runner_up(self):
        """The index of the second most probable class (for digits, the digit itself)."""
        return int(np.argsort(self.probabilities)[-2])

    def text(self):
        """The answer for a person: "7", or "4 or 9?" when the model hesitates."""
        return f"{self.label} or {self.classes[self.runner_up]}?" if self.unsure else self.label

    def confidences(self, top=10):
        """The `top` most probable labels as `gr.Label` takes them: {"0": p0, ..., "9": p9}."""
        order = np.argsort(self.probabilities)[::-1][:top]
        return {self.classes[i]: float(self.probabilities[i]) for i in sorted(order)}

    def record(self):
        """The answer as JSON takes it, as the command line and the HTTP API give it."""
        record = {
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "unsure": self.unsure,
            "probabilities": [round(float(p), 6) for p in self.probabilities],
        }
        if self.classes != DIGITS:
            record.update(label=self.label, classes=self.classes)
        return record
