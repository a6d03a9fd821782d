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
from reelguard.errors import InvalidInput
from reelguard.store.database import Database
from reelguard.store.evidence import EvidenceStore

__all__ = ["EvidenceLog"]


class EvidenceLog:
    def __init__(self, db: Database, signer: NoteSigner, clock: Callable[[], datetime]) -> None:
        self.store, self.signer, self.clock = EvidenceStore(db), signer, clock
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
        return tree_root(self.store, size)

    def inclusion_proof(self, position: int, size: int) -> list[bytes]:
        return inclusion_proof(self.store, position, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return consistency_proof(self.store, size1, size2)

    def checkpoint(self) -> tuple[int, str]:
        """Sign the log as it stands now; (size, signed note). The note is kept, so each size is signed once."""
        size = self.store.size()
        signed = self.store.checkpoint(size)
        if signed is not None:
            return signed
        note = self.signer.sign(Checkpoint(self.origin, size, self.root(size)).text())
        self.store.add_checkpoint(size, note, self.clock())
        return self.store.checkpoint(size) or (size, note)
