"""Plain SQL on a SQLAlchemy connection, the same on SQLite and PostgreSQL.

The licence hot paths (renewal write-behind, stream starts, cold account facts) skip the
ORM and Core statement building, which cost more than the queries. What that needs:
the dialect's placeholder, and times bound and read exactly as ``UtcDateTime`` stores
them (SQLite: naive UTC text with six-digit microseconds; PostgreSQL: timestamptz).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection

__all__ = ["Driver"]


class Driver:
    """``mark`` (the placeholder), ``bind`` and ``read`` (times) for one connection's dialect."""

    def __init__(self, connection: Connection) -> None:
        sqlite = connection.dialect.name == "sqlite"
        self.mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self.bind: Callable[[datetime], object] = _sqlite_time if sqlite else _utc
        self.read: Callable[[object], datetime] = _read_sqlite_time if sqlite else _utc  # type: ignore[assignment]

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _read_sqlite_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_time(value: datetime) -> str:
    """'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (isoformat is twice as fast as strftime)."""
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat(" ", "microseconds")[:26]
