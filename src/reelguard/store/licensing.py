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
from reelguard.store.models import DownloadRow, UsedTokenRow

T = TypeVar("T")

__all__ = [
    "StreamState",
    "active_downloads",
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
    sql = Driver.of(session)
    row = sql.execute("SELECT id, account_id, device_id, title, expires_at, ended_at FROM streams "  # noqa: S608
                      f"WHERE id = {sql.mark}", (stream_id,)).first()
    if row is None:
        return None
    return StreamState(row[0], row[1], row[2], row[3], sql.read(row[4]), sql.read_optional(row[5]))


def _running_streams(sql: Driver) -> str:
    """The count of an account's running streams, given its id and the time (one definition)."""
    return (f"SELECT count(*) FROM streams WHERE account_id = {sql.mark} AND expires_at > {sql.mark} "  # noqa: S608
            "AND ended_at IS NULL")


def start_usage(session: Session, account_id: str, jti: str, now: datetime) -> tuple[int, bool]:
    """The account's running streams, and whether the token's jti already started something."""
    sql = Driver.of(session)
    active, used = sql.execute(f"SELECT ({_running_streams(sql)}), "  # noqa: S608
                               f"EXISTS (SELECT 1 FROM used_tokens WHERE jti = {sql.mark})",
                               (account_id, sql.bind(now), jti)).one()
    return int(active), bool(used)


def count_active_streams(session: Session, account_id: str, now: datetime) -> int:
    sql = Driver.of(session)
    return int(sql.execute(_running_streams(sql), (account_id, sql.bind(now))).scalar_one())


def start_stream(session: Session, state: StreamState, *, token_id: str, token_expires_at: datetime,
                 now: datetime) -> None:
    """Insert the stream (or restart the token's ended one: same id) and mark its jti used."""
    sql = Driver.of(session)
    sql.execute(
        "INSERT INTO streams (id, account_id, device_id, title, token_id, started_at, renewed_at, "  # noqa: S608
        f"expires_at, ended_at) VALUES ({sql.marks(8)}, NULL) ON CONFLICT (id) DO UPDATE SET "
        "account_id = excluded.account_id, device_id = excluded.device_id, title = excluded.title, "
        "token_id = excluded.token_id, started_at = excluded.started_at, renewed_at = excluded.renewed_at, "
        "expires_at = excluded.expires_at, ended_at = NULL",
        (state.id, state.account_id, state.device_id, state.title, token_id, sql.bind(now), sql.bind(now),
         sql.bind(state.expires_at)))
    sql.execute(f"INSERT INTO used_tokens (jti, expires_at) VALUES ({sql.marks(2)}) "  # noqa: S608
                "ON CONFLICT (jti) DO NOTHING", (token_id, sql.bind(token_expires_at)))


def mark_first_play(session: Session, account_id: str, title: str, now: datetime) -> bool:
    """Start a rental's playback window at its first play; True if this was the first play."""
    sql = Driver.of(session)
    result = sql.execute(f"UPDATE grants SET first_played_at = {sql.mark} WHERE account_id = {sql.mark} "  # noqa: S608
                         f"AND title = {sql.mark} AND first_played_at IS NULL", (sql.bind(now), account_id, title))
    return bool(result.rowcount)


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
                     "policy", "stream_id", "record_id")
_CHUNK_ROWS = 500  # x 13 columns = 6,500 parameters: within SQLite's and PostgreSQL's limits


def renew_streams(session: Session, renewals: Sequence[tuple[str, datetime, datetime]]) -> None:
    """Apply renewals ``(stream id, renewed at, expires at)``; never shortens or revives a stream."""
    sql = Driver.of(session)
    row = f"({sql.marks(3)})"
    for chunk in _chunks(renewals):
        sql.execute(
            f"WITH renewal (id, renewed_at, expires_at) AS (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608
            "UPDATE streams SET renewed_at = renewal.renewed_at, expires_at = renewal.expires_at FROM renewal "
            "WHERE streams.id = renewal.id AND streams.ended_at IS NULL AND streams.expires_at < renewal.expires_at",
            [value for sid, renewed, expires in chunk for value in (sid, sql.bind(renewed), sql.bind(expires))])


def insert_decisions(session: Session, decisions: Sequence[dict[str, Any]]) -> None:
    """Insert decision records; one whose ``record_id`` is already stored (a journal replay) is skipped."""
    sql = Driver.of(session)
    row = f"({sql.marks(len(_DECISION_COLUMNS))})"
    for chunk in _chunks(decisions):
        sql.execute(
            f"INSERT INTO decisions ({', '.join(_DECISION_COLUMNS)}) "  # noqa: S608 - placeholders only
            f"VALUES {', '.join([row] * len(chunk))} ON CONFLICT (record_id) DO NOTHING",
            [sql.bind(d["at"]) if column == "at" else d.get(column) for d in chunk for column in _DECISION_COLUMNS])


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
