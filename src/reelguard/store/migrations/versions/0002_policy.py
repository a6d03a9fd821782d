"""Subscribers, licence policy state and key origins: accounts, devices, title rights, grants,
stream slots, the jti replay cache, downloads, the decision log and the change feed.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # keys a third-party packager asked for by KID (SPEKE) sit beside the title's own
    # One own key per tier stays unique; keys by packager-chosen KID may share a tier.
    with op.batch_alter_table("content_keys") as batch:
        batch.add_column(sa.Column("origin", sa.String(64), nullable=False, server_default="reelguard"))
        batch.drop_constraint("uq_content_keys_title_tier", type_="unique")
    op.create_index("uq_content_keys_own_tier", "content_keys", ["title_id", "tier"], unique=True,
                    sqlite_where=sa.text("origin = 'reelguard'"), postgresql_where=sa.text("origin = 'reelguard'"))
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "devices",
        sa.Column("account_id", sa.String(200), sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("security_level", sa.String(16), nullable=False),
        sa.Column("hdcp", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "title_rights",
        sa.Column("title", sa.String(200), primary_key=True),
        sa.Column("plans", sa.JSON, nullable=True),
        sa.Column("territories", sa.JSON, nullable=True),
        sa.Column("available_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("available_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("downloadable", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("account_id", sa.String(200), sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("title", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_played_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "streams",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("token_id", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_streams_account_id", "streams", ["account_id"])
    op.create_table(
        "used_tokens",
        sa.Column("jti", sa.String(200), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_used_tokens_expires_at", "used_tokens", ["expires_at"])
    op.create_table(
        "downloads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_played_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_downloads_account_id", "downloads", ["account_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("tiers", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("policy", sa.String(120), nullable=False),
        sa.Column("stream_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_decisions_at", "decisions", ["at"])
    op.create_index("ix_decisions_account_id", "decisions", ["account_id"])
    op.create_table(
        "policy_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=True),
        sa.Column("title", sa.String(200), nullable=True),
    )
    op.create_index("ix_policy_changes_changed_at", "policy_changes", ["changed_at"])
    op.create_index("ix_streams_account_expires", "streams", ["account_id", "expires_at"])


def downgrade() -> None:
    op.drop_index("uq_content_keys_own_tier", "content_keys")
    with op.batch_alter_table("content_keys") as batch:
        batch.drop_column("origin")
        batch.create_unique_constraint("uq_content_keys_title_tier", ["title_id", "tier"])
    op.drop_table("policy_changes")
    op.drop_table("decisions")
    op.drop_table("downloads")
    op.drop_table("used_tokens")
    op.drop_table("streams")
    op.drop_table("grants")
    op.drop_table("title_rights")
    op.drop_table("devices")
    op.drop_table("accounts")
