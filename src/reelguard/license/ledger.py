"""Stream slots and the decision log, with renewals written behind.

A stream holds a slot of its account until its expiry: last renewal + licence duration
+ grace. Starting a stream is one serialized transaction (count, decide, insert).
Renewals are the hot path (players renew every few seconds to minutes), so:

- the *stored* expiry is written ahead: a renewal that needs a write stores its expiry
  plus ``write_ahead``, and later renewals whose expiry the stored one still covers
  write nothing. A stream is thus written at most once per ``write_ahead`` of
  renewals, and its stored expiry is never earlier than its true one: a stream whose
  renewals stop frees its slot between grace and grace + ``write_ahead`` after its
  licence ended (never early: that would let one more stream start);
- a write is buffered and done by a flusher every ``flush_seconds`` when the stored
  expiry is still more than ``sync_margin`` away, so a start counting slots on another
  worker cannot see it lapse meanwhile; otherwise it is written at once;
- a renewal on a worker whose own view has lapsed re-reads the row, so renewals spread
  over workers stay correct;
- decisions of renewals and refusals are buffered the same way; a crash loses at most
  one flush interval of them (stream starts are written with their decision).

    ledger = StreamLedger(db, flush_seconds=0.25, sync_margin=timedelta(seconds=10),
                          write_ahead=timedelta(seconds=30))
    slot = ledger.slot(stream_id, now, cached_only=True)
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import update

from reelguard.license.caching import CacheMiss, bounded
from reelguard.store import licensing
from reelguard.store.database import Database
from reelguard.store.models import StreamRow

__all__ = ["Slot", "StreamLedger"]

_log = logging.getLogger(__name__)
_MAX_SLOTS = 500_000


class Slot(NamedTuple):
    """A stream's slot as this worker knows it (a NamedTuple: one is built per renewal)."""

    id: str
    account_id: str
    device_id: str
    title: str
    expires_at: datetime          # as this worker knows it (its own renewals included)
    persisted_expires_at: datetime  # as stored (written ahead: never earlier than expires_at)
    ended: bool = False


class StreamLedger:
    def __init__(self, db: Database, *, flush_seconds: float, sync_margin: timedelta,
                 write_ahead: timedelta) -> None:
        self._db, self._flush_seconds, self._margin, self._ahead = db, flush_seconds, sync_margin, write_ahead
        self._slots: dict[str, Slot] = {}
        self._renewals: dict[str, tuple[datetime, datetime]] = {}
        self._decisions: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading ---------------------------------------------------------------------
    def slot(self, stream_id: str, now: datetime, *, cached_only: bool) -> Slot | None:
        """The stream's slot if it is running, else None."""
        local = self._slots.get(stream_id)
        if local is not None and not local.ended and local.expires_at > now:
            return local
        if cached_only:
            raise CacheMiss
        with self._db.session() as session:
            row = licensing.stream_state(session, stream_id)
        if row is None:
            return None
        slot = _slot_of(row)
        self._remember(slot)
        return slot if not slot.ended and slot.expires_at > now else None

    # -- writing ---------------------------------------------------------------------
    def remember_started(self, stream: licensing.StreamState) -> None:
        self._remember(_slot_of(stream))

    def renew(self, slot: Slot, now: datetime, expires_at: datetime, *, cached_only: bool) -> None:
        if expires_at <= slot.persisted_expires_at:  # the stored expiry covers it: nothing to write
            self._slots[slot.id] = slot._replace(expires_at=expires_at)
            return
        stored = expires_at + self._ahead
        if slot.persisted_expires_at - now > self._margin and self._thread is not None:
            with self._lock:
                self._renewals[slot.id] = (now, stored)
            self._slots[slot.id] = slot._replace(expires_at=expires_at)
            return
        if cached_only:
            raise CacheMiss
        with self._db.transaction() as session:
            licensing.renew_streams(session, [(slot.id, now, stored)])
        self._remember(slot._replace(expires_at=expires_at, persisted_expires_at=stored))

    def end(self, stream_id: str, now: datetime) -> bool:
        """End a stream (release, or refused renewal): its slot is free at once."""
        with self._db.transaction() as session:
            result = session.execute(update(StreamRow).where(StreamRow.id == stream_id, StreamRow.ended_at.is_(None))
                                     .values(ended_at=now))
        with self._lock:
            self._renewals.pop(stream_id, None)
        slot = self._slots.get(stream_id)
        if slot is not None:
            self._slots[stream_id] = slot._replace(ended=True)
        return bool(getattr(result, "rowcount", 0))

    def record(self, decision: dict[str, Any]) -> None:
        """Buffer one decision record (written now if no flusher runs)."""
        if self._thread is None:
            with self._db.transaction() as session:
                licensing.insert_decisions(session, [decision])
            return
        with self._lock:
            self._decisions.append(decision)

    # -- flushing --------------------------------------------------------------------
    def flush(self) -> None:
        with self._lock:
            renewals, self._renewals = self._renewals, {}
            decisions, self._decisions = self._decisions, []
        if not renewals and not decisions:
            return
        with self._db.transaction() as session:
            licensing.renew_streams(session, [(sid, ren, exp) for sid, (ren, exp) in renewals.items()])
            licensing.insert_decisions(session, decisions)
        for stream_id, (_, expires_at) in renewals.items():
            slot = self._slots.get(stream_id)
            if slot is not None and slot.persisted_expires_at < expires_at:
                self._slots[stream_id] = slot._replace(persisted_expires_at=expires_at)

    def start_flushing(self) -> None:
        def run() -> None:
            while not self._stop.wait(self._flush_seconds):
                try:
                    self.flush()
                except Exception:  # keep flushing; the batch is logged, not retried
                    _log.exception("writing buffered renewals and decisions failed")
        self._thread = threading.Thread(target=run, name="licence-ledger-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the flusher and write what is buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self.flush()

    def _remember(self, slot: Slot) -> None:
        bounded(self._slots, _MAX_SLOTS)[slot.id] = slot


def _slot_of(row: licensing.StreamState) -> Slot:
    return Slot(row.id, row.account_id, row.device_id, row.title, row.expires_at, row.expires_at,
                row.ended_at is not None)
