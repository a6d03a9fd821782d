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
- decisions of renewals and refusals are buffered the same way, and each is appended to
  the decision journal (``journal.py``) before the licence is answered, so a killed
  server loses none: the next start replays what was not flushed (stream starts are
  written with their decision, in their transaction).

    ledger = StreamLedger(db, flush_seconds=0.25, sync_margin=timedelta(seconds=10),
                          write_ahead=timedelta(seconds=30), journal_dir=Path(".reelguard/journal"))
    slot = ledger.slot(stream_id, now, cached_only=True)
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from reelguard.license.caching import CacheMiss, Generations
from reelguard.license.journal import DecisionJournal
from reelguard.store import licensing
from reelguard.store.database import Database
from reelguard.store.models import StreamRow

__all__ = ["Slot", "StreamLedger"]

_log = logging.getLogger(__name__)
_MAX_SLOTS = 250_000  # per generation: at most twice that held (caching.Generations)


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
                 write_ahead: timedelta, journal_dir: Path | None = None) -> None:
        self._db, self._flush_seconds, self._margin, self._ahead = db, flush_seconds, sync_margin, write_ahead
        self._journal_dir = journal_dir
        self._journal: DecisionJournal | None = None
        self._replay_pending = False
        self._slots: Generations[str, Slot] = Generations(_MAX_SLOTS)
        self._renewals: dict[str, tuple[datetime, datetime]] = {}
        self._decisions: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading ---------------------------------------------------------------------
    def slot(self, stream_id: str, now: datetime, *, cached_only: bool, refresh: bool = False) -> Slot | None:
        """The stream's slot if it is running, else None (``refresh``: as stored, not as remembered)."""
        local = self._slots.get(stream_id)
        if local is not None and not local.ended and local.expires_at > now and not refresh:
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
        """Journal and buffer one decision record (written now if no flusher runs)."""
        if self._thread is None:
            with self._db.transaction() as session:
                licensing.insert_decisions(session, [decision])
            return
        decision["record_id"] = uuid.uuid4().hex
        with self._lock:
            if self._journal is not None:
                self._journal.append(decision)
            self._decisions.append(decision)

    # -- flushing --------------------------------------------------------------------
    def flush(self) -> None:
        with self._lock:
            renewals, self._renewals = self._renewals, {}
            decisions, self._decisions = self._decisions, []
            segment = self._journal.rotate() if self._journal is not None and decisions else None
        if not renewals and not decisions:
            return
        try:
            with self._db.transaction() as session:
                licensing.renew_streams(session, [(sid, ren, exp) for sid, (ren, exp) in renewals.items()])
                licensing.insert_decisions(session, decisions)
        except BaseException:
            if segment is not None:
                DecisionJournal.abandon(segment)  # replayed after the next good flush, or the next start
                self._replay_pending = True
            raise
        if segment is not None:
            DecisionJournal.retire(segment)
        for stream_id, (_, expires_at) in renewals.items():
            slot = self._slots.get(stream_id)
            if slot is not None and slot.persisted_expires_at < expires_at:
                self._slots[stream_id] = slot._replace(persisted_expires_at=expires_at)

    def replay_journal(self) -> int:
        """Write the decisions that dead servers journaled but never flushed; how many were read."""
        if self._journal is None:
            return 0
        replayed = 0
        for path, records in self._journal.orphans():
            try:
                with self._db.transaction() as session:
                    licensing.insert_decisions(session, records)
            except SQLAlchemyError:
                _log.exception("the decision journal %s could not be written to the database; it is kept as %s "
                               "for an operator", path.name, DecisionJournal.set_aside(path).name)
                continue
            DecisionJournal.retire_orphan(path)
            replayed += len(records)
        if replayed:
            _log.warning("replayed %d licence decisions from the journal of a server that stopped without "
                         "writing them", replayed)
        return replayed

    def start_flushing(self) -> None:
        if self._journal_dir is not None:
            self._journal = DecisionJournal.open(self._journal_dir)
            self.replay_journal()

        def run() -> None:
            while not self._stop.wait(self._flush_seconds):
                try:
                    self.flush()
                    if self._replay_pending:
                        self._replay_pending = False
                        self.replay_journal()
                except Exception:  # keep flushing; the batch stays in the journal and is replayed
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
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _remember(self, slot: Slot) -> None:
        self._slots[slot.id] = slot


def _slot_of(row: licensing.StreamState) -> Slot:
    return Slot(row.id, row.account_id, row.device_id, row.title, row.expires_at, row.expires_at,
                row.ended_at is not None)
