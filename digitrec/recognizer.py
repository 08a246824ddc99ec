"""Recognizing digits in images with a trained model."""

import functools

import numpy as np

from digitrec.explaining import Explainer
from digitrec.labels import DIGITS, classes_for
from digitrec.prediction import Prediction
from digitrec.preprocessing import preprocess

# Images are run through the network this many at a time in `predict_batch`.
BATCH_SIZE = 1024


class Recognizer:
    """A trained network with the preprocessing that turns people's images into its input."""

    def __init__(self, network, name, card=None, exported=None):
        self.network = network
        self.name = name
        self.card = card or {}
        # What the outputs mean: the 10 digits, or the letters model's digits and letters.
        self.classes = classes_for(network.output_shape[-1])
        # Letters keep the dot over an i or a j, which a digit's preprocessing drops as a speck.
        self.dots = self.classes != DIGITS
        self._input_shape = tuple(network.input_shape[1:])
        # The same network exported to ONNX, when it is, runs in onnxruntime: on these 2-core
        # machines a single image through the CNN in 0.16 ms instead of 1.2, and 28 (a number's
        # candidate digits) in 4.4 ms instead of 10. Gradients (explanations) stay in Keras.
        self.runtime = "onnxruntime" if exported is not None else "tensorflow"
        if exported is not None:
            self._run_many = self._run_one = exported.probabilities
        else:
            self._run_many, self._run_one = self._tensorflow(network)
        # The first calls trace and compile; pay for them now, not on a user's request.
        self.probabilities(np.zeros((1, 28, 28), np.float32))
        self.probabilities(np.zeros((2, 28, 28), np.float32))
        self._explainer = None

    def _tensorflow(self, network):
        """The network's calls for a batch and for one image, as TensorFlow graphs."""
        import tensorflow as tf

        # A graph with a fixed signature runs a single image in a fraction of a millisecond,
        # where calling the model eagerly takes milliseconds and `model.predict` tens of them.
        # One image at a time, as the app asks, the graph is also compiled whole by XLA for
        # its one shape: a quarter faster again for the CNN.
        call = lambda batch: network(batch, training=False)
        spec = lambda size: [tf.TensorSpec((size, *self._input_shape), tf.float32)]
        many = tf.function(call, input_signature=spec(None))
        one = tf.function(call, input_signature=spec(1), jit_compile=True)
        return (lambda batch: many(batch).numpy()), (lambda batch: one(batch).numpy())

    @property
    def version(self):
        """Which training of the model this is: the date on its card."""
        return self.card.get("date", "unknown")

    def __repr__(self):
        accuracy = self.card.get("test_accuracy")
        return f"Recognizer({self.name!r}, test_accuracy={accuracy})"

    def probabilities(self, batch):
        """Class probabilities, (N, classes), for preprocessed (N, 28, 28) images."""
        batch = np.asarray(batch, np.float32).reshape((-1, *self._input_shape))
        if len(batch) == 1:
            return self._run_one(batch)
        chunks = [self._run_many(batch[start : start + BATCH_SIZE]) for start in range(0, len(batch), BATCH_SIZE)]
        return np.concatenate(chunks) if chunks else np.zeros((0, len(self.classes)), np.float32)

    def predict(self, image):
        """Preprocess one image and return the model's `Prediction` for it."""
        processed = preprocess(image, self.dots)
        return Prediction.of(self.probabilities(processed[None])[0], processed, self.classes)

    def predict_batch(self, images, return_exceptions=False):
        """Predict every image of a sequence (or of an array's first axis), in batches.

        One bad image does not cost the others their answers: with `return_exceptions`, the
        list holds, for each image, its `Prediction` or the `ValueError` it met (as
        `asyncio.gather` does); without, the first such error is raised, naming the image's
        index. The good images go through the network in one batched call either way.
        """
        results = []
        for index, image in enumerate(images):
            try:
                results.append(preprocess(image, self.dots))
            except ValueError as error:
                if not return_exceptions:
                    raise type(error)(f"Image {index}: {error}") from error
                results.append(error)
        good = [index for index, result in enumerate(results) if not isinstance(result, ValueError)]
        if good:
            processed = np.stack([results[index] for index in good])
            for index, p, x in zip(good, self.probabilities(processed), processed):
                results[index] = Prediction.of(p, x, self.classes)
        return results

    def explain(self, image, target=None, versus=None):
        """Why the model answers what it does for `image`: an `Explanation` with the usual
        `.prediction`, the `.attribution` of each pixel of the 28x28 it saw to the `target`
        digit (the answer unless given) and the `.contrast` of `target` against `versus`
        (the most probable other digit unless given)."""
        return self.explain_prediction(self.predict(image), target, versus)

    def explain_prediction(self, prediction, target=None, versus=None):
        """`explain` for an image already predicted, without preprocessing it again."""
        return self.explainer().explain(prediction, target, versus)

    def explainer(self):
        """The network's `Explainer`, built on first use: most callers never explain."""
        if self._explainer is None:
            self._explainer = Explainer(self.network)
        return self._explainer

    def read_number(self, image):
        """Find every digit in `image` and read them left to right: a `NumberReading` with
        `.text` ("2026"), `.digits` (a `Prediction` each) and `.boxes` (in the image's pixels)."""
        from digitrec.numbers import read_number

        return read_number(self, image)

    def read_text(self, image):
        """Find every character in `image` and read them left to right: a `TextReading` with
        `.text` ("A7B"), `.characters` (a `Prediction` each) and `.boxes`. Meant for the
        letters model (`load_recognizer("alnum")`); a digit model reads digits alone."""
        from digitrec.numbers import read_text

        return read_text(self, image)


def load_recognizer(model=None):
    """Load "mlp", "cnn", "alnum" (digits and letters) or a `.keras` path; with no argument,
    the best digit model shipped."""
    from digitrec import exporting, models
    from digitrec.errors import ModelFileError

    if model is None:
        available = models.shipped()
        if not available:
            raise ModelFileError(
                f"No model is shipped in {models.model_path('mlp').parent}; train one with "
                "`python -m digitrec train`."
            )
        model = available[0]
    if not isinstance(model, str) and not hasattr(model, "__fspath__"):
        raise ValueError(
            f"load_recognizer takes 'mlp', 'cnn', 'alnum' or a path to a .keras file, not {model!r}."
        )
    path = models.model_path(model)
    name = str(model) if str(model) in (*models.SHIPPED, models.ALNUM) else path.stem
    return Recognizer(models.load(model), name, models.read_card(path), exporting.runner(path))


def load_shipped():
    """Every digit model shipped in models/, best first, then the letters model if shipped."""
    from digitrec import models

    letters = [models.ALNUM] if models.model_path(models.ALNUM).is_file() else []
    return [load_recognizer(name) for name in [*models.shipped(), *letters]]


@functools.cache
def default_recognizer():
    """The best shipped model, loaded once and shared by `predict_digit` and the app."""
    return load_recognizer()


def predict_digit(image):
    """The user's function: label confidences for `gr.Label` and the predicted digit as text
    ("4 or 9?" when the model is unsure)."""
    prediction = default_recognizer().predict(image)
    return prediction.confidences(), prediction.text()
