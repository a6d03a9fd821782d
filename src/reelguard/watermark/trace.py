"""Tracing a leaked copy to the session that leaked it.

    suspect ──align in time (activity signature vs the master reference,──┐
                              and content recognition's placement)       │
            ──align in space (ORB + RANSAC homography vs master frames)───┤
            ──informed detection per segment (soft A/B symbol, z)─────────┤
            ──symmetric Tardos score of every session of the title────────┴─► accused sessions

A session is accused only when its score's p-value (a Chernoff bound on an innocent
reaching it) times the number of sessions scored is at most ``false_accusation`` (10⁻⁶
by default): the chance that a trace accuses anyone innocent stays under that bound
whatever the copy is, because an innocent's bits are independent of it::

    report = runtime.trace_service().trace(Path("leak.mp4"), title="ep01")
    report.accused[0].account, report.accused[0].p_value
    # a caller that already identified the copy (the monitoring pipeline) hands the placements in:
    trace_service.trace(Path("leak.mp4"), title="ep01", placements=identify_report.segments)

Here: the service and its steps. ``tracking.py`` follows the copy's clock frame by frame;
``master_frames.py`` reads the master's frames; ``code.py`` scores and accuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from threadpoolctl import threadpool_limits

from reelguard.errors import InvalidInput, InvalidMedia, NotFound
from reelguard.fingerprint.service import FingerprintService, MatchedSegment
from reelguard.media.decoding import DecodeLog, nothing_decoded
from reelguard.media.sample import Coverage
from reelguard.progress import Progress, no_progress
from reelguard.store import repositories
from reelguard.store.blobs import BlobStore
from reelguard.store.database import Database
from reelguard.store.models import WatermarkSessionRow
from reelguard.titles import Title, WatermarkParams
from reelguard.watermark.alignment import (
    REGISTER_WIDTH,
    Features,
    PictureLikeness,
    Registration,
    TimeMap,
    activity_signature,
    candidate_offsets,
    letterbox_box,
    picture_offsets,
    picture_path,
    picture_rate,
    refine_picture_offset,
    register_copy,
    thumbnail,
)
from reelguard.watermark.code import AccusationScore, SessionCode, accuse
from reelguard.watermark.detection import (
    MarkClock,
    SegmentEvidence,
    background_reach,
    pool_segments,
    soft_symbol,
)
from reelguard.watermark.embedding import MaskRule
from reelguard.watermark.frames import VideoFacts, gray_frames, video_facts
from reelguard.watermark.master_frames import MasterDecoder, MasterFrames, read_around
from reelguard.watermark.orientation import AS_SHOWN, MIRRORED, ORIENTATIONS, Orientation, describe
from reelguard.watermark.packaging import proxy_blob, reference_blob
from reelguard.watermark.secrets import WatermarkSecret
from reelguard.watermark.sessions import require_watermarked
from reelguard.watermark.spool import FrameSpool
from reelguard.watermark.tracking import TRACK_WIDE_SECONDS, FrameTracker, correlation
from reelguard.watermark.variants import MasterReference, segment_of_frame

__all__ = ["Accusation", "Suspicion", "TraceReport", "TraceService"]

WORK_WIDTH = 320  # detection runs in the master's geometry at this width
_SMALL_WIDTH = 160
_REGISTER_FRAMES = 8
_MIN_SIGNATURE_CORRELATION = 0.25
_PICTURE_MARGIN = 0.1  # a second picture candidate counts only when it matches nearly as well as the best
_MIN_THUMBNAIL_CORRELATION = 0.6  # below this mean thumbnail likeness, pictures propose no offset
_PATH_GAIN = 0.05  # a picture path with jumps is a candidate when it beats the best single offset by this
_REFINE_FRAMES = 6
_MIN_PICTURE_CORRELATION = 0.4  # registered suspect frames vs their master frames, on average
_RECOGNISED_CANDIDATES = 3  # the title's strongest recognised lines tried as placements
_RECOGNISED_TRIED = 3  # of their placements and alternatives, at most this many are registered
_SAME_OFFSET_S = 2.0  # candidate offsets closer than this are one placement, tried once


@dataclass(frozen=True)
class SessionEvidence:
    """A session and the evidence the copy holds against it."""

    session: str
    account: str
    device: str
    ip: str | None
    started_at: str
    score: float
    p_value: float  # family-wise: corrected for every session scored (code.family_p_value)
    segments_used: int


@dataclass(frozen=True)
class Accusation(SessionEvidence):
    """A session accused: its family-wise p-value is within ``[watermark] false_accusation``."""


@dataclass(frozen=True)
class Suspicion(SessionEvidence):
    """Suspected, not accused: within ``[watermark] suspect_bound`` only. A lead to look for more copies of;
    nothing is done to it on this evidence."""


_E = TypeVar("_E", bound=SessionEvidence)


@dataclass
class TraceReport:
    title: str
    identified: bool
    reason: str
    accused: list[Accusation] = field(default_factory=list)
    suspected: list[Suspicion] = field(default_factory=list)  # not accused: leads, never acted on
    offset_seconds: float | None = None
    speed: float = 1.0  # the copy's playback speed against the master's (1.05: sped up by 5 %)
    registration_inliers: int = 0
    segments: list[dict[str, Any]] = field(default_factory=list)  # {"position", "z", "frames"}
    sessions_scored: int = 0
    best_innocent_p: float | None = None
    read: dict[str, Any] = field(default_factory=dict)  # which part of the suspect decoded (Coverage.to_json)
    orientation: str = AS_SHOWN.name  # how the copy shows the master's picture: mirrored, turned (orientation.py)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Suspect:
    path: Path
    facts: VideoFacts
    times: list[float]
    thumbs: list[NDArray[np.uint8]]
    register_frames: dict[int, NDArray[np.uint8]]  # frame index → REGISTER_WIDTH gray
    origin: float  # the first frame's own timestamp (times above start at 0)
    spool: FrameSpool  # every frame at REGISTER_WIDTH as first decoded, when they fitted its budget
    read: Coverage  # which part of the file decoded: a partial download is read as far as it does

    def frames(self) -> Iterator[tuple[float, NDArray[np.uint8]]]:
        """Every frame at REGISTER_WIDTH with its own timestamp: kept from the first read, else decoded again."""
        if self.spool.kept:
            return self.spool.frames()
        return gray_frames(self.path, *_size_at(REGISTER_WIDTH, self.facts.width, self.facts.height),
                           log=DecodeLog())  # read as the first time: around the same holes


class TraceService:
    def __init__(self, *, db: Database, blobs: BlobStore, watermark: WatermarkSecret,
                 fingerprints: FingerprintService, false_accusation: float, work_dir: Path,
                 spool_bytes: int, suspect_bound: float | None = None) -> None:
        """``fingerprints`` places the suspect in the title when it is indexed; ``false_accusation`` bounds the
        chance that a trace accuses anyone innocent; the suspect's decoded frames are kept in ``work_dir``,
        up to ``spool_bytes``, so that it is decoded once (``spool.py``)."""
        self._db, self._blobs, self._watermark = db, blobs, watermark
        self._fingerprints, self._false_accusation = fingerprints, false_accusation
        self._work_dir, self._spool_bytes = work_dir, spool_bytes
        self._suspect_bound = suspect_bound

    def trace(self, suspect_path: Path, *, title: str, placements: Sequence[MatchedSegment] | None = None,
              on_progress: Progress = no_progress) -> TraceReport:
        """Steps reported: read, recognise, align, detect (seconds of the suspect read), accuse.

        ``placements``: where content recognition already placed the suspect (an identify
        report's segments); without them, trace asks recognition itself (a second decode).
        """
        # one BLAS thread: the products here are small, and a threaded BLAS spinning beside the
        # decoder's threads made one of them a third of the trace on two cores
        with threadpool_limits(limits=1, user_api="blas"):
            return self._trace(suspect_path, title, placements, on_progress)

    def _trace(self, suspect_path: Path, title: str, placements: Sequence[MatchedSegment] | None,
               on_progress: Progress) -> TraceReport:
        facts = video_facts(suspect_path)
        row = self._title(title)
        watermark, _packaged = require_watermarked(row)
        segment_seconds = watermark.segment_seconds
        if facts.duration and facts.duration < segment_seconds:
            raise InvalidInput(f"expected a suspect of at least one segment ({segment_seconds} s); "
                               f"{suspect_path.name} lasts {facts.duration:.2f} s")
        register_size = _size_at(REGISTER_WIDTH, facts.width, facts.height)
        expected_frames = round((facts.duration or 0) * facts.frame_rate * 1.1) + 1
        with self._title_files(row) as (reference, master, proxy), FrameSpool.create(
                self._work_dir, register_size, budget_bytes=self._spool_bytes,
                expected_frames=expected_frames) as spool:
            on_progress("read", 0, 1)
            suspect = _read_suspect(suspect_path, facts, spool)
            on_progress("read", 1, 1)
            if suspect.times[-1] - suspect.times[0] < segment_seconds:
                partial = "" if suspect.read.complete else f" ({suspect.read.describe()})"
                raise InvalidInput(f"expected a suspect of at least one segment ({segment_seconds} s); "
                                   f"{suspect_path.name} has {len(suspect.times)} frames{partial}")
            report = self._judge(suspect, row, watermark, reference, MasterDecoder(master, reference, proxy=proxy),
                                 placements, on_progress)
            report.read = suspect.read.to_json()
            return report

    def _judge(self, suspect: _Suspect, row: Title, watermark: WatermarkParams, reference: MasterReference,
               decoder: MasterDecoder, placements: Sequence[MatchedSegment] | None,
               on_progress: Progress) -> TraceReport:
        """Recognise, align, detect and accuse: the suspect's frames (as far as they decoded) against the master."""
        on_progress("recognise", 0, 1)
        recognised = self._recognised_offsets(suspect.path, row, placements)
        on_progress("recognise", 1, 1)
        on_progress("align", 0, 1)
        # the master read at two sizes, by one decoder: registration's, and detection's (also refinement's)
        register_frames = MasterFrames(decoder, _size_at(REGISTER_WIDTH, row.width, row.height))
        work_frames = MasterFrames(decoder, _size_at(WORK_WIDTH, row.width, row.height),
                                   keep_passing=True)  # detection reads most of what alignment's walks pass
        alignment = self._align(suspect, reference, row, register_frames, work_frames, recognised)
        on_progress("align", 1, 1)
        if alignment is None:
            return TraceReport(row.name, False, "no session identified: the suspect does not match this title's "
                               "master in time (wrong title, or too little of it)")
        time_map, registration = alignment
        offset = time_map.start
        if registration is None:
            return TraceReport(row.name, False, "no session identified: the suspect's pictures do not match this "
                               "title's master (another title, or too distorted to register)",
                               offset_seconds=round(offset, 3))
        duration = float(suspect.times[-1])  # times start at 0
        evidence = self._detect(suspect, row, work_frames, reference, time_map, registration, watermark,
                                lambda when: on_progress("detect", min(when, duration), duration))
        on_progress("detect", duration, duration)
        on_progress("accuse", 0, 1)
        report = self._accuse(row, watermark, evidence, offset, registration)
        report.speed = time_map.rate
        report.orientation = describe(registration.homography,
                                      *_size_at(REGISTER_WIDTH, suspect.facts.width, suspect.facts.height))
        on_progress("accuse", 1, 1)
        return report

    # -- steps -----------------------------------------------------------------------
    def _title(self, title: str) -> Title:
        with self._db.session() as session:
            return repositories.load_title(session, title)

    @contextmanager
    def _title_files(self, row: Title) -> Iterator[tuple[MasterReference, Path, bool]]:
        """The title's watermark reference, and what to decode for master frames, as a file (a copy, from a store
        without files): its proxy (True), or the master itself for a title ingested before proxies (False)."""
        try:
            with self._blobs.open_local(reference_blob(row.id)) as path:
                reference = MasterReference.load(path)
        except NotFound:
            raise NotFound(f"title {row.name!r} has no watermark reference; re-ingest it with --watermark") from None
        proxy = self._blobs.exists(proxy_blob(row.id))
        with self._blobs.open_local(proxy_blob(row.id) if proxy else row.master_blob) as master:
            yield reference, master, proxy

    def _recognised_offsets(self, suspect_path: Path, row: Title,
                            placements: Sequence[MatchedSegment] | None) -> list[TimeMap]:
        """Where content recognition places the suspect in this title (its start and speed), if indexed.

        Recognition searches the whole catalog with pictures and sound, so it also places
        copies whose motion signature is too short or too garbled to propose an offset, and
        says at what speed the copy plays (its rate). A
        placement recognition could not choose among (a looping title) gives every one of
        them; the likeliest by their pictures are registered (``_likeliest_recognised``), and
        registration against the master picks the one that fits. The title is known
        here, so a placement need not clear identify's false-match bar (that bar answers
        "which title?"): the title's strongest lines are candidates, and registration judges.
        """
        if placements is None:
            recognition = self._fingerprints
            if row.id not in {t.title_id for t in recognition.index.titles()}:
                return []
            placements = recognition.identify(suspect_path, keep_weak=True).segments
        strongest = sorted((s for s in placements if s.title_id == row.id),
                           key=lambda s: s.false_match_probability)[:_RECOGNISED_CANDIDATES]
        return [TimeMap.constant(start - s.speed * s.suspect_start, s.score, s.speed) for s in strongest
                for start in (s.title_start, *(alternative for alternative, _ in s.title_alternatives))]

    def _align(self, suspect: _Suspect, reference: MasterReference, row: Title, masters: MasterFrames,
               work_frames: MasterFrames, recognised: list[TimeMap]) -> tuple[TimeMap, Registration | None] | None:
        candidates, pictures = self._time_candidates(suspect, reference)
        candidates += _likeliest_recognised(recognised, candidates, pictures, suspect.times[-1])
        if not candidates:
            return None
        # where the thumbnails move each candidate to, seen as shown and mirrored (registration then says which)
        moved = {orientation: [_to_thumbnail_offset(suspect, reference, candidate, orientation)
                               for candidate in candidates] for orientation in ORIENTATIONS}
        # one walk of the master reads every moment the steps below compare, at every offset they may take:
        # registration the moments themselves, refinement the frames either side. A seek's way from its key frame
        # is the cost, and moments a few frames apart share it (read step by step, each walked it again).
        read_around(self._moments(suspect, reference, [*candidates, *(c for cs in moved.values() for c in cs)]),
                    [(masters, 0), (work_frames, _REFINE_FRAMES)])
        features = Features()  # the suspect's frames are registered at every candidate: their features found once
        # as shown or mirrored: which has more inliers (a polish would not change them, so none is asked for)
        coarse = [self._register(suspect, masters, reference, candidate, ORIENTATIONS, features, polish=False)
                  for candidate in candidates]
        orientations = [found.orientation if found else AS_SHOWN for found in coarse]
        first_guesses = candidates
        candidates = [moved[orientation][i] for i, orientation in enumerate(orientations)]
        read_around(self._moments(suspect, reference, candidates),  # what was pushed out since, if anything
                    [(masters, 0), (work_frames, _REFINE_FRAMES)])
        registrations = [self._register(suspect, masters, reference, candidate, (orientation,), features) or found
                         for candidate, orientation, found in zip(candidates, orientations, coarse, strict=True)]
        # a time the pictures registered at stays a candidate where its thumbnails moved it away: a crop defeats
        # thumbnails (a mirrored crop of the dark class was moved 0.28 s off, beyond the refinement's reach)
        judged_at = candidates + [
            unmoved for unmoved, placed, found in zip(first_guesses, candidates, coarse, strict=True)
            if found is not None and abs(unmoved.start - placed.start) * reference.frame_rate > _REFINE_FRAMES]
        _explained, likeness, time_map, registration = max(
            (self._best_registration(suspect, row, work_frames, reference, candidate, registrations)
             for candidate in judged_at), key=lambda judged: judged[0])
        if likeness < _MIN_PICTURE_CORRELATION:
            return time_map, None  # features matched by chance: the pictures themselves differ
        # register again on the exact frames: a homography fitted a frame off is a poorer one
        orientation = registration.orientation if registration else AS_SHOWN
        read_around(self._moments(suspect, reference, [time_map]), [(masters, 0)])
        exact = self._register(suspect, masters, reference, time_map, (orientation,), features)
        _explained, _likeness, time_map, registration = self._best_registration(
            suspect, row, work_frames, reference, time_map, [registration, exact])
        return time_map, registration

    def _best_registration(self, suspect: _Suspect, row: Title, frames: MasterFrames, reference: MasterReference,
                           time_map: TimeMap, registrations: Sequence[Registration | None]
                           ) -> tuple[float, float, TimeMap, Registration | None]:
        """(share of the copy explained, likeness, time map on the exact frame, registration): the registration
        under which the map's pictures explain the most of the copy.

        A copy has one geometry whatever the time, so every candidate's registration is a
        guess at it, and each candidate time is judged under the best of them. ORB's map at
        the right time is not always the best one: on a fixed camera, where wrong times show
        nearly the same picture, a skewed map at the right time (0.72 against 0.94 for good
        maps at wrong times) lost the right time to a wrong one.
        """
        found: list[Registration | None] = [r for i, r in enumerate(registrations)
                                            if r is not None and all(r is not q for q in registrations[:i])]
        judged: tuple[float, float, TimeMap, Registration | None] | None = None
        for registration in found or [None]:  # each once; with none found, the suspect stretched onto the master
            placed, likeness, explained = self._refine_to_frame(suspect, row, frames, reference, time_map,
                                                                registration)
            if judged is None or explained > judged[0]:
                judged = (explained, likeness, placed, registration)
        assert judged is not None
        return judged

    @staticmethod
    def _time_candidates(suspect: _Suspect, reference: MasterReference) -> tuple[list[TimeMap], PictureLikeness]:
        """Where in the master the suspect may lie: by motion, by pictures, and by a picture path.

        Motion proposes offsets (a crop defeats thumbnails, not motion). Where motion repeats
        (or a stalling capture garbles it) the pictures differ, so the offsets whose
        thumbnails match best join, if new. A copy played faster or slower than the master
        fits one offset only around its middle; the best offset at the speed whose
        thumbnails match best joins when that speed is not 1. A screen capture of a player
        that rebuffered fits no one offset; the picture path follows its clock through the
        stalls and joins when it matches clearly better than any one offset at any one speed
        does: a path's slips can follow a sped-up copy too, and a line is its better model.
        A registration of each candidate judges them all. Pictures are compared as shown
        and mirrored (motion does not see a mirror), and the way that matches better is used;
        its likeness comes back with the candidates, to rank recognition's placements by.
        """
        duration = suspect.times[-1] + 1 / suspect.facts.frame_rate
        suspect_sig = activity_signature(suspect.thumbs, suspect.times, duration)
        master_sig = activity_signature(list(reference.thumbs), list(reference.times),
                                        float(reference.times[-1]) + 1 / reference.frame_rate)
        candidates = [TimeMap.constant(offset, score) for offset, score in candidate_offsets(master_sig, suspect_sig)
                      if score >= _MIN_SIGNATURE_CORRELATION]
        pictures, pictured = max(
            ((likeness, picture_offsets(likeness)) for likeness in (
                PictureLikeness.measure(reference.thumbs, reference.frame_rate,
                                        [orientation.apply(t) for t in suspect.thumbs], suspect.times)
                for orientation in (AS_SHOWN, MIRRORED))),  # a mirrored copy's pictures match mirrored
            key=lambda measured: measured[1][0][1] if measured[1] else -1.0)
        for offset, score in pictured:
            if score >= max(_MIN_THUMBNAIL_CORRELATION, pictured[0][1] - _PICTURE_MARGIN) and all(
                    abs(offset - c.start) > _SAME_OFFSET_S for c in candidates):
                candidates.append(TimeMap.constant(offset, score))
        rated = picture_rate(pictures)
        if rated is not None and rated[1] != 1.0:
            candidates.append(TimeMap.constant(rated[0], rated[2], rated[1]))
        path = picture_path(pictures)
        one_line = max(pictured[0][1] if pictured else 0.0, rated[2] if rated else 0.0)  # one offset, at one speed
        if path is not None and path.jumps and _path_joins(path, one_line, pictures):
            candidates.append(path)
        return candidates, pictures

    def _refine_to_frame(self, suspect: _Suspect, row: Title, frames: MasterFrames, reference: MasterReference,
                         time_map: TimeMap, registration: Registration | None) -> tuple[TimeMap, float, float]:
        """(time map shifted to the exact master frame, mean correlation there, share of the copy explained).

        The mean is over the suspect frames the map puts inside the master; the share
        counts the others as unlike (0). Candidates are ranked by the share: a map that puts
        most of the copy before the master's start, matching only its last frame, explains
        little of it however well that frame matches (a screen capture that ended on the
        player's first pictures had such a map win at 0.94 over the right one's 0.93).
        Pixels under an overlay the registration left out count as unexplained too: leaving
        out more must not buy a registration a higher share.
        """
        work = _size_at(WORK_WIDTH, row.width, row.height)
        reg_suspect = _size_at(REGISTER_WIDTH, suspect.facts.width, suspect.facts.height)
        warp = _warp_to_work(registration, reg_suspect, row, work)
        shown = _shown(registration, reg_suspect)
        valid = cv2.warpPerspective(shown, warp, work, flags=cv2.INTER_NEAREST) > 0
        step = 1 / reference.frame_rate
        time_map = time_map.on_frames(reference.frame_rate)
        shifts = range(-_REFINE_FRAMES, _REFINE_FRAMES + 1)
        totals = np.zeros(len(shifts))
        counts = np.zeros(len(shifts))
        for index, picture in suspect.register_frames.items():
            warped = cv2.warpPerspective(picture, warp, work, flags=cv2.INTER_LINEAR).astype(np.float32)[valid]
            centre = _master_index(suspect, reference, time_map, index)
            window = frames.window(centre - _REFINE_FRAMES, centre + _REFINE_FRAMES)
            for k, shift in enumerate(shifts):
                frame = window.get(centre + shift)
                if frame is not None:
                    totals[k] += correlation(warped, frame.astype(np.float32)[valid])
                    counts[k] += 1
        if not counts.any():
            return time_map, 0.0, 0.0
        best = int(np.argmax(np.where(counts > 0, totals, -np.inf)))  # a shift with frames to compare
        return (time_map.shifted(shifts[best] * step), float(totals[best] / counts[best]),
                float(totals[best] / len(suspect.register_frames) * shown.mean()))

    @staticmethod
    def _moments(suspect: _Suspect, reference: MasterReference, candidates: list[TimeMap]) -> list[int]:
        """The master frames registration compares with the suspect's, for every candidate."""
        return [_master_index(suspect, reference, candidate, index) for candidate in candidates
                for index in suspect.register_frames]

    @staticmethod
    def _register(suspect: _Suspect, frames: MasterFrames, reference: MasterReference, time_map: TimeMap,
                  orientations: Sequence[Orientation], features: Features, *,
                  polish: bool = True) -> Registration | None:
        pairs = []
        for index, picture in suspect.register_frames.items():
            master = frames.at(_master_index(suspect, reference, time_map, index))
            if master is not None:
                pairs.append((master, picture))
        if not pairs:
            return None
        return register_copy(pairs, orientations, features, polish=polish)

    def _detect(self, suspect: _Suspect, row: Title, master_frames: MasterFrames, reference: MasterReference,
                time_map: TimeMap, registration: Registration | None, watermark: WatermarkParams,
                read_up_to: Callable[[float], None]) -> list[SegmentEvidence]:
        """Each segment's evidence, from every suspect frame paired with the master frame it shows.

        The map's rate and the offset of the piece each frame lies in (a cut or inserted
        footage starts a new piece) predict its master frame; the tracker follows the copy's
        clock from there, frame by frame (through a capture's stalls, which a picture path
        only samples).
        """
        work = _size_at(WORK_WIDTH, row.width, row.height)
        reg_suspect = _size_at(REGISTER_WIDTH, suspect.facts.width, suspect.facts.height)
        warp = _warp_to_work(registration, reg_suspect, row, work)
        key = self._watermark.title_keys(row.id).embed
        valid = cv2.warpPerspective(_shown(registration, reg_suspect), warp, work, flags=cv2.INTER_NEAREST) > 0
        rate = time_map.rate
        timed = ((round(((when - suspect.origin) * rate + time_map.piece_offset(when - suspect.origin,
                                                                               TRACK_WIDE_SECONDS))
                        * reference.frame_rate),
                  cv2.warpPerspective(picture, warp, work, flags=cv2.INTER_LINEAR).astype(np.float32))
                 for when, picture in _reporting(suspect.frames(), lambda when: read_up_to(when - suspect.origin)))
        wide = round(TRACK_WIDE_SECONDS * reference.frame_rate)
        pairs = FrameTracker(master_frames, valid, wide).pairs(timed)
        # only a copy whose clock differs from the master's (a capture, a camcorder, a speed change) reads it off
        # the mark: on a copy that keeps it, a block showing the segment before's mark is an encoder's stale picture,
        # not a late clock (a 30 fps copy of the test pattern had 950 of 1586 frames moved so, its evidence thinned)
        clock = MarkClock(block=max(1, round(reference.frame_rate)), reach=wide) if _retimed(time_map) else None
        return pool_segments(key, pairs, valid,
                             lambda index: segment_of_frame(index, reference.frame_rate, watermark.segment_seconds),
                             MaskRule.of(watermark), background_reach(watermark.segment_seconds), clock)

    def _accuse(self, row: Title, watermark: WatermarkParams, evidence: list[SegmentEvidence], offset: float,
                registration: Registration | None) -> TraceReport:
        observed = {e.segment: soft_symbol(e.z) for e in evidence if e.frames > 0}
        report = TraceReport(row.name, False, "", offset_seconds=round(offset, 3),
                             registration_inliers=registration.inliers if registration else 0,
                             segments=[{"position": e.segment, "z": round(e.z, 2), "frames": e.frames}
                                       for e in evidence])
        sessions = self._sessions(row.id)
        report.sessions_scored = len(sessions)
        if not sessions:
            report.reason = "no session identified: the title has no sessions"
            return report
        if not any(observed.values()):
            report.reason = "no session identified: no watermark found (every segment at chance)"
            return report
        code = SessionCode(key=self._watermark.title_keys(row.id).code, collusion=watermark.collusion)
        verdict = accuse(code.scores(observed, [s.id for s in sessions]), self._false_accusation,
                         self._suspect_bound)
        by_id = {s.id: s for s in sessions}
        report.accused = [_evidence(Accusation, by_id[s.session_id], s) for s in verdict.accused]
        report.suspected = [_evidence(Suspicion, by_id[s.session_id], s) for s in verdict.suspected]
        report.best_innocent_p = verdict.best_innocent_p
        report.identified = bool(report.accused)
        used = len(observed)
        suspected = (f"; {len(report.suspected)} session(s) suspected, not accused" if report.suspected else "")
        report.reason = (f"identified from {used} segments" if report.identified else
                         f"no session identified: {used} segments are not enough evidence "
                         f"(best p = {verdict.best_p:.2g}){suspected}")
        return report

    def _sessions(self, title_id: str) -> list[WatermarkSessionRow]:
        with self._db.session() as session:
            rows = session.scalars(select(WatermarkSessionRow).where(WatermarkSessionRow.title_id == title_id))
            return list(rows)


def _likeliest_recognised(recognised: Sequence[TimeMap], candidates: Sequence[TimeMap],
                          pictures: PictureLikeness, duration: float) -> list[TimeMap]:
    """Recognition's placements not yet among the candidates: its first, and the others whose pictures match best.

    A title whose passages recur (a looping programme, a recurring opening) makes
    recognition offer each recurrence as an alternative, and registering every one is the
    costliest part of a trace. Recognition's own first choice always stays (it places a
    cropped copy whose thumbnails match nowhere); of the rest, the ones whose thumbnails
    match the suspect's best at their offset (as shown or mirrored, as the copy is) do.
    ``duration``: the suspect's, over which two placements at different speeds drift apart.
    """
    fresh: list[TimeMap] = []
    for found in recognised:
        if not any(found.same_placement(c, _SAME_OFFSET_S, duration) for c in (*candidates, *fresh)):
            fresh.append(found)
    if not fresh:
        return []
    first, others = fresh[0], fresh[1:]
    others.sort(key=lambda found: pictures.at_offset(found.start, found.rate), reverse=True)
    return [first, *others[:_RECOGNISED_TRIED - 1]]


def _to_thumbnail_offset(suspect: _Suspect, reference: MasterReference, candidate: TimeMap,
                         orientation: Orientation) -> TimeMap:
    """A one-offset candidate moved to the master frame the thumbnails agree with (one that jumps, kept)."""
    if candidate.jumps:
        return candidate
    thumbs = [orientation.apply(t) for t in suspect.thumbs]
    return TimeMap.constant(refine_picture_offset(reference.thumbs, reference.frame_rate, thumbs, suspect.times,
                                                  candidate.start, rate=candidate.rate), rate=candidate.rate)


def _master_index(suspect: _Suspect, reference: MasterReference, time_map: TimeMap, index: int) -> int:
    """The master frame the suspect's frame ``index`` shows, by ``time_map``."""
    return round(time_map.master_time(suspect.times[index]) * reference.frame_rate)


def _reporting(frames: Iterator[tuple[float, NDArray[np.uint8]]],
               report: Callable[[float], None]) -> Iterator[tuple[float, NDArray[np.uint8]]]:
    """The frames as they come, reporting each second of the suspect read."""
    reported = -1.0
    for when, picture in frames:
        if when - reported >= 1.0:
            report(when)
            reported = when
        yield when, picture


def _evidence(kind: type[_E], row: WatermarkSessionRow, score: AccusationScore) -> _E:
    started: datetime = row.started_at
    return kind(row.id, row.account_id, row.device_id, row.ip, started.isoformat(), round(score.score, 3),
                score.family_p_value, score.positions)


def _size_at(width: int, source_width: int, source_height: int) -> tuple[int, int]:
    return width, max(2, round(source_height * width / source_width / 2) * 2)


def _read_suspect(path: Path, facts: VideoFacts, spool: FrameSpool) -> _Suspect:
    """The one decode of the suspect, as far as it decodes (a partial download up to where it stops, and around
    its holes): every frame into the spool, a small copy of each for time alignment, a few for registration."""
    small = _size_at(_SMALL_WIDTH, facts.width, facts.height)
    reg = _size_at(REGISTER_WIDTH, facts.width, facts.height)
    times: list[float] = []
    smalls: list[NDArray[np.uint8]] = []
    kept: dict[int, NDArray[np.uint8]] = {}  # every stride-th frame at registration size
    stride = max(1, round(facts.duration * facts.frame_rate / (8 * _REGISTER_FRAMES)))
    log = DecodeLog()
    for index, (when, picture) in enumerate(gray_frames(path, *reg, log=log)):
        spool.add(when, picture)
        times.append(when)
        smalls.append(np.asarray(cv2.resize(picture, small, interpolation=cv2.INTER_AREA), dtype=np.uint8))
        if index % stride == 0:
            kept[index] = picture
        if len(kept) > 16 * _REGISTER_FRAMES:  # a file that declares no duration: thin out, keep spreading
            stride *= 2
            kept = {i: frame for i, frame in kept.items() if i % stride == 0}
    if not times and (log.damaged or log.broke_off):
        raise InvalidMedia(nothing_decoded(path, log))
    if len(times) < 2:
        raise InvalidInput(f"expected a video of at least one segment; {path.name} has {len(times)} frame(s)")
    indices = sorted(kept)
    picks = np.linspace(len(indices) * 0.05, len(indices) * 0.95, _REGISTER_FRAMES).astype(int)
    register_frames = {indices[min(i, len(indices) - 1)]: kept[indices[min(i, len(indices) - 1)]] for i in picks}
    x0, y0, x1, y1 = letterbox_box(smalls[:: max(1, len(smalls) // 200)])
    thumbs = [thumbnail(np.ascontiguousarray(p[y0:y1, x0:x1])) for p in smalls]
    start = times[0]
    return _Suspect(path, facts, [t - start for t in times], thumbs, register_frames, start, spool, log.coverage())


def _path_joins(path: TimeMap, one_line: float, pictures: PictureLikeness) -> bool:
    """Whether a picture path with jumps is a candidate beside the lines (one offset at one speed).

    A path the tracker can follow from one line (its stalls) must match clearly better than
    the best line, and well. One that goes further (a cut, pictures put in: more than one
    piece) has paid for its jumps already and need only beat every line, the one at its own
    start too: a still picture looks alike on both sides of a cut (a fixed camera: 0.99
    against 0.98), and a dark one is far from any thumbnail (0.39 against 0.37).
    """
    if len(path.piece_starts(TRACK_WIDE_SECONDS)) > 1:
        return path.score > max(one_line, pictures.at_offset(path.start, path.rate))
    return path.score >= max(_MIN_THUMBNAIL_CORRELATION, one_line + _PATH_GAIN)


def _retimed(time_map: TimeMap) -> bool:
    """Whether the copy's clock differs from the master's: played at another speed, or stalling (a path's short
    jumps; a cut starts a piece that keeps the master's clock)."""
    return time_map.rate != 1.0 or time_map.stalls(TRACK_WIDE_SECONDS) > 0


def _shown(registration: Registration | None, reg_suspect: tuple[int, int]) -> NDArray[np.uint8]:
    """1 for the suspect's (REGISTER_WIDTH) pixels that show the master, 0 under what the copy burned in."""
    shape = (reg_suspect[1], reg_suspect[0])
    return registration.shown(shape) if registration is not None else np.ones(shape, dtype=np.uint8)


def _warp_to_work(registration: Registration | None, reg_suspect: tuple[int, int], row: Title,
                  work: tuple[int, int]) -> NDArray[np.float64]:
    """Suspect (REGISTER_WIDTH) pixels → master working pixels."""
    master_reg = _size_at(REGISTER_WIDTH, row.width, row.height)
    to_work = np.diag([work[0] / master_reg[0], work[1] / master_reg[1], 1.0])
    if registration is not None:
        return to_work @ registration.homography
    stretch = np.diag([master_reg[0] / reg_suspect[0], master_reg[1] / reg_suspect[1], 1.0])
    return to_work @ stretch
