"""The Gradio app: draw or upload a digit, see what the model thinks it is."""

import cv2
import gradio as gr

from digitrec.errors import InvalidImageError, NoDigitError
from digitrec.paths import EXAMPLES_DIR

TITLE = "Handwritten Digit Recognition"
DESCRIPTION = "Upload or draw a digit (0-9) and see the model's prediction."
# Uploads larger than this are refused by Gradio before they reach the model.
MAX_FILE_SIZE = "10mb"
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


def enlarge(processed, size=140):
    """The 28x28 model input, scaled up with hard pixel edges so a person can see it."""
    return cv2.resize(processed, (size, size), interpolation=cv2.INTER_NEAREST)


def build_demo(recognizer):
    """The app's Blocks for one recognizer; call `.launch()` on the result to serve it."""

    def draw(value):
        """The Draw tab: predict after every stroke; an empty canvas asks for a digit."""
        try:
            prediction = recognizer.predict(value)
        except NoDigitError:
            return None, "Draw a digit first", None
        except ValueError as error:
            return None, str(error), None
        return prediction.label(), prediction.text(), enlarge(prediction.processed)

    def predict(upload):
        """Recognize the digit in an uploaded image; the app's `predict` API endpoint.

        It takes Gradio's file record unprocessed and reads the file itself, so that a broken
        or disguised file gets our specific message instead of a decoding traceback.
        """
        if upload is None:
            return None, "", None
        try:
            if not isinstance(upload, dict) or not upload.get("path"):
                raise InvalidImageError(f"Expected an uploaded image file, got {upload!r}.")
            prediction = recognizer.predict(upload["path"])
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from error
        return prediction.label(), prediction.text(), prediction.processed

    def show(processed):
        return None if processed is None else enlarge(processed)

    with gr.Blocks(title=TITLE) as demo:
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
                label = gr.Label(num_top_classes=10, label="Confidence")
                text = gr.Textbox(label="Prediction", interactive=False)
                preview = gr.Image(label="What the model saw (28x28)", interactive=False, height=200)
                gr.Markdown(
                    f"Model: **{recognizer.name}**"
                    + (
                        f", {recognizer.card['test_accuracy']:.2%} on the 10,000 MNIST test images"
                        if "test_accuracy" in recognizer.card
                        else ""
                    )
                )
        processed = gr.State()

        sketchpad.change(
            draw,
            inputs=sketchpad,
            outputs=[label, text, preview],
            trigger_mode="always_last",
            show_progress="hidden",
            api_visibility="private",
        )
        # Clear the old answer first, so a refused upload leaves no stale prediction behind.
        upload.change(
            lambda: (None, "", None),
            outputs=[label, text, preview],
            queue=False,
            api_visibility="private",
        ).then(
            predict,
            inputs=upload,
            outputs=[label, text, processed],
            api_name="predict",
            preprocess=False,
        ).then(show, inputs=processed, outputs=preview, api_visibility="private")
        clear.add([sketchpad, upload, label, text, preview])
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
