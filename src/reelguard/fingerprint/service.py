"""Fingerprinting titles at ingest, and identifying catalog content in a suspect file.

``index_title`` reads a title once (at ingest, its smallest rendition: pictures at 4/s,
audio at 8 kHz), stores its reference signatures in the blob store
(``fingerprints/<title id>/<type>.sig``) and adds them to the catalog index.
``identify`` reads a suspect the same way, searches both modalities, verifies each in
time, and fuses what the two found::

    report = runtime.fingerprint_service().identify(Path("suspect.mkv"))
    for segment in report.segments:
        segment.title, segment.suspect_start, segment.title_start, segment.modality

A suspect with no catalog content gets ``report.matched == False`` and the best evidence
seen in ``report.best``, never a forced guess. A file with only pictures or only sound
is searched with what it has; a partial download as far as it decodes, and
``report.read`` says which part that was.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from reelguard.errors import InvalidInput, InvalidMedia, NotFound
from reelguard.fingerprint.index import CatalogIndex, IndexedTitle
from reelguard.fingerprint.landmarks import Landmarks
from reelguard.fingerprint.matching import Segment, VerifyRule, find_segments
from reelguard.fingerprint.pdq import PdqVideo
from reelguard.fingerprint.signatures import Signature
from reelguard.fingerprint.thumbnails import DctVideo
from reelguard.media.sample import MediaSample
from reelguard.media.sampling import read_media
from reelguard.progress import Progress, no_progress
from reelguard.store import repositories
from reelguard.store.blobs import BlobStore
from reelguard.store.database import Database

__all__ = ["MATCH_NEEDS", "FingerprintService", "IdentifyReport", "MatchedSegment", "RebuildReport",
           "identify_sample", "read_sample"]

VIDEO, AUDIO, EXACT = DctVideo(), Landmarks(), PdqVideo()
# pictures are sampled every 0.25-0.5 s, so a video line's slope is only fitted over 10 s or more;
# landmarks are timed to 32 ms, so an audio line's slope is fitted over 3 s. A copy's landmarks
# come thick and fast (gaps over 1.5 s are rare), chance ones sparse over tens of seconds.
# The supports (8 pictures, 20 landmark moments) are set on the copy-detection suite: the
# lowest that answered no distractor query (benchmarks/copy_detection.py, docs/benchmarks.md).
_VIDEO_RULE = VerifyRule(min_support=8, bin_seconds=1.0, tolerance=0.6, max_gap=4.0, min_fit_span=10.0)
_AUDIO_RULE = VerifyRule(min_support=20, bin_seconds=0.5, tolerance=0.25, max_gap=1.5, min_fit_span=3.0)
# what a "no match" answer says a match would have needed
MATCH_NEEDS = f"{_VIDEO_RULE.min_support} pictures or {_AUDIO_RULE.min_support} landmark moments on one line"
_MIN_LIKENESS = 0.80  # a query view and a title view this alike are a video hit
_NEIGHBOURS = 10
_AUDIO_WEIGHT = 0.25  # an audio moment (a landmark instant) is worth a quarter of a matched picture
_MIN_PICTURES = 2  # fewer sampled pictures than this: the video is too short to say anything


@dataclass(frozen=True)
class MatchedSegment:
    """``suspect_start``-``suspect_end`` of the suspect is ``title_start``-``title_end`` of ``title``."""

    title: str
    title_id: str
    suspect_start: float
    suspect_end: float
    title_start: float
    title_end: float
    score: float
    modality: str  # "video", "audio" or "video+audio"
    speed: float  # the copy's playback speed relative to the title
    # other placements in the title that fit as well ([title_start, title_end] each): the title repeats
    # itself there (a loop, a still), so the copy may be any of them — never one presented as certain
    title_alternatives: tuple[tuple[float, float], ...] = ()

    @property
    def placement_certain(self) -> bool:
        return not self.title_alternatives


@dataclass(frozen=True)
class IdentifyReport:
    suspect: str
    duration: float
    modalities: list[str]  # what the suspect had and was searched with
    segments: list[MatchedSegment]
    best: dict[str, float] = field(default_factory=dict)  # strongest evidence per modality, matched or not
    read: dict[str, Any] = field(default_factory=dict)  # which part of the file was read (Coverage.to_json)

    @property
    def matched(self) -> bool:
        return bool(self.segments)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "matched": self.matched}


class FingerprintService:
    def __init__(self, db: Database, blobs: BlobStore, index: CatalogIndex) -> None:
        self._db, self._blobs, self._index = db, blobs, index

    @property
    def index(self) -> CatalogIndex:
        return self._index

    def store_signatures(self, title_id: str, pictures: Path, sound: Path | None = None) -> None:
        """A title's reference signatures, extracted and stored (``fingerprints/<id>/<type>.sig``); not indexed.

        ``pictures`` is a file of the title (any rendition: signatures see 256×256 luma);
        ``sound`` the file its sound is read from, when that is another file.
        """
        sample = read_sample(pictures, sound)
        for kind in (VIDEO, AUDIO, EXACT):
            self._blobs.put_bytes(_signature_blob(title_id, kind.name),
                                     kind.extract(sample, role="reference").to_bytes())

    def has_signatures(self, title_id: str) -> bool:
        return all(self._blobs.exists(_signature_blob(title_id, k.name)) for k in (VIDEO, AUDIO, EXACT))

    def index_stored(self, title_id: str) -> IndexedTitle:
        """Add a title's stored signatures to the index (ingest does it as the title becomes ready)."""
        with self._db.session() as session:
            name = repositories.load_title(session, title_id).name
        video, audio = self._stored(title_id)
        return self._index.add(title_id, name, video, audio)

    def index_title(self, title_id: str, pictures: Path, sound: Path | None = None) -> IndexedTitle:
        """Store a title's reference signatures and add them to the index (both steps above)."""
        self.store_signatures(title_id, pictures, sound)
        return self.index_stored(title_id)

    def remove(self, title_ids: Collection[str]) -> list[IndexedTitle]:
        """Take titles out of the index (their stored signatures stay until the title's blobs go)."""
        return self._index.remove(title_ids)

    def rebuild(self, on_progress: Progress = no_progress) -> RebuildReport:
        """The index made again, from nothing, from the stored signatures of every ready title (one generation).

        A ready title whose signatures are missing or unreadable is named in the report,
        never skipped in silence: it cannot be recognised until it is fingerprinted again.
        """
        with self._db.session() as session:
            titles = [(t.id, t.name) for t in repositories.list_titles(session) if t.ready]
        entries, unindexed = [], []
        for done, (title_id, name) in enumerate(titles):
            on_progress("read", done, len(titles))
            try:
                video, audio = self._stored(title_id)
            except (NotFound, InvalidInput) as exc:
                unindexed.append({"name": name, "id": title_id, "reason": str(exc)})
                continue
            entries.append((title_id, name, video, audio))
        on_progress("read", len(titles), len(titles))
        on_progress("index", 0, 1)
        indexed = self._index.add_many(entries, replace_all=True)
        on_progress("index", 1, 1)
        return RebuildReport(indexed, unindexed)

    def identify(self, suspect: Path, on_progress: Progress = no_progress) -> IdentifyReport:
        """The catalog segments ``suspect`` contains (see the module docstring)."""
        on_progress("read", 0, 1)
        sample = read_sample(suspect)
        on_progress("read", 1, 1)
        on_progress("search", 0, 1)
        report = identify_sample(self._index, sample, suspect.name)
        on_progress("search", 1, 1)
        return report

    def _stored(self, title_id: str) -> tuple[Signature, Signature]:
        try:
            return (Signature.from_bytes(self._blobs.get_bytes(_signature_blob(title_id, VIDEO.name))),
                    Signature.from_bytes(self._blobs.get_bytes(_signature_blob(title_id, AUDIO.name))))
        except NotFound as exc:
            raise NotFound(f"title {title_id} has no stored reference signatures ({exc}); "
                           f"'reelguard titles resume' or a new ingest makes them") from exc


@dataclass(frozen=True)
class RebuildReport:
    indexed: list[IndexedTitle]
    unindexed: list[dict[str, str]]  # ready titles that could not be indexed, and why


def _signature_blob(title_id: str, kind: str) -> str:
    return f"fingerprints/{title_id}/{kind}.sig"


def identify_sample(index: CatalogIndex, sample: MediaSample, label: str, *,
                    modalities: tuple[str, ...] = ("video", "audio"), keep_weak: bool = False) -> IdentifyReport:
    """Search ``index`` for the content of an already-read suspect.

    Pictures and sound are searched side by side, in two threads: FAISS and numpy's
    array passes release the GIL, and against a large catalog each takes a good part of
    a second. Benchmarks call this directly: ``modalities`` limits the search to one of
    them (to measure each alone), and ``keep_weak`` reports the segments under the
    evidence threshold too (ranked by score, they give the precision-recall curve).
    """
    names = {t.number: t for t in index.titles()}  # loads the current generation before the threads share it
    searches = {"video": _video_segments, "audio": _audio_segments}
    usable = {"video": len(sample.picture_times) >= _MIN_PICTURES, "audio": sample.has_audio}
    searched: list[str] = [m for m in ("video", "audio") if m in modalities and usable[m]]
    if not searched:
        raise InvalidMedia(f"expected at least {_MIN_PICTURES} pictures or some sound in {label}, "
                           f"got {len(sample.picture_times)} pictures and {'some' if sample.has_audio else 'no'} "
                           f"audio")
    with ThreadPoolExecutor(max_workers=len(searched)) as pool:
        results = dict(zip(searched, pool.map(lambda m: searches[m](index, sample), searched), strict=True))
    found: list[tuple[str, Segment]] = []
    best: dict[str, float] = {}
    for modality, segments in results.items():
        rule = _VIDEO_RULE if modality == "video" else _AUDIO_RULE
        best[modality] = float(max((s.support for s in segments), default=0))
        found += [(modality, s) for s in segments if keep_weak or s.support >= rule.min_support]
    return IdentifyReport(label, round(sample.duration, 3), searched, _fuse(found, names), best,
                          sample.read.to_json())


def _video_segments(index: CatalogIndex, sample: MediaSample) -> list[Segment]:
    """Every line the suspect's pictures make with a title, however weak (``best`` reports the strongest)."""
    hits = index.search_video(VIDEO.extract(sample, role="query"), neighbours=_NEIGHBOURS, min_likeness=_MIN_LIKENESS)
    return find_segments(hits, replace(_VIDEO_RULE, min_support=1))


def _audio_segments(index: CatalogIndex, sample: MediaSample) -> list[Segment]:
    return find_segments(index.search_audio(AUDIO.extract(sample, role="query")), replace(_AUDIO_RULE, min_support=1))


def _fuse(found: list[tuple[str, Segment]], names: dict[int, IndexedTitle]) -> list[MatchedSegment]:
    """Segments of both modalities that say the same thing (title, stretch, offset) become one."""
    merged: list[MatchedSegment] = []
    for modality, segment in sorted(found, key=lambda f: -_score(*f)):
        title = names.get(segment.title)
        if title is None:
            continue
        length = segment.title_end - segment.title_start
        candidate = MatchedSegment(title.name, title.title_id, round(segment.suspect_start, 2),
                                   round(segment.suspect_end + (0.25 if modality == "video" else 0.0), 2),
                                   round(segment.title_start, 2), round(segment.title_end, 2),
                                   round(_score(modality, segment), 2), modality, segment.slope,
                                   tuple((start, round(start + length, 2)) for start in segment.rivals))
        for i, other in enumerate(merged):
            if _agree(other, candidate):
                merged[i] = _union(other, candidate)
                break
        else:
            merged.append(candidate)
    return sorted(merged, key=lambda m: m.suspect_start)


def _score(modality: str, segment: Segment) -> float:
    return segment.score if modality == "video" else _AUDIO_WEIGHT * segment.support


def _agree(a: MatchedSegment, b: MatchedSegment) -> bool:
    """Same title, overlapping stretches, and a placement in common (either's own or one of its rivals)."""
    overlap = min(a.suspect_end, b.suspect_end) - max(a.suspect_start, b.suspect_start)
    return a.title_id == b.title_id and overlap > -2.0 and any(
        abs(x - y) < 2.0 for x in _offsets(a) for y in _offsets(b))


def _offsets(segment: MatchedSegment) -> list[float]:
    """Title minus suspect time of the segment's placement and of each of its rivals."""
    starts = [segment.title_start, *(start for start, _ in segment.title_alternatives)]
    return [start - segment.speed * segment.suspect_start for start in starts]


def _union(a: MatchedSegment, b: MatchedSegment) -> MatchedSegment:
    """One segment covering both; speed and title times from the sound when there is some (timed to 32 ms).

    The placement is one both modalities allow: a loop that repeats its pictures but not
    its sound is placed by the sound, and is then certain.
    """
    timing, other = (b, a) if b.modality == "audio" and a.modality != "audio" else (a, b)
    modality = a.modality if a.modality == b.modality else "video+audio"
    start, end = min(a.suspect_start, b.suspect_start), max(a.suspect_end, b.suspect_end)
    shared = [x for x in _offsets(timing) if any(abs(x - y) < 2.0 for y in _offsets(other))]
    offset, *rivals = shared or _offsets(timing)
    return MatchedSegment(a.title, a.title_id, start, end, round(offset + timing.speed * start, 2),
                          round(offset + timing.speed * end, 2), round(a.score + b.score, 2), modality, timing.speed,
                          tuple((round(r + timing.speed * start, 2), round(r + timing.speed * end, 2))
                                for r in rivals))


def read_sample(path: Path, sound: Path | None = None) -> MediaSample:
    """``path`` read as every signature type here needs it (pictures 4/s at 256², audio at 8 kHz).

    With ``sound``, the audio is read from that file instead (a ladder keeps it apart).
    """
    return read_media(path, picture_rate=VIDEO.picture_rate, picture_size=VIDEO.picture_size,
                      audio_rate=AUDIO.audio_rate, sound=sound)
