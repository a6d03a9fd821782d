"""Act: content keys by generation — a rotation packages a title under new keys and retires the old ones.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


_OWN = "origin = 'reelguard'"


def upgrade() -> None:
    with op.batch_alter_table("content_keys") as batch:
        batch.add_column(sa.Column("generation", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("retire_at", sa.DateTime(timezone=True), nullable=True))
    # one own key per tier and generation (a rotation adds a generation beside the old one)
    op.drop_index("uq_content_keys_own_tier", "content_keys")
    op.create_index("uq_content_keys_own_tier", "content_keys", ["title_id", "generation", "tier"], unique=True,
                    sqlite_where=sa.text(_OWN), postgresql_where=sa.text(_OWN))


def downgrade() -> None:
    op.drop_index("uq_content_keys_own_tier", "content_keys")
    op.execute("DELETE FROM content_keys WHERE generation > 1")
    op.create_index("uq_content_keys_own_tier", "content_keys", ["title_id", "tier"], unique=True,
                    sqlite_where=sa.text(_OWN), postgresql_where=sa.text(_OWN))
    with op.batch_alter_table("content_keys") as batch:
        batch.drop_column("retire_at")
        batch.drop_column("generation")
