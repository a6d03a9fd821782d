"""Monitoring: torrents seen on piracy sources (sightings), their listings, the watchlist, source health.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sightings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("infohash_v1", sa.String(40), nullable=True, unique=True),
        sa.Column("infohash_v2", sa.String(64), nullable=True, unique=True),
        sa.Column("magnet", sa.Text, nullable=True),
        sa.Column("link", sa.Text, nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("seeders", sa.Integer, nullable=True),
        sa.Column("leechers", sa.Integer, nullable=True),
        sa.Column("release", sa.JSON(), nullable=False),
        sa.Column("matches", sa.JSON(), nullable=False),
        sa.Column("matched", sa.Boolean, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_seen", sa.Integer, nullable=False),
    )
    op.create_index("ix_sightings_matched", "sightings", ["matched"])
    op.create_index("ix_sightings_last_seen", "sightings", ["last_seen"])
    op.create_table(
        "sighting_titles",
        sa.Column("sighting_id", sa.String(32), sa.ForeignKey("sightings.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("title_id", sa.String(200), primary_key=True),
    )
    op.create_index("ix_sighting_titles_title_id", "sighting_titles", ["title_id"])
    op.create_table(
        "sighting_listings",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("item_id", sa.String(400), primary_key=True),
        sa.Column("sighting_id", sa.String(32), sa.ForeignKey("sightings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sighting_listings_sighting_id", "sighting_listings", ["sighting_id"])
    op.create_table(
        "watchlist",
        sa.Column("title", sa.String(200), sa.ForeignKey("titles.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("search_name", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("other_names", sa.JSON(), nullable=False),
        sa.Column("season", sa.Integer, nullable=True),
        sa.Column("episode", sa.Integer, nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_searched_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_watchlist_next_due_at", "watchlist", ["next_due_at"])
    op.create_table(
        "source_state",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("backoff_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("source_state")
    op.drop_index("ix_watchlist_next_due_at", table_name="watchlist")
    op.drop_table("watchlist")
    op.drop_index("ix_sighting_listings_sighting_id", table_name="sighting_listings")
    op.drop_table("sighting_listings")
    op.drop_index("ix_sighting_titles_title_id", table_name="sighting_titles")
    op.drop_table("sighting_titles")
    op.drop_index("ix_sightings_last_seen", table_name="sightings")
    op.drop_index("ix_sightings_matched", table_name="sightings")
    op.drop_table("sightings")
