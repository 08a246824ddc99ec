"""Corrections: the right answers people give when the app reads their digit wrong, kept in
a real database (SQLAlchemy; SQLite by default, any URL in $DIGITREC_DB), with the schema
under Alembic's migrations."""

from digitrec.corrections.store import DB_ENV, Correction, CorrectionStore, default_url, png_of

__all__ = ["DB_ENV", "Correction", "CorrectionStore", "default_url", "png_of"]
