"""Paths defined once, relative to the package, never to the working directory."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
# The shipped models exported to ONNX for the browser page, which the recognizer runs too.
WEB_MODELS_DIR = PROJECT_ROOT / "web" / "models"
EXAMPLES_DIR = PROJECT_ROOT / "examples"
