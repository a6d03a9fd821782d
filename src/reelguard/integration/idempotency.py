"""Idempotency keys for the integration API's writes (``Idempotency-Key``, as Stripe and the
IETF httpapi draft define it).

A backend that retries a write after a timeout cannot know whether the first attempt
happened; with the same ``Idempotency-Key`` the retry gets the first attempt's answer
instead of doing it twice. A key is claimed before the write runs (so two concurrent
attempts cannot both run it), answered with what the write returned, and kept a day.
Reusing a key for a different request (method, path or body) is refused; an attempt
whose write failed on the server's side (5xx) releases the key for a retry::

    store = IdempotencyStore(db, clock)
    claim = store.claim("backend", key, request_hash)   # None: go ahead; Stored: answer with it
    store.record("backend", key, 201, body_json)       # or store.release(...) after a 5xx
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from reelguard.clock import Clock
from reelguard.errors import Conflict, IdempotencyKeyReused, InvalidInput
from reelguard.store.database import Database
from reelguard.store.models import IdempotencyKeyRow

__all__ = ["IdempotencyStore", "StoredAnswer", "request_hash"]

KEEP = timedelta(hours=24)
_IN_PROGRESS = 0
MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method.upper()}\n{path}\n".encode() + body).hexdigest()


class IdempotencyStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db, self._clock = db, clock

    def claim(self, client_id: str, key: str, fingerprint: str) -> StoredAnswer | None:
        """None if this request may run now (the key is claimed for it); else the stored answer."""
        if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
            raise InvalidInput(f"expected an Idempotency-Key of 1-{MAX_KEY_CHARS} printable characters, "
                               f"got {len(key)} characters")
        now = self._clock()
        try:
            with self._db.transaction() as session:
                session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at < now))
                session.add(IdempotencyKeyRow(client_id=client_id, key=key, request_hash=fingerprint,
                                              status=_IN_PROGRESS, body="", expires_at=now + KEEP))
            return None
        except IntegrityError:
            pass
        with self._db.session() as session:
            row = session.get(IdempotencyKeyRow, (client_id, key))
        if row is None:  # expired and removed between the two statements: claim again
            return self.claim(client_id, key, fingerprint)
        if row.request_hash != fingerprint:
            raise IdempotencyKeyReused(f"Idempotency-Key {key[:60]!r} was used for a different request (method, "
                                       "path or body); use a new key for a new request")
        if row.status == _IN_PROGRESS:
            raise Conflict(f"a request with Idempotency-Key {key[:60]!r} is still being processed; retry shortly")
        return StoredAnswer(row.status, row.body)

    def record(self, client_id: str, key: str, status: int, body: str) -> None:
        with self._db.transaction() as session:
            row = session.get(IdempotencyKeyRow, (client_id, key))
            if row is not None:
                row.status, row.body = status, body

    def release(self, client_id: str, key: str) -> None:
        with self._db.transaction() as session:
            session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.client_id == client_id,
                                                            IdempotencyKeyRow.key == key))
