"""A trained model exported for other runtimes: ONNX (onnxruntime, in a browser with
onnxruntime-web) and LiteRT (Android, iOS, microcontrollers), each with a JSON card saying
what the model takes and gives."""

import datetime
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from digitrec import models
from digitrec.errors import ModelFileError
from digitrec.labels import classes_for
from digitrec.paths import WEB_MODELS_DIR

# Each format's file suffix.
FORMATS = {"onnx": ".onnx", "litert": ".tflite"}
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
# What both formats take and give, for the card.
INPUT = {
    "name": INPUT_NAME,
    "shape": ["batch", 28, 28],
    "dtype": "float32",
    "scaling": "white digit on black, 0.0 to 1.0, fitted in 20x20 and centred by mass in 28x28: "
    "what digitrec.preprocess returns",
}
def output(classes):
    """What a classifier's export gives: one probability per label."""
    return {"name": OUTPUT_NAME, "shape": ["batch", len(classes)], "dtype": "float32", "meaning": "probability of each label, summing to 1"}

# The number reader's verifier takes a run of ink at its line's scale, and gives one
# probability.
VERIFIER_INPUT = {
    **INPUT,
    "scaling": "white ink on black, 0.0 to 1.0, a run of pieces of a number at its line's scale (a digit "
    "as tall as the line 20 pixels tall), centred: what digitrec.verifier.as_the_verifier_sees returns",
}
VERIFIER_OUTPUT = {"name": OUTPUT_NAME, "shape": ["batch", 1], "dtype": "float32", "meaning": "probability that the image is one whole digit"}
# Its pair reader takes one stroke that may be two touching digits, and gives a probability
# for each pair and one for none.
PAIRS_INPUT = {
    **INPUT,
    "scaling": "white ink on black, 0.0 to 1.0, one stroke of a number fitted in 26x54 pixels, centred by "
    "its box, peak 1.0: what digitrec.pairs.as_the_pair_reader_sees returns",
}
PAIRS_OUTPUT = {
    "name": OUTPUT_NAME, "shape": ["batch", 101], "dtype": "float32",
    "meaning": "probability of each pair of digits (10 * left + right, 0 to 99), then of no pair",
}


def _reader_helpers():
    """The number reader's own networks, which are no recognisers: {name: (path, input, output)}."""
    from digitrec.pairs import PAIRS_PATH
    from digitrec.verifier import VERIFIER_PATH

    return {"verifier": (VERIFIER_PATH, VERIFIER_INPUT, VERIFIER_OUTPUT), "pairs": (PAIRS_PATH, PAIRS_INPUT, PAIRS_OUTPUT)}


def export(model, format, out_dir):
    """Write `model` ("mlp", "cnn", "alnum", the number reader's "verifier" or "pairs", or a
    .keras path) as `out_dir/<name>.onnx` or `.tflite`, with
    its card beside it as `<name>.onnx.json` or `.tflite.json`; return the model file's path."""
    import keras
    import tensorflow as tf

    if format not in FORMATS:
        raise ValueError(f"Unknown export format {format!r}; choose one of {', '.join(FORMATS)}.")
    helper = _reader_helpers().get(model)
    if helper:
        source, network = helper[0], keras.models.load_model(helper[0], safe_mode=True)
    else:
        source, network = models.model_path(model), models.load(model)
    classes = None if helper else classes_for(network.output_shape[-1])
    out = Path(out_dir) / f"{source.stem}{FORMATS[format]}"
    out.parent.mkdir(parents=True, exist_ok=True)
    signature = [tf.TensorSpec((None, *network.input_shape[1:]), tf.float32, name=INPUT_NAME)]
    # Keras's own exporters: ONNX through tf2onnx, LiteRT through TensorFlow's converter.
    with warnings.catch_warnings():
        # Keras's tf2onnx shim asks NumPy for `np.object`, which warns on every export.
        warnings.simplefilter("ignore", FutureWarning)
        network.export(str(out), format=format, input_signature=signature, verbose=False)
    tools = {"tensorflow": tf.__version__, "keras": keras.__version__}
    if format == "onnx":
        tools.update(_name_onnx_ends(out))
    card = {
        "name": source.stem,
        "format": format,
        "file": out.name,
        "bytes": out.stat().st_size,
        # The shape the network itself takes, as its signature above: the pair reader's is wider.
        "input": {**(helper[1] if helper else INPUT), "shape": ["batch", *network.input_shape[1:]]},
        "output": helper[2] if helper else output(classes),
        "labels": None if helper else list(classes),
        "source": models.describe(source),
        "exported": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tools": tools,
    }
    card_path(out).write_text(json.dumps(card, indent=2) + "\n")
    return out


def onnx_twin(source):
    """The ONNX export of the .keras file `source`, beside it or in web/models/, whose card
    says it was exported from exactly these bytes; None when there is none (a model trained
    since, or never exported)."""
    source = Path(source)
    digest = None
    for candidate in (source.with_suffix(".onnx"), WEB_MODELS_DIR / f"{source.stem}.onnx"):
        if not (candidate.is_file() and card_path(candidate).is_file()):
            continue
        digest = digest or hashlib.sha256(source.read_bytes()).hexdigest()
        if json.loads(card_path(candidate).read_text()).get("source", {}).get("sha256") == digest:
            return candidate
    return None


def runner(source):
    """The `ExportedModel` of the .keras file `source` (its `onnx_twin`), to run in its place;
    None when it has none, or when DIGITREC_RUNTIME=tensorflow asks for Keras itself."""
    if os.environ.get("DIGITREC_RUNTIME") == "tensorflow":
        return None
    twin = onnx_twin(source)
    return ExportedModel(twin) if twin else None


def forward(source):
    """A function from (N, *shape) float inputs, the shape the .keras network `source` takes
    (a helper of the reader's, not a recogniser), to its outputs: its ONNX twin where there
    is one, Keras's compiled call otherwise; traced on first use here, not on a user's first
    answer."""
    exported = runner(source)
    if exported is not None:
        run, shape = exported.probabilities, exported.input_shape
    else:
        import keras
        import tensorflow as tf

        network = keras.models.load_model(source, safe_mode=True)
        shape = tuple(network.input_shape[1:])
        call = tf.function(
            lambda batch: network(batch, training=False),
            input_signature=[tf.TensorSpec((None, *shape), tf.float32)],
        )
        run = lambda batch: call(batch).numpy()
    outputs = lambda images: run(np.asarray(images, np.float32).reshape(-1, *shape))
    outputs(np.zeros((1, *shape)))
    return outputs


def card_path(path):
    """The card beside an exported model: one per format, so both can share a folder."""
    return Path(f"{path}.json")


def _name_onnx_ends(path):
    """Give the ONNX graph's output and batch dimension plain names, for other programs;
    return the converter's version and the operator set the graph uses, for the card."""
    import onnx
    import tf2onnx

    graph_model = onnx.load(path)
    graph = graph_model.graph
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [OUTPUT_NAME if name == old else name for name in node.output]
    graph.output[0].name = OUTPUT_NAME
    for end in (graph.input[0], graph.output[0]):
        end.type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.checker.check_model(graph_model)
    onnx.save(graph_model, path)
    opset = max(entry.version for entry in graph_model.opset_import if entry.domain in ("", "ai.onnx"))
    return {"tf2onnx": tf2onnx.__version__, "onnx_opset": opset}


class ExportedModel:
    """An exported model run by its own runtime, onnxruntime or the LiteRT interpreter, with
    no TensorFlow: `.probabilities(batch)` as a `Recognizer`'s, on preprocessed digits."""

    def __init__(self, path):
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"Exported model {path} does not exist; write it with `python -m digitrec export`.")
        self.path = path
        self.card = json.loads(card_path(path).read_text()) if card_path(path).is_file() else {}
        # One image's shape: a recogniser's 28x28, or what a helper of the reader's takes.
        self.input_shape = tuple(self.card.get("input", INPUT)["shape"][1:])
        if path.suffix == ".onnx":
            import onnxruntime

            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
            self._run = lambda batch: session.run(None, {name: batch})[0]
        elif path.suffix == ".tflite":
            from ai_edge_litert.interpreter import Interpreter

            runner = Interpreter(model_path=str(path)).get_signature_runner()
            self._run = lambda batch: next(iter(runner(**{INPUT_NAME: batch}).values()))
        else:
            raise ModelFileError(f"{path} is neither an .onnx nor a .tflite model.")

    def probabilities(self, batch):
        """(N, classes) probabilities for a batch of (N, 28, 28) preprocessed images (or of
        the inputs a helper of the reader's takes)."""
        return np.asarray(self._run(np.asarray(batch, np.float32).reshape(-1, *self.input_shape)))
