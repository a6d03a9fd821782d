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

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from reelguard.enforcement.canonical import canonical_json
from reelguard.enforcement.checkpoint import Checkpoint, NoteSigner
from reelguard.enforcement.merkle import consistency_proof, inclusion_proof, leaf_hash, node_hash, tree_root
from reelguard.enforcement.timestamp import TimestampAuthority
from reelguard.errors import EvidenceInvalid, InvalidInput, UpstreamError
from reelguard.store.database import Database
from reelguard.store.evidence import EvidenceStore

__all__ = ["EvidenceLog"]


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
        now = self.clock()
        entries = []
        for kind, record in records:
            if not kind or len(kind) > 40:
                raise InvalidInput(f"expected an evidence record kind of 1-40 characters, got {kind[:60]!r}")
            body = canonical_json({"kind": kind, "appended_at": now.isoformat(), "record": record})
            entries.append((kind, body, leaf_hash(body)))
        return self.store.append(entries, node_hash, now)

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
