"""The decision journal: a renewal's decision is on disk before its keys leave.

Renewal decisions are written to the database in batches, behind the licence path
(``ledger.py``); a server killed between two batches would lose the decisions of up to
one flush interval — the audit trail of who got keys. So each one is first appended to
this journal with a single ``write(2)``: the bytes are then in the kernel's page cache,
which a killed process (SIGKILL, the OOM killer, a crash) cannot take back. A batch
written to the database retires its journal segment; a segment whose process died is
*orphaned* and replayed into the database by the next server that starts on this data
folder. Every record carries a ``record_id`` that the database keeps unique, so a
segment replayed after its batch had already been written inserts nothing twice.

What it does not survive: losing the machine itself (power, kernel panic) before the
kernel writes its cache back — about 30 s on Linux defaults. ``docs/policy.md`` states
the guarantee.

Each live segment is held with an exclusive ``flock``; a segment nobody holds is an
orphan. Several workers share the folder::

    journal = DecisionJournal.open(Path(".reelguard/journal"))
    journal.append(record)                 # before the licence is answered
    retired = journal.rotate()             # the batch's segment; write the batch, then:
    journal.retire(retired)
    for path, records in journal.orphans():  # at start: what a dead worker left
        ...; journal.retire_orphan(path)
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reelguard.errors import StorageError

__all__ = ["DecisionJournal", "Segment"]

_log = logging.getLogger(__name__)
_SUFFIX = ".journal"


@dataclass(frozen=True)
class Segment:
    path: Path
    fd: int


def _open_segment(folder: Path) -> Segment:
    path = folder / f"decisions-{os.getpid()}-{uuid.uuid4().hex[:12]}{_SUFFIX}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return Segment(path, fd)


class DecisionJournal:
    def __init__(self, folder: Path, segment: Segment) -> None:
        self.folder, self._segment = folder, segment

    @classmethod
    def open(cls, folder: Path) -> DecisionJournal:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return cls(folder, _open_segment(folder))

    def append(self, record: dict[str, Any]) -> None:
        """One line, one ``write(2)`` (O_APPEND): whole in the page cache when this returns.

        A decision that cannot be journaled refuses its licence (fail closed): keys never
        leave without their record.
        """
        line = (json.dumps(record, default=_encode, separators=(",", ":")) + "\n").encode()
        try:
            written = os.write(self._segment.fd, line)
        except OSError as exc:
            written, reason = -1, exc.strerror
        else:
            reason = "the disk took only part of it"
        if written != len(line):
            raise StorageError(f"could not journal a licence decision in {self.folder} ({reason}); "
                               "the licence is refused until the journal can be written")

    def rotate(self) -> Segment:
        """Start a new segment; the old one (still locked) is returned for ``retire``."""
        old, self._segment = self._segment, _open_segment(self.folder)
        return old

    @staticmethod
    def retire(segment: Segment) -> None:
        """Its records are in the database: delete it."""
        segment.path.unlink(missing_ok=True)
        os.close(segment.fd)

    @staticmethod
    def abandon(segment: Segment) -> None:
        """Its records could not be written: unlock it, so a replay picks it up."""
        os.close(segment.fd)

    def close(self) -> None:
        """Retire the current segment (call after writing everything appended to it)."""
        self.retire(self._segment)

    def orphans(self) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
        """Segments no live process holds, with their records; each stays locked until the next is read."""
        for path in sorted(self.folder.glob(f"*{_SUFFIX}")):
            if path == self._segment.path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # another worker replayed it a moment ago
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a live worker's segment
            try:
                yield path, _read_records(path)
            finally:
                os.close(fd)

    @staticmethod
    def retire_orphan(path: Path) -> None:
        path.unlink(missing_ok=True)

    @staticmethod
    def set_aside(path: Path) -> Path:
        """A segment the database refused, renamed so it is not replayed again and again."""
        target = path.with_suffix(".unreplayable")
        path.replace(target)
        return target


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _read_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        try:
            record = json.loads(line)
            record["at"] = datetime.fromisoformat(record["at"])
            records.append(record)
        except (ValueError, KeyError, TypeError):
            # a write cut short by the machine going down: the rest of the segment still counts
            _log.warning("decision journal %s line %d is unreadable and was skipped", path.name, number)
    return records
