"""The Gradio app: draw or upload a digit, see what the model thinks it is."""

import cv2
import gradio as gr

from digitrec.errors import NoDigitError
from digitrec.paths import EXAMPLES_DIR

TITLE = "Handwritten Digit Recognition"
DESCRIPTION = "Upload or draw a digit (0-9) and see the model's prediction."
# Uploads larger than this are refused by Gradio before they reach the model.
MAX_FILE_SIZE = "10mb"
# The sketchpad's canvas, and a brush whose strokes are as thick, relative to a digit that
# fills the canvas, as MNIST's pen strokes are to its digits.
CANVAS_SIZE = (560, 560)
BRUSH_RADIUS = 18

# Gradio's sketchpad opens with no tool picked, so a first stroke draws nothing. Pick the
# brush as soon as the page has rendered it.
PICK_BRUSH_JS = """
() => {
  const pick = () => {
    const brush = document.querySelector('#sketchpad button[aria-label="Brush"]');
    if (brush) brush.click();
    return Boolean(brush);
  };
  if (pick()) return;
  const timer = setInterval(() => { if (pick()) clearInterval(timer); }, 100);
  setTimeout(() => clearInterval(timer), 15000);
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
        return prediction.label(), str(prediction.digit), enlarge(prediction.processed)

    def predict(image):
        """Recognize the digit in an uploaded image; the app's `predict` API endpoint."""
        if image is None:
            return None, "", None
        try:
            prediction = recognizer.predict(image)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from error
        return prediction.label(), str(prediction.digit), prediction.processed

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
                clear = gr.Button("Clear", variant="secondary")
            with gr.Column(scale=2):
                label = gr.Label(num_top_classes=10, label="Confidence")
                text = gr.Textbox(label="Prediction", interactive=False)
                preview = gr.Image(
                    label="What the model saw (28x28)", interactive=False, height=160, width=160
                )
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
        ).then(show, inputs=processed, outputs=preview, api_visibility="private")
        clear.click(
            lambda: (None, None, None, "", None),
            outputs=[sketchpad, upload, label, text, preview],
            queue=False,
            api_visibility="private",
        )
        demo.load(None, js=PICK_BRUSH_JS)
    return demo


def serve(recognizer, host="127.0.0.1", port=7860, share=False, **launch_options):
    """Launch the app; without internet a share link fails and the app stays local."""
    demo = build_demo(recognizer)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        max_file_size=MAX_FILE_SIZE,
        **launch_options,
    )
    return demo
