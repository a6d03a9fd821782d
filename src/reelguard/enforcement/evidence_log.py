"""The evidence log: every evidence record a leaf of an append-only Merkle tree, with signed checkpoints.

A record (an observation, an identify or trace result, a notice, an action, a staff
decision) is appended as the canonical JSON (RFC 8785, ``canonical``) of ``{"kind",
"appended_at", "record"}``, whose RFC 9162 leaf hash (``merkle``) is the leaf. Appends
are serialized in the store, so the log never forks. A checkpoint (``checkpoint``) signs
the log's size and root with the log's Ed25519 key; an inclusion proof ties a record to a
checkpoint, a consistency proof ties an older checkpoint to a newer one — so anyone with
the log's verifier key can check, offline, that a record was logged and that the log's
past was never rewritten::

    log = EvidenceLog(db, NoteSigner.from_skey(key), clock)
    position = log.append("trace", report.to_json())
    note = log.checkpoint()                          # signed: origin, size, root
    proof = log.inclusion_proof(position, size)      # verify_inclusion(leaf, position, size, proof, root)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from reelguard.enforcement.canonical import canonical_json
from reelguard.enforcement.checkpoint import Checkpoint, NoteSigner
from reelguard.enforcement.merkle import consistency_proof, inclusion_proof, leaf_hash, node_hash, tree_root
from reelguard.enforcement.timestamp import TimestampAuthority
from reelguard.errors import EvidenceInvalid, InvalidInput, UpstreamError
from reelguard.store.database import Database
from reelguard.store.evidence import EvidenceStore

__all__ = ["EvidenceLog", "LogTransaction", "record_body"]


def record_body(kind: str, record: dict[str, Any], appended_at: datetime) -> bytes:
    """A record's bytes in the log: the canonical JSON (RFC 8785) of its kind, time and content."""
    if not kind or len(kind) > 40:
        raise InvalidInput(f"expected an evidence record kind of 1-40 characters, got {kind[:60]!r}")
    return canonical_json({"kind": kind, "appended_at": appended_at.isoformat(), "record": record})


class LogTransaction:
    """Appends inside one transaction that holds the log's append lock (``EvidenceLog.transaction``)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now

    def append(self, kind: str, record: dict[str, Any]) -> int:
        return self.append_many([(kind, record)])[0]

    def append_many(self, records: Sequence[tuple[str, dict[str, Any]]]) -> list[int]:
        entries = []
        for kind, record in records:
            body = record_body(kind, record, self.now)
            entries.append((kind, body, leaf_hash(body)))
        return EvidenceStore.append_in(self.session, entries, node_hash, self.now)


class EvidenceLog:
    def __init__(self, db: Database, signer: NoteSigner, clock: Callable[[], datetime], *,
                 tsa: TimestampAuthority | None = None) -> None:
        self.store, self.signer, self.clock, self.tsa = EvidenceStore(db), signer, clock, tsa
        self.origin = signer.name  # a checkpoint's origin is the name of the key that signs it

    def append(self, kind: str, record: dict[str, Any]) -> int:
        """Log one record; its position (leaf index)."""
        return self.append_many([(kind, record)])[0]

    def append_many(self, records: Sequence[tuple[str, dict[str, Any]]]) -> list[int]:
        """Log records in order, in one transaction; their positions."""
        with self.transaction() as log:
            return log.append_many(records)

    @contextmanager
    def transaction(self) -> Iterator[LogTransaction]:
        """Records appended, and the rows their transaction writes besides, commit together or not at all.

        A case's transition is its evidence record: ``with log.transaction() as t:
        position = t.append("case.transition", …); cases.write(t.session, …)``. The log's
        append lock is held throughout, so what the transaction reads stays true until it commits.
        """
        with self.store.appending() as session:
            yield LogTransaction(session, self.clock())

    def size(self) -> int:
        return self.store.size()

    def root(self, size: int) -> bytes:
        with self.store.reader() as nodes:
            return tree_root(nodes, size)

    def inclusion_proof(self, position: int, size: int) -> list[bytes]:
        with self.store.reader() as nodes:
            return inclusion_proof(nodes, position, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        with self.store.reader() as nodes:
            return consistency_proof(nodes, size1, size2)

    def checkpoint(self) -> tuple[int, str]:
        """Sign the log as it stands now, and have the TSA stamp it; (size, signed note).

        The note is kept before it is stamped, so each size is signed once; a TSA that is
        down leaves the checkpoint unstamped with the reason, and ``stamp_pending`` stamps
        it later — it is never skipped silently.
        """
        size = self.store.size()
        signed = self.store.checkpoint(size)
        if signed is None:
            note = self.signer.sign(Checkpoint(self.origin, size, self.root(size)).text())
            self.store.add_checkpoint(size, note, self.clock())
            signed = self.store.checkpoint(size) or (size, note)
        self.stamp_pending()
        return signed

    def stamp_pending(self) -> list[int]:
        """Have the TSA stamp every checkpoint it has not stamped yet; the sizes still unstamped."""
        if self.tsa is None:
            return [size for size, _ in self.store.unstamped()]
        left = []
        for size, note in self.store.unstamped():
            try:
                self.store.stamped(size, token=self.tsa.stamp(note.encode()), error=None)
            except (UpstreamError, EvidenceInvalid) as exc:
                self.store.stamped(size, token=None, error=str(exc))
                left.append(size)
        return left
