"""The evidence log in the store: appends never fork it, proofs and checkpoints verify, purges keep them valid.

Run on SQLite and on PostgreSQL by the two passes of the suite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from reelguard.enforcement.canonical import canonical_json
from reelguard.enforcement.checkpoint import Checkpoint, NoteSigner, NoteVerifier, open_note
from reelguard.enforcement.evidence_log import EvidenceLog
from reelguard.enforcement.merkle import (
    MemoryTree,
    consistency_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from reelguard.errors import EvidenceInvalid, InvalidInput
from reelguard.store import Database
from reelguard.testing.clock import FixedClock

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def log(database_url_factory: Callable[[], str]) -> Iterator[EvidenceLog]:
    db = Database.connect(database_url_factory())
    yield EvidenceLog(db, NoteSigner.generate("evidence.reelguard.test/log"), FixedClock(NOW))
    db.dispose()


def _independent_root(log: EvidenceLog, size: int) -> bytes:
    """The root recomputed from the stored bodies alone, by the in-memory tree."""
    return tree_root(MemoryTree([leaf_hash(log.store.record(i).body or b"") for i in range(size)]), size)


def test_records_are_leaves_whose_proofs_verify_against_signed_checkpoints(log: EvidenceLog) -> None:
    verifier = NoteVerifier(log.signer.vkey)
    first = log.append_many([("observation", {"peer": f"127.0.0.{n}", "n": n}) for n in range(13)])
    size1, note1 = log.checkpoint()
    log.append_many([("trace", {"p_value": 1e-9, "n": n}) for n in range(24)])
    size2, note2 = log.checkpoint()
    assert (first, size1, size2) == (list(range(13)), 13, 37)
    one, two = Checkpoint.parse(open_note(note1, [verifier])), Checkpoint.parse(open_note(note2, [verifier]))
    assert (one.size, two.size, two.origin) == (13, 37, "evidence.reelguard.test/log")
    assert two.root == _independent_root(log, 37) and one.root == _independent_root(log, 13)
    record = log.store.record(5)
    assert record.body == canonical_json({"kind": "observation", "appended_at": NOW.isoformat(),
                                          "record": {"peer": "127.0.0.5", "n": 5}})
    for position in range(37):
        verify_inclusion(log.store.record(position).leaf_hash, position, 37, log.inclusion_proof(position, 37),
                         two.root)
    verify_consistency(13, 37, log.consistency_proof(13, 37), one.root, two.root)
    assert log.checkpoint() == (37, note2)  # nothing new: the same checkpoint


def test_a_rewritten_past_is_caught_by_the_consistency_proof(log: EvidenceLog) -> None:
    log.append_many([("note", {"n": n}) for n in range(5)])
    _, old_note = log.checkpoint()
    old = Checkpoint.parse(open_note(old_note, [NoteVerifier(log.signer.vkey)]))
    log.append_many([("note", {"n": n}) for n in range(5, 9)])
    verify_consistency(5, 9, log.consistency_proof(5, 9), old.root, log.root(9))
    # a log that rewrote record 0 signs a new head; its own proof cannot lead back to the old checkpoint
    forged = MemoryTree([leaf_hash(b"rewritten")] + [log.store.record(i).leaf_hash for i in range(1, 9)])
    with pytest.raises(EvidenceInvalid, match="past was changed"):
        verify_consistency(5, 9, consistency_proof(forged, 5, 9), old.root, tree_root(forged, 9))


def test_parallel_writers_never_fork_the_log(log: EvidenceLog) -> None:
    def write(worker: int) -> None:
        for n in range(15):
            log.append("decision", {"worker": worker, "n": n})

    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert log.size() == 60
    assert log.root(60) == _independent_root(log, 60)  # one history: every leaf where the nodes say it is
    bodies = {log.store.record(i).body for i in range(60)}
    assert len(bodies) == 60


def test_a_purged_body_keeps_every_proof_valid(log: EvidenceLog) -> None:
    log.append_many([("observation", {"ip": f"198.51.100.{n}"}) for n in range(6)])
    size, note = log.checkpoint()
    root = Checkpoint.parse(open_note(note, [NoteVerifier(log.signer.vkey)])).root
    log.store.purge_body(2)
    purged = log.store.record(2)
    assert purged.body is None
    verify_inclusion(purged.leaf_hash, 2, size, log.inclusion_proof(2, size), root)


def test_a_record_kind_that_is_not_one_is_refused_and_nothing_is_written(log: EvidenceLog) -> None:
    with pytest.raises(InvalidInput, match="kind"):
        log.append_many([("ok", {}), ("", {})])
    with pytest.raises(InvalidInput, match="finite"):
        log.append("trace", {"p_value": float("nan")})
    assert log.size() == 0
