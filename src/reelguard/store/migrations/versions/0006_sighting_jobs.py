"""Monitoring, second half: the jobs that take a matched sighting to a traced leak, and what the probe saw of peers.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sighting_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sighting_id", sa.String(32), sa.ForeignKey("sightings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(80), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sighting_id", "step", name="uq_sighting_jobs_step"),
    )
    op.create_index("ix_sighting_jobs_state", "sighting_jobs", ["state", "not_before"])
    op.create_table(
        "peer_observations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sighting_id", sa.String(32), sa.ForeignKey("sightings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("peer_ip", sa.String(64), nullable=False),
        sa.Column("peer_port", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
    )
    op.create_index("ix_peer_observations_sighting_id", "peer_observations", ["sighting_id"])


def downgrade() -> None:
    op.drop_table("peer_observations")
    op.drop_table("sighting_jobs")
