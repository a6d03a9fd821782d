"""Repositories for licence state: stream slots, the jti replay cache, downloads, decisions.

Slot allocation must be atomic per account (N parallel requests for an account whose
limit is 2 grant exactly 2), so callers run it inside ``Database.serialized(account)``:
on SQLite a ``BEGIN IMMEDIATE`` transaction, on PostgreSQL an advisory lock on the
account for the transaction's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelguard.store.driver import Driver
from reelguard.store.models import DownloadRow, StreamRow, UsedTokenRow

T = TypeVar("T")

__all__ = [
    "StreamState",
    "active_downloads",
    "active_streams",
    "count_active_streams",
    "insert_decisions",
    "mark_first_play",
    "mark_token_used",
    "renew_streams",
    "start_stream",
    "start_usage",
    "stream_state",
    "title_downloads_since",
    "token_used",
]


class StreamState(NamedTuple):
    id: str
    account_id: str
    device_id: str
    title: str
    expires_at: datetime
    ended_at: datetime | None


# A stream start runs inside the account's serialized transaction, so its statements are
# plain SQL on the session's connection (valid on SQLite and PostgreSQL): the ORM's
# identity map and Core's per-call statement building cost more than the queries
# themselves (session.get alone was a third of a start).

def stream_state(session: Session, stream_id: str) -> StreamState | None:
    connection = session.connection()
    sql = Driver(connection)
    mark, read = sql.mark, sql.read
    row = connection.exec_driver_sql(
        "SELECT id, account_id, device_id, title, expires_at, ended_at FROM streams "  # noqa: S608
        f"WHERE id = {mark}", (stream_id,)).first()
    if row is None:
        return None
    return StreamState(row[0], row[1], row[2], row[3], read(row[4]), read(row[5]) if row[5] is not None else None)


def start_usage(session: Session, account_id: str, jti: str, now: datetime) -> tuple[int, bool]:
    """The account's running streams, and whether the token's jti already started something."""
    connection = session.connection()
    sql = Driver(connection)
    mark, when = sql.mark, sql.bind
    active, used = connection.exec_driver_sql(
        f"SELECT (SELECT count(*) FROM streams WHERE account_id = {mark} AND expires_at > {mark} "  # noqa: S608
        f"AND ended_at IS NULL), EXISTS (SELECT 1 FROM used_tokens WHERE jti = {mark})",
        (account_id, when(now), jti)).one()
    return int(active), bool(used)


def start_stream(session: Session, state: StreamState, *, token_id: str, token_expires_at: datetime,
                 now: datetime) -> None:
    """Insert the stream (or restart the token's ended one: same id) and mark its jti used."""
    connection = session.connection()
    sql = Driver(connection)
    mark, when = sql.mark, sql.bind
    connection.exec_driver_sql(
        "INSERT INTO streams (id, account_id, device_id, title, token_id, started_at, renewed_at, "  # noqa: S608
        f"expires_at, ended_at) VALUES ({', '.join([mark] * 8)}, NULL) ON CONFLICT (id) DO UPDATE SET "
        "account_id = excluded.account_id, device_id = excluded.device_id, title = excluded.title, "
        "token_id = excluded.token_id, started_at = excluded.started_at, renewed_at = excluded.renewed_at, "
        "expires_at = excluded.expires_at, ended_at = NULL",
        (state.id, state.account_id, state.device_id, state.title, token_id, when(now), when(now),
         when(state.expires_at)))
    connection.exec_driver_sql(
        f"INSERT INTO used_tokens (jti, expires_at) VALUES ({mark}, {mark}) "  # noqa: S608
        "ON CONFLICT (jti) DO NOTHING", (token_id, when(token_expires_at)))


def mark_first_play(session: Session, account_id: str, title: str, now: datetime) -> bool:
    """Start a rental's playback window at its first play; True if this was the first play."""
    connection = session.connection()
    sql = Driver(connection)
    mark, when = sql.mark, sql.bind
    result = connection.exec_driver_sql(
        f"UPDATE grants SET first_played_at = {mark} WHERE account_id = {mark} AND title = {mark} "  # noqa: S608
        "AND first_played_at IS NULL", (when(now), account_id, title))
    return bool(result.rowcount)


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
# the write-behind flusher), so both bypass the ORM (its per-row parameter processing
# cost as much CPU as the licence requests themselves) and go as one multi-row statement
# per chunk: the flusher runs beside the event loop, and a statement per row (executemany)
# hands the GIL back and forth with it at every row, which slowed every request of the
# process. Times are bound exactly as ``UtcDateTime`` stores them.

_DECISION_COLUMNS = ("at", "action", "account_id", "device_id", "title", "ip", "granted", "tiers", "rule", "reason",
                     "policy", "stream_id")
_CHUNK_ROWS = 500  # x 12 columns = 6,000 parameters: within SQLite's and PostgreSQL's limits


def renew_streams(session: Session, renewals: Sequence[tuple[str, datetime, datetime]]) -> None:
    """Apply renewals ``(stream id, renewed at, expires at)``; never shortens or revives a stream."""
    connection = session.connection()
    sql = Driver(connection)
    mark, when = sql.mark, sql.bind
    for chunk in _chunks(renewals):
        values = ", ".join([f"({mark}, {mark}, {mark})"] * len(chunk))
        connection.exec_driver_sql(
            f"WITH renewal (id, renewed_at, expires_at) AS (VALUES {values}) "  # noqa: S608 - placeholders only
            "UPDATE streams SET renewed_at = renewal.renewed_at, expires_at = renewal.expires_at FROM renewal "
            "WHERE streams.id = renewal.id AND streams.ended_at IS NULL AND streams.expires_at < renewal.expires_at",
            tuple(value for sid, renewed, expires in chunk for value in (sid, when(renewed), when(expires))))


def insert_decisions(session: Session, decisions: Sequence[dict[str, Any]]) -> None:
    connection = session.connection()
    sql = Driver(connection)
    mark, when = sql.mark, sql.bind
    row = f"({', '.join([mark] * len(_DECISION_COLUMNS))})"
    for chunk in _chunks(decisions):
        connection.exec_driver_sql(
            f"INSERT INTO decisions ({', '.join(_DECISION_COLUMNS)}) "  # noqa: S608 - placeholders only
            f"VALUES {', '.join([row] * len(chunk))}",
            tuple(value for d in chunk for value in (
                when(d["at"]), d["action"], d["account_id"], d["device_id"], d["title"], d["ip"], d["granted"],
                d["tiers"], d["rule"], d["reason"], d["policy"], d["stream_id"])))


def _chunks(rows: Sequence[T]) -> list[Sequence[T]]:
    return [rows[i:i + _CHUNK_ROWS] for i in range(0, len(rows), _CHUNK_ROWS)]


def active_downloads(session: Session, account_id: str, now: datetime) -> Sequence[DownloadRow]:
    return session.scalars(select(DownloadRow).where(
        DownloadRow.account_id == account_id, DownloadRow.released_at.is_(None), DownloadRow.expires_at > now
    )).all()


def title_downloads_since(session: Session, account_id: str, title: str, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(DownloadRow).where(
        DownloadRow.account_id == account_id, DownloadRow.title == title,
        DownloadRow.issued_at > now - timedelta(days=365))) or 0)
