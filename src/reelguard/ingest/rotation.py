"""Key rotation: new content keys for a title, the title packaged anew under them, the old keys retired.

When a title's keys may be out (a leak that went through a licence, not a camera), its
keys are rotated: a new generation of keys is made, the title is encoded and packaged
again from its master under them (the same layout as at ingest, watermark variants
included) into ``packages/<id>/k<N>/``, and in one transaction the title's package
record moves to generation N and the older keys get a retirement time ``grace`` from
now. Until then both packages play: a player that loaded the old manifest keeps its
segments and its keys; the entry manifests (``/content/<title>/dash/manifest.mpd``)
redirect to the new package, so a player that reloads — as it must once its renewal is
refused with "key retired" — moves to the new keys. A rotation that fails part way
leaves the title playing as before; running it again reuses the keys it made::

    report = KeyRotation(...).rotate("ep01", grace=timedelta(hours=24))
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from reelguard.clock import Clock
from reelguard.drm.keys import ContentKey
from reelguard.drm.keystore import KeyStore
from reelguard.errors import InvalidInput, TitleNotReady
from reelguard.ingest.layouts import layout_for
from reelguard.ingest.service import IngestOptions, key_tiers, package_record, transcode_plan
from reelguard.media.ladder import plan_ladder
from reelguard.media.tools import MediaTools
from reelguard.progress import Progress, no_progress
from reelguard.store import repositories, subscribers
from reelguard.store.blobs import BlobStore
from reelguard.store.database import Database
from reelguard.store.models import ContentKeyRow
from reelguard.titles import PackageRecord, Title, generation_path
from reelguard.watermark.secrets import WatermarkSecret

__all__ = ["KeyRotation", "RotationReport"]

MAX_GRACE = timedelta(days=30)


@dataclass(frozen=True)
class RotationReport:
    title: str
    from_generation: int
    to_generation: int
    new_kids: list[str]
    retired_kids: list[str]
    retire_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "from_generation": self.from_generation, "to_generation": self.to_generation,
                "new_kids": self.new_kids, "retired_kids": self.retired_kids, "retire_at": self.retire_at.isoformat()}


class KeyRotation:
    def __init__(self, *, db: Database, blobs: BlobStore, tools: MediaTools, keystore: KeyStore,
                 watermark: WatermarkSecret,
                 clock: Clock, options: IngestOptions, work_dir: Path) -> None:
        self._db, self._blobs, self._tools, self._keystore = db, blobs, tools, keystore
        self._watermark, self._clock, self._options, self._work_dir = watermark, clock, options, work_dir

    def rotate(self, title_name: str, *, grace: timedelta, on_progress: Progress = no_progress) -> RotationReport:
        if not timedelta(0) <= grace <= MAX_GRACE:
            raise InvalidInput(f"expected a grace period from 0 to {MAX_GRACE.days} days, got {grace}")
        title = self._ready(title_name)
        assert title.package is not None
        current = title.package.generation
        new = current + 1
        keys = self._new_keys(title, new)
        work = self._work_dir / f"{title.id}-rotate-{new}"
        try:
            record = self._package(title, keys, new, work, on_progress)
            retire_at = self._clock() + grace
            with self._db.transaction() as session:
                row = repositories.get_title(session, title.id)
                if (row.package or {}).get("generation", 1) != current:
                    raise TitleNotReady(f"title {title.name!r} was rotated by someone else meanwhile; try again")
                row.package, row.updated_at = record.to_json(), self._clock()
                retired = [k.kid for k in repositories.keys_of_title(session, title.id, current)]
                session.execute(update(ContentKeyRow).where(
                    ContentKeyRow.title_id == title.id, ContentKeyRow.generation < new,
                    ContentKeyRow.retire_at.is_(None)).values(retire_at=retire_at))
                subscribers.note_change(session, self._clock(), title=title.name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return RotationReport(title.name, current, new, [k.kid.hex for k in keys], retired, retire_at)

    def _ready(self, title_name: str) -> Title:
        with self._db.session() as session:
            title = repositories.load_title(session, title_name)
        if not title.ready or title.package is None:
            raise TitleNotReady(f"title {title.name!r} is {title.status}: only a ready title's keys can be rotated")
        return title

    def _new_keys(self, title: Title, generation: int) -> list[ContentKey]:
        """Generation ``generation``'s keys: made now, or the ones an interrupted rotation made."""
        tiers = key_tiers(plan_ladder(title.width, title.height, self._options.ladder), title.has_audio)
        with self._db.transaction() as session:
            if not repositories.keys_of_title(session, title.id, generation):
                self._keystore.create_title_keys(session, title.id, tiers, now=self._clock(), generation=generation)
        with self._db.session() as session:
            return self._keystore.keys_of_title(session, title.id, generation)

    def _package(self, title: Title, keys: list[ContentKey], generation: int, work: Path,
                 on_progress: Progress) -> PackageRecord:
        """Encode the master again and package it under ``keys`` into ``packages/<id>/k<N>/``."""
        layout = layout_for(title, tools=self._tools, watermark=self._watermark, blobs=self._blobs)
        renditions = plan_ladder(title.width, title.height, self._options.ladder)
        shutil.rmtree(work, ignore_errors=True)
        transcode_dir, out_dir = work / "transcode", work / "package"
        plan = transcode_plan(title, renditions, self._options)

        def report(done: float) -> None:
            on_progress("transcode", min(done, title.duration_seconds), title.duration_seconds)

        with self._blobs.open_local(title.master_blob) as master:
            layout.transcode(plan, master, transcode_dir, report)
        on_progress("package", 0, 1)
        packaged = layout.package(title, renditions, transcode_dir, keys, out_dir, self._options.segment_seconds)
        self._blobs.publish_tree(f"packages/{title.id}/{generation_path(generation).rstrip('/')}", out_dir)
        on_progress("package", 1, 1)
        return package_record(title.id, renditions, packaged, keys, self._options.segment_seconds, generation)
