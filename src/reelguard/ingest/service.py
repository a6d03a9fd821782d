"""Ingest: a master file in, a ready (encrypted, packaged) title out.

``add_title`` refuses unplayable input before anything is stored, then records the title
and walks its stages; ``resume_title`` continues a title from the stage it reached::

    received ──keys──► keys ──transcode──► transcoded ──fingerprint──► fingerprinted ──package──► packaged (ready)

A stage is recorded only when its outputs are complete: the transcode writes into a
``.partial`` folder renamed into place when every encoder has finished (a killed ingest
leaves no truncated rendition that a resume could take for finished), signatures are
stored blob by blob before the stage is recorded, and packaged output is built in a work
folder and published to the blob store atomically. The title joins the recognition index
and becomes ``ready`` only at the very end — a failed title is in no index, and every
ready title has its fingerprints. Child processes die with the ingest (``media.processes``).
A crash leaves a title that is ``ingesting`` (or ``failed``, with the error) at a known
stage — never one that looks ready::

    service = runtime.ingest_service()
    title = service.add_title(Path("ep01.mp4"), name="ep01", on_progress=print)
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from reelguard.clock import Clock
from reelguard.drm.keys import ContentKey, TrackTier, tier_for_height
from reelguard.drm.keystore import KeyStore
from reelguard.errors import Conflict, InvalidInput, ReelguardError, StorageError
from reelguard.fingerprint.service import FingerprintService
from reelguard.ingest.layouts import Layout, Packaged, layout_for
from reelguard.ingest.records import TitleView, title_view
from reelguard.media.ladder import Rendition, plan_ladder
from reelguard.media.probe import MediaInfo, probe_master
from reelguard.media.tools import MediaTools
from reelguard.media.transcode import TranscodePlan
from reelguard.progress import Progress, no_progress
from reelguard.store import repositories
from reelguard.store.blobs import BlobStore
from reelguard.store.database import Database
from reelguard.store.models import TitleRow
from reelguard.titles import (
    IngestStage,
    PackagedStream,
    PackageRecord,
    Title,
    TitleStatus,
    WatermarkParams,
    generation_path,
)
from reelguard.watermark.embedding import FLAT_BOOST, MASK_FLOOR
from reelguard.watermark.secrets import WatermarkSecret

__all__ = ["IngestOptions", "IngestService", "Progress", "key_tiers", "package_record", "transcode_plan"]

log = logging.getLogger(__name__)

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")
STAGES = tuple(IngestStage)


@dataclass(frozen=True)
class IngestOptions:
    """The settings ingest encodes with (from ``[media]`` and ``[watermark]`` settings)."""

    ladder: tuple[int, ...]
    segment_seconds: int
    x264_preset: str
    audio_bitrate_kbps: int
    watermark_strength: float
    watermark_collusion: int


class IngestService:
    def __init__(self, *, db: Database, blobs: BlobStore, tools: MediaTools, keystore: KeyStore,
                 watermark: WatermarkSecret, fingerprints: FingerprintService, clock: Clock, options: IngestOptions,
                 work_dir: Path) -> None:
        self._db, self._blobs, self._tools, self._keystore = db, blobs, tools, keystore
        self._watermark, self._fingerprints, self._clock = watermark, fingerprints, clock
        self._options, self._work_dir = options, work_dir

    # -- public ----------------------------------------------------------------------
    def add_title(self, path: Path, *, name: str, watermark: bool = False,
                  on_progress: Progress = no_progress) -> TitleView:
        """Validate, store and fully ingest ``path`` as title ``name`` (A/B watermarked if asked)."""
        _require_title_name(name)
        self._tools.check()
        info = probe_master(self._tools, path)
        self._require_unused_name(name)
        title_id = self._record_title(path, name, info, self._watermark_record() if watermark else None)
        return self.resume_title(title_id, on_progress=on_progress)

    def resume_title(self, name_or_id: str, *, on_progress: Progress = no_progress) -> TitleView:
        """Continue a title from its last completed stage; a ready title is returned as is."""
        title = self._load(name_or_id)
        if title.ready:
            return title_view(title)
        self._set_status(title.id, TitleStatus.INGESTING, error=None)
        try:
            self._run_stages(title.id, on_progress)
        except (Exception, KeyboardInterrupt) as exc:  # any failure: never a title left "ingesting" with no error
            self._fail(title.id, exc)
            if isinstance(exc, OSError):
                raise StorageError(f"ingest of {title.name!r} stopped: {exc.strerror or exc} "
                                   f"({exc.filename or 'no file named'})") from exc
            raise
        return title_view(self._load(title.id))

    # -- stages ----------------------------------------------------------------------
    def _run_stages(self, title_id: str, on_progress: Progress) -> None:
        title = self._load(title_id)
        if not IngestStage.KEYS.done_by(title.stage):
            self._create_keys(title)
        title = self._load(title_id)
        layout = layout_for(title, tools=self._tools, watermark=self._watermark, blobs=self._blobs)
        renditions = self._renditions(title)
        transcode_dir = self._work(title_id) / "transcode"
        if not (transcode_dir.is_dir() and layout.complete(renditions, transcode_dir, title.has_audio)):
            self._transcode(layout, title, renditions, transcode_dir, on_progress)
        elif not IngestStage.TRANSCODED.done_by(title.stage):
            self._set_stage(title_id, IngestStage.TRANSCODED)  # the rename happened; its record did not
        fingerprints = self._fingerprints
        if not IngestStage.FINGERPRINTED.done_by(self._load(title_id).stage) or \
                not fingerprints.has_signatures(title_id):
            self._fingerprint(layout, fingerprints, title, renditions, transcode_dir, on_progress)
        self._package(layout, fingerprints, title, renditions, transcode_dir, on_progress)
        shutil.rmtree(self._work(title_id), ignore_errors=True)

    def _create_keys(self, title: Title) -> None:
        tiers = key_tiers(self._renditions(title), title.has_audio)
        with self._db.transaction() as session:
            self._keystore.create_title_keys(session, title.id, tiers, now=self._clock())
            row = repositories.get_title(session, title.id)
            row.stage, row.updated_at = IngestStage.KEYS, self._clock()

    def _transcode(self, layout: Layout, title: Title, renditions: list[Rendition], out_dir: Path,
                   on_progress: Progress) -> None:
        """Transcode into ``<out_dir>.partial``, renamed to ``out_dir`` only once every output is whole."""
        partial = out_dir.with_name(out_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)
        plan = transcode_plan(title, renditions, self._options)

        def report(done: float) -> None:
            on_progress("transcode", min(done, title.duration_seconds), title.duration_seconds)

        with self._blobs.open_local(title.master_blob) as master:  # a store without files lends a copy
            layout.transcode(plan, master, partial, report)
        partial.rename(out_dir)
        self._set_stage(title.id, IngestStage.TRANSCODED)
        on_progress("transcode", title.duration_seconds, title.duration_seconds)

    def _fingerprint(self, layout: Layout, fingerprints: FingerprintService, title: Title,
                     renditions: list[Rendition], transcode_dir: Path, on_progress: Progress) -> None:
        """Reference signatures (video + audio) stored; the title joins the index when it is ready.

        They are read from the ladder's smallest rendition and its audio track, which the
        transcode has just written: fingerprints look at 256×256 luma and 8 kHz sound, so
        decoding the master (720p or more) would be spent on detail they never see — the
        smallest rendition decodes about 3.5 times faster than a 720p master.
        """
        on_progress("fingerprint", 0, 1)
        streams = layout.fingerprint_streams(renditions, transcode_dir, title.has_audio)
        sizes = {r.name: r.width * r.height for r in renditions}
        pictures = min((s for s in streams if s.kind == "video"), key=lambda s: sizes[s.name]).source
        sound = next((s.source for s in streams if s.kind == "audio"), None)
        fingerprints.store_signatures(title.id, pictures, sound)
        self._set_stage(title.id, IngestStage.FINGERPRINTED)
        on_progress("fingerprint", 1, 1)

    def _package(self, layout: Layout, fingerprints: FingerprintService, title: Title,
                 renditions: list[Rendition], transcode_dir: Path, on_progress: Progress) -> None:
        on_progress("package", 0, 1)
        with self._db.session() as session:
            keys = self._keystore.keys_of_title(session, title.id)
        out_dir = self._work(title.id) / "package"
        shutil.rmtree(out_dir, ignore_errors=True)
        segment_seconds = self._options.segment_seconds
        packaged = layout.package(title, renditions, transcode_dir, keys, out_dir, segment_seconds)
        self._blobs.publish_tree(f"packages/{title.id}", out_dir)
        fingerprints.index_stored(title.id)  # recognisable from the moment it is ready, not before
        with self._db.transaction() as session:
            row = repositories.get_title(session, title.id)
            row.package = package_record(title.id, renditions, packaged, keys, segment_seconds).to_json()
            row.stage, row.status, row.error = IngestStage.PACKAGED, TitleStatus.READY, None
            row.updated_at = self._clock()
        on_progress("package", 1, 1)

    def _fail(self, title_id: str, exc: BaseException) -> None:
        """Record the failure and keep the title out of the index (it may have just been added).

        Best effort: when the store itself is what failed, recording may fail too; the
        original error is the one that propagates, and the title is resumable either way.
        """
        try:
            self._set_status(title_id, TitleStatus.FAILED, error=_failure_reason(exc))
            self._fingerprints.remove([title_id])
        except Exception as recording:  # the caller re-raises the error that matters
            log.error("could not record the failure of title %s: %s", title_id, _failure_reason(recording))
        shutil.rmtree(self._work(title_id) / "transcode.partial", ignore_errors=True)
        shutil.rmtree(self._work(title_id) / "package", ignore_errors=True)

    # -- records ---------------------------------------------------------------------
    def _watermark_record(self) -> WatermarkParams:
        options = self._options
        return WatermarkParams(strength=options.watermark_strength, collusion=options.watermark_collusion,
                               segment_seconds=options.segment_seconds,
                               mask_floor=MASK_FLOOR, flat_boost=FLAT_BOOST)

    def _record_title(self, path: Path, name: str, info: MediaInfo, watermark: WatermarkParams | None) -> str:
        title_id = str(uuid.uuid4())
        blob_key = f"masters/{title_id}/master{_safe_suffix(path)}"
        self._blobs.put_file(blob_key, path)
        now = self._clock()
        try:
            with self._db.transaction() as session:
                session.add(TitleRow(
                    id=title_id, name=name, status=TitleStatus.INGESTING, stage=IngestStage.RECEIVED,
                    master_blob=blob_key,
                    source_filename=path.name[:400], source_bytes=info.size_bytes,
                    duration_seconds=info.duration_seconds, width=info.width, height=info.height,
                    frame_rate=info.frame_rate, has_audio=info.has_audio, package=None, error=None,
                    watermark=watermark.to_json() if watermark is not None else None,
                    created_at=now, updated_at=now,
                ))
        except IntegrityError as exc:
            self._blobs.delete_prefix(f"masters/{title_id}")
            raise Conflict(f"a title named {name!r} already exists") from exc
        return title_id

    def _require_unused_name(self, name: str) -> None:
        with self._db.session() as session:
            if repositories.find_title(session, name) is not None:
                raise Conflict(f"a title named {name!r} already exists; pick another --name or "
                               f"'reelguard titles resume {name}'")

    def _load(self, name_or_id: str) -> Title:
        with self._db.session() as session:
            return repositories.load_title(session, name_or_id)

    def _set_stage(self, title_id: str, stage: IngestStage) -> None:
        """Record a completed stage; a stage done again (a lost work folder re-transcoded) never moves it back."""
        with self._db.transaction() as session:
            row = repositories.get_title(session, title_id)
            if not stage.done_by(row.stage):
                row.stage, row.updated_at = stage, self._clock()

    def _set_status(self, title_id: str, status: str, *, error: str | None) -> None:
        with self._db.transaction() as session:
            row = repositories.get_title(session, title_id)
            row.status, row.error, row.updated_at = status, error, self._clock()

    def _renditions(self, title: Title) -> list[Rendition]:
        return plan_ladder(title.width, title.height, self._options.ladder)

    def _work(self, title_id: str) -> Path:
        return self._work_dir / title_id


def _require_title_name(name: str) -> None:
    if not _NAME_PATTERN.match(name):
        raise InvalidInput(
            f"expected a title name of 1-100 letters, digits, '.', '_' or '-' (starting with a letter "
            f"or digit), got {name[:60]!r}"
        )


def _safe_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"


def key_tiers(renditions: list[Rendition], has_audio: bool) -> list[TrackTier]:
    """The tiers a title needs a content key for: its renditions' video tiers, and audio when it has sound."""
    video = {tier_for_height(r.height) for r in renditions}
    return sorted(video | ({TrackTier.AUDIO} if has_audio else set()))


def transcode_plan(title: Title, renditions: list[Rendition], options: IngestOptions) -> TranscodePlan:
    return TranscodePlan(tuple(renditions), options.segment_seconds, title.frame_rate, title.has_audio,
                         options.x264_preset, options.audio_bitrate_kbps)


def package_record(title_id: str, renditions: list[Rendition], packaged: Packaged, keys: list[ContentKey],
                   segment_seconds: int, generation: int = 1) -> PackageRecord:
    kid_by_tier = {k.tier: k.kid.uuid for k in keys}
    sizes = {r.name: r for r in renditions}
    streams = tuple(
        PackagedStream(name=s.name, kind=s.kind, tier=s.tier.value, kid=kid_by_tier[s.tier],
                       width=sizes[s.name].width if s.name in sizes else None,
                       height=sizes[s.name].height if s.name in sizes else None,
                       bitrate_kbps=sizes[s.name].bitrate_kbps if s.name in sizes else None)
        for s in packaged.streams)
    return PackageRecord(blob_prefix=f"packages/{title_id}/{generation_path(generation)}".rstrip("/"),
                         dash_manifest="dash/manifest.mpd", hls_master="hls/master.m3u8",
                         segment_seconds=segment_seconds, streams=streams, watermark=packaged.watermark,
                         generation=generation)


def _failure_reason(exc: BaseException) -> str:
    """What a failed title's ``error`` says: our own errors in full, others by type and first line.

    Only the first line of a foreign error is kept: a database error's later lines quote the
    statement and its parameters, which may hold wrapped keys.
    """
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, ReelguardError | OSError):
        return str(exc) or type(exc).__name__
    first_line = (str(exc).splitlines() or [""])[0][:300]
    return f"unexpected {type(exc).__name__}: {first_line}" if first_line else f"unexpected {type(exc).__name__}"
