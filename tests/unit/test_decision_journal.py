"""The decision journal: what a live server holds is locked; what a dead one left is replayed, once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from reelguard.license.journal import DecisionJournal

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _record(n: int) -> dict[str, object]:
    return {"record_id": f"{n:032x}", "at": AT, "action": "renew", "account_id": "a", "device_id": "d",
            "title": "t", "ip": "127.0.0.1", "granted": True, "tiers": "HD", "rule": None, "reason": "ok",
            "policy": "p@1", "stream_id": "s"}


def test_a_live_segment_is_never_an_orphan(tmp_path: Path) -> None:
    live = DecisionJournal.open(tmp_path)
    live.append(_record(1))
    other = DecisionJournal.open(tmp_path)  # another worker on the same folder
    assert list(other.orphans()) == []
    old = live.rotate()  # rotated but not yet written: still held
    assert list(other.orphans()) == []
    DecisionJournal.retire(old)
    live.close()
    other.close()
    assert list(tmp_path.iterdir()) == []


def test_a_dead_processes_segment_is_replayed_with_its_records(tmp_path: Path) -> None:
    code = ("import sys, os, signal; from datetime import datetime, UTC; from pathlib import Path; "
            "from reelguard.license.journal import DecisionJournal; j = DecisionJournal.open(Path(sys.argv[1])); "
            "[j.append({'record_id': f'{n:032x}', 'at': datetime(2026, 12, 2, tzinfo=UTC), 'n': n}) "
            "for n in range(3)]; os.kill(os.getpid(), signal.SIGKILL)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=False)
    survivor = DecisionJournal.open(tmp_path)
    orphans = list(survivor.orphans())
    assert len(orphans) == 1
    path, records = orphans[0]
    assert [r["n"] for r in records] == [0, 1, 2] and records[0]["at"] == datetime(2026, 12, 2, tzinfo=UTC)
    DecisionJournal.retire_orphan(path)
    assert list(survivor.orphans()) == []
    survivor.close()


def test_a_torn_last_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    journal = DecisionJournal.open(tmp_path)
    journal.append(_record(1))
    segment = journal.rotate()
    os.write(segment.fd, b'{"record_id": "cut sh')
    DecisionJournal.abandon(segment)
    [(_, records)] = list(journal.orphans())
    assert [r["record_id"] for r in records] == [f"{1:032x}"]
    journal.close()


def test_a_segment_the_database_refuses_is_set_aside_not_fatal(tmp_path: Path) -> None:
    """A replay must not stop a server from starting: the segment is kept for an operator instead."""
    from datetime import timedelta

    from reelguard.license.ledger import StreamLedger
    from reelguard.store.database import Database

    journal = DecisionJournal.open(tmp_path / "journal")
    journal.append({"record_id": "x" * 32, "at": AT})  # no account, title, …: the database refuses it
    DecisionJournal.abandon(journal.rotate())
    journal.close()
    db = Database.connect(f"sqlite:///{tmp_path / 'db.sqlite'}")
    ledger = StreamLedger(db, flush_seconds=60, sync_margin=timedelta(seconds=10), write_ahead=timedelta(seconds=30),
                          journal_dir=tmp_path / "journal")
    try:
        ledger.start_flushing()
        assert sorted(p.suffix for p in (tmp_path / "journal").iterdir()) == [".journal", ".unreplayable"]
    finally:
        ledger.stop()
        db.dispose()
    assert [p.suffix for p in (tmp_path / "journal").iterdir()] == [".unreplayable"]
