"""The deployment recipes start the app as they declare it: the Space's app_file, Render's
start command and the Dockerfile's CMD each serve /healthz and read a digit."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gradio
import httpx
import pytest
import yaml

from digitrec.bench import free_port
from digitrec.paths import EXAMPLES_DIR, PROJECT_ROOT

START_TIMEOUT = 180


def started_serving(command, env, port, shell=False):
    """Run `command` in the project's root with `env` added; return once 127.0.0.1:`port`
    answers /healthz, the server process still running (the caller stops it)."""
    log = tempfile.TemporaryFile("w+")
    server = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, **env}, shell=shell, executable="/bin/bash" if shell else None,
        stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            return server, httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop(server)
                log.seek(0)
                pytest.fail(f"{command!r} served no /healthz on port {port}:\n{log.read()[-3000:]}")
            time.sleep(0.5)


def stop(server):
    """Stop the server and whatever shell started it."""
    if server.poll() is None:
        os.killpg(server.pid, 15)
    server.wait(timeout=30)


def serves(command, env, port, shell=False):
    server, health = started_serving(command, env, port, shell=shell)
    try:
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert set(health.json()["models"]) >= {"cnn", "mlp"}
        seven = (EXAMPLES_DIR / "digit_7_test_0.png").read_bytes()
        answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/predict", files={"image": ("seven.png", seven, "image/png")}, timeout=60)
        assert answer.json()["digit"] == 7
    finally:
        stop(server)


def front_matter():
    text = (PROJECT_ROOT / "README.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "README.md does not open with the Space's front matter"
    return yaml.safe_load(match.group(1))


def test_space_front_matter_matches_the_pinned_gradio():
    space = front_matter()
    pinned = re.search(r"^gradio\[mcp\]==(\S+)$", (PROJECT_ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert space["sdk"] == "gradio"
    assert space["sdk_version"] == pinned.group(1) == gradio.__version__
    assert space["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert len(space["short_description"]) <= 60  # The Hub refuses longer ones.
    assert (PROJECT_ROOT / space["app_file"]).is_file()
    assert {"title", "emoji", "colorFrom", "colorTo"} <= set(space)


def test_space_app_file_serves_on_gradio_server_port():
    app_file = front_matter()["app_file"]
    port = free_port()
    serves([sys.executable, app_file], {"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}, port)


def test_render_start_command_serves_health_check():
    (service,) = yaml.safe_load((PROJECT_ROOT / "render.yaml").read_text())["services"]
    assert service["type"] == "web" and service["runtime"] == "python"
    assert service["healthCheckPath"] == "/healthz"
    assert "requirements.txt" in service["buildCommand"]
    port = free_port()
    # Render runs the command in a shell, with $PORT set and `python` on the PATH.
    env = {"PORT": str(port), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    serves(service["startCommand"], env, port, shell=True)


def dockerfile():
    """The Dockerfile's instructions, as (keyword, argument) pairs, continuation lines joined."""
    text = (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_dockerfile_builds_slim_and_runs_as_a_user():
    instructions = dockerfile()
    keywords = [keyword for keyword, _ in instructions]
    base = dict(instructions)["FROM"]
    assert base.startswith("python:") and base.endswith("-slim")
    user = [argument for keyword, argument in instructions if keyword == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    copied = [argument.split()[-2] for keyword, argument in instructions if keyword == "COPY"]
    assert "requirements.txt" in copied
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git"} <= set(ignored)


def test_dockerfile_command_serves_health_check_outside_a_container():
    instructions = dockerfile()
    environment = " ".join(argument for keyword, argument in instructions if keyword == "ENV")
    assert re.search(r"\bPORT=7860\b", environment)
    command = json.loads(dict(instructions)["CMD"])
    port = free_port()
    env = {"PORT": str(port), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    serves(command, env, port)
