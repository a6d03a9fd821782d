"""Fingerprinting titles at ingest, and identifying catalog content in a suspect file.

``index_title`` reads a title once (at ingest, its smallest rendition: pictures at 4/s,
audio at 8 kHz), stores its reference signatures in the blob store
(``fingerprints/<title id>/<type>.sig``) and adds them to the catalog index.
``identify`` reads a suspect the same way, searches both modalities, verifies each in
time, and fuses what the two found::

    report = runtime.fingerprint_service().identify(Path("suspect.mkv"))
    for segment in report.segments:
        segment.title, segment.suspect_start, segment.title_start, segment.modality

A segment is reported only when its false-match probability (the chance that content not
in the catalog lines up with a title this well: ``reelguard.fingerprint.significance``) is
at most the bar. A suspect with no catalog content gets ``report.matched == False`` and the
smallest probability seen per modality in ``report.best``, never a forced guess; and
``report.reach`` says per modality whether it could have been matched at all (a suspect
too short or too still has fewer looks than a report at the bar needs). A file
with only pictures or only sound is searched with what it has; a partial download as far
as it decodes, and ``report.read`` says which part that was.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reelguard.errors import InvalidInput, InvalidMedia, NotFound
from reelguard.fingerprint.index import SPEED_HYPOTHESES, CatalogIndex, IndexedTitle
from reelguard.fingerprint.landmarks import FRAMES_PER_SECOND, Landmarks
from reelguard.fingerprint.matching import SLOPES, Hits, Segment, VerifyRule, find_segments, overlap, without_overlaps
from reelguard.fingerprint.pdq import PdqVideo
from reelguard.fingerprint.signatures import Signature
from reelguard.fingerprint.significance import (
    Evidence,
    combined_probability,
    line_evidence,
    lines_searched,
    picture_looks,
    reach,
    tests_made,
)
from reelguard.fingerprint.thumbnails import DctVideo
from reelguard.fingerprint.views import VIEW_NAMES
from reelguard.media.sample import MediaSample
from reelguard.media.sampling import read_media
from reelguard.progress import Progress, no_progress
from reelguard.store import repositories
from reelguard.store.blobs import BlobStore
from reelguard.store.database import Database

__all__ = ["DEFAULT_MAX_FALSE_MATCH", "FingerprintService", "IdentifyReport", "MatchedSegment", "RebuildReport",
           "identify_sample", "picture_looks_of", "read_sample"]

VIDEO, AUDIO, EXACT = DctVideo(), Landmarks(), PdqVideo()
# pictures are sampled every 0.25-0.5 s, so a video line's slope is only fitted over 10 s or more;
# landmarks are timed to 32 ms, so an audio line's slope is fitted over 3 s. A copy's landmarks
# come thick and fast (gaps over 1.5 s are rare), chance ones sparse over tens of seconds.
# Any line of two moments is a candidate: what it is worth is its false-match probability
# (reelguard.fingerprint.significance), not a count of moments.
_VIDEO_RULE = VerifyRule(min_support=2, bin_seconds=1.0, tolerance=0.6, max_gap=4.0, min_fit_span=10.0)
_AUDIO_RULE = VerifyRule(min_support=2, bin_seconds=0.5, tolerance=0.25, max_gap=1.5, min_fit_span=3.0)
_MIN_LIKENESS = 0.80  # a query view and a title view this alike are a video hit
DEFAULT_MAX_FALSE_MATCH = 1e-6  # [fingerprint] max_false_match_probability
# Consecutive pictures at least this alike are one look: as alike as a picture and its own
# re-encoding (H.264 at CRF 45 keeps 0.998, a 0.7 crop 0.965 — docs/fingerprinting.md), so the
# index cannot tell them apart as evidence.
_LOOK_LIKENESS = 0.98
# ... judged on the whole picture alone. Judged on every view (an inset's, a quadrant's), smoothly
# changing content splits into many more looks than it has independent pictures: on the
# evaluation's development draw that answered 14 of 500 negative queries (abstract zooms) instead of 0.
_LOOK_VIEWS = (VIEW_NAMES.index("whole"),)
# Likeness levels a picture line is tested at (significance.line_evidence): from the search's
# own floor up to re-encoding's likeness, a copy transformed more or less heavily meets its title at one.
_VIDEO_LEVELS = (_MIN_LIKENESS, 0.90, 0.95, 0.98)
# ... and on each picture's likest and three likest hits in the title: a copy whose pictures are
# all alike (a dark scene, a pitch) is still likest to its own title time.
_VIDEO_RANKS = (1, 3)
_AUDIO_LEVELS = (0.0,)  # sound has one hit set: every shared landmark hash
# Sound's hit sets are also dealt among the other looks of each 4 s of the suspect
# (significance.stretches_of): a voice's burst or a held chord lasts a few seconds, and its looks
# own alike hit sets. Not pictures: a few seconds hold only a handful of picture looks.
_AUDIO_STRETCH = 4.0
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
    # the chance that content not in the catalog gives a segment this strong against any title
    # (reelguard.fingerprint.significance), and the raw evidence behind it, per modality
    false_match_probability: float = 1.0
    evidence: dict[str, dict[str, float | int]] = field(default_factory=dict)

    @property
    def placement_certain(self) -> bool:
        return not self.title_alternatives


@dataclass(frozen=True)
class IdentifyReport:
    suspect: str
    duration: float
    modalities: list[str]  # what the suspect had and was searched with
    segments: list[MatchedSegment]
    # per modality, the smallest false-match probability of any line seen, matched or not
    best: dict[str, float] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)  # which part of the file was read (Coverage.to_json)
    max_false_match_probability: float = DEFAULT_MAX_FALSE_MATCH  # what a reported segment had to be below
    # per modality, what the suspect could prove at best (significance.Reach): its looks, the looks a
    # report at the bar needs, and the smallest false-match probability its looks allow
    reach: dict[str, dict[str, float | int]] = field(default_factory=dict)

    @property
    def matched(self) -> bool:
        return bool(self.segments)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "matched": self.matched}


class FingerprintService:
    def __init__(self, db: Database, blobs: BlobStore, index: CatalogIndex, *,
                 max_false_match: float = DEFAULT_MAX_FALSE_MATCH) -> None:
        self._db, self._blobs, self._index = db, blobs, index
        self._max_false_match = max_false_match

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

    def identify(self, suspect: Path, on_progress: Progress = no_progress, *,
                 keep_weak: bool = False) -> IdentifyReport:
        """The catalog segments ``suspect`` contains (see the module docstring).

        ``keep_weak`` reports every line, whatever its false-match probability — for a caller
        that already knows the title and wants places in it (trace), not an identification.
        """
        on_progress("read", 0, 1)
        sample = read_sample(suspect)
        on_progress("read", 1, 1)
        on_progress("search", 0, 1)
        report = identify_sample(self._index, sample, suspect.name, max_false_match=self._max_false_match,
                                 keep_weak=keep_weak)
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
                    modalities: tuple[str, ...] = ("video", "audio"), keep_weak: bool = False,
                    max_false_match: float = DEFAULT_MAX_FALSE_MATCH) -> IdentifyReport:
    """Search ``index`` for the content of an already-read suspect.

    Pictures and sound are searched side by side, in two threads: FAISS and numpy's
    array passes release the GIL, and against a large catalog each takes a good part of
    a second. A segment is reported when its false-match probability (both modalities
    together, when they agree) is at most ``max_false_match``. Benchmarks call this
    directly: ``modalities`` limits the search to one of them (to measure each alone), and
    ``keep_weak`` reports every segment whatever its probability (ranked, they give the
    precision-recall curve and the calibration plot).
    """
    titles = {t.number: t for t in index.titles()}  # loads the current generation before the threads share it
    searches = {"video": _video_lines, "audio": _audio_lines}
    usable = {"video": len(sample.picture_times) >= _MIN_PICTURES, "audio": sample.has_audio}
    searched: list[str] = [m for m in ("video", "audio") if m in modalities and usable[m]]
    if not searched:
        raise InvalidMedia(f"expected at least {_MIN_PICTURES} pictures or some sound in {label}, "
                           f"got {len(sample.picture_times)} pictures and {'some' if sample.has_audio else 'no'} "
                           f"audio")
    catalog = _Catalog(titles, sample.duration)
    with ThreadPoolExecutor(max_workers=len(searched)) as pool:
        results = dict(zip(searched, pool.map(lambda m: searches[m](index, sample, catalog), searched),
                           strict=True))
    found = [(modality, segment, evidence) for modality, result in results.items()
             for segment, evidence in _against_rivals(_strongest_per_stretch(result.lines))]
    best = {modality: min((e.false_match_probability for _, e in result.lines), default=1.0)
            for modality, result in results.items()}
    reaches = {modality: reach(result.looks, result.searched, max_false_match).to_json()
               for modality, result in results.items()}
    fused = _disputed(_fuse(found, titles), found, catalog, max_false_match)
    segments = [s for s in fused if keep_weak or s.false_match_probability <= max_false_match]
    return IdentifyReport(label, round(sample.duration, 3), searched, segments, best, sample.read.to_json(),
                          max_false_match, reaches)


@dataclass(frozen=True)
class _Searched:
    """One modality's lines with their evidence, the suspect's looks, and the lines searched (hit sets included)."""

    lines: list[tuple[Segment, Evidence]]
    looks: int
    searched: float


@dataclass(frozen=True)
class _Catalog:
    """What the search covered, for the correction of a line's probability: titles and their lengths."""

    titles: dict[int, IndexedTitle]
    query_seconds: float

    @property
    def seconds(self) -> float:
        return sum(t.seconds for t in self.titles.values())

    def searched(self, rule: VerifyRule, slopes: int) -> float:
        return lines_searched(self.seconds, len(self.titles), self.query_seconds, rule.tolerance, slopes)

    def share(self, title: int) -> float:
        """The part of the lines searched that lie in ``title``: its offsets over every title's."""
        own = self.titles[title].seconds + self.query_seconds
        return min(1.0, own / (self.seconds + len(self.titles) * self.query_seconds))


def picture_looks_of(query: Signature) -> NDArray[np.intp]:
    """The look of each distinct picture time of a query's picture signature, as identify counts them."""
    return picture_looks(query.times, query.codes, query.tags, _LOOK_LIKENESS, _LOOK_VIEWS)  # type: ignore[arg-type]


def _video_lines(index: CatalogIndex, sample: MediaSample, catalog: _Catalog) -> _Searched:
    """Every line the suspect's pictures make with a title, however weak, with its evidence."""
    query = VIDEO.extract(sample, role="query")
    hits = index.search_video(query, neighbours=_NEIGHBOURS, min_likeness=_MIN_LIKENESS)
    moments = np.unique(query.times.astype(np.float64))
    looks = picture_looks_of(query)
    searched = catalog.searched(_VIDEO_RULE, len(SLOPES))
    lines = _weighed(hits, find_segments(hits, _VIDEO_RULE), moments, looks, _VIDEO_RULE, searched, catalog,
                     _VIDEO_LEVELS, _VIDEO_RANKS)
    return _Searched(lines, int(looks.max(initial=-1)) + 1, searched * tests_made(_VIDEO_LEVELS, _VIDEO_RANKS))


def _audio_lines(index: CatalogIndex, sample: MediaSample, catalog: _Catalog) -> _Searched:
    query = AUDIO.extract(sample, role="query")
    hits = index.search_audio(query)
    # a moment is a frame of the reference's grid: the query's other grids' anchors fall to the nearest
    moments = np.unique(np.rint(query.times.astype(np.float64) * FRAMES_PER_SECOND)) / FRAMES_PER_SECOND
    searched = catalog.searched(_AUDIO_RULE, len(SPEED_HYPOTHESES))
    lines = _weighed(hits, find_segments(hits, _AUDIO_RULE), moments, None, _AUDIO_RULE, searched, catalog,
                     _AUDIO_LEVELS, stretch=_AUDIO_STRETCH)
    return _Searched(lines, len(moments), searched * tests_made(_AUDIO_LEVELS, ()))


def _weighed(hits: Hits, segments: list[Segment], moments: NDArray[np.float64], looks: NDArray[np.intp] | None,
             rule: VerifyRule, searched: float, catalog: _Catalog, levels: tuple[float, ...],
             ranks: tuple[int, ...] = (), stretch: float | None = None) -> list[tuple[Segment, Evidence]]:
    """Each segment with the evidence of its line (its placement and every alternative placement)."""
    weighed = []
    for segment in segments:
        title = catalog.titles.get(segment.title)
        if title is None:
            continue
        offsets = [start - segment.slope * segment.suspect_start for start in (segment.title_start, *segment.rivals)]
        weighed.append((segment, line_evidence(hits, moments, segment.title, segment.slope, offsets, rule.tolerance,
                                               title.seconds, searched, looks, levels, ranks, stretch)))
    return weighed


def _against_rivals(lines: list[tuple[Segment, Evidence]]) -> list[tuple[Segment, Evidence]]:
    """Each line's evidence normalised by other titles' lines over the same stretch (``Evidence.against``)."""
    return [(segment, evidence.against([other for rival, other in lines if rival.title != segment.title
                                        and overlap(segment, rival) > 0.5 * _shorter(segment, rival)]))
            for segment, evidence in lines]


def _strongest_per_stretch(lines: list[tuple[Segment, Evidence]]) -> list[tuple[Segment, Evidence]]:
    """One modality's lines less those mostly inside a line of smaller false-match probability."""
    ranked = sorted(lines, key=lambda line: (line[1].false_match_probability, -line[0].score))
    return without_overlaps(ranked, lambda line: line[0])


def _shorter(a: Segment, b: Segment) -> float:
    return max(0.25, min(a.suspect_end - a.suspect_start, b.suspect_end - b.suspect_start))


def _fuse(found: list[tuple[str, Segment, Evidence]], names: dict[int, IndexedTitle]) -> list[MatchedSegment]:
    """Segments of both modalities that say the same thing (title, stretch, offset) become one."""
    merged: list[MatchedSegment] = []
    for modality, segment, evidence in sorted(found, key=lambda f: f[2].false_match_probability):
        title = names.get(segment.title)
        if title is None:
            continue
        length = segment.title_end - segment.title_start
        candidate = MatchedSegment(title.name, title.title_id, round(segment.suspect_start, 2),
                                   round(segment.suspect_end + (0.25 if modality == "video" else 0.0), 2),
                                   round(segment.title_start, 2), round(segment.title_end, 2),
                                   round(_score(modality, segment), 2), modality, segment.slope,
                                   tuple((start, round(start + length, 2)) for start in segment.rivals),
                                   _rounded(evidence.false_match_probability), {modality: evidence.to_json()})
        for i, other in enumerate(merged):
            if other.modality != candidate.modality and _agree(other, candidate):
                merged[i] = _union(other, candidate)
                break
        else:
            merged.append(candidate)
    return sorted(merged, key=lambda m: m.suspect_start)


def _disputed(fused: list[MatchedSegment], found: list[tuple[str, Segment, Evidence]], catalog: _Catalog,
              bar: float) -> list[MatchedSegment]:
    """Each segment with the placements the other modality's lines over its stretch hold against it.

    A picture line and a sound line of one title over one stretch of the suspect that place it
    at different title times are not fused, and each is reported only if it alone clears the
    bar. A sports copy's pictures (a pan that comes back over the same pitch) were placed a
    pan period off, reported alone as certain, while its sound — too weak to name the title
    among all of them — placed it right. Which title is settled by the reported line; where in
    it, the other line may still know: when its chance of lining up this well *somewhere in
    this title* (its line probability corrected for this title's offsets only) is within the
    bar, and it allows none of the segment's placements, its placements are the segment's
    alternatives, and the placement is no longer certain.
    """
    witnesses = [(modality, segment) for modality, segment, evidence in found
                 if segment.title in catalog.titles and evidence.line_probability * evidence.lines_searched
                 * catalog.share(segment.title) <= bar]
    return [_with_witnesses(matched, [(m, s) for m, s in witnesses
                                      if catalog.titles[s.title].title_id == matched.title_id])
            for matched in fused]


def _with_witnesses(matched: MatchedSegment, witnesses: list[tuple[str, Segment]]) -> MatchedSegment:
    """``matched`` with the placements of each witness of another modality over most of its stretch that allows
    none of the segment's own (none within 2 s of its placement or one of its alternatives)."""
    alternatives = list(matched.title_alternatives)
    length = matched.title_end - matched.title_start
    for modality, line in witnesses:
        shorter = max(0.25, min(matched.suspect_end - matched.suspect_start, line.suspect_end - line.suspect_start))
        shared = min(matched.suspect_end, line.suspect_end) - max(matched.suspect_start, line.suspect_start)
        if modality in matched.modality.split("+") or shared <= 0.5 * shorter:
            continue
        # the witness's placements (its own and its rivals), at the segment's start on the witness's line
        starts = [start + line.slope * (matched.suspect_start - line.suspect_start)
                  for start in (line.title_start, *line.rivals)]
        known = [matched.title_start, *(start for start, _ in alternatives)]
        if any(abs(start - placed) < 2.0 for start in starts for placed in known):
            continue  # it allows a placement the segment has: no dispute (a pan's pictures, resolved by sound)
        alternatives += [(round(start, 2), round(start + length, 2)) for start in starts]
    return replace(matched, title_alternatives=tuple(alternatives))


def _rounded(probability: float) -> float:
    return float(f"{probability:.3g}")


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
    """One segment covering both; speed and title times from the stronger of the two lines.

    The sound is timed to 32 ms and pictures to a quarter second, so a strong sound line
    times a segment best; but a weak one (a drone's few landmarks, each repeated along the
    title) fits its slope badly, and the pictures' line then times it (a mirrored copy of a
    generative title was placed 0.84 s off by a sound line too weak to be reported, its
    picture line 1e-61 strong). On a tie the sound times it. The placement is one both
    modalities allow: a loop that repeats its pictures but not its sound is placed by the
    sound, and is then certain.
    """
    timing, other = (a, b) if _times_better(a, b) else (b, a)
    modality = a.modality if a.modality == b.modality else "video+audio"
    start, end = min(a.suspect_start, b.suspect_start), max(a.suspect_end, b.suspect_end)
    shared = [x for x in _offsets(timing) if any(abs(x - y) < 2.0 for y in _offsets(other))]
    offset, *rivals = shared or _offsets(timing)
    return MatchedSegment(a.title, a.title_id, start, end, round(offset + timing.speed * start, 2),
                          round(offset + timing.speed * end, 2), round(a.score + b.score, 2), modality, timing.speed,
                          tuple((round(r + timing.speed * start, 2), round(r + timing.speed * end, 2))
                                for r in rivals),
                          _rounded(combined_probability(a.false_match_probability, b.false_match_probability)),
                          {**a.evidence, **b.evidence})


def _times_better(a: MatchedSegment, b: MatchedSegment) -> bool:
    """Whether ``a``'s line times a union better than ``b``'s: the stronger line; on a tie, the sound's."""
    if a.false_match_probability != b.false_match_probability:
        return a.false_match_probability < b.false_match_probability
    return a.modality == "audio" or b.modality != "audio"


def read_sample(path: Path, sound: Path | None = None) -> MediaSample:
    """``path`` read as every signature type here needs it (pictures 4/s at 256², audio at 8 kHz).

    With ``sound``, the audio is read from that file instead (a ladder keeps it apart).
    """
    return read_media(path, picture_rate=VIDEO.picture_rate, picture_size=VIDEO.picture_size,
                      audio_rate=AUDIO.audio_rate, sound=sound)
