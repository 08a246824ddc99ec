"""The command line: python -m digitrec train | evaluate | predict | serve | export |
finetune | corrections."""

import argparse
import dataclasses
import json
import sys

from digitrec.errors import DatasetError, ModelFileError
from digitrec.labels import DIGITS

MODEL_HELP = '"mlp", "cnn", "alnum" (letters and digits) or a path to a .keras file'


def train_command(args):
    from digitrec import data, models
    from digitrec.evaluation import plot_history, save_figures
    from digitrec.training import TrainConfig, default_config, train

    if args.model in ("verifier", "pairs"):
        return train_reader_network_command(args)
    config = default_config(args.model, **_given(args, TrainConfig))
    print(config)
    out = args.out or models.model_path(config.model)
    result = train(config, data.load_mnist(args.mnist), out=out, verbose=2)
    card = result.card
    print(
        f"saved {out}: test accuracy {card['test_accuracy']:.2%}, loss {card['test_loss']:.4f}, "
        f"{card['epochs_run']} epochs (best {card['best_epoch']}) in {card['training_seconds']:.0f} s"
    )
    if "alnum_test" in card:
        print("test splits: " + ", ".join(f"{key} {value}" for key, value in card["alnum_test"].items()))
    if args.plots:
        for path in save_figures({"training_curves": plot_history(result.history)}, args.plots):
            print(f"wrote {path}")


def train_reader_network_command(args):
    """Train one of the number reader's own networks: the verifier or the pair reader."""
    from digitrec import data
    from digitrec.numbers import pair_training, verifier_training
    from digitrec.pairs import PAIRS_PATH
    from digitrec.verifier import VERIFIER_PATH

    module, config_class, path, summary = {
        "verifier": (
            verifier_training, verifier_training.VerifierConfig, VERIFIER_PATH,
            lambda card: f"{card['test_accuracy']:.2%} of {card['test_pieces']} runs cut from numbers of test digits told right",
        ),
        "pairs": (
            pair_training, pair_training.PairConfig, PAIRS_PATH,
            lambda card: f"of {card['test_strokes']} strokes from numbers of test digits, {card['test_pairs_read_right']:.2%} "
            f"of the touching pairs read right and {card['test_singles_read_as_no_pair']:.2%} of the others read as no pair",
        ),
    }[args.model]
    config = config_class(**_given(args, config_class))
    print(config)
    out = args.out or path
    card = module.train(config, data.load_mnist(args.mnist), args.unipen, out=out, verbose=2)
    print(f"saved {out}: {summary(card)}, drawn in {card['drawing_seconds']:.0f} s, trained in {card['training_seconds']:.0f} s")


def _given(args, config_class):
    """The flags given on the command line that set a field of `config_class`, but the model."""
    fields = {field.name for field in dataclasses.fields(config_class)} - {"model"}
    return {key: value for key, value in vars(args).items() if key in fields and value is not None}


def evaluate_command(args):
    from digitrec import data
    from digitrec.evaluation import all_figures, evaluate, save_figures
    from digitrec.recognizer import load_recognizer

    recognizer = load_recognizer(args.model)
    if recognizer.classes != DIGITS:
        return evaluate_letters(recognizer, data.load_mnist(args.mnist)[1], args.json, args.plots)
    _, (images, labels) = data.load_mnist(args.mnist)
    evaluation = evaluate(recognizer, images, labels, preprocess=args.preprocess)
    if args.json:
        print(json.dumps({"model": recognizer.name, "preprocess": args.preprocess, **evaluation.summary()}))
    else:
        print(f"model {recognizer.name}" + (", images through the app's preprocessing" if args.preprocess else ""))
        print(evaluation.report())
    if args.plots:
        figures = all_figures(evaluation, recognizer.card.get("history"))
        for path in save_figures(figures, args.plots):
            print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)


def evaluate_letters(recognizer, mnist_test, as_json, plots=None):
    """The letters model's figures on UNIPEN's validation and test writers and MNIST's test
    set; with `plots`, the picture of the worst pairs among the test writers' letters."""
    from digitrec import data
    from digitrec.evaluation import save_figures
    from digitrec.letters import alnum_report, plot_worst_pairs, unipen_letters

    run = recognizer.probabilities
    splits = {"validation": alnum_report(run, None, split="validation"), "test": alnum_report(run, mnist_test)}
    if as_json:
        print(json.dumps({"model": recognizer.name, **splits}))
        return
    print(f"model {recognizer.name}: each 28x28 image as it is")
    print(f"{'split':<10}  {'set':<15} {'images':>7}  figures")
    for split, report in splits.items():
        for name, figures in report.items():
            shown = "  ".join(f"{key} {value:.2%}" for key, value in figures.items() if key != "images")
            print(f"{split:<10}  {name:<15} {figures['images']:>7,}  {shown}")
    if plots:
        images, labels = unipen_letters("test")
        predicted = run(data.scale(images)).argmax(axis=1)
        for path in save_figures({"worst_pairs": plot_worst_pairs(images, labels, predicted)}, plots):
            print(f"wrote {path}", file=sys.stderr if as_json else sys.stdout)


def predict_command(args):
    from digitrec.recognizer import load_recognizer

    recognizer = load_recognizer(args.model)
    read = _read_text if args.text else _read_number if args.number else _read_digit
    failures = 0
    for file in args.files:
        try:
            record, line = read(recognizer, file)
        except ValueError as error:
            failures += 1
            if args.json:
                print(json.dumps({"file": file, "error": str(error)}))
            else:
                print(f"{file}: error: {error}", file=sys.stderr)
            continue
        print(json.dumps({"file": file, **record}) if args.json else f"{file}: {line}")
    return 1 if failures else 0


def _read_digit(recognizer, file):
    """The JSON record and the line of text for the digit in `file`."""
    prediction = recognizer.predict(file)
    return prediction.record(), f"{prediction.text()} ({prediction.confidence:.1%} sure)"


def _read_number(recognizer, file):
    """The JSON record and the line of text for the number in `file`."""
    reading = recognizer.read_number(file)
    sureness = ", ".join(f"{p.digit}: {p.confidence:.0%}" for p in reading.digits)
    return reading.record(), f"{reading.text} ({sureness})"


def _read_text(recognizer, file):
    """The JSON record and the line of text for the characters in `file`."""
    reading = recognizer.read_text(file)
    sureness = ", ".join(f"{p.label}: {p.confidence:.0%}" for p in reading.characters)
    return reading.record(), f"{reading.text} ({sureness})"


def serve_command(args):
    from digitrec.recognizer import load_recognizer, load_shipped
    from digitrec.server import serve

    auth = None
    if args.auth:
        user, colon, password = args.auth.partition(":")
        if not (user and colon and password):
            print("error: --auth takes USER:PASSWORD, both non-empty.", file=sys.stderr)
            return 2
        auth = (user, password)
    local = args.host in ("127.0.0.1", "localhost", "::1")
    if (args.share or not local) and not auth:
        print(
            "warning: the app will be reachable from other machines and has no login; "
            "anyone who reaches it can use it. Set one with --auth USER:PASSWORD.",
            file=sys.stderr,
        )
    recognizers = [load_recognizer(args.model)] if args.model else load_shipped()
    serve(recognizers, host=args.host, port=args.port, share=args.share, auth=auth, mcp=args.mcp)


def export_command(args):
    from digitrec.exporting import card_path, export

    for model in args.model or ["mlp", "cnn"]:
        for format in args.format or ["onnx", "litert"]:
            out = export(model, format, args.out)
            print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and its card {card_path(out).name}")


def open_store(url):
    """The corrections database at `url` (default: $DIGITREC_DB or the user's SQLite file);
    None, after saying why, when it cannot be opened."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from digitrec.corrections import CorrectionStore, default_url

    try:
        return CorrectionStore(url)
    except (SQLAlchemyError, ArgumentError) as error:
        print(f"error: cannot open the corrections database {url or default_url()}: {error}", file=sys.stderr)
        return None


def corrections_command(args):
    store = open_store(args.db)
    if store is None:
        return 2
    try:
        if args.action == "export":
            count = store.export(args.out)
            print(f"exported {count} corrections to {args.out} (images (N, 28, 28) uint8, labels (N,) int64)")
            return
        stats = store.stats()
        if args.json:
            print(json.dumps(stats))
            return
        print(f"{stats['total']} corrections in {store.engine.url.render_as_string(hide_password=True)}")
        print("per label: " + ", ".join(f"{digit}: {count}" for digit, count in enumerate(stats["per_label"])))
        print("per model: " + (", ".join(f"{name}: {count}" for name, count in stats["per_model"].items()) or "none"))
        print("\nthe model's answer (rows) against the right digit (columns)")
        print("      " + "".join(f"{digit:>6}" for digit in range(10)))
        for answer, row in enumerate(stats["confusion"]):
            print(f"{answer:>6}" + "".join(f"{count:>6}" for count in row))
    finally:
        store.close()


def finetune_command(args):
    from digitrec import data, models
    from digitrec.finetuning import FinetuneConfig, finetune, promote

    store = open_store(args.db)
    if store is None:
        return 2
    corrections = store.arrays()
    store.close()
    config = FinetuneConfig(**_given(args, FinetuneConfig), model=args.model)
    print(config)
    print(f"{len(corrections[1])} corrections")
    try:
        result = finetune(corrections, data.load_mnist(args.mnist), config)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(result.verdict)
    if not result.accepted:
        print("the model is not written: it would not be better, or it would forget MNIST")
        return 1
    out = args.out or models.MODELS_DIR / "finetuned" / f"{result.card['name']}-{result.card['date'][:19].replace(':', '')}.keras"
    models.save(result.network, out, result.card)
    print(f"saved {out} and its card")
    if args.promote:
        previous = promote(out, args.model)
        print(f"installed as the app's {args.model}; the previous one is kept as {previous} (copy it back to roll back)")


def parser():
    from digitrec.training import default_config
    from digitrec.numbers.pair_training import PairConfig
    from digitrec.numbers.verifier_training import VerifierConfig

    defaults, cnn = default_config("mlp"), default_config("cnn")

    def per_model(field):
        """Help text for a flag whose default depends on the model."""
        mlp_value, cnn_value = getattr(defaults, field), getattr(cnn, field)
        if mlp_value == cnn_value:
            return f"(default: {mlp_value})"
        return f"(default: {mlp_value} for mlp, {cnn_value} for cnn)"

    main = argparse.ArgumentParser(
        prog="python -m digitrec", description="Handwritten digit recognition on MNIST."
    )
    commands = main.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and save it with its card")
    train.add_argument("--model", default=defaults.model, choices=["mlp", "cnn", "alnum", "verifier", "pairs"], help="which network: the dense mlp, the cnn, the alnum cnn for letters and digits, or the number reader's one-digit verifier or touching-pair reader (default: %(default)s)")
    train.add_argument("--epochs", type=int, help=f"most epochs; early stopping may end sooner {per_model('epochs')}")
    train.add_argument("--batch-size", type=int, help=f"images per training step {per_model('batch_size')}")
    train.add_argument("--learning-rate", type=float, help=f"Adam's initial rate {per_model('learning_rate')}")
    train.add_argument("--patience", type=int, help=f"epochs without improvement before stopping {per_model('patience')}")
    train.add_argument("--seed", type=int, help=f"seeds weights, shuffling and augmentation {per_model('seed')}")
    train.add_argument("--init", metavar="MODEL", help=f"start from this trained model's weights ({MODEL_HELP}), with a shorter run from a lower rate (default: random weights)")
    train.add_argument("--learning-rate-decay", type=float, help=f"multiply the rate by this after every epoch; none halves it when validation stalls {per_model('learning_rate_decay')}")
    train.add_argument("--unipen", metavar="NPZ", help="UNIPEN unipen_digits.npz to train on beside MNIST, its strokes file next to it; '' for MNIST alone (default: $DIGITREC_UNIPEN)")
    train.add_argument("--teacher", metavar="MODEL", help=f"distil from this trained model's softened answers ({MODEL_HELP}; several separated by commas: their answers averaged) {per_model('teacher')}")
    train.add_argument("--teacher-share", type=float, help=f"share of the teacher's answers in each training digit's label {per_model('teacher_share')}")
    train.add_argument("--unipen-repeats", type=int, help=f"times each epoch shows UNIPEN's training digits {per_model('unipen_repeats')}")
    train.add_argument("--strategy", choices=["default", "mirrored", "multi-worker"], help="tf.distribute: one device, all local devices, or the workers in TF_CONFIG (default: default)")
    train.add_argument("--examples", type=int, help=f"verifier and pairs only: runs of pieces (strokes, for pairs) cut from numbers drawn to train on (default: {VerifierConfig.examples} and {PairConfig.examples})")
    train.add_argument("--head", type=int, help="cnn and alnum: width of the last convolution and dense layer (default: the --init model's, else 128 for cnn, 256 for alnum)")
    train.add_argument("--images", type=int, help="train on this many training images drawn at random, a quick look at a recipe (default: all)")
    train.add_argument("--out", help="where to save the model (default: models/MODEL.keras)")
    train.add_argument("--plots", metavar="DIR", help="write the training curves as PNG here (default: none)")

    evaluate = commands.add_parser("evaluate", help="measure a model on the 10,000 MNIST test images")
    evaluate.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    evaluate.add_argument("--preprocess", action="store_true", help="run each image through the app's preprocessing first")
    evaluate.add_argument("--plots", metavar="DIR", help="write the figures as PNG files here (default: none)")

    predict = commands.add_parser("predict", help="recognize the digit (or, with --model alnum, the character) in image files")
    predict.add_argument("--json", action="store_true", help="print one JSON object per file")
    predict.add_argument("--number", action="store_true", help="read every digit in the image, left to right, as one number")
    predict.add_argument("--text", action="store_true", help="read every character, left to right, as a word or code (with --model alnum)")
    predict.add_argument("files", nargs="+", metavar="FILE", help="image files (PNG, JPEG, ...)")

    serve = commands.add_parser("serve", help="run the Gradio app with its JSON API (/docs) beside it")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    serve.add_argument("--port", type=int, default=7860, help="port to listen on (default: %(default)s)")
    serve.add_argument("--share", action="store_true", help="ask Gradio for a public share link (needs internet)")
    serve.add_argument("--auth", metavar="USER:PASSWORD", help="ask visitors and API callers for this login (default: none)")
    serve.add_argument("--mcp", action="store_true", help="also serve recognition as an MCP tool at /gradio_api/mcp/ (default: off)")

    export = commands.add_parser("export", help="write a model as ONNX (browsers, onnxruntime) or LiteRT (phones), with a JSON card")
    export.add_argument("--model", action="append", help=f"{MODEL_HELP}; repeat for several (default: mlp and cnn)")
    export.add_argument("--format", action="append", choices=["onnx", "litert"], help="repeat for both (default: both)")
    export.add_argument("--out", default="out/export", metavar="DIR", help="folder to write MODEL.onnx / MODEL.tflite and MODEL.FORMAT.json in (default: %(default)s)")

    corrections = commands.add_parser("corrections", help="the corrections people saved: counts, or an export to train on")
    corrections.add_argument("action", choices=["stats", "export"], help="stats: counts per label and model, and answer against label; export: an .npz")
    corrections.add_argument("out", nargs="?", metavar="OUT.npz", help="export only: the file to write")
    corrections.add_argument("--db", metavar="URL", help="SQLAlchemy URL of the database (default: $DIGITREC_DB, else a SQLite file in the user's data directory)")
    corrections.add_argument("--json", action="store_true", help="stats only: print them as one JSON object")

    from digitrec.finetuning import FinetuneConfig

    tuning = FinetuneConfig()
    finetune = commands.add_parser("finetune", help="fine-tune a model on the saved corrections, kept only if it does better")
    finetune.add_argument("--model", default="mlp", choices=["mlp", "cnn"], help="the shipped model to start from (default: %(default)s)")
    finetune.add_argument("--out", help="where to write the new model and its card (default: models/finetuned/NAME-DATE.keras)")
    finetune.add_argument("--promote", action="store_true", help="install the new model as the app's default; the old one stays in models/previous/")
    finetune.add_argument("--db", metavar="URL", help="SQLAlchemy URL of the corrections database (default: $DIGITREC_DB, else the user's SQLite file)")
    finetune.add_argument("--replay", type=int, help=f"MNIST training images per correction (default: {tuning.replay})")
    finetune.add_argument("--held-out", type=float, help=f"share of corrections kept aside to judge (default: {tuning.held_out})")
    finetune.add_argument("--epochs", type=int, help=f"passes over corrections and replay (default: {tuning.epochs})")
    finetune.add_argument("--learning-rate", type=float, help=f"Adam's rate (default: {tuning.learning_rate})")
    finetune.add_argument("--max-mnist-drop", type=float, help=f"most MNIST test accuracy may fall, as a fraction (default: {tuning.max_mnist_drop})")
    finetune.add_argument("--seed", type=int, help=f"picks held-out corrections and replay (default: {tuning.seed})")

    for command in (train, evaluate, finetune):
        command.add_argument("--mnist", metavar="NPZ", help="local mnist.npz (default: $DIGITREC_MNIST, else download through Keras)")
    for command in (evaluate, predict):
        command.add_argument("--model", help=f"{MODEL_HELP} (default: the best shipped model)")
    serve.add_argument("--model", help=f"{MODEL_HELP} (default: every shipped model, with a selector)")
    return main


def main(argv=None):
    args = parser().parse_args(argv)
    command = {
        "train": train_command,
        "evaluate": evaluate_command,
        "predict": predict_command,
        "serve": serve_command,
        "export": export_command,
        "corrections": corrections_command,
        "finetune": finetune_command,
    }[args.command]
    if args.command == "corrections" and args.action == "export" and not args.out:
        print("error: corrections export needs the file to write, e.g. corrections export out/corrections.npz", file=sys.stderr)
        return 2
    try:
        return command(args) or 0
    except (DatasetError, ModelFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
