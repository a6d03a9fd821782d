"""Act: the append-only evidence log — records (leaves), the hashes of its complete subtrees, signed checkpoints.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_records",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=True),  # canonical JSON; dropped by a purge, the leaf hash stays
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("appended_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "evidence_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "evidence_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tsa_token", sa.LargeBinary, nullable=True),  # RFC 3161 TimeStampResp over the note's bytes
        sa.Column("stamp_error", sa.Text, nullable=True),  # why the TSA has not stamped it yet
    )


def downgrade() -> None:
    op.drop_table("evidence_checkpoints")
    op.drop_table("evidence_nodes")
    op.drop_table("evidence_records")
