"""How likely is it that content *not* in the catalog lines up with a title this well? — a segment's p-value.

A segment is evidence only if the suspect's moments meet the title in the title's own
order. Pictures of a fixed camera, a dark scene, a slide or a green pitch look like
many pictures of a title of the same kind; that likeness is not a copy. So the test asks
only about order, against the query's own hits as the background (the way speaker
verification scores a voice against the impostors it also resembles):

- the query is cut into **looks**: a landmark anchor is one; consecutive pictures are one
  look while they stay alike (``picture_looks``), since a still shot, a slide or a quiet
  fixed camera shows one picture for many samples and proves no more than one;
- every look *m* (its sampled pictures, or its landmark anchor) has a **hit set**: the
  title times its hits point at. Unrelated content has hit sets too — as many, and as
  spread, as its likeness to the title makes them;
- if the suspect is unrelated to the title, which look owns which hit set has nothing
  to do with the title's time line: under that null hypothesis the hit sets are dealt to
  the looks at random. The chance that look *m* lands on the line ``title_time = slope ×
  suspect_time + offset`` is then ``c_m`` = the share of the query's looks whose hit set
  reaches the title times the line passes through over *m* (within the tolerance);
- the line's support *k* (looks whose own hit set reaches it) is then a sum of
  independent chances, and ``P(at least k)`` is its Poisson-binomial tail.
- sound is locally alike (a voice's burst, a held chord: its consecutive looks own alike
  hit sets), so for sound the hit sets are also dealt among the other looks of each few
  seconds of the suspect (its near neighbours left out), and a look's chance is the larger
  of the two deals (``stretches_of``).

A self-similar title or query (the same kind of picture everywhere) gives every look a
wide hit set, so each has a large ``c_m`` and a line through it proves little; a title that repeats itself
(a loop) gives each look hits at every repetition, with the same effect; a copy gives
each look hits near its own title time, which few other looks share — so ``c_m`` is
small and the order is the evidence. The line was the best of many: the probability is
multiplied by the number of lines the search could have found (``lines_searched``:
every slope or speed hypothesis, every offset at the tolerance's resolution, in every
title of the catalog) — a Bonferroni correction, so the corrected value bounds the
chance that *any* unrelated query gives a segment this strong against *any* title.

Other titles are impostors too (``Evidence.against``): when a rival title lines up over the
same stretch better than chance would allow, the content's kind shares order with titles
it is not (a burned-in clock, a fractal zoom), and the line's ``-ln p`` is divided by how
much better.

Modalities fuse by Fisher's method for two p-values: ``x (1 - ln x)`` with ``x = p₁p₂``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from reelguard.fingerprint.matching import Hits

__all__ = ["Evidence", "Reach", "combined_probability", "line_evidence", "lines_searched", "picture_looks",
           "reach", "stretches_of", "tail_probability", "tests_made"]

_FLOOR = 1e-300  # below what a float holds; a p-value is never reported as 0
_EXACT_BUDGET = 20_000_000  # looks × count beyond which the tail is bounded (Chernoff) rather than summed


@dataclass(frozen=True)
class Evidence:
    """The raw evidence for one line, and what it is worth."""

    looks: int  # query looks whose own hits lie on the line (or on one of its alternative placements)
    considered: int  # query looks whose place on the line falls inside the title
    expected: float  # looks unrelated content would put there by chance (the sum of the c_m)
    line_probability: float  # P(at least ``moments`` by chance) for this one line
    lines_searched: float  # lines the search could have found: the correction for having looked at all of them
    # the hit set the test was made on: hits at least this alike, or (negative, -n) each moment's n likest
    level: float = 0.0
    # how strongly other titles line up over the same stretch, as a divisor of this line's -ln p (1: not at all)
    cohort: float = 1.0

    @property
    def false_match_probability(self) -> float:
        exponent = -math.log(max(_FLOOR, self.line_probability)) / self.cohort
        return min(1.0, max(_FLOOR, math.exp(-exponent) * self.lines_searched))

    def against(self, rivals: Sequence[Evidence]) -> Evidence:
        """This evidence normalised by the lines other titles make over the same stretch (cohort normalisation).

        Content of one kind can share order with a title it is not: two zooms into a
        fractal, two recordings of one camera's burned-in clock. The null hypothesis
        (order unrelated) then fails for every title of that kind at once, and the other
        titles' lines show it: under the null, the best of ``lines_searched`` lines has
        ``-ln p`` of about ``ln lines_searched + 0.58``. A rival title stronger than that
        divides this line's ``-ln p`` by how much stronger — a copy, far stronger than
        the kind's shared order, keeps its significance; a coincidence of kind loses it.
        """
        chance_best = math.log(max(self.lines_searched, 1.0)) + 0.58
        strongest = max((-math.log(max(_FLOOR, r.line_probability)) for r in rivals), default=0.0)
        return replace(self, cohort=max(1.0, strongest / chance_best))

    def to_json(self) -> dict[str, float | int]:
        return {"looks": self.looks, "considered": self.considered, "expected": round(self.expected, 2),
                "line_probability": float(f"{self.line_probability:.3g}"),
                "lines_searched": float(f"{self.lines_searched:.3g}"), "level": self.level,
                "cohort": round(self.cohort, 2)}


def lines_searched(catalog_seconds: float, titles: int, query_seconds: float, tolerance: float,
                   slopes: int) -> float:
    """Every (title, slope, offset) a line could have been found at: offsets at the tolerance's resolution."""
    offsets = (catalog_seconds + titles * query_seconds) / (2 * tolerance)
    return max(1.0, slopes * offsets)


def tests_made(levels: Sequence[float], ranks: Sequence[int]) -> int:
    """How many hit sets ``line_evidence`` tests a line on (the lines searched are multiplied by it)."""
    return len(levels) + len(ranks)


@dataclass(frozen=True)
class Reach:
    """What a suspect could prove at best, whatever it holds: the strongest line its looks allow.

    A look on a line always counts itself among the looks whose hit sets reach the line's
    place, so its chance is at least 1 / ``looks``, and a line through every look of the
    suspect has a line probability of at least ``looks`` ** -``looks``. Corrected for the
    lines searched, that is the smallest false-match probability any segment of this
    suspect can have by this modality alone: a suspect of fewer looks than ``needed`` cannot
    be reported by it at the bar, however true a copy it is (too short or too still; a
    longer piece of the file, or the other modality, may).
    """

    looks: int  # distinct looks in the suspect (pictures: runs of alike pictures; sound: landmark anchors)
    needed: int  # the fewest looks whose strongest line could be reported at the bar
    strongest_possible: float  # the smallest false-match probability this suspect's looks allow

    def to_json(self) -> dict[str, float | int]:
        return {"looks": self.looks, "needed": self.needed,
                "strongest_possible": float(f"{self.strongest_possible:.3g}")}


def reach(looks: int, searched: float, bar: float) -> Reach:
    """The :class:`Reach` of a suspect with ``looks`` looks, ``searched`` lines (hit sets included) and ``bar``."""
    needed = 1
    while _strongest_possible(needed, searched) > bar and needed < 10_000:
        needed += 1
    return Reach(looks, needed, _strongest_possible(looks, searched))


def _strongest_possible(looks: int, searched: float) -> float:
    if looks <= 0:
        return 1.0
    return min(1.0, max(_FLOOR, math.exp(-looks * math.log(looks) + math.log(max(searched, 1.0)))))


def line_evidence(hits: Hits, moment_times: NDArray[np.float64], title: int, slope: float,
                  offsets: Sequence[float], tolerance: float, title_seconds: float, searched: float,
                  looks: NDArray[np.intp] | None = None, levels: Sequence[float] = (0.0,),
                  ranks: Sequence[int] = (), stretch: float | None = None) -> Evidence:
    """The evidence that the query's moments lie on ``title_time = slope × t + offset`` (any of ``offsets``).

    ``hits`` are the query's hits (all titles: only ``title``'s are used, and for hits of a
    known speed only those of the hypothesis nearest ``slope``); ``moment_times`` every
    moment of the query that was searched, with or without hits (sorted) — the null
    hypothesis deals hit sets among all of them. ``looks`` groups the moments
    (``picture_looks``): the test counts looks, not moments, since a still shot is many
    moments of one picture and proves no more than one.

    The test is made on several hit sets, and the best is kept (the lines searched are
    multiplied by how many): at each of ``levels``, the hits at least that alike — a mild
    copy meets its title at 0.95 or more, where chance pictures rarely reach; a heavily
    transformed one only lower — and for each of ``ranks`` *r*, each moment's *r* likest
    hits in this title — a copy whose pictures are all alike (a dark scene, a pitch) is
    still likest to its own title time.

    With ``stretch`` (seconds), the hit sets are also dealt within each stretch of the
    suspect alone, among the looks that are not the look's near neighbours, and a look's
    chance is the larger of the two deals (``stretches_of``).
    """
    mine = np.flatnonzero(_of_line(hits, title, slope))
    look_of = np.arange(len(moment_times)) if looks is None else np.asarray(looks, np.intp)
    parts = 1 if stretch is None else max(1, int(stretch / (3 * tolerance)))  # parts of ≥ 3 tolerances
    # on two grids of stretches half a stretch apart: a burst cut in two by one grid's boundary is whole on the other
    part_grids = [] if stretch is None else [stretches_of(moment_times + start, look_of, stretch / parts)
                                             for start in (0.0, stretch / 2)]
    placements = np.asarray(offsets, np.float64)
    moment = _moment_ids(hits.query_time[mine], moment_times)
    weight, title_time = hits.weight[mine], hits.title_time[mine]
    rank = _rank_in_moment(moment, weight)
    chosen_sets = [weight >= level for level in levels] + [rank < top for top in ranks]
    best: Evidence | None = None
    for number, chosen in enumerate(chosen_sets):
        cover = _Cover(look_of[moment[chosen]], title_time[chosen], tolerance, int(look_of.max(initial=0)) + 1,
                       part_grids, parts)
        count, considered, chances = _line(moment[chosen], title_time[chosen], moment_times, look_of, slope,
                                           placements, tolerance, title_seconds, cover)
        label = float(levels[number]) if number < len(levels) else -float(ranks[number - len(levels)])
        evidence = Evidence(count, considered, float(chances.sum()), tail_probability(chances, count),
                            searched * tests_made(levels, ranks), label)
        if best is None or evidence.line_probability < best.line_probability:
            best = evidence
    assert best is not None, "at least one hit set"
    return best


def _rank_in_moment(moment: NDArray[np.intp], weight: NDArray[np.float64]) -> NDArray[np.int64]:
    """Each hit's place among its moment's hits by weight, likest first."""
    rank = np.zeros(len(moment), np.int64)
    order = np.lexsort((-weight, moment))
    starts = np.flatnonzero(np.r_[True, moment[order][1:] != moment[order][:-1]]) if len(order) else order
    rank[order] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return rank


def stretches_of(moment_times: NDArray[np.float64], look_of: NDArray[np.intp], length: float) -> NDArray[np.intp]:
    """The stretch of the suspect (``length`` seconds each, from 0) each look begins in.

    Why deal within stretches: the null deals every look's hit set among all the
    suspect's looks, as if which part of the suspect owns which hit set were random. Sound
    is locally alike — a voice's burst, a held chord — so its consecutive looks own alike
    hit sets, and a burst of one voice meets a burst of another in the title over its whole
    length, dozens of looks on one line where the suspect-wide deal expects three (draw 4:
    a fixed camera's talk at another hour, answered at 5e-9). Dealt among the other looks
    of its own few seconds, such a look's chance is what the rest of its burst makes it:
    large, since the burst meets the title's burst everywhere. A copy's look keeps a small
    chance: the looks that reach its window are its near neighbours on the same line, and
    those are left out of the deal (``_Cover``) — a look a part or more away meets the
    title at its own time, not at this look's.
    """
    first = np.full(int(look_of.max(initial=-1)) + 1, np.inf)
    np.minimum.at(first, look_of, moment_times)
    return np.floor(np.where(np.isfinite(first), first, 0.0) / length).astype(np.intp)


def tail_probability(chances: NDArray[np.float64], at_least: int) -> float:
    """P(a sum of independent Bernoulli(chances) ≥ ``at_least``).

    Exact (dynamic programming over the count) while that is cheap; for a long suspect
    with thousands of looks on a line — a whole film — the Chernoff bound
    ``exp(-μ) (eμ/k)^k``, which is never below the exact value: the probability stated
    is then a little larger than the truth, never smaller.
    """
    if at_least <= 0:
        return 1.0
    possible = np.clip(np.asarray(chances, np.float64), 0.0, 1.0)
    possible = possible[possible > 0]
    if at_least > len(possible):
        return _FLOOR
    if len(possible) * (at_least + 1) > _EXACT_BUDGET:
        return _chernoff(float(possible.sum()), at_least)
    distribution = np.zeros(at_least + 1)  # [j]: P(j so far); the last cell holds "at_least or more"
    distribution[0] = 1.0
    for chance in possible.tolist():
        moved = distribution * chance
        distribution *= 1.0 - chance
        distribution[1:] += moved[:-1]
        distribution[-1] += moved[-1]
    return float(min(1.0, max(_FLOOR, distribution[-1])))


def _chernoff(mean: float, at_least: int) -> float:
    if at_least <= mean:
        return 1.0
    exponent = -mean + at_least * (1.0 + math.log(mean) - math.log(at_least)) if mean > 0 else -math.inf
    return float(min(1.0, max(_FLOOR, math.exp(max(exponent, -690.0)))))


def combined_probability(first: float, second: float) -> float:
    """Fisher's combination of two independent p-values: P(p₁p₂ ≤ x) = x (1 - ln x) under the null."""
    product = max(_FLOOR, first * second)
    return float(min(1.0, product * (1.0 - math.log(product))))


class _Cover:
    """How many looks' hit sets reach into a stretch of title time (each look's reach merged first).

    With ``part_grids`` (each look's part on each grid: ``stretches_of`` at the length of a
    part; ``parts`` to a stretch), also how many of the *other* looks of a look's own
    stretch do — those of its own part and the parts beside it left out.
    """

    def __init__(self, look: NDArray[np.intp], title_time: NDArray[np.float64], tolerance: float,
                 looks: int, part_grids: Sequence[NDArray[np.intp]] = (), parts: int = 1) -> None:
        owner, starts, ends = _merged_reach(look, title_time, tolerance)
        self.everyone = _Keyed(np.zeros(len(owner), np.intp), starts, ends)  # the suspect as one group
        self.looks = looks
        self.grids = [_Stretches(part_of_look, parts, owner, starts, ends) for part_of_look in part_grids]

    def chance(self, low: NDArray[np.float64], high: NDArray[np.float64],
               looks: NDArray[np.intp]) -> NDArray[np.float64]:
        """The chance of each of ``looks`` to own a hit set reaching into its window [low, high] of title time.

        The share of all looks whose hit set reaches the window; with stretches, the largest
        of that and the share of the other looks of the look's stretch on each grid. A look
        with two separate reaches into one window counts twice: an overestimate, so a
        p-value too large, never too small.
        """
        reaching = self.everyone.reaching(np.zeros(np.shape(low), np.intp), low, high)
        chance = np.asarray(np.minimum(reaching, self.looks) / self.looks, np.float64)
        for grid in self.grids:
            chance = np.maximum(chance, grid.chance(low, high, looks))
        return chance


class _Stretches:
    """One grid of stretches: the share of the other looks of a look's stretch whose hit sets reach its window."""

    def __init__(self, part_of_look: NDArray[np.intp], parts: int, owner: NDArray[np.intp],
                 starts: NDArray[np.float64], ends: NDArray[np.float64]) -> None:
        self.part_of_look, self.parts = part_of_look, parts
        self.by_part = _Keyed(part_of_look[owner], starts, ends)
        self.by_stretch = _Keyed(part_of_look[owner] // parts, starts, ends)
        self.looks_by_part = np.bincount(part_of_look)
        self.looks_by_stretch = np.bincount(part_of_look // parts)

    def chance(self, low: NDArray[np.float64], high: NDArray[np.float64],
               looks: NDArray[np.intp]) -> NDArray[np.float64]:
        part = self.part_of_look[looks].reshape(looks.shape + (1,) * (low.ndim - looks.ndim))
        stretch = part // self.parts
        others = self.by_stretch.reaching(stretch, low, high)
        others_looks = self.looks_by_stretch[stretch]
        for beside in (-1, 0, 1):  # the look's own part and those beside it: a copy's neighbours on its line
            near = part + beside
            inside = (near >= 0) & (near < len(self.looks_by_part)) & (near // self.parts == stretch)
            near = np.where(inside, near, 0)
            others = others - np.where(inside, self.by_part.reaching(near, low, high), 0)
            others_looks = others_looks - np.where(inside, self.looks_by_part[near], 0)
        local = np.where(others_looks > 0, np.clip(others, 0, None) / np.maximum(others_looks, 1), 0.0)
        return np.asarray(np.minimum(local, 1.0), np.float64)


class _Keyed:
    """Title-time intervals grouped by a key (the suspect, a stretch, a part): how many of a group reach a window.

    Intervals are sorted by group, then time, in one array (group × span + time), so one
    search answers every group at once.
    """

    def __init__(self, group: NDArray[np.intp], starts: NDArray[np.float64], ends: NDArray[np.float64]) -> None:
        self.shift = 1.0 - float(starts.min(initial=0.0))  # every shifted time is at least 1 …
        self.span = float(ends.max(initial=0.0)) + self.shift + 1.0  # … and below the span
        base = group.astype(np.float64) * self.span
        self.starts = np.sort(base + starts + self.shift)
        self.ends = np.sort(base + ends + self.shift)

    def reaching(self, group: NDArray[np.intp], low: NDArray[np.float64],
                 high: NDArray[np.float64]) -> NDArray[np.int64]:
        base = group.astype(np.float64) * self.span
        upper = base + np.clip(high + self.shift, 0.0, self.span)
        lower = base + np.clip(low + self.shift, 0.0, self.span)
        return np.asarray(np.searchsorted(self.starts, upper, side="right")
                          - np.searchsorted(self.ends, lower, side="left"), np.int64)


def _line(moment: NDArray[np.intp], title_time: NDArray[np.float64], moment_times: NDArray[np.float64],
          look_of: NDArray[np.intp], slope: float, placements: NDArray[np.float64], tolerance: float,
          title_seconds: float, cover: _Cover) -> tuple[int, int, NDArray[np.float64]]:
    """Looks on the line (any of its ``placements``), looks considered, and each look's chance (0: not considered).

    A look is on the line when one of its moments has a hit there; its window is the
    stretch of title time the line passes through over the look, widened by the tolerance.
    """
    places = slope * moment_times[:, None] + placements[None, :]  # (moments, placements)
    inside = (places >= -tolerance) & (places <= title_seconds + tolerance)
    near = (np.abs(title_time[:, None] - places[moment]) <= tolerance).any(axis=1)  # each hit at its own moment
    looks = int(look_of.max(initial=0)) + 1
    on = np.zeros(looks, bool)
    on[look_of[moment[near & inside[moment].any(axis=1)]]] = True
    low = np.full((looks, len(placements)), np.inf)  # each look's window: from its first place to its last
    high = np.full((looks, len(placements)), -np.inf)
    np.minimum.at(low, look_of, np.where(inside, places, np.inf))
    np.maximum.at(high, look_of, np.where(inside, places, -np.inf))
    reached = np.isfinite(low)
    windows = cover.chance(low - tolerance, high + tolerance, np.arange(looks))
    chance = np.minimum(1.0, np.where(reached, windows, 0.0).sum(axis=1))
    return int(on.sum()), int(reached.any(axis=1).sum()), chance


def _of_line(hits: Hits, title: int, slope: float) -> NDArray[np.bool_]:
    """The title's hits; of hits with a known speed, those of the hypothesis nearest ``slope``."""
    mine: NDArray[np.bool_] = np.asarray(hits.title == title)
    known = hits.slope[mine] > 0
    if known.any():
        speeds = np.unique(hits.slope[mine][known])
        nearest = speeds[np.abs(speeds - slope).argmin()]
        mine &= np.abs(hits.slope - nearest) < 1e-9
    return mine


def _moment_ids(query_time: NDArray[np.float64], moment_times: NDArray[np.float64]) -> NDArray[np.intp]:
    """Each hit's moment: the index of the nearest of ``moment_times`` (sorted)."""
    if len(moment_times) < 2:
        return np.zeros(len(query_time), np.intp)
    right = np.clip(np.searchsorted(moment_times, query_time), 1, len(moment_times) - 1)
    left = right - 1
    nearer_left = query_time - moment_times[left] <= moment_times[right] - query_time
    return np.where(nearer_left, left, right).astype(np.intp)


def _merged_reach(group: NDArray[np.intp], title_time: NDArray[np.float64],
                  tolerance: float) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """(group, start, end) of the title-time intervals each group's (look's) hits reach, merged per group.

    Merged, so that a title time counts a group once however many of its hits are near
    it: the number of groups covering ``x`` is then ``#starts ≤ x - #ends < x``.
    """
    if not len(group):
        return np.zeros(0, np.intp), np.zeros(0), np.zeros(0)
    order = np.lexsort((title_time, group))
    group, low, high = group[order], title_time[order] - tolerance, title_time[order] + tolerance
    reached = _running_max_per_group(high, group)
    new_interval = np.r_[True, (group[1:] != group[:-1]) | (low[1:] > reached[:-1])]
    starts = low[new_interval]
    ends = np.full(len(starts), -np.inf)
    np.maximum.at(ends, np.cumsum(new_interval) - 1, high)
    return group[new_interval], starts, ends


def _running_max_per_group(values: NDArray[np.float64], group: NDArray[np.intp]) -> NDArray[np.float64]:
    """The running maximum of ``values`` restarting at each new ``group`` (groups contiguous)."""
    shift = (group - group.min()).astype(np.float64) * (np.abs(values).max() * 4 + 1.0)
    return np.asarray(np.maximum.accumulate(values + shift) - shift, np.float64)


def picture_looks(times: NDArray[np.float32], codes: NDArray[np.float32], tags: NDArray[np.uint8],
                  same: float, views: Collection[int] | None = None) -> NDArray[np.intp]:
    """The look of each distinct time in ``times`` (a picture signature's rows, one per view).

    Consecutive pictures are one look until one of their ``views`` (all, when None) is
    less than ``same`` alike to that view of the look's first picture. A still shot, a
    slide or a quiet fixed camera is dozens of sampled pictures of one look; counting each
    as independent evidence would make a long still a strong match. Which views to watch
    is a choice between two errors: the whole picture alone misses an inset that moves
    on while its still host does not (a weaker, never a false, match); every view splits
    smoothly changing content into more looks than it has independent pictures.
    """
    moments, moment_of = np.unique(np.asarray(times, np.float64), return_inverse=True)
    vectors = np.asarray(codes, np.float64)
    watched = None if views is None else set(views)
    described: list[dict[int, NDArray[np.float64]]] = [{} for _ in moments]
    for row in range(len(vectors)):
        if watched is None or int(tags[row]) in watched:
            described[int(moment_of[row])].setdefault(int(tags[row]), vectors[row])
    look = np.zeros(len(moments), np.intp)
    first, current = 0, 0
    for moment in range(1, len(moments)):
        if described[moment] and not _alike(described[first], described[moment], same):
            first, current = moment, current + 1
        look[moment] = current  # a picture with none of the views (flat, black) adds nothing to the look
    return look


def _alike(anchor: dict[int, NDArray[np.float64]], picture: dict[int, NDArray[np.float64]], same: float) -> bool:
    """Whether ``picture`` still shows the look that began at ``anchor``: every view they share is alike.

    With no view in common (the look began on a flat picture) there is nothing to call it the
    same by: it is a new look.
    """
    shared = anchor.keys() & picture.keys()
    return bool(shared) and all(float(picture[view] @ anchor[view]) >= same for view in shared)
