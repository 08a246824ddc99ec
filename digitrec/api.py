"""The JSON API beside the app, for forms, phone apps and grading scripts.

    GET  /healthz               {"status": "ok", "models": [...]}
    POST /api/v1/predict        one image (multipart field `image`) -> its digit
    POST /api/v1/predict/batch  several `image` fields -> one result or error each
    POST /api/v1/number         one image -> the number written in it
    POST /api/v1/corrections    one image and its right `label` -> stored, 201 (200 if known)

Every refused request gets a 4xx status and `{"error": "<what was wrong>"}`; OpenAPI docs are
at /docs. Images are decoded and preprocessed in worker processes, off the event loop, and
concurrent requests share model calls through a `Batcher`.
"""

import asyncio
import contextlib
import os
import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, Header, Query, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.exceptions import HTTPException

from digitrec.batching import Batcher, Preprocessing
from digitrec.prediction import Prediction

# The largest image file taken, as in the app; and the largest request, for batches.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_REQUEST_BYTES = 32 * 1024 * 1024
# The most images in one batch request.
MAX_BATCH_IMAGES = 64
# When set, storing a correction needs this token in the X-Admin-Token header.
ADMIN_TOKEN_ENV = "DIGITREC_ADMIN_TOKEN"


class ApiError(Exception):
    """A request refused with `status` and a message that says what was wrong."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status, message, headers=None):
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def build_api(recognizers, auth=None, corrections=None):
    """The FastAPI application for {name: Recognizer} (the first is the default model).

    With `auth`, a (user, password) pair, every /api/v1 route asks for it as HTTP Basic
    authentication; /healthz stays open for load balancers. `corrections`: the
    `CorrectionStore` that /api/v1/corrections writes to (without one, that route answers 503).
    """
    admin_token = os.environ.get(ADMIN_TOKEN_ENV)
    recognizers = dict(recognizers)
    default = next(iter(recognizers))
    batchers = {name: Batcher(recognizer) for name, recognizer in recognizers.items()}
    preprocessing = Preprocessing()

    @contextlib.asynccontextmanager
    async def lifespan(api):
        await asyncio.to_thread(preprocessing.start)  # Ready before the first request.
        yield
        preprocessing.close()
        for batcher in batchers.values():
            batcher.close()

    api = FastAPI(
        lifespan=lifespan,
        title="Handwritten digit recognition",
        summary="Read handwritten digits and numbers from images.",
        docs_url="/docs",
        redoc_url=None,
    )
    api.state.batchers = batchers
    api.add_middleware(RequestSizeLimit, limit=MAX_REQUEST_BYTES)
    basic = HTTPBasic(auto_error=False)

    def logged_in(credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)]):
        if auth is None:
            return
        given = (credentials.username, credentials.password) if credentials else ("", "")
        if not all(secrets.compare_digest(a.encode(), b.encode()) for a, b in zip(given, auth)):
            raise HTTPException(401, "This API needs the app's login (HTTP Basic authentication).", {"WWW-Authenticate": "Basic"})

    def admin(token: Annotated[str | None, Header(alias="X-Admin-Token")] = None):
        if admin_token and not secrets.compare_digest((token or "").encode(), admin_token.encode()):
            raise ApiError(401, f"Storing corrections needs the admin token ({ADMIN_TOKEN_ENV}) in the X-Admin-Token header.")

    def recognizer_for(model: Annotated[str | None, Query(description=f"one of {list(recognizers)}; default {default}")] = None):
        name = default if model is None else model
        if name not in recognizers:
            raise ApiError(400, f"Unknown model {model!r}; expected one of {list(recognizers)}.")
        return name

    @api.exception_handler(ApiError)
    async def refused(request, error):
        return error_response(error.status, error.message)

    @api.exception_handler(HTTPException)
    async def http_error(request, error):
        return error_response(error.status_code, str(error.detail), getattr(error, "headers", None))

    @api.exception_handler(RequestValidationError)
    async def invalid(request, error):
        return error_response(400, _validation_message(error))

    @api.get("/healthz")
    def healthz():
        """200 once the models are loaded, and which they are."""
        return {"status": "ok", "models": list(recognizers)}

    @api.post("/api/v1/predict", dependencies=[Depends(logged_in)])
    async def predict(
        image: Annotated[UploadFile, File(description="the image file: PNG, JPEG, ...")],
        model: Annotated[str, Depends(recognizer_for)],
    ):
        """The digit in one image, with the model's confidence and all 10 probabilities."""
        prediction = await _predict(preprocessing, batchers[model], await _read(image))
        return {"model": model, **prediction.record()}

    @api.post("/api/v1/predict/batch", dependencies=[Depends(logged_in)])
    async def predict_batch(
        image: Annotated[list[UploadFile], File(description=f"up to {MAX_BATCH_IMAGES} image files")],
        model: Annotated[str, Depends(recognizer_for)],
    ):
        """One entry per image, in order: its answer, or the error that image alone met."""
        if len(image) > MAX_BATCH_IMAGES:
            raise ApiError(413, f"{len(image)} images in one request; the most is {MAX_BATCH_IMAGES}.")

        async def one(index, upload):
            entry = {"index": index, "filename": upload.filename}
            try:
                prediction = await _predict(preprocessing, batchers[model], await _read(upload))
            except ApiError as error:
                return {**entry, "error": error.message}
            return {**entry, **prediction.record()}

        results = await asyncio.gather(*(one(index, upload) for index, upload in enumerate(image)))
        return {"model": model, "results": results}

    @api.post("/api/v1/number", dependencies=[Depends(logged_in)])
    async def number(
        image: Annotated[UploadFile, File(description="a picture of a number")],
        model: Annotated[str, Depends(recognizer_for)],
    ):
        """Every digit in the image, left to right: the number, and each digit with its box."""
        content = await _read(image)
        try:
            reading = await asyncio.to_thread(recognizers[model].read_number, content)
        except ValueError as error:
            raise _refusal(error) from error
        return {"model": model, **reading.record()}

    @api.post("/api/v1/corrections", status_code=201, dependencies=[Depends(logged_in), Depends(admin)])
    async def correct(
        image: Annotated[UploadFile, File(description="the image the model read wrong")],
        label: Annotated[str, Form(description="the right digit, 0-9")],
        model: Annotated[str, Depends(recognizer_for)],
        response: Response,
    ):
        """Store the right answer for an image, once it is committed: 201 with the row's id,
        or 200 with the existing row's id when the same image had this label already."""
        if corrections is None:
            raise ApiError(503, "This server keeps no corrections database.")
        if label.strip() not in [str(digit) for digit in range(10)]:
            raise ApiError(400, f"The label must be a digit from 0 to 9, not {label!r}.")
        content = await _read(image)
        prediction = await _predict(preprocessing, batchers[model], content)
        saved = await asyncio.to_thread(corrections.add, content, int(label), prediction, model, recognizers[model].version)
        if not saved.created:
            response.status_code = 200
        return {"id": saved.id, "created": saved.created, "label": int(label), "model": model, "answer": prediction.digit}

    return api


async def _read(upload):
    """The bytes of an uploaded file, refused when empty or too large."""
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ApiError(413, f"The file {upload.filename!r} is larger than the limit of {MAX_UPLOAD_BYTES // 2**20} MB.")
    if not content:
        raise ApiError(400, f"The file {upload.filename!r} is empty (0 bytes).")
    return content


async def _predict(preprocessing, batcher, content):
    recognizer = batcher.recognizer
    try:
        processed = await preprocessing(content, recognizer.dots)
    except ValueError as error:
        raise _refusal(error) from error
    return Prediction.of(await batcher.probabilities(processed), processed, recognizer.classes)


def _refusal(error):
    """An image that was read but could not be answered: 422, with its own message."""
    return ApiError(422, str(error))


def _validation_message(error):
    """FastAPI's validation errors as one sentence."""
    problems = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
        if problem.get("type") == "missing" and where == "image":
            problems.append("No image: send the image file in the multipart form field 'image'.")
        else:
            problems.append(f"{where}: {problem.get('msg')}" if where else str(problem.get("msg")))
    return " ".join(problems) or "The request is not valid."


class RequestSizeLimit:
    """Refuses API requests whose body is larger than `limit` bytes with 413: at once when
    the declared Content-Length is, and as soon as a body of undeclared size passes it."""

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if not (scope["type"] == "http" and scope["path"].startswith("/api/v1/")):
            await self.app(scope, receive, send)
            return
        too_large = lambda: error_response(413, f"The request is larger than the limit of {self.limit // 2**20} MB.")
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            await too_large()(scope, receive, send)
            return
        received, overflowed = 0, False

        async def counted():
            nonlocal received, overflowed
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                overflowed = True
                raise ApiError(413, "too large")  # Stops the parsing; the answer is ours.
            return message

        async def unless_overflowed(message):
            if not overflowed:
                await send(message)

        try:
            await self.app(scope, counted, unless_overflowed)
        except ApiError:
            if not overflowed:
                raise
        if overflowed:
            await too_large()(scope, receive, send)
