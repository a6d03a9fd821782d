"""Removing a title from the catalog: everything it was, gone; the audit trail kept.

What goes: its content keys, watermarking sessions, title rights, purchases and rentals
(one transaction, with a change-feed entry for every account touched, so licence servers
refuse the title at once), its place in the recognition index, and its blobs — master,
packages, signatures, watermark reference — and work folder. Streams of it still running
are ended and its downloads released (their rows stay, as do its licence decisions: the
record of who had keys is not the catalog's to delete)::

    removal = runtime.title_removal()
    plan = removal.plan("ep01")      # what would go (for the confirmation)
    removal.remove("ep01")

The database goes first and the blobs last: a crash in between leaves unreferenced blobs,
never a title whose files are gone.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from reelguard.clock import Clock
from reelguard.store import repositories, subscribers
from reelguard.store.blobs import BlobStore
from reelguard.store.database import Database
from reelguard.store.models import (
    ContentKeyRow,
    DownloadRow,
    GrantRow,
    StreamRow,
    TitleRightsRow,
    TitleRow,
    WatermarkSessionRow,
)

__all__ = ["RemovalPlan", "TitleRemoval"]

_BLOB_PREFIXES = ("masters", "packages", "fingerprints", "watermark")


@dataclass(frozen=True)
class RemovalPlan:
    title: str
    id: str
    status: str
    keys: int
    open_streams: int
    watermarking_sessions: int
    grants: int
    downloads: int
    has_rights: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class TitleRemoval:
    def __init__(self, *, db: Database, blobs: BlobStore, unindex: Callable[[Collection[str]], object], clock: Clock,
                 work_dir: Path) -> None:
        """``unindex`` takes titles out of the recognition index (FAISS is loaded only when a title goes)."""
        self._db, self._blobs, self._unindex, self._clock, self._work_dir = db, blobs, unindex, clock, work_dir

    def plan(self, name: str) -> RemovalPlan:
        with self._db.session() as session:
            return self._plan(session, repositories.get_title(session, name))

    def remove(self, name: str) -> RemovalPlan:
        """Remove the title (see the module docstring); what was removed."""
        now = self._clock()
        with self._db.transaction() as session:
            title = repositories.get_title(session, name)
            removed = self._plan(session, title)
            accounts = set(session.scalars(select(GrantRow.account_id).where(GrantRow.title == title.name)).all())
            accounts |= set(session.scalars(select(StreamRow.account_id).where(
                StreamRow.title == title.name, StreamRow.ended_at.is_(None))).all())
            session.execute(update(StreamRow).where(StreamRow.title == title.name, StreamRow.ended_at.is_(None))
                            .values(ended_at=now))
            session.execute(update(DownloadRow).where(DownloadRow.title == title.name,
                                                      DownloadRow.released_at.is_(None)).values(released_at=now))
            session.execute(delete(GrantRow).where(GrantRow.title == title.name))
            session.execute(delete(TitleRightsRow).where(TitleRightsRow.title == title.name))
            session.execute(delete(ContentKeyRow).where(ContentKeyRow.title_id == title.id))
            session.execute(delete(WatermarkSessionRow).where(WatermarkSessionRow.title_id == title.id))
            session.execute(delete(TitleRow).where(TitleRow.id == title.id))
            subscribers.note_change(session, now, title=title.name)
            for account in accounts:
                subscribers.note_change(session, now, account_id=account)
        self._unindex([removed.id])
        for prefix in _BLOB_PREFIXES:
            self._blobs.delete_prefix(f"{prefix}/{removed.id}")
        shutil.rmtree(self._work_dir / removed.id, ignore_errors=True)
        return removed

    @staticmethod
    def _plan(session: Session, title: TitleRow) -> RemovalPlan:
        def count(query: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

        return RemovalPlan(
            title.name, title.id, title.status,
            keys=count(select(ContentKeyRow.kid).where(ContentKeyRow.title_id == title.id)),
            open_streams=count(select(StreamRow.id).where(StreamRow.title == title.name,
                                                             StreamRow.ended_at.is_(None))),
            watermarking_sessions=count(select(WatermarkSessionRow.id).where(WatermarkSessionRow.title_id == title.id)),
            grants=count(select(GrantRow.account_id).where(GrantRow.title == title.name)),
            downloads=count(select(DownloadRow.id).where(DownloadRow.title == title.name,
                                                         DownloadRow.released_at.is_(None))),
            has_rights=session.get(TitleRightsRow, title.name) is not None)
