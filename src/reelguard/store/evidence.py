"""The evidence log's rows: records (leaves), the hashes of complete subtrees, and signed checkpoints.

Append-only. Each append runs in one ``serialized`` transaction (PostgreSQL: an advisory
lock; SQLite: the write lock), so two writers never both take the same position and
the log never forks. A leaf's position is the log's size when it was appended; when a
leaf completes a subtree (its position is odd at some level), the parent's hash is
written in the same transaction, so every complete subtree has its node and a proof
needs O(log n) lookups. The hashing itself is handed in (``enforcement.merkle``): this
module stores, it does not decide what a hash is::

    store = EvidenceStore(db)
    with store.appending() as session:
        positions = store.append_in(session, [("observation", body, leaf_hash(body))], node_hash, now)
    store.node(level=0, index=positions[0])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reelguard.errors import NotFound
from reelguard.store.database import Database
from reelguard.store.models import EvidenceCheckpointRow, EvidenceNodeRow, EvidenceRecordRow

__all__ = ["APPEND_LOCK", "EvidenceStore", "StoredRecord"]

APPEND_LOCK = "evidence_log"


@dataclass(frozen=True)
class StoredRecord:
    position: int
    kind: str
    body: bytes | None  # None once purged
    leaf_hash: bytes
    appended_at: datetime


class EvidenceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def appending(self) -> AbstractContextManager[Session]:
        """A transaction holding the append lock: what else it writes commits with the records, or nothing does."""
        return self._db.serialized(APPEND_LOCK)

    @staticmethod
    def append_in(session: Session, entries: Sequence[tuple[str, bytes, bytes]],
                  hash_children: Callable[[bytes, bytes], bytes], now: datetime) -> list[int]:
        """Append (kind, body, leaf hash) entries in order inside an ``appending`` transaction; their positions."""
        size = _size(session)
        made: dict[tuple[int, int], bytes] = {}
        positions: list[int] = []
        for kind, body, leaf in entries:
            position = size + len(positions)
            session.add(EvidenceRecordRow(position=position, kind=kind, body=body, leaf_hash=leaf,
                                          appended_at=now))
            level, index, current = 0, position, leaf
            made[(0, position)] = leaf
            while index & 1:  # a right child: its pair is complete, so is their parent
                left = made.get((level, index - 1)) or _node(session, level, index - 1)
                current = hash_children(left, current)
                level, index = level + 1, index >> 1
                made[(level, index)] = current
            positions.append(position)
        session.add_all(EvidenceNodeRow(level=level, position=index, hash=value)
                        for (level, index), value in made.items())
        session.flush()
        return positions

    def size(self) -> int:
        with self._db.session() as session:
            return _size(session)

    def node(self, level: int, index: int) -> bytes:
        with self._db.session() as session:
            return _node(session, level, index)

    @contextmanager
    def reader(self) -> Iterator[_NodeReader]:
        """Node lookups in one session (a proof's O(log n) lookups, one connection)."""
        with self._db.session() as session:
            yield _NodeReader(session)

    def record(self, position: int) -> StoredRecord:
        with self._db.session() as session:
            row = session.get(EvidenceRecordRow, position)
            if row is None:
                raise NotFound(f"no evidence record at position {position} (the log holds {_size(session)})")
            return StoredRecord(row.position, row.kind, row.body, row.leaf_hash, row.appended_at)

    def purge_body(self, position: int) -> None:
        """Drop a record's body (retention); its leaf hash stays, so every proof still holds."""
        with self._db.transaction() as session:
            session.execute(update(EvidenceRecordRow).where(EvidenceRecordRow.position == position).values(body=None))

    def add_checkpoint(self, size: int, note: str, now: datetime) -> None:
        """Keep a signed checkpoint; a size already signed keeps its first note (Ed25519 signs it the same)."""
        with self._db.serialized("evidence_checkpoints") as session:
            if session.get(EvidenceCheckpointRow, size) is None:
                session.add(EvidenceCheckpointRow(size=size, note=note, signed_at=now))

    def stamped(self, size: int, *, token: bytes | None, error: str | None) -> None:
        """Record the TSA's token for checkpoint ``size``, or why there is none yet."""
        with self._db.transaction() as session:
            row = session.get(EvidenceCheckpointRow, size)
            if row is None:
                raise NotFound(f"no checkpoint of size {size}")
            if token is not None:
                row.tsa_token, row.stamp_error = token, None
            elif row.tsa_token is None:
                row.stamp_error = error

    def unstamped(self) -> list[tuple[int, str]]:
        """Checkpoints the TSA has not stamped yet, oldest first, as (size, signed note)."""
        with self._db.session() as session:
            rows = session.scalars(select(EvidenceCheckpointRow).where(EvidenceCheckpointRow.tsa_token.is_(None))
                                   .order_by(EvidenceCheckpointRow.size))
            return [(row.size, row.note) for row in rows]

    def token(self, size: int) -> tuple[bytes | None, str | None]:
        """(the TSA token, the last stamping error) of checkpoint ``size``."""
        with self._db.session() as session:
            row = session.get(EvidenceCheckpointRow, size)
            if row is None:
                raise NotFound(f"no checkpoint of size {size}")
            return (bytes(row.tsa_token) if row.tsa_token is not None else None), row.stamp_error

    def checkpoint(self, size: int | None = None) -> tuple[int, str] | None:
        """The checkpoint at ``size`` (the newest when None), as (size, signed note)."""
        with self._db.session() as session:
            query = select(EvidenceCheckpointRow).order_by(EvidenceCheckpointRow.size.desc())
            if size is not None:
                query = query.where(EvidenceCheckpointRow.size == size)
            row = session.scalars(query.limit(1)).first()
            return (row.size, row.note) if row is not None else None


    def first_checkpoint_covering(self, position: int) -> int | None:
        """The size of the oldest checkpoint that covers ``position`` (None: no checkpoint does yet)."""
        with self._db.session() as session:
            return session.scalar(select(func.min(EvidenceCheckpointRow.size))
                                  .where(EvidenceCheckpointRow.size > position))


class _NodeReader:
    def __init__(self, session: Session) -> None:
        self._session = session

    def node(self, level: int, index: int) -> bytes:
        return _node(self._session, level, index)


def _size(session: Session) -> int:
    last = session.scalar(select(func.max(EvidenceRecordRow.position)))
    return 0 if last is None else int(last) + 1


def _node(session: Session, level: int, index: int) -> bytes:
    row = session.get(EvidenceNodeRow, (level, index))
    if row is None:
        raise NotFound(f"the evidence log has no complete subtree at level {level}, index {index}")
    return bytes(row.hash)
