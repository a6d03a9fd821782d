"""Streams seen from outside the licence server: list them, end one.

A stream is one playback holding a slot of its account (``ledger.py``). Ending it frees
the slot at once and tells every licence server through the change feed, so the player's
next renewal is decided afresh — a single-use token cannot start it again::

    streams = StreamAdmin(db, clock)
    streams.list_streams(account="acct-1", running_only=True)
    streams.end("9f2c…")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from reelguard.clock import Clock
from reelguard.errors import InvalidInput, NotFound
from reelguard.store import subscribers
from reelguard.store.database import Database
from reelguard.store.models import StreamRow

__all__ = ["StreamAdmin", "StreamView"]

MAX_PAGE = 1000


@dataclass(frozen=True)
class StreamView:
    id: str
    account: str
    device: str
    title: str
    started_at: str
    renewed_at: str
    expires_at: str
    ended_at: str | None
    running: bool

    @classmethod
    def of(cls, row: StreamRow, now: datetime) -> StreamView:
        running = row.ended_at is None and row.expires_at > now
        return cls(row.id, row.account_id, row.device_id, row.title, row.started_at.isoformat(),
                   row.renewed_at.isoformat(), row.expires_at.isoformat(),
                   row.ended_at.isoformat() if row.ended_at else None, running)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class StreamAdmin:
    def __init__(self, db: Database, clock: Clock, *, on_change: Callable[[str], None] | None = None) -> None:
        """``on_change(account)``: a licence server in this process forgets the account at once."""
        self._db, self._clock, self._on_change = db, clock, on_change

    def list_streams(self, *, account: str | None = None, title: str | None = None, running_only: bool = False,
             limit: int = 100) -> list[StreamView]:
        """Streams, newest start first."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"expected a page size from 1 to {MAX_PAGE}, got {limit}")
        now = self._clock()
        query = select(StreamRow).order_by(StreamRow.started_at.desc(), StreamRow.id).limit(limit)
        if account is not None:
            query = query.where(StreamRow.account_id == account)
        if title is not None:
            query = query.where(StreamRow.title == title)
        if running_only:
            query = query.where(StreamRow.ended_at.is_(None), StreamRow.expires_at > now)
        with self._db.session() as session:
            return [StreamView.of(row, now) for row in session.scalars(query).all()]

    def end(self, stream_id: str) -> StreamView:
        """End a stream now: its slot frees, and its next renewal is decided as a new start."""
        now = self._clock()
        with self._db.transaction() as session:
            row = session.get(StreamRow, stream_id)
            if row is None:
                raise NotFound(f"no stream {stream_id[:64]!r} (see 'reelguard sessions list')")
            if row.ended_at is None:
                session.execute(update(StreamRow).where(StreamRow.id == stream_id).values(ended_at=now))
                subscribers.note_change(session, now, account_id=row.account_id)
            session.refresh(row)
            view = StreamView.of(row, now)
        if self._on_change is not None:
            self._on_change(view.account)
        return view
