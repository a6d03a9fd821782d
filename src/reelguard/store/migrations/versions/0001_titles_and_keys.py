"""Titles and their wrapped content keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "titles",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("master_blob", sa.String(400), nullable=False),
        sa.Column("source_filename", sa.String(400), nullable=False),
        sa.Column("source_bytes", sa.Integer, nullable=False),
        sa.Column("duration_seconds", sa.Float, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("frame_rate", sa.Float, nullable=False),
        sa.Column("has_audio", sa.Boolean, nullable=False),
        sa.Column("package", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_titles_name", "titles", ["name"], unique=True)
    op.create_table(
        "content_keys",
        sa.Column("kid", sa.String(32), primary_key=True),
        sa.Column(
            "title_id",
            sa.String(36),
            sa.ForeignKey("titles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(64), nullable=False),
        sa.Column("kek_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("title_id", "tier", name="uq_content_keys_title_tier"),
    )
    op.create_index("ix_content_keys_title_id", "content_keys", ["title_id"])


def downgrade() -> None:
    op.drop_table("content_keys")
    op.drop_table("titles")
