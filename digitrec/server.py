"""`python -m digitrec serve`: the Gradio app and the JSON API in one process, on one port.

The API's routes come first (digitrec.api); the app is mounted on the same FastAPI
application at "/" with Gradio's own helper, and uvicorn serves both.
"""

import secrets
import threading
import time

import gradio as gr
import uvicorn

from digitrec.api import build_api
from digitrec.app import CSS, MAX_FILE_SIZE, QUEUE_CONCURRENCY, build_demo

# How long to wait for the server to listen before giving up on a share link.
START_TIMEOUT = 60
# On SIGTERM or Ctrl-C, requests in flight get this long to finish; the app's open event
# streams would otherwise keep the server from ever stopping.
STOP_TIMEOUT = 5


def create_app(recognizers, auth=None, mcp=False, corrections=None):
    """The FastAPI application serving the JSON API and, at "/", the Gradio app.

    `recognizers`: a list of `Recognizer`, best first. `auth`: a (user, password) pair that
    both the app and the API ask for. `mcp`: also serve recognition as an MCP tool, at
    /gradio_api/mcp/. `corrections`: the `CorrectionStore` both write to; by default the
    database $DIGITREC_DB names, or a SQLite file in the user's data directory.
    """
    if corrections is None:
        corrections = open_corrections()
    api = build_api({recognizer.name: recognizer for recognizer in recognizers}, auth=auth, corrections=corrections)
    demo = build_demo(recognizers, corrections=corrections)
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)
    return gr.mount_gradio_app(
        api, demo, path="/", auth=auth, max_file_size=MAX_FILE_SIZE, mcp_server=mcp, footer_links=["api", "gradio"], css=CSS
    )


def open_corrections():
    """The default corrections database; None, saying why, when it cannot be opened: the
    app and the API still answer, and only saving corrections is refused."""
    from sqlalchemy.exc import SQLAlchemyError

    from digitrec.corrections import CorrectionStore, default_url

    try:
        return CorrectionStore()
    except (SQLAlchemyError, OSError, ValueError, ImportError) as error:
        print(f"Corrections will not be saved: the database {default_url()} could not be opened ({error}).", flush=True)
        return None


def serve(recognizers, host="127.0.0.1", port=7860, share=False, auth=None, mcp=False):
    """Serve the app and the API until interrupted. `share` asks Gradio's servers for a
    public link; when there is no internet the app stays served on its local address."""
    app = create_app(recognizers, auth=auth, mcp=mcp)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=STOP_TIMEOUT))
    local = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}/"
    serving = f"Serving the app at {local} and its JSON API at {local}docs"
    if not share:
        print(serving, flush=True)
        server.run()
        return
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.started:
        print(serving, flush=True)
        print(share_link(host, port), flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join()


def share_link(host, port):
    """A line saying where the public share link is, or why there is none."""
    from gradio import networking

    try:
        url = networking.setup_tunnel(host, port, secrets.token_urlsafe(32), None, None)
    except Exception as error:  # No internet, a blocked binary: Gradio raises many kinds.
        return (
            f"No public share link could be made ({error}); it needs internet access to "
            "Gradio's share servers. The app is still served locally."
        )
    return f"Public share link (lasts up to a week): {url}"
