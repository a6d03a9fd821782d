"""SQLAlchemy table models. The schema is owned by the Alembic migrations beside this file.

A title moves through ``stage`` (received → keys → transcoded → fingerprinted → packaged) while its
``status`` is ``ingesting``; only the last step flips it to ``ready`` in the same
transaction that records the package, so no reader ever sees a half-packaged title.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AccountRow",
    "ApiClientRow",
    "Base",
    "ContentKeyRow",
    "DecisionRow",
    "DeviceRow",
    "DownloadRow",
    "EvidenceCheckpointRow",
    "EvidenceNodeRow",
    "EvidenceRecordRow",
    "GrantRow",
    "IdempotencyKeyRow",
    "ListingRow",
    "PeerObservationRow",
    "PolicyChangeRow",
    "SeenSignatureRow",
    "SightingJobRow",
    "SightingRow",
    "SightingTitleRow",
    "SourceStateRow",
    "StreamRow",
    "TitleRightsRow",
    "TitleRow",
    "UsedTokenRow",
    "WatchRow",
]


OWN_KEYS = "reelguard"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class TitleRow(Base):
    __tablename__ = "titles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16))
    master_blob: Mapped[str] = mapped_column(String(400))
    source_filename: Mapped[str] = mapped_column(String(400))
    source_bytes: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frame_rate: Mapped[float] = mapped_column(Float)
    has_audio: Mapped[bool]
    package: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    watermark: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # None: not watermarked
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WatermarkSessionRow(Base):
    """One playback session of a watermarked title: whom a leaked A/B sequence points to."""

    __tablename__ = "wm_sessions"
    __table_args__ = (Index("ix_wm_sessions_title", "title_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title_id: Mapped[str] = mapped_column(String(36), ForeignKey("titles.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(String(200))
    device_id: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ContentKeyRow(Base):
    __tablename__ = "content_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    title_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("titles.id", ondelete="CASCADE"), index=True
    )
    tier: Mapped[str] = mapped_column(String(8))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(64))
    kek_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    origin: Mapped[str] = mapped_column(String(64), default=OWN_KEYS)  # "reelguard" or "speke:<client>"
    generation: Mapped[int] = mapped_column(Integer, default=1)  # a rotation packages the title under new keys
    retire_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # no licence after this


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    plan: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))          # active | suspended
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DeviceRow(Base):
    __tablename__ = "devices"

    account_id: Mapped[str] = mapped_column(String(200), ForeignKey("accounts.id", ondelete="CASCADE"),
                                            primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    security_level: Mapped[str] = mapped_column(String(16))
    hdcp: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))          # active | revoked
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class TitleRightsRow(Base):
    __tablename__ = "title_rights"

    title: Mapped[str] = mapped_column(String(200), primary_key=True)
    plans: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    territories: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    available_from: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    available_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    downloadable: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class GrantRow(Base):
    __tablename__ = "grants"

    account_id: Mapped[str] = mapped_column(String(200), ForeignKey("accounts.id", ondelete="CASCADE"),
                                            primary_key=True)
    title: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))            # purchase | rental
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    first_played_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class StreamRow(Base):
    """One playback: the slot it holds lapses at ``expires_at`` unless renewed."""

    __tablename__ = "streams"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    device_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class UsedTokenRow(Base):
    """The jti replay cache: a token that started something may not start anything again."""

    __tablename__ = "used_tokens"

    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class DownloadRow(Base):
    __tablename__ = "downloads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    device_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    first_played_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class DecisionRow(Base):
    """Every licence decision: who, what, which rule, when — never a key."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    device_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str] = mapped_column(String(64))
    granted: Mapped[bool]
    tiers: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    policy: Mapped[str] = mapped_column(String(120))
    stream_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    record_id: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)  # journal replay key


class PolicyChangeRow(Base):
    """A change feed: licence servers drop cached account/title facts named here."""

    __tablename__ = "policy_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    account_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SeenSignatureRow(Base):
    """A signed key-server request already accepted: refused if it comes again (replay)."""

    __tablename__ = "seen_signatures"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ApiClientRow(Base):
    """A client of the integration API (the platform's backend): a hashed key and its scopes."""

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class IdempotencyKeyRow(Base):
    """The answer to an integration-API write, kept so a retry with the same key gets it again."""

    __tablename__ = "idempotency_keys"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class SightingRow(Base):
    """One torrent seen on piracy sources: deduplicated by infohash across sources, counted each time it is seen."""

    __tablename__ = "sightings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    infohash_v1: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)
    infohash_v2: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    magnet: Mapped[str | None] = mapped_column(Text, nullable=True)
    link: Mapped[str | None] = mapped_column(Text, nullable=True)
    categories: Mapped[list[int]] = mapped_column(JSON)
    seeders: Mapped[int | None] = mapped_column(Integer, nullable=True)
    leechers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    release: Mapped[dict[str, Any]] = mapped_column(JSON)  # the release name read (monitor.releases)
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # catalog titles it names, with reasons
    matched: Mapped[bool] = mapped_column(index=True)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    times_seen: Mapped[int] = mapped_column(Integer)


class SightingTitleRow(Base):
    """A catalog title a sighting's name points at (its matches, one row each, to look sightings up by title)."""

    __tablename__ = "sighting_titles"

    sighting_id: Mapped[str] = mapped_column(String(32), ForeignKey("sightings.id", ondelete="CASCADE"),
                                             primary_key=True)
    title_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class ListingRow(Base):
    """Where a sighting was listed: one row per (source, the source's item id)."""

    __tablename__ = "sighting_listings"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    sighting_id: Mapped[str] = mapped_column(String(32), ForeignKey("sightings.id", ondelete="CASCADE"), index=True)
    published: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())


class WatchRow(Base):
    """A catalog title on the watchlist: how release names call it, which sources to ask, when it is next due."""

    __tablename__ = "watchlist"

    title: Mapped[str] = mapped_column(String(200), ForeignKey("titles.name", ondelete="CASCADE"), primary_key=True)
    search_name: Mapped[str] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    other_names: Mapped[list[str]] = mapped_column(JSON)
    season: Mapped[int | None] = mapped_column(Integer, nullable=True)
    episode: Mapped[int | None] = mapped_column(Integer, nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    sources: Mapped[list[str]] = mapped_column(JSON)  # source names; empty: every configured source
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_due_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_searched_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SourceStateRow(Base):
    """A piracy source's health across rounds and workers: failures in a row and when it may be asked again."""

    __tablename__ = "source_state"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    backoff_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SightingJobRow(Base):
    """One step of taking a matched sighting to a traced leak (probe, sample, identify, trace), claimed by one worker.

    A worker holds a job by its lease; a job whose lease ran out (its worker died) is
    claimed again. The step's result and the next step's job are written in the one
    transaction that marks it done, so a crash never leaves a step done without them.
    """

    __tablename__ = "sighting_jobs"
    __table_args__ = (Index("ix_sighting_jobs_state", "state", "not_before"),
                      UniqueConstraint("sighting_id", "step", name="uq_sighting_jobs_step"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sighting_id: Mapped[str] = mapped_column(String(32), ForeignKey("sightings.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12))  # pending, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PeerObservationRow(Base):
    """What the swarm probe saw of one peer of a sighting's torrent (monitor.swarm.PeerObservation, whole)."""

    __tablename__ = "peer_observations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sighting_id: Mapped[str] = mapped_column(String(32), ForeignKey("sightings.id", ondelete="CASCADE"), index=True)
    peer_ip: Mapped[str] = mapped_column(String(64))
    peer_port: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


class EvidenceRecordRow(Base):
    """One record of the evidence log (a leaf): its canonical JSON and that JSON's RFC 9162 leaf hash."""

    __tablename__ = "evidence_records"

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # None once purged; the hash stays
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    appended_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EvidenceNodeRow(Base):
    """The hash of a complete subtree of the evidence log: leaves [position·2^level, (position+1)·2^level)."""

    __tablename__ = "evidence_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class EvidenceCheckpointRow(Base):
    """A signed checkpoint of the evidence log (C2SP signed note), by the size it covers."""

    __tablename__ = "evidence_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    tsa_token: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # RFC 3161, over the note's bytes
    stamp_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it is not stamped yet


class CaseRow(Base):
    """One leak being acted on (enforcement.cases): its state, what it is about, and whether it is on legal hold."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_state", "state", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))  # "monitor" (a sighting) or "report" (a file someone sent)
    sighting_id: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)  # identify and trace findings, the sources to re-check
    review: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it waits for staff (the review queue)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    removal_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer)  # bumped by every change: two staff never both close it
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseEventRow(Base):
    """What happened to a case, by whom and why; each one also a record of the evidence log."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(200))  # "staff:alice", "rule:<name>@<version>", "monitor"
    kind: Mapped[str] = mapped_column(String(24))  # opened, transition, note, notice, action, removal_check
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence_position: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CaseEvidenceRow(Base):
    """An evidence-log record that belongs to a case (what ``evidence export CASE`` bundles)."""

    __tablename__ = "case_evidence"

    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class NoticeRow(Base):
    """A takedown notice of a case: its text, where it goes, and how delivery went (never sent twice)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    recipient: Mapped[str] = mapped_column(String(320))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # queued, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    relay_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
