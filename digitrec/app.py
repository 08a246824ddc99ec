"""The Gradio app: draw or upload a digit, see what the model thinks it is."""

from pathlib import Path

import cv2
import gradio as gr

from digitrec.errors import NoDigitError
from digitrec.paths import EXAMPLES_DIR
from digitrec.recognizer import Recognizer

TITLE = "Handwritten Digit Recognition"
DESCRIPTION = "Upload or draw a digit (0-9) and see the model's prediction."
# Uploads larger than this are refused by Gradio before they reach the model.
MAX_FILE_SIZE = "10mb"
# Uploaded files are deleted by Gradio's cache cleanup, which looks every minute for files
# older than five (long enough to answer the same upload again with the other model).
DELETE_CACHE = (60, 300)
# The sketchpad's canvas, and a brush whose strokes are as thick, relative to a digit that
# fills the canvas, as MNIST's pen strokes are to its digits.
CANVAS_SIZE = (480, 480)
BRUSH_RADIUS = 20

# Gradio's sketchpad opens with no tool picked, and drops the tool again when cleared, so a
# stroke draws nothing until the visitor finds the brush. Pick it for them: on page load and
# after each clear, as soon as the brush button shows up unpicked.
PICK_BRUSH_JS = """
() => {
  const pickBrush = (patience) => {
    const deadline = Date.now() + patience;
    const timer = setInterval(() => {
      const brush = document.querySelector('#sketchpad button[aria-label="Brush"]');
      if (brush && !brush.classList.contains('highlight')) {
        brush.click();
        clearInterval(timer);
      } else if (Date.now() > deadline) {
        clearInterval(timer);
      }
    }, 50);
  };
  pickBrush(15000);
  document.addEventListener('click', (event) => {
    if (event.target.closest('#clear, #sketchpad button[aria-label="Clear canvas"]')) pickBrush(3000);
  }, true);
}
"""


CLEAR_CANVAS_JS = """
() => { document.querySelector('#sketchpad button[aria-label="Clear canvas"]')?.click(); }
"""


def enlarge(processed, size=140):
    """The 28x28 model input, scaled up with hard pixel edges so a person can see it."""
    return cv2.resize(processed, (size, size), interpolation=cv2.INTER_NEAREST)


# How the model selector names each shipped model.
MODEL_LABELS = {"cnn": "CNN", "mlp": "Dense (MLP)"}


def describe(recognizer):
    """A model's name for people, with its MNIST test accuracy when its card has it."""
    name = MODEL_LABELS.get(recognizer.name, recognizer.name)
    accuracy = recognizer.card.get("test_accuracy")
    return f"{name}, {accuracy:.2%} on the 10,000 MNIST test images" if accuracy else name


def build_demo(recognizers, delete_cache=DELETE_CACHE):
    """The app's Blocks for a recognizer, or a list of them (best first, with a selector).

    `delete_cache` is Gradio's (every so many seconds, files older than so many seconds):
    how long uploads are kept.

    Call `.launch()` on the result, or `launch(demo)` here, to serve it.
    """
    if isinstance(recognizers, Recognizer):
        recognizers = [recognizers]
    recognizers = {recognizer.name: recognizer for recognizer in recognizers}
    first = next(iter(recognizers))
    nothing = (None, "", None, "")

    def answered_by(model):
        return f"Answered by **{describe(recognizers[model])}**"

    def draw(value, model):
        """The Draw tab: predict after every stroke; an empty canvas asks for a digit."""
        try:
            prediction = recognizers[model].predict(value)
        except NoDigitError:
            return None, "Draw a digit first", None, "", "draw"
        except ValueError as error:
            return None, str(error), None, "", "draw"
        return prediction.label(), prediction.text(), enlarge(prediction.processed), answered_by(model), "draw"

    def predict(image, model=first):
        """Recognize the digit in an uploaded image; the app's `predict` API endpoint.

        It takes Gradio's file record unprocessed and reads the file itself, so that a broken
        or disguised file gets our specific message instead of a decoding traceback.
        """
        if image is None:
            return None, "", None
        if not isinstance(image, dict) or not image.get("path"):
            raise gr.Error(f"Expected an uploaded image file, got {image!r}.", print_exception=False)
        if model not in recognizers:
            raise gr.Error(f"Unknown model {model!r}; expected one of {list(recognizers)}.", print_exception=False)
        try:
            prediction = recognizers[model].predict(image["path"])
        except ValueError as error:
            # Name the file as the visitor knows it, not by where the server keeps it.
            name = image.get("orig_name") or Path(image["path"]).name
            raise gr.Error(str(error).replace(image["path"], name), print_exception=False) from error
        return prediction.label(), prediction.text(), prediction.processed

    def show(processed, model):
        if processed is None:
            return None, "", "upload"
        return enlarge(processed), answered_by(model), "upload"

    def redraw(source, value, model):
        """A new model chosen after drawing: answer the drawing again."""
        return draw(value, model)[:4] if source == "draw" else (gr.skip(),) * 4

    def reupload(source, upload, model):
        """A new model chosen after uploading: answer the upload again."""
        if source != "upload" or upload is None:
            return (gr.skip(),) * 4
        try:
            label, text, processed = predict(upload, model)
        except gr.Error as error:
            return None, error.message, None, ""
        return label, text, enlarge(processed), answered_by(model)

    with gr.Blocks(title=TITLE, delete_cache=delete_cache) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tabs():
                    with gr.Tab("Draw"):
                        sketchpad = gr.Sketchpad(
                            label="Draw a digit",
                            elem_id="sketchpad",
                            canvas_size=CANVAS_SIZE,
                            # Tall enough to show the whole canvas at full size.
                            height=CANVAS_SIZE[1] + 80,
                            brush=gr.Brush(
                                default_size=BRUSH_RADIUS, colors=["#000000"], color_mode="fixed"
                            ),
                            layers=False,
                            transforms=(),
                            type="numpy",
                            image_mode="RGBA",
                        )
                    with gr.Tab("Upload"):
                        # RGBA keeps transparency: in RGB mode Gradio turns a transparent
                        # PNG's background black, hiding black ink.
                        upload = gr.Image(
                            label="Upload a digit image",
                            elem_id="upload",
                            type="numpy",
                            image_mode="RGBA",
                            sources=["upload", "clipboard"],
                        )
                        examples = sorted(EXAMPLES_DIR.glob("*.png"))
                        if examples:
                            gr.Examples([[str(path)] for path in examples], inputs=upload)
                clear = gr.ClearButton(value="Clear", elem_id="clear")
            with gr.Column(scale=2):
                model = gr.Radio(
                    [(MODEL_LABELS.get(name, name), name) for name in recognizers],
                    value=first,
                    label="Model",
                    elem_id="model",
                    visible=len(recognizers) > 1,
                )
                label = gr.Label(num_top_classes=10, label="Confidence")
                text = gr.Textbox(label="Prediction", interactive=False, elem_id="prediction")
                preview = gr.Image(label="What the model saw (28x28)", interactive=False, height=200)
                answered = gr.Markdown(elem_id="answered")
        processed = gr.State()
        # Which input was answered last, so that a change of model answers it again.
        source = gr.State("draw")
        shown = [label, text, preview, answered]

        sketchpad.change(
            draw,
            inputs=[sketchpad, model],
            outputs=[*shown, source],
            trigger_mode="always_last",
            show_progress="hidden",
            api_visibility="private",
        )
        # Clear the old answer first, so a refused upload leaves no stale prediction behind.
        upload.change(
            lambda: nothing, outputs=shown, queue=False, api_visibility="private"
        ).then(
            predict,
            inputs=[upload, model],
            outputs=[label, text, processed],
            api_name="predict",
            preprocess=False,
        ).then(show, inputs=[processed, model], outputs=[preview, answered, source], api_visibility="private")
        model.change(redraw, inputs=[source, sketchpad, model], outputs=shown, api_visibility="private")
        model.change(
            reupload,
            inputs=[source, upload, model],
            outputs=shown,
            preprocess=False,
            api_visibility="private",
        )
        # Setting the sketchpad's value to empty clears its canvas only the first time (Gradio
        # 6.31), so the button presses the sketchpad's own "Clear canvas" instead.
        clear.add([upload, *shown])
        clear.click(None, js=CLEAR_CANVAS_JS)
        demo.load(None, js=PICK_BRUSH_JS)
    return demo


def launch(demo, share=False, host="127.0.0.1", port=None, block=True, **options):
    """Serve `demo`; a share link that cannot be made (no internet) leaves it served locally."""
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        max_file_size=MAX_FILE_SIZE,
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
