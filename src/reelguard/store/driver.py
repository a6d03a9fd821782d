"""Plain SQL on a session's connection, the same on SQLite and PostgreSQL.

The licence hot paths (renewal write-behind, stream starts, cold account facts) skip the
ORM and Core statement building, which cost more than the queries. What that needs:
the dialect's placeholder, and times bound and read exactly as ``UtcDateTime`` stores
them (SQLite: naive UTC text with six-digit microseconds; PostgreSQL: timestamptz)::

    sql = Driver.of(session)
    sql.execute(f"UPDATE streams SET ended_at = {sql.mark} WHERE id = {sql.mark}", (sql.bind(now), stream_id))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult
from sqlalchemy.orm import Session

__all__ = ["Driver"]


class Driver:
    """``mark`` (the placeholder), ``bind`` and ``read`` (times), ``execute`` on one connection."""

    def __init__(self, connection: Connection) -> None:
        sqlite = connection.dialect.name == "sqlite"
        self.connection = connection
        self.mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self.bind: Callable[[datetime], object] = _sqlite_time if sqlite else _utc
        self.read: Callable[[Any], datetime] = _read_sqlite_time if sqlite else _utc

    @classmethod
    def of(cls, session: Session) -> Driver:
        return cls(session.connection())

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def read_optional(self, value: Any) -> datetime | None:
        return None if value is None else self.read(value)

    def execute(self, statement: str, parameters: Sequence[Any]) -> CursorResult[*tuple[Any, ...]]:
        return self.connection.exec_driver_sql(statement, tuple(parameters))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _read_sqlite_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_time(value: datetime) -> str:
    """'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (isoformat is twice as fast as strftime)."""
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat(" ", "microseconds")[:26]
