"""The corrections table.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("label", sa.SmallInteger, nullable=False),
        sa.Column("image_png", sa.LargeBinary, nullable=False),
        sa.Column("processed", sa.LargeBinary, nullable=False),
        sa.Column("answer", sa.SmallInteger, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sha256", "label", name="uq_corrections_image_label"),
    )
    op.create_index("ix_corrections_sha256", "corrections", ["sha256"])


def downgrade():
    op.drop_index("ix_corrections_sha256", "corrections")
    op.drop_table("corrections")
