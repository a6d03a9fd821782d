"""Forensic watermarking: a title's watermark settings and the playback sessions it traces to.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("titles") as batch:
        batch.add_column(sa.Column("watermark", sa.JSON(), nullable=True))
    op.create_table(
        "wm_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title_id", sa.String(36), sa.ForeignKey("titles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_wm_sessions_title", "wm_sessions", ["title_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_wm_sessions_title", table_name="wm_sessions")
    op.drop_table("wm_sessions")
    with op.batch_alter_table("titles") as batch:
        batch.drop_column("watermark")
