# Two commands set everything up on a fresh machine and then do the job:
#   make app    runs the Gradio app on the shipped model (http://127.0.0.1:7860)
#   make test   runs the test suite
# Both create the virtual environment .venv and install the pinned requirements first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed

.PHONY: app test notebook clean

$(READY): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $(READY)

app: $(READY)
	$(BIN)/python -m digitrec serve

test: $(READY)
	$(BIN)/python -m pytest

notebook: $(READY)
	$(BIN)/jupyter notebook main.ipynb

clean:
	rm -rf $(VENV) .pytest_cache
