"""Repositories for licence state: stream slots, the jti replay cache, downloads, decisions.

Slot allocation must be atomic per account (N parallel requests for an account whose
limit is 2 grant exactly 2), so callers run it inside ``Database.serialized(account)``:
on SQLite a ``BEGIN IMMEDIATE`` transaction, on PostgreSQL an advisory lock on the
account for the transaction's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelguard.store.models import DownloadRow, StreamRow, UsedTokenRow

__all__ = [
    "active_downloads",
    "active_streams",
    "count_active_streams",
    "insert_decisions",
    "mark_token_used",
    "renew_streams",
    "title_downloads_since",
    "token_used",
]


def count_active_streams(session: Session, account_id: str, now: datetime) -> int:
    return int(session.scalar(
        select(func.count()).select_from(StreamRow).where(
            StreamRow.account_id == account_id, StreamRow.expires_at > now, StreamRow.ended_at.is_(None))
    ) or 0)


def active_streams(session: Session, account_id: str, now: datetime) -> Sequence[StreamRow]:
    return session.scalars(select(StreamRow).where(
        StreamRow.account_id == account_id, StreamRow.expires_at > now, StreamRow.ended_at.is_(None)
    ).order_by(StreamRow.started_at)).all()


def token_used(session: Session, jti: str) -> bool:
    return session.get(UsedTokenRow, jti) is not None


def mark_token_used(session: Session, jti: str, expires_at: datetime) -> None:
    session.add(UsedTokenRow(jti=jti, expires_at=expires_at))


# Renewals and decision records are the busiest writes (thousands a second, mostly from
# the write-behind flusher), so both go through one driver-level ``executemany``: the
# ORM's per-row parameter processing cost as much CPU as the licence requests themselves.
# Times are bound exactly as ``UtcDateTime`` stores them.

_DECISION_COLUMNS = ("at", "action", "account_id", "device_id", "title", "ip", "granted", "tiers", "rule", "reason",
                     "policy", "stream_id")


def renew_streams(session: Session, renewals: Sequence[tuple[str, datetime, datetime]]) -> None:
    """Apply renewals ``(stream id, renewed at, expires at)``; never shortens or revives a stream."""
    if not renewals:
        return
    connection = session.connection()
    mark, when = _placeholder(connection.dialect.paramstyle), _driver_time(connection.dialect.name)
    connection.exec_driver_sql(
        f"UPDATE streams SET renewed_at = {mark}, expires_at = {mark} "  # noqa: S608 - placeholders only
        f"WHERE id = {mark} AND ended_at IS NULL AND expires_at < {mark}",
        [(when(ren), when(exp), sid, when(exp)) for sid, ren, exp in renewals])


def insert_decisions(session: Session, decisions: Sequence[dict[str, Any]]) -> None:
    if not decisions:
        return
    connection = session.connection()
    mark, when = _placeholder(connection.dialect.paramstyle), _driver_time(connection.dialect.name)
    rows = [tuple(when(d["at"]) if c == "at" else d[c] for c in _DECISION_COLUMNS) for d in decisions]
    marks = ", ".join([mark] * len(_DECISION_COLUMNS))
    statement = f"INSERT INTO decisions ({', '.join(_DECISION_COLUMNS)}) VALUES ({marks})"  # noqa: S608
    connection.exec_driver_sql(statement, rows)


def _placeholder(paramstyle: str) -> str:
    return "?" if paramstyle == "qmark" else "%s"


def _driver_time(dialect: str) -> Any:
    if dialect == "sqlite":  # SQLAlchemy's SQLite DATETIME storage: naive UTC, six-digit microseconds
        return lambda value: value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return lambda value: value.astimezone(UTC)


def active_downloads(session: Session, account_id: str, now: datetime) -> Sequence[DownloadRow]:
    return session.scalars(select(DownloadRow).where(
        DownloadRow.account_id == account_id, DownloadRow.released_at.is_(None), DownloadRow.expires_at > now
    )).all()


def title_downloads_since(session: Session, account_id: str, title: str, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(DownloadRow).where(
        DownloadRow.account_id == account_id, DownloadRow.title == title,
        DownloadRow.issued_at > now - timedelta(days=365))) or 0)
