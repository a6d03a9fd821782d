"""Signed requests already accepted, kept in the database so every worker refuses a replay.

A key-server request is signed over its method, path, date and body, and its date may be
up to five minutes off; a captured request could otherwise be sent again within that
window — to another worker, or after a restart, which an in-memory set would not see.
Each accepted signature is inserted here with the end of its window; the insert of one
already present inserts nothing, which is the refusal. Rows past their window are
deleted as new ones arrive, so the table holds at most one window of traffic::

    seen = SeenSignatures(db)
    seen.first_use("9f2c…", client_id="packager-1", expires_at=now + window, now=now)   # True, then False
"""

from __future__ import annotations

from datetime import datetime

from reelguard.store.database import Database
from reelguard.store.driver import Driver

__all__ = ["SeenSignatures"]


class SeenSignatures:
    def __init__(self, db: Database) -> None:
        self._db = db

    def first_use(self, signature: str, *, client_id: str, expires_at: datetime, now: datetime) -> bool:
        """Record ``signature``; False if it was already recorded (and so is a replay)."""
        with self._db.transaction() as session:
            sql = Driver.of(session)
            sql.execute(f"DELETE FROM seen_signatures WHERE expires_at < {sql.mark}", (sql.bind(now),))  # noqa: S608
            inserted = sql.execute(
                f"INSERT INTO seen_signatures (signature, client_id, expires_at) VALUES ({sql.marks(3)}) "  # noqa: S608
                "ON CONFLICT (signature) DO NOTHING", (signature, client_id[:64], sql.bind(expires_at)))
            return inserted.rowcount == 1
