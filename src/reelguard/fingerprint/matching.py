"""Temporal verification: from scattered hits to matched segments (title, where in the suspect, where in the title).

A single hit — one suspect picture like one title picture, one shared landmark hash —
proves nothing; a copy is many hits that agree on one line ``title_time = slope ×
suspect_time + offset``. So hits vote in a Hough space of (title, slope, offset): slopes
from 0.88 to 1.12 cover a copy sped up or slowed down by 10 %, offsets are binned at
``bin_seconds`` (on two grids half a bin apart, so a line never straddles a boundary).
The strongest line's inliers are cut into runs wherever the suspect has ``max_gap``
seconds without one: each run with enough distinct suspect moments is a segment. Its
inliers are removed and the next line is sought, so a compilation of several titles (or
of several passages of one) yields several segments. Support counts distinct suspect
moments, not hits, so a still scene that matches itself a hundred times counts once::

    segments = find_segments(hits, VerifyRule(min_support=6, bin_seconds=1.0, tolerance=0.6, max_gap=4.0,
                                                  min_fit_span=10.0))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

Line = TypeVar("Line")

__all__ = ["SLOPES", "Hits", "Segment", "VerifyRule", "busy_groups", "find_segments", "overlap", "without_overlaps"]

_SLOPE_STEP = 0.02
SLOPES = np.round(np.arange(0.88, 1.121, _SLOPE_STEP), 2)
_MAX_SEGMENTS = 12
_SHORTLIST = 64  # busiest line buckets whose titles are verified exactly
_SHORTLIST_FROM = 50_000  # hits; below this every title is verified exactly
_BUCKET_BITS = 22
_MOMENT_BITS = 15
_MOMENT = 0.05  # suspect times closer than this are one moment
_SLOPE_PRIOR = 4.0  # support given up per unit of slope away from 1 (0.48 moments at ±12 %)
RIVAL_SHARE = 0.8  # another placement with this share of a segment's support is as good (the title repeats)


@dataclass(frozen=True)
class Hits:
    """Candidate correspondences: query time ↔ title time, for index titles, with a weight and a slope."""

    title: NDArray[np.int32]
    query_time: NDArray[np.float64]
    title_time: NDArray[np.float64]
    weight: NDArray[np.float64]
    slope: NDArray[np.float64]  # title seconds per query second implied by the hit (0: not known)

    @classmethod
    def none(cls) -> Hits:
        empty = np.zeros(0)
        return cls(np.zeros(0, np.int32), empty, empty, empty, empty)

    def __len__(self) -> int:
        return len(self.title)


@dataclass(frozen=True)
class VerifyRule:
    min_support: int  # distinct suspect moments a segment needs
    bin_seconds: float
    tolerance: float  # seconds off the line an inlier may be
    max_gap: float  # seconds without an inlier that end a segment
    min_fit_span: float  # seconds of suspect a line must cover before its slope is fitted rather than voted


@dataclass(frozen=True)
class Segment:
    """A stretch of the suspect that is a stretch of one title."""

    title: int
    suspect_start: float
    suspect_end: float
    title_start: float
    title_end: float
    slope: float
    support: int  # distinct suspect moments on the line
    score: float  # sum over those moments of their best hit weight
    # title_start of every other placement, at this slope, that the suspect's moments fit about as well
    # (a looping or still title repeats itself): the true one may be any of these or title_start
    rivals: tuple[float, ...] = ()


def find_segments(hits: Hits, rule: VerifyRule) -> list[Segment]:
    """Every line of hits with ``rule.min_support`` moments, strongest first, as segments."""
    title, query, target, weight, slope_index = _with_slopes(hits)
    shortlisted = _shortlist(title, query, target, slope_index, rule)
    if not shortlisted.all():
        title, query, target = title[shortlisted], query[shortlisted], target[shortlisted]
        weight, slope_index = weight[shortlisted], slope_index[shortlisted]
    alive = np.ones(len(title), bool)
    segments: list[Segment] = []
    while alive.any() and len(segments) < _MAX_SEGMENTS:
        line = _strongest_line(title[alive], query[alive], target[alive], slope_index[alive], rule)
        if line is None or line[3] < rule.min_support:
            break
        line_title, line_slope, offset, _ = line
        candidates = alive & (title == line_title) & (slope_index == line_slope)
        slope, offset = _fit(query[candidates], target[candidates], weight[candidates], float(SLOPES[line_slope]),
                             offset, rule)
        on_line = alive & (title == line_title) & (np.abs(target - slope * query - offset) <= rule.tolerance)
        if not on_line.any():  # the fit left every vote behind: those votes are spent
            alive &= ~candidates
            continue
        found = _runs(np.nonzero(on_line)[0], query, weight, rule)
        for members in found:
            segment = _segment(line_title, slope, offset, query[members], weight[members])
            in_span = alive & (title == line_title) & (query >= segment.suspect_start - rule.tolerance) & (
                query <= segment.suspect_end + rule.tolerance)
            rivals = _rival_offsets(query[in_span], target[in_span], slope, offset, segment.support, rule)
            segments.append(replace(segment, rivals=tuple(round(slope * segment.suspect_start + other, 2)
                                                          for other in rivals)))
        spans = [(query[m].min(), query[m].max()) for m in found] or [(query[on_line].min(), query[on_line].max())]
        for start, end in spans:  # this title's hits there are explained, at whatever slope
            alive &= ~((title == line_title) & (query >= start - rule.tolerance) & (query <= end + rule.tolerance))
        alive &= ~on_line
    return sorted(segments, key=lambda s: -s.score)


def _shortlist(title: NDArray[np.int32], query: NDArray[np.float64], target: NDArray[np.float64],
               slope_index: NDArray[np.intp], rule: VerifyRule) -> NDArray[np.bool_]:
    """The hits of the (title, slope) pairs that own one of the busiest lines (see ``busy_groups``)."""
    pair = title.astype(np.int64) * len(SLOPES) + slope_index
    offsets = (target - SLOPES[slope_index] * query) / rule.bin_seconds
    return busy_groups((_line_keys(pair, np.floor(offsets + phase).astype(np.int64)) for phase in (0.0, 0.5)), pair)


def _line_keys(pair: NDArray[np.int64], bins: NDArray[np.int64]) -> NDArray[np.int64]:
    """One integer per (title × slope pair, offset bin): the pair above 24 bits, the bin (biased) below."""
    return (pair << 24) + bins + (1 << 23)


def busy_groups(line_grids: Iterable[NDArray[np.int64]], groups: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which hits belong to a group (a title at one slope) owning one of the busiest lines — in linear time.

    Against a large catalog most hits are chance (a shared landmark hash, a look-alike
    picture), scattered over millions of lines. Each grid gives every hit's line as one
    integer (title, slope and offset bin; a second grid half a bin over, so a real line
    is whole in one of them). Lines are hashed into ``2**_BUCKET_BITS`` buckets and
    counted with ``bincount``; a collision can only add to a bucket's count, so a real
    line's bucket stays among the ``_SHORTLIST`` busiest. Every hit of a group with a hit
    in such a bucket goes on to exact (sorting) verification: a few hundred hits a group,
    where a large catalog gives millions. Up to ``_SHORTLIST_FROM`` hits, every hit is kept.

    The arrays given are overwritten (hashed in place): at millions of hits, every
    array allocated is a page-fault storm, so callers make them for this call alone.
    """
    if len(groups) <= _SHORTLIST_FROM:
        return np.ones(len(groups), bool)
    chosen = []
    for lines in line_grids:
        bucket = _bucket(lines, in_place=True)
        counts = np.bincount(bucket, minlength=1 << _BUCKET_BITS)
        buckets_with_at_least = np.cumsum(np.bincount(counts)[::-1])[::-1]  # [c]: buckets counting c or more
        # the fewest hits a busy bucket has: at most _SHORTLIST buckets reach it, and a line of one hit is no line
        floor = max(2, int(np.argmax(buckets_with_at_least <= _SHORTLIST)))
        chosen.append(groups[(counts >= floor)[bucket]])
    wanted = np.zeros(1 << _BUCKET_BITS, bool)  # by hashed group: a collision only lets a few more hits through
    wanted[_bucket(np.unique(np.concatenate(chosen)))] = True
    return wanted[_bucket(groups, in_place=True)]


def _bucket(line: NDArray[np.int64], *, in_place: bool = False) -> NDArray[np.intp]:
    """Fibonacci hashing, on views rather than copies (``in_place``: in ``line`` itself)."""
    spread = np.ascontiguousarray(line, dtype=np.int64).view(np.uint64)
    if in_place:
        spread *= np.uint64(0x9E3779B97F4A7C15)
    else:
        spread = spread * np.uint64(0x9E3779B97F4A7C15)
    spread >>= np.uint64(64 - _BUCKET_BITS)
    return spread.view(np.intp)


def _with_slopes(hits: Hits) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64],
                                      NDArray[np.float64], NDArray[np.intp]]:
    """Hits with a known slope keep it (its nearest grid slope); others are tried at every slope."""
    known = hits.slope > 0
    if known.all():
        nearest = np.clip(np.rint((hits.slope - SLOPES[0]) / _SLOPE_STEP), 0, len(SLOPES) - 1).astype(np.intp)
        return hits.title, hits.query_time, hits.title_time, hits.weight, nearest
    nearest = np.clip(np.rint((hits.slope[known] - SLOPES[0]) / _SLOPE_STEP), 0, len(SLOPES) - 1).astype(np.intp)
    unknown = np.nonzero(~known)[0]
    every = np.repeat(unknown, len(SLOPES))
    slope_index = np.concatenate([nearest, np.tile(np.arange(len(SLOPES)), len(unknown))])
    rows = np.concatenate([np.nonzero(known)[0], every])
    return hits.title[rows], hits.query_time[rows], hits.title_time[rows], hits.weight[rows], slope_index


def _strongest_line(title: NDArray[np.int32], query: NDArray[np.float64], target: NDArray[np.float64],
                    slope_index: NDArray[np.intp], rule: VerifyRule) -> tuple[int, int, float, int] | None:
    """(title, slope index, offset, support) of the line with the most distinct suspect moments."""
    if not len(title):
        return None
    best: tuple[int, int, float, int] | None = None
    offsets = target - SLOPES[slope_index] * query
    moments = np.round(query / _MOMENT).astype(np.int64)
    moments -= moments.min()
    if moments.max() >= 1 << _MOMENT_BITS:  # a suspect over 27 minutes: moments of a second instead
        moments //= 20
    for phase in (0.0, 0.5):
        bins = np.floor(offsets / rule.bin_seconds + phase).astype(np.int64)
        line = _line_keys(title.astype(np.int64) * len(SLOPES) + slope_index, bins)
        distinct_lines = np.unique((line << _MOMENT_BITS) + moments) >> _MOMENT_BITS  # one vote per moment
        starts = np.flatnonzero(np.r_[True, distinct_lines[1:] != distinct_lines[:-1]])
        lines, support = distinct_lines[starts], np.diff(np.r_[starts, len(distinct_lines)])
        line_slopes = SLOPES[(lines >> 24) % len(SLOPES)]
        # equal support: the slope nearest 1 wins (a still scene fits a fan of slopes equally well)
        top = int((support - _SLOPE_PRIOR * np.abs(line_slopes - 1.0)).argmax())
        if best is None or support[top] > best[3]:
            title_and_slope = int(lines[top] >> 24)
            centre = ((int(lines[top] & ((1 << 24) - 1)) - (1 << 23)) + 0.5 - phase) * rule.bin_seconds
            best = (title_and_slope // len(SLOPES), title_and_slope % len(SLOPES), float(centre),
                    int(support[top]))
    return best


def _rival_offsets(query: NDArray[np.float64], target: NDArray[np.float64], slope: float, offset: float,
                   support: int, rule: VerifyRule) -> list[float]:
    """Other offsets, at ``slope``, where the same stretch of suspect has nearly as many moments.

    A looping animation or a still shot shows the same pictures at several title times; the
    strongest line is then one of several equally good ones, and saying it alone would
    present a guess as certain. Rivals are at least two bins away from the line and from
    each other, and have ``RIVAL_SHARE`` of its support.
    """
    if not len(query):
        return []
    offsets = target - slope * query
    moments = np.round(query / _MOMENT).astype(np.int64)
    counted: dict[float, int] = {}
    for phase in (0.0, 0.5):
        bins = np.floor(offsets / rule.bin_seconds + phase).astype(np.int64)
        pairs = np.unique(np.stack([bins, moments]), axis=1)
        values, support_of = np.unique(pairs[0], return_counts=True)
        for value, count in zip(values.tolist(), support_of.tolist(), strict=True):
            centre = (value + 0.5 - phase) * rule.bin_seconds
            counted[centre] = max(counted.get(centre, 0), count)
    rivals: list[float] = []
    for centre, count in sorted(counted.items(), key=lambda item: -item[1]):
        if count < RIVAL_SHARE * support:
            break
        if all(abs(centre - taken) > 2 * rule.bin_seconds for taken in [offset, *rivals]):
            rivals.append(centre)
    near = [offsets[np.abs(offsets - centre) <= rule.bin_seconds] for centre in rivals]
    return sorted(float(np.median(values)) for values in near)  # each rival at its hits' own offset


def _fit(query: NDArray[np.float64], target: NDArray[np.float64], weight: NDArray[np.float64], slope: float,
         offset: float, rule: VerifyRule) -> tuple[float, float]:
    """The line through the voted line's inliers, fitted twice by least squares on each moment's best hit.

    Neighbouring title pictures look alike, so a suspect moment has hits a second either side
    of the true one; only its likest hit is the moment's point. A line spanning under
    ``rule.min_fit_span`` seconds keeps the voted slope.
    """
    for _ in range(2):
        inliers = np.nonzero(np.abs(target - slope * query - offset) <= rule.tolerance)[0]
        if not len(inliers):
            return slope, offset
        points = _best_per_moment(inliers, query, weight)
        if np.ptp(query[points]) < rule.min_fit_span:
            return slope, float(np.median((target - slope * query)[points]))
        fitted_slope, fitted_offset = np.polyfit(query[points], target[points], 1)
        if not SLOPES[0] - 0.01 <= fitted_slope <= SLOPES[-1] + 0.01:
            break
        slope, offset = float(fitted_slope), float(fitted_offset)
    return slope, offset


def _best_per_moment(members: NDArray[np.intp], query: NDArray[np.float64],
                     weight: NDArray[np.float64]) -> NDArray[np.intp]:
    moments = np.round(query[members] / _MOMENT).astype(np.int64)
    order = np.lexsort((-weight[members], moments))
    first = np.ones(len(order), bool)
    first[1:] = moments[order][1:] != moments[order][:-1]
    return members[order[first]]


def _runs(members: NDArray[np.intp], query: NDArray[np.float64], weight: NDArray[np.float64],
          rule: VerifyRule) -> list[NDArray[np.intp]]:
    """The members cut where the suspect has ``max_gap`` seconds without one; runs with enough moments."""
    ordered = members[np.argsort(query[members], kind="stable")]
    cuts = np.nonzero(np.diff(query[ordered]) > rule.max_gap)[0] + 1
    runs = np.split(ordered, cuts)
    return [run for run in runs if len(np.unique(np.round(query[run] / _MOMENT))) >= rule.min_support]


def _segment(title: int, slope: float, offset: float, query: NDArray[np.float64],
             weight: NDArray[np.float64]) -> Segment:
    moments = np.round(query / _MOMENT).astype(np.int64)
    best: dict[int, float] = {}
    for moment, value in zip(moments.tolist(), weight.tolist(), strict=True):
        best[moment] = max(best.get(moment, 0.0), value)
    start, end = float(query.min()), float(query.max())
    return Segment(title, start, end, slope * start + offset, slope * end + offset, round(slope, 3), len(best),
                   float(sum(best.values())))


def without_overlaps(lines: Sequence[Line], segment_of: Callable[[Line], Segment]) -> list[Line]:
    """A stretch of the suspect is one title: a line whose segment lies mostly inside one before it is dropped.

    ``lines`` (segments with whatever the caller keeps beside them) come strongest first.
    Strength is the caller's to judge: by the false-match probability, not by the count of
    hits, or a still slide matched by a flat corner of a suspect (hundreds of hits, all
    alike) would push a real copy's line out of the report.
    """
    kept: list[Segment] = []
    survivors: list[Line] = []
    for line in lines:
        segment = segment_of(line)
        length = max(segment.suspect_end - segment.suspect_start, 1e-6)
        if all(overlap(segment, other) < 0.5 * length for other in kept):
            kept.append(segment)
            survivors.append(line)
    return survivors


def overlap(a: Segment, b: Segment) -> float:
    """Seconds of suspect two segments share."""
    return max(0.0, min(a.suspect_end, b.suspect_end) - max(a.suspect_start, b.suspect_start))
