# The app and its JSON API for any container host:
#   docker build -t digitrec . && docker run -p 7860:7860 digitrec
# then open http://localhost:7860 (set PORT to listen elsewhere inside the container).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=7860

RUN useradd --create-home --uid 1000 digitrec
WORKDIR /home/digitrec/app

# The requirements first, so that a change to the code reuses the installed layer.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=digitrec:digitrec . .
USER digitrec

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
CMD ["sh", "-c", "exec python -m digitrec serve --host 0.0.0.0 --port \"$PORT\""]
