# Two commands set everything up on a fresh machine and then do the job:
#   make app    runs the Gradio app on the shipped model (http://127.0.0.1:7860)
#   make test   runs the test suite
#   make install only creates the environment; make web refreshes the in-browser page
# Both create the virtual environment .venv and install the pinned requirements first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed

.PHONY: install app test notebook web clean

$(READY): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $(READY)

install: $(READY)

app: $(READY)
	$(BIN)/python -m digitrec serve

test: $(READY)
	$(BIN)/python -m pytest

notebook: $(READY)
	$(BIN)/jupyter notebook main.ipynb

# The in-browser page: onnxruntime-web from npm (web/package-lock.json), its runtime files
# and the shipped models as ONNX copied into web/, where they are committed. The package
# runs those exports too (and the number reader's verifier's, in models/) while their cards
# name the shipped .keras files' bytes: run this again after training.
ORT_DIST := web/node_modules/onnxruntime-web/dist
web: $(READY)
	cd web && npm ci --no-audit --no-fund
	mkdir -p web/vendor
	cp $(ORT_DIST)/ort.wasm.min.mjs $(ORT_DIST)/ort-wasm-simd-threaded.mjs $(ORT_DIST)/ort-wasm-simd-threaded.wasm web/vendor/
	$(BIN)/python -m digitrec export --format onnx --out web/models
	$(BIN)/python -m digitrec export --model verifier --format onnx --out models

clean:
	rm -rf $(VENV) .pytest_cache
