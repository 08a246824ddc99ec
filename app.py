"""The Hugging Face Space's entry point (`app_file` in README.md's front matter), and a plain
`python app.py` anywhere: the app and its JSON API on the shipped models, on the address and
port in GRADIO_SERVER_NAME and GRADIO_SERVER_PORT (a Space sets both; here they default to
this machine only, port 7860)."""

import os

if __name__ == "__main__":
    # Imported here, not above: the server's preprocessing workers run this file again as
    # they start, and would otherwise each load TensorFlow (750 MiB) for nothing.
    from digitrec.recognizer import load_shipped
    from digitrec.server import serve

    serve(
        load_shipped(),
        host=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )
