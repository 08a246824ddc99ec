"""The Gradio app: draw or upload a digit, see what the model thinks it is."""

import collections
from dataclasses import dataclass
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
from PIL import Image, ImageOps
from sqlalchemy.exc import SQLAlchemyError

from digitrec.errors import NoDigitError
from digitrec.labels import DIGITS
from digitrec.pairs import load_pair_reader
from digitrec.paths import EXAMPLES_DIR
from digitrec.preprocessing import sketchpad_strokes
from digitrec.recognizer import Recognizer
from digitrec.verifier import load_verifier

TITLE = "Handwritten Digit Recognition"
DESCRIPTION = "Upload or draw a digit (0-9) and see the model's prediction."
# Uploads larger than this are refused by Gradio before they reach the model.
MAX_FILE_SIZE = "10mb"
# Gradio's queue runs this many answers at once: the model calls release Python's lock, so
# two per core keep both cores busy while others decode their uploads.
QUEUE_CONCURRENCY = 4
# Uploaded files are deleted by Gradio's cache cleanup, which looks every minute for files
# older than five (long enough to answer the same upload again with the other model).
DELETE_CACHE = (60, 300)
# The sketchpad's canvas, and a brush whose strokes are as thick, relative to a digit that
# fills the canvas, as MNIST's pen strokes are to its digits.
CANVAS_SIZE = (480, 480)
BRUSH_RADIUS = 20
# The Number tab's canvas: room for five or six digits half the height of the single one's.
NUMBER_CANVAS_SIZE = (640, 240)
NUMBER_BRUSH_RADIUS = 9

# Gradio's sketchpad opens with no tool picked, and drops the tool again when cleared, so a
# stroke draws nothing until the visitor finds the brush. Pick it for them: on page load,
# after each clear and on changing tabs, as soon as each sketchpad's brush button shows up.
PICK_BRUSH_JS = """
() => {
  const pickBrushes = (patience) => {
    const deadline = Date.now() + patience;
    const picked = new Set();
    const timer = setInterval(() => {
      const pads = document.querySelectorAll('#sketchpad, #number_sketchpad, #letters_sketchpad');
      for (const pad of pads) {
        const brush = pad.querySelector('button[aria-label="Brush"]');
        if (!brush || picked.has(pad.id)) continue;
        if (!brush.classList.contains('highlight')) brush.click();
        picked.add(pad.id);
      }
      if ((pads.length && picked.size === pads.length) || Date.now() > deadline) clearInterval(timer);
    }, 50);
  };
  pickBrushes(15000);
  document.addEventListener('click', (event) => {
    if (event.target.closest('#clear, button[aria-label="Clear canvas"], [role="tab"]')) pickBrushes(3000);
  }, true);
}
"""


# On a phone (the columns stack) the answer shows under the canvas without scrolling: a
# shorter sketchpad, and no page scroll or zoom while a finger draws.
CSS = """
@media (max-width: 640px) {
  #sketchpad { height: 380px !important; }
}
#sketchpad canvas, #number_sketchpad canvas { touch-action: none; }
"""


CLEAR_CANVAS_JS = """
() => {
  document.querySelectorAll('#sketchpad, #number_sketchpad, #letters_sketchpad').forEach((pad) => {
    pad.querySelector('button[aria-label="Clear canvas"]')?.click();
  });
}
"""


def enlarge(processed, size=140):
    """The 28x28 model input, scaled up with hard pixel edges so a person can see it."""
    return cv2.resize(processed, (size, size), interpolation=cv2.INTER_NEAREST)


def sketchpad(label, elem_id, canvas_size, brush_radius):
    """A canvas with one black brush, whose value comes as RGBA numpy arrays."""
    return gr.Sketchpad(
        label=label,
        elem_id=elem_id,
        canvas_size=canvas_size,
        height=canvas_size[1] + 80,  # Tall enough to show the whole canvas at full size.
        brush=gr.Brush(default_size=brush_radius, colors=["#000000"], color_mode="fixed"),
        layers=False,
        transforms=(),
        type="numpy",
        image_mode="RGBA",
    )


def as_the_visitor_knows_it(error, upload):
    """An error's message for an uploaded file (Gradio's file record), naming the file as
    the visitor uploaded it rather than by where the server keeps it."""
    name = upload.get("orig_name") or Path(upload["path"]).name
    return str(error).replace(upload["path"], name)


def with_boxes(image, boxes):
    """The input, as an RGB picture on white, with a box around each digit found."""
    if isinstance(image, dict):  # A sketchpad: its strokes, drawn in black.
        picture = np.ascontiguousarray(cv2.cvtColor(255 - sketchpad_strokes(image), cv2.COLOR_GRAY2RGB))
    elif isinstance(image, np.ndarray):  # A uint8 grey or RGB page, as read_number takes it.
        picture = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else np.ascontiguousarray(image[..., :3])
    else:
        with Image.open(image) as opened:
            picture = np.asarray(ImageOps.exif_transpose(opened).convert("RGB")).copy()
    thickness = max(2, max(picture.shape[:2]) // 300)
    for left, top, width, height in boxes:
        cv2.rectangle(picture, (left, top), (left + width, top + height), (234, 88, 12), thickness)
    return picture


# The Explain view's title before an answer; each answer gives it its own.
WHY_LABEL = "Why: red for the answer, blue against"

# How the model selector names each shipped model.
MODEL_LABELS = {"cnn": "CNN", "mlp": "Dense (MLP)"}


def describe(recognizer):
    """A model's name for people, with its MNIST test accuracy when its card has it."""
    name = MODEL_LABELS.get(recognizer.name, recognizer.name)
    accuracy = recognizer.card.get("test_accuracy")
    return f"{name}, {accuracy:.2%} on the 10,000 MNIST test images" if accuracy else name


# The predictions for recent uploads, by the upload's file, for the views of what the model
# saw and why: the `predict` endpoint returns only the label and the text (an MCP tool or an
# API client needs no preview), and the views are filled in after it from here.
SEEN_UPLOADS = 64


@dataclass
class Answer:
    """The answer panel: the model selector and what each answer shows. Built unrendered
    first, so that each tab can wire its events to it, and rendered in its column."""

    recognizers: dict
    model: gr.Radio
    label: gr.Label
    text: gr.Textbox
    preview: gr.Image
    why: gr.Image  # The Explain view.
    answered: gr.Markdown
    source: gr.State  # Which input was answered last: "draw" or "upload".

    @classmethod
    def unrendered(cls, recognizers):
        return cls(
            recognizers,
            gr.Radio(
                [(MODEL_LABELS.get(name, name), name) for name in recognizers],
                value=next(iter(recognizers)),
                label="Model",
                elem_id="model",
                visible=len(recognizers) > 1,
                render=False,
            ),
            gr.Label(num_top_classes=10, label="Confidence", render=False),
            gr.Textbox(label="Prediction", interactive=False, elem_id="prediction", render=False),
            gr.Image(label="What the model saw (28x28)", interactive=False, height=200, render=False),
            gr.Image(label=WHY_LABEL, interactive=False, height=200, elem_id="why", render=False),
            gr.Markdown(elem_id="answered", render=False),
            gr.State("draw"),
        )

    @property
    def shown(self):
        return [self.label, self.text, self.preview, self.why, self.answered]

    def render(self):
        # The answer first: on a phone, where the columns stack, it shows under the canvas.
        for component in (self.text, self.model, self.label):
            component.render()
        with gr.Row():  # What the model saw, and why it answered: side by side.
            self.preview.render()
            self.why.render()
        self.answered.render()

    def answered_by(self, model):
        return f"Answered by **{describe(self.recognizers[model])}**"

    def explained(self, model, prediction):
        """The Explain view of an answer: what in the 28x28 speaks for it and against it, or
        for an unsure one, which strokes tell it from the runner-up."""
        explanation = self.recognizers[model].explain_prediction(prediction)
        digit, other = prediction.digit, prediction.runner_up
        if prediction.unsure:
            label = f"Why {digit}, not {other}: red for {digit}, blue for {other}"
            return gr.Image(explanation.contrast_picture(), label=label)
        return gr.Image(explanation.picture(), label=f"Why {digit}: red for, blue against")


def build_demo(recognizers, delete_cache=DELETE_CACHE, corrections=None):
    """The app's Blocks for a recognizer, or a list of them (best first, with a selector).

    `delete_cache` is Gradio's (every so many seconds, files older than so many seconds):
    how long uploads are kept. `corrections`: the `CorrectionStore` that "Wrong? It is ...
    Save" writes to; by default the database $DIGITREC_DB names (or a SQLite file in the
    user's data directory), opened on the first save.

    Call `.launch()` on the result, or `launch(demo)` here, to serve it.
    """
    if isinstance(recognizers, Recognizer):
        recognizers = [recognizers]
    # The letters model, when given, has its own tab; the others are the digit models.
    letters = next((r for r in recognizers if r.classes != DIGITS), None)
    recognizers = {recognizer.name: recognizer for recognizer in recognizers if recognizer.classes == DIGITS}
    # The Number tab's helpers, loaded and compiled now rather than on its first answer.
    load_verifier()
    load_pair_reader()
    for recognizer in recognizers.values():
        recognizer.explainer()  # The Why view's, traced now rather than on a visitor's first stroke.
    with gr.Blocks(title=TITLE, delete_cache=delete_cache) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        answer = Answer.unrendered(recognizers)
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tabs():
                    pad = draw_tab(answer)  # Its canvas is cleared by its own button, in CLEAR_CANVAS_JS.
                    upload = upload_tab(answer)
                    number_outputs = number_tab(answer)
                    letters_outputs = letters_tab(letters) if letters else []
                clear = gr.ClearButton(value="Clear", elem_id="clear")
            with gr.Column(scale=2):
                answer.render()
                correction = correction_row(answer, pad, upload, corrections)
        clear.add([upload, *answer.shown, *number_outputs, *letters_outputs, *correction])
        # Setting the sketchpad's value to empty clears its canvas only the first time (Gradio
        # 6.31), so the button presses the sketchpad's own "Clear canvas" instead.
        clear.click(None, js=CLEAR_CANVAS_JS)
        demo.load(None, js=PICK_BRUSH_JS)
    return demo


def draw_tab(answer):
    """The Draw tab: a sketchpad answered after every stroke, and again for another model."""

    def draw(value, model):
        try:
            prediction = answer.recognizers[model].predict(value)
        except NoDigitError:
            return None, "Draw a digit first", None, None, "", "draw"
        except ValueError as error:
            return None, str(error), None, None, "", "draw"
        shown = enlarge(prediction.processed), answer.explained(model, prediction), answer.answered_by(model)
        return prediction.confidences(), prediction.text(), *shown, "draw"

    def redraw(source, value, model):
        return draw(value, model)[:5] if source == "draw" else (gr.skip(),) * 5

    with gr.Tab("Draw"):
        pad = sketchpad("Draw a digit", "sketchpad", CANVAS_SIZE, BRUSH_RADIUS)
    pad.change(
        draw,
        inputs=[pad, answer.model],
        outputs=[*answer.shown, answer.source],
        trigger_mode="always_last",
        show_progress="hidden",
        api_visibility="private",
    )
    answer.model.change(redraw, inputs=[answer.source, pad, answer.model], outputs=answer.shown, api_visibility="private")
    return pad


def upload_tab(answer):
    """The Upload tab: an image file read by the app's public `predict` endpoint."""
    first = next(iter(answer.recognizers))
    seen = collections.OrderedDict()

    def predict(image, model=first):
        """Recognize the handwritten digit (0-9) in an image: the confidence for each digit,
        and the answer ("7", or "4 or 9?" when the model is unsure)."""
        # Gradio's file record comes unprocessed and the file is read here, so that a broken
        # or disguised file gets our specific message instead of a decoding traceback.
        if image is None:
            return None, ""
        if not isinstance(image, dict) or not image.get("path"):
            raise gr.Error(f"Expected an uploaded image file, got {image!r}.", print_exception=False)
        if model not in answer.recognizers:
            raise gr.Error(f"Unknown model {model!r}; expected one of {list(answer.recognizers)}.", print_exception=False)
        try:
            prediction = answer.recognizers[model].predict(image["path"])
        except ValueError as error:
            raise gr.Error(as_the_visitor_knows_it(error, image), print_exception=False) from error
        seen[image["path"], model] = prediction
        while len(seen) > SEEN_UPLOADS:
            seen.popitem(last=False)
        return prediction.confidences(), prediction.text()

    def show(image, model):
        prediction = seen.get((image.get("path"), model)) if isinstance(image, dict) else None
        if prediction is None:
            return None, None, "", "upload"
        return enlarge(prediction.processed), answer.explained(model, prediction), answer.answered_by(model), "upload"

    def reupload(source, image, model):
        """A new model chosen after uploading: answer the upload again."""
        if source != "upload" or image is None:
            return (gr.skip(),) * 5
        try:
            label, text = predict(image, model)
        except gr.Error as error:
            return None, error.message, None, None, ""
        return label, text, *show(image, model)[:3]

    with gr.Tab("Upload"):
        # RGBA keeps transparency: in RGB mode Gradio turns a transparent PNG's background
        # black, hiding black ink.
        upload = gr.Image(
            label="Upload a digit image",
            elem_id="upload",
            type="numpy",
            image_mode="RGBA",
            # A phone or laptop camera reads a digit on paper through the photo pipeline; the
            # snapshot is not mirrored, or a 2 would reach the model as its mirror image.
            sources=["upload", "webcam", "clipboard"],
            webcam_options=gr.WebcamOptions(mirror=False),
        )
        examples = sorted(EXAMPLES_DIR.glob("*.png"))
        if examples:
            gr.Examples([[str(path)] for path in examples], inputs=upload)
    nothing = (None, "", None, None, "")
    # Clear the old answer first, so a refused upload leaves no stale prediction behind.
    upload.change(lambda: nothing, outputs=answer.shown, queue=False, api_visibility="private").then(
        predict,
        inputs=[upload, answer.model],
        outputs=[answer.label, answer.text],
        api_name="predict",
        preprocess=False,
    ).then(
        show,
        inputs=[upload, answer.model],
        outputs=[answer.preview, answer.why, answer.answered, answer.source],
        preprocess=False,
        api_visibility="private",
    )
    answer.model.change(
        reupload,
        inputs=[answer.source, upload, answer.model],
        outputs=answer.shown,
        preprocess=False,
        api_visibility="private",
    )
    return upload


def correction_row(answer, pad, upload, corrections=None):
    """ "Wrong? It is [0-9] - Save" under the answer: the drawing or upload last answered is
    stored with the right digit, in its own event, so the next drawing is answered meanwhile."""
    opened = []

    def store():
        if corrections is None and not opened:
            from digitrec.corrections import CorrectionStore

            opened.append(CorrectionStore())
        return corrections if corrections is not None else opened[0]

    def save(source, drawing, uploaded, model, label):
        image = drawing if source == "draw" else uploaded
        if label in (None, ""):
            return "Pick the right digit first, then press Save."
        try:
            recognizer = answer.recognizers[model]
            prediction = recognizer.predict(image)
            saved = store().add(image, int(label), prediction, model, recognizer.version)
        except ValueError as error:
            return f"Nothing to save: {error}"
        except (SQLAlchemyError, OSError) as error:  # The database may be unreachable: say so, keep serving.
            return f"Could not save the correction: {type(error).__name__}: {error}"
        if not saved.created:
            return f"Already saved as a {label} (correction #{saved.id})."
        return f"Saved as a {label} (correction #{saved.id}). Thank you: corrections teach the next model."

    with gr.Row(equal_height=True):
        right = gr.Dropdown([str(digit) for digit in range(10)], value=None, label="Wrong? It is", elem_id="right_digit", scale=2)
        button = gr.Button("Save", elem_id="save_correction", scale=1)
    status = gr.Markdown(elem_id="saved")
    button.click(save, inputs=[answer.source, pad, upload, answer.model, right], outputs=status, api_visibility="private")
    return [right, status]


def sureness(reading, what="digit"):
    """How sure the reading is, for a person: the weakest of what it read (each `what`)
    named when it is unsure."""
    predictions = reading.predictions
    if not reading.unsure:
        return f"{reading.confidence:.0%} sure of every {what}."
    position, weakest = min(enumerate(predictions, 1), key=lambda pair: pair[1].confidence)
    return f"**Unsure**: {what} {position} of {len(predictions)} could be {weakest.text()[:-1]} ({weakest.confidence:.0%} sure)."


def read_line(read, image, blank, what="digit"):
    """Run `read` (a recognizer's read_number or read_text) on a sketchpad's value or an
    uploaded file, and what the tab shows of it: ((the text read, how sure, each crop, the
    boxes), the reading), or a message for the visitor and no reading."""
    upload = image if isinstance(image, dict) and image.get("path") else None
    if upload:  # Gradio's file record: read the file itself.
        image = upload["path"]
    if image is None:
        return ("", "", [], None), None
    try:
        reading = read(image)
    except NoDigitError:
        return (blank, "", [], None), None
    except ValueError as error:
        return ((as_the_visitor_knows_it(error, upload) if upload else str(error)), "", [], None), None
    crops = [(enlarge(p.processed), f"{p.text()}: {p.confidence:.0%}") for p in reading.predictions]
    return (reading.text, sureness(reading, what), crops, with_boxes(image, reading.boxes)), reading


def number_tab(answer):
    """The Number tab: every digit in a drawing or an upload, left to right, with boxes."""

    def read_number(image, model):
        shown, _ = read_line(answer.recognizers[model].read_number, image, "Write a number first")
        return shown

    with gr.Tab("Number"):
        pad = sketchpad("Write a number", "number_sketchpad", NUMBER_CANVAS_SIZE, NUMBER_BRUSH_RADIUS)
        upload = gr.Image(
            label="Or upload a picture of a number",
            elem_id="number_upload",
            type="filepath",
            sources=["upload", "clipboard"],
            height=200,
        )
        number = gr.Textbox(label="Number", interactive=False, elem_id="number")
        note = gr.Markdown(elem_id="number_sureness")
        crops = gr.Gallery(label="Each digit as the model saw it", columns=8, height=180, elem_id="number_digits")
        boxes = gr.Image(label="Digits found", interactive=False, elem_id="number_boxes")
    outputs = [number, note, crops, boxes]
    for source in (pad, upload):
        source.change(
            read_number,
            inputs=[source, answer.model],
            outputs=outputs,
            trigger_mode="always_last",
            show_progress="hidden",
            preprocess=source is not upload,  # Uploads are read from the file, as on the Upload tab.
            api_visibility="private",
        )
    return [upload, *outputs]


def letters_tab(letters):
    """The Letters & digits tab: a word, a code or one character, read by the letters model,
    with each character's crop and, for the first, the model's top ten labels."""

    def read_text(image):
        shown, reading = read_line(letters.read_text, image, "Write a letter, a word or a code first", "character")
        return *shown, reading.characters[0].confidences() if reading else None

    with gr.Tab("Letters & digits"):
        gr.Markdown(
            "Letters (A-Z, a-z) and digits, one or a few side by side. Alone, some can only be "
            "guessed: o, O and 0, l and 1, or c and C, whose case the line's other letters tell."
        )
        pad = sketchpad("Write letters or digits", "letters_sketchpad", NUMBER_CANVAS_SIZE, NUMBER_BRUSH_RADIUS)
        upload = gr.Image(
            label="Or upload a picture", elem_id="letters_upload", type="filepath", sources=["upload", "clipboard"], height=200
        )
        text = gr.Textbox(label="Read", interactive=False, elem_id="letters_text")
        note = gr.Markdown(elem_id="letters_sureness")
        first = gr.Label(num_top_classes=10, label="The first character: the ten likeliest", elem_id="letters_label")
        crops = gr.Gallery(label="Each character as the model saw it", columns=8, height=180, elem_id="letters_crops")
        boxes = gr.Image(label="Characters found", interactive=False, elem_id="letters_boxes")
    outputs = [text, note, crops, boxes, first]
    for source in (pad, upload):
        source.change(
            read_text,
            inputs=[source],
            outputs=outputs,
            trigger_mode="always_last",
            show_progress="hidden",
            preprocess=source is not upload,
            api_visibility="private",
        )
    return [upload, *outputs]


def launch(demo, share=False, host="127.0.0.1", port=None, block=True, **options):
    """Serve `demo`; a share link that cannot be made (no internet) leaves it served locally."""
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        max_file_size=MAX_FILE_SIZE,
        css=CSS,
        prevent_thread_lock=True,
        **options,
    )
    if share and not demo.share_url:
        print(
            "No public share link could be made (it needs internet access to Gradio's "
            f"share servers). The app is running locally at {demo.local_url}"
        )
    if block:
        demo.block_thread()
    return demo
