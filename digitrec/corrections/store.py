"""The corrections table and the store that writes and reads it."""

import datetime
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from digitrec.errors import InvalidImageError
from digitrec.preprocessing import sketchpad_strokes

# A SQLAlchemy URL for the database; without it, a SQLite file in the user's data directory.
DB_ENV = "DIGITREC_DB"
# Stored uploads are PNGs of at most this many bytes: larger ones are scaled down until they
# fit. A phone photo of a digit needs far less to be read again.
MAX_PNG_BYTES = 1024 * 1024
# How long a SQLite writer waits for another to finish before giving up, in seconds.
SQLITE_BUSY_SECONDS = 30
MIGRATIONS = Path(__file__).parent / "migrations"


def default_url():
    """$DIGITREC_DB, or a SQLite file in the user's data directory (outside the repo)."""
    if os.environ.get(DB_ENV):
        return os.environ[DB_ENV]
    import platformdirs

    folder = Path(platformdirs.user_data_dir("digitrec", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'corrections.sqlite'}"


class Base(DeclarativeBase):
    pass


class Correction(Base):
    """One correction: the upload, what the model saw and said, and the right digit."""

    __tablename__ = "corrections"
    # An image is stored once per label: the same correction sent twice is one row.
    __table_args__ = (UniqueConstraint("sha256", "label", name="uq_corrections_image_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # Of the stored PNG.
    label: Mapped[int] = mapped_column(SmallInteger)  # The right digit, as the person says.
    image_png: Mapped[bytes] = mapped_column(LargeBinary)
    processed: Mapped[bytes] = mapped_column(LargeBinary)  # The 28x28 the model saw, uint8.
    answer: Mapped[int] = mapped_column(SmallInteger)  # What the model said.
    confidence: Mapped[float] = mapped_column(Float)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))

    @property
    def image28(self):
        return np.frombuffer(self.processed, np.uint8).reshape(28, 28)


@dataclass(frozen=True)
class Saved:
    id: int
    created: bool  # False: the same image with the same label was already stored.


class CorrectionStore:
    """The corrections database at `url` (default: `default_url()`), migrated to the newest
    schema when opened."""

    def __init__(self, url=None):
        self.url = url or default_url()
        sqlite = self.url.startswith("sqlite")
        options = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}} if sqlite else {"pool_pre_ping": True}
        self.engine = create_engine(self.url, **options)
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()

    def _migrate(self):
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self):
        self.engine.dispose()

    def add(self, image, label, prediction, model_name, model_version):
        """Store a correction in its own transaction, once it is committed: a `Saved` with
        the row's id, and `created` False when the same image already had this label."""
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label <= 9:
            raise ValueError(f"The label must be a digit from 0 to 9, not {label!r}.")
        png = png_of(image)
        digest = hashlib.sha256(png).hexdigest()
        row = Correction(
            sha256=digest,
            label=int(label),
            image_png=png,
            processed=(np.clip(prediction.processed, 0, 1) * 255).round().astype(np.uint8).tobytes(),
            answer=prediction.digit,
            confidence=float(prediction.confidence),
            model_name=str(model_name),
            model_version=str(model_version),
            created_at=datetime.datetime.now(datetime.timezone.utc),
        )
        try:
            with Session(self.engine) as session, session.begin():
                session.add(row)
                session.flush()
                saved = Saved(row.id, True)
        except IntegrityError:
            # Stored before (perhaps by another request a moment ago): answer with that row.
            with Session(self.engine) as session:
                existing = session.scalar(select(Correction.id).where(Correction.sha256 == digest, Correction.label == int(label)))
            if existing is None:
                raise
            saved = Saved(existing, False)
        return saved

    def all(self):
        """Every correction, oldest first."""
        with Session(self.engine) as session:
            return list(session.scalars(select(Correction).order_by(Correction.id)))

    def count(self):
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(Correction))

    def arrays(self):
        """The corrections as training data: `images` (N, 28, 28) uint8, `labels` (N,) int64."""
        rows = self.all()
        images = np.stack([row.image28 for row in rows]) if rows else np.zeros((0, 28, 28), np.uint8)
        return images, np.array([row.label for row in rows], np.int64)

    def export(self, path):
        """Write the corrections to an .npz with `images` and `labels`; returns their count."""
        images, labels = self.arrays()
        np.savez_compressed(path, images=images, labels=labels)
        return len(labels)

    def stats(self):
        """Counts per label and per model, and the confusion of the model's answer with the label."""
        rows = self.all()
        confusion = np.zeros((10, 10), np.int64)
        per_model = {}
        for row in rows:
            confusion[row.answer, row.label] += 1
            per_model[row.model_name] = per_model.get(row.model_name, 0) + 1
        return {
            "total": len(rows),
            "per_label": confusion.sum(axis=0).tolist(),
            "per_model": per_model,
            "confusion": confusion.tolist(),  # confusion[answer][label]
        }


def _sqlite_pragmas(connection, _):
    # Write-ahead logging: readers never wait for the writer, and a crash mid-write leaves
    # the last committed state; a synchronous commit is on disk when it returns.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def png_of(image):
    """The image as PNG bytes of at most MAX_PNG_BYTES: the bytes of an image file, a path,
    a numpy array, a PIL image or a Gradio sketchpad value (its strokes, black on white)."""
    if isinstance(image, dict):
        strokes = sketchpad_strokes(image)
        if strokes is None:
            raise InvalidImageError("The sketchpad holds no strokes to store.")
        image = Image.fromarray(255 - strokes)
    elif isinstance(image, (bytes, bytearray, memoryview, str, os.PathLike)):
        source = io.BytesIO(bytes(image)) if isinstance(image, (bytes, bytearray, memoryview)) else image
        try:
            with Image.open(source) as opened:
                image = opened.convert("RGBA" if "A" in opened.mode or "transparency" in opened.info else "RGB")
        except (OSError, SyntaxError, ValueError) as error:
            raise InvalidImageError(f"The image to store is not a readable image: {error}") from error
    elif isinstance(image, np.ndarray):
        array = image
        if array.dtype != np.uint8:
            scale = 255.0 if array.max() <= 1 else 1.0
            array = np.clip(array.astype(np.float64) * scale, 0, 255).round().astype(np.uint8)
        image = Image.fromarray(array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array)
    if not isinstance(image, Image.Image):
        raise InvalidImageError(f"Cannot store an image from {type(image).__name__}.")
    while True:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False)
        if buffer.tell() <= MAX_PNG_BYTES or max(image.size) <= 28:
            return buffer.getvalue()
        image = image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.LANCZOS)
