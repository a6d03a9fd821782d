"""Stream slots and the decision log, with renewals written behind.

A stream holds a slot of its account until ``expires_at`` = last renewal + licence
duration + grace. Starting a stream is one serialized transaction (count, decide,
insert). Renewals are the hot path (one per stream every few minutes), so a renewal
known to be safe is buffered and written by a flusher every ``flush_seconds``:

- safe means the slot's expiry *in the database* is still more than ``sync_margin``
  away, so a start counting slots on another worker cannot see it lapse meanwhile;
  otherwise the renewal is written at once;
- a renewal on a worker whose own view has lapsed re-reads the row, so renewals spread
  over workers stay correct;
- decisions of renewals and refusals are buffered the same way; a crash loses at most
  one flush interval of them (stream starts are written with their decision).

    ledger = StreamLedger(db, flush_seconds=0.25, sync_margin=timedelta(seconds=10))
    slot = ledger.slot(stream_id, now, cached_only=True)
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from reelguard.license.lookup import CacheMiss
from reelguard.store import licensing
from reelguard.store.database import Database
from reelguard.store.models import StreamRow

__all__ = ["Slot", "StreamLedger"]

_log = logging.getLogger(__name__)
_MAX_SLOTS = 500_000


@dataclass(frozen=True, slots=True)
class Slot:
    id: str
    account_id: str
    device_id: str
    title: str
    expires_at: datetime          # as this worker knows it (its own renewals included)
    persisted_expires_at: datetime
    ended: bool = False


class StreamLedger:
    def __init__(self, db: Database, *, flush_seconds: float, sync_margin: timedelta) -> None:
        self._db, self._flush_seconds, self._margin = db, flush_seconds, sync_margin
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
            row = session.get(StreamRow, stream_id)
            if row is None:
                return None
            slot = _slot_of(row)
        self._remember(slot)
        return slot if not slot.ended and slot.expires_at > now else None

    # -- writing ---------------------------------------------------------------------
    def remember_started(self, row: StreamRow) -> None:
        self._remember(_slot_of(row))

    def renew(self, slot: Slot, now: datetime, expires_at: datetime, *, cached_only: bool) -> None:
        if slot.persisted_expires_at - now > self._margin and self._thread is not None:
            with self._lock:
                self._renewals[slot.id] = (now, expires_at)
            self._slots[slot.id] = Slot(slot.id, slot.account_id, slot.device_id, slot.title, expires_at,
                                        slot.persisted_expires_at, slot.ended)
            return
        if cached_only:
            raise CacheMiss
        with self._db.transaction() as session:
            licensing.renew_streams(session, [(slot.id, now, expires_at)])
        self._remember(replace(slot, expires_at=expires_at, persisted_expires_at=expires_at))

    def end(self, stream_id: str, now: datetime) -> bool:
        """End a stream (release, or refused renewal): its slot is free at once."""
        with self._db.transaction() as session:
            result = session.execute(update(StreamRow).where(StreamRow.id == stream_id, StreamRow.ended_at.is_(None))
                                     .values(ended_at=now))
        with self._lock:
            self._renewals.pop(stream_id, None)
        slot = self._slots.get(stream_id)
        if slot is not None:
            self._slots[stream_id] = replace(slot, ended=True)
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
                self._slots[stream_id] = replace(slot, persisted_expires_at=expires_at)

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
        if len(self._slots) >= _MAX_SLOTS:
            self._slots.clear()
        self._slots[slot.id] = slot


def _slot_of(row: StreamRow) -> Slot:
    return Slot(row.id, row.account_id, row.device_id, row.title, row.expires_at, row.expires_at,
                row.ended_at is not None)
