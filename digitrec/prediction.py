"""What a model answers for one image: the digit, how sure it is, and the image it saw."""

from dataclasses import dataclass

import numpy as np

# Below this top probability an answer is flagged as unsure and names the runner-up: the
# second class then holds a real share, as in a 4 that could be a 9.
UNSURE_BELOW = 0.7


@dataclass(frozen=True)
class Prediction:
    digit: int  # The most probable class.
    confidence: float  # Its probability.
    probabilities: np.ndarray  # All 10, indexed by digit.
    processed: np.ndarray  # The (28, 28) image the model saw.

    @classmethod
    def of(cls, probabilities, processed):
        """The prediction that a network's (10,) probabilities for `processed` make."""
        digit = int(np.argmax(probabilities))
        return cls(digit, float(probabilities[digit]), probabilities, processed)

    @property
    def unsure(self):
        return self.confidence < UNSURE_BELOW

    @property
    def runner_up(self):
        """The second most probable digit."""
        return int(np.argsort(self.probabilities)[-2])

    def text(self):
        """The answer for a person: "7", or "4 or 9?" when the model hesitates."""
        return f"{self.digit} or {self.runner_up}?" if self.unsure else str(self.digit)

    def label(self):
        """The probabilities as `gr.Label` takes them: {"0": p0, ..., "9": p9}."""
        return {str(digit): float(p) for digit, p in enumerate(self.probabilities)}

    def record(self):
        """The answer as JSON takes it, as the command line and the HTTP API give it."""
        return {
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "unsure": self.unsure,
            "probabilities": [round(float(p), 6) for p in self.probabilities],
        }
