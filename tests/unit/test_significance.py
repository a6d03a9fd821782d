"""The false-match probability of a line (reelguard.fingerprint.significance) on hits made by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from reelguard.fingerprint.matching import Hits
from reelguard.fingerprint.significance import (
    Evidence,
    combined_probability,
    line_evidence,
    picture_looks,
    reach,
    stretches_of,
    tail_probability,
)

TOLERANCE = 0.6


def _hits(query: list[float], target: list[float], weight: float = 0.9) -> Hits:
    return Hits(np.zeros(len(query), np.int32), np.asarray(query, np.float64), np.asarray(target, np.float64),
                np.full(len(query), weight), np.zeros(len(query)))


def _evidence(hits: Hits, moments: NDArray[np.float64], offset: float, looks: NDArray[np.intp] | None = None,
              title_seconds: float = 600.0) -> Evidence:
    return line_evidence(hits, moments, 0, 1.0, [offset], TOLERANCE, title_seconds, 1.0, looks)


def test_the_tail_is_exact() -> None:
    chances = np.array([0.1, 0.5, 0.3, 0.9, 0.05])
    for at_least in range(7):
        brute = sum(np.prod([c if hit else 1 - c for c, hit in zip(chances, pattern, strict=True)])
                    for pattern in itertools.product([0, 1], repeat=len(chances)) if sum(pattern) >= at_least)
        assert tail_probability(chances, at_least) == pytest.approx(brute, rel=1e-9, abs=1e-300)


def test_a_copy_in_the_titles_order_is_improbable_and_the_same_hits_out_of_order_are_not() -> None:
    rng = np.random.default_rng(3)
    moments = np.arange(0.0, 30.0, 0.5)
    copy_query = [*moments.tolist(), *rng.choice(moments, 60).tolist()]  # every moment on the line, plus chance
    copy_target = [*(moments + 200.0).tolist(), *rng.uniform(0, 600, 60).tolist()]
    copy = _evidence(_hits(copy_query, copy_target), moments, 200.0)
    assert copy.looks == len(moments) and copy.line_probability < 1e-40
    shuffled = _hits(rng.permutation(np.array(copy_query)).tolist(), copy_target)  # same hit sets, dealt at random
    chance = _evidence(shuffled, moments, 200.0)
    assert chance.line_probability > 1e-3 and chance.expected > 0


def test_a_query_that_looks_like_the_title_everywhere_proves_nothing() -> None:
    """A fixed camera: every moment is like every title picture, so every line is full and none is evidence."""
    moments = np.arange(0.0, 20.0, 0.5)
    query = np.repeat(moments, 40)
    target = np.tile(np.linspace(0, 600, 40), len(moments))
    evidence = _evidence(_hits(query.tolist(), target.tolist()), moments, 123.0)
    assert evidence.line_probability > 0.1


def test_a_still_shot_is_one_look() -> None:
    """40 moments of one picture on a line are one look: one matching picture, not forty."""
    moments = np.arange(0.0, 20.0, 0.5)
    hits = _hits(moments.tolist(), (moments + 100.0).tolist())
    as_moments = _evidence(hits, moments, 100.0)
    as_one_look = _evidence(hits, moments, 100.0, looks=np.zeros(len(moments), np.intp))
    assert as_moments.line_probability < 1e-30
    assert as_one_look.looks == 1 and as_one_look.line_probability > 0.001


def test_pictures_alike_are_grouped_into_looks() -> None:
    still = np.tile(np.array([[1.0, 0.0]], np.float32), (4, 1))
    turned = np.array([[0.0, 1.0]], np.float32)
    codes = np.vstack([still, turned, turned, still])
    times = np.arange(len(codes), dtype=np.float32) * 0.25
    assert picture_looks(times, codes, np.zeros(len(codes), np.uint8), 0.98).tolist() == [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]


def test_unrelated_hits_are_not_more_significant_than_they_claim() -> None:
    """Queries with hits at random title times: P(line probability ≤ alpha) stays at or under alpha."""
    rng = np.random.default_rng(11)
    moments = np.arange(0.0, 20.0, 0.5)
    probabilities = []
    for _ in range(400):
        query = rng.choice(moments, 120)
        hits = _hits(query.tolist(), rng.uniform(0, 120, 120).tolist())
        probabilities.append(_evidence(hits, moments, float(rng.uniform(0, 100)), title_seconds=120.0)
                             .line_probability)
    for alpha in (0.01, 0.05, 0.2):
        assert np.mean(np.array(probabilities) <= alpha) <= alpha * 1.3 + 0.005, alpha


def test_fisher_combination_is_valid_and_never_beats_its_stronger_half_alone_by_much() -> None:
    rng = np.random.default_rng(5)
    pairs = rng.uniform(size=(20000, 2))
    combined = np.array([combined_probability(a, b) for a, b in pairs])
    assert np.mean(combined <= 0.05) == pytest.approx(0.05, abs=0.006)
    assert combined_probability(1e-9, 1.0) >= 1e-9 and combined_probability(1e-9, 1e-9) < 1e-15


def test_a_rival_title_lining_up_over_the_same_stretch_weakens_a_line_only_when_it_beats_chance() -> None:
    """Cohort normalisation: content of one kind sharing order with every title of that kind is not a copy."""
    line = Evidence(30, 60, 3.0, 1e-30, 1e5)
    assert line.against([Evidence(5, 60, 3.0, 0.2, 1e5)]).false_match_probability == \
        line.false_match_probability == pytest.approx(1e-25)
    kind = line.against([Evidence(25, 60, 3.0, 1e-20, 1e5)])  # a rival far past the best of 1e5 chance lines
    assert kind.cohort > 3 and kind.false_match_probability > 1e-6
    assert line.against([]).cohort == 1.0


def test_a_long_suspects_tail_is_bounded_from_above() -> None:
    """Thousands of looks on a line (a whole film): the Chernoff bound, never below the exact tail."""
    from reelguard.fingerprint import significance

    rng = np.random.default_rng(2)
    chances = rng.uniform(0.0, 0.05, 400)
    for at_least in (20, 35, 60):
        exact = tail_probability(chances, at_least)
        bound = significance._chernoff(float(chances.sum()), at_least)
        assert exact <= bound, (at_least, exact, bound)  # conservative
        assert np.log(bound) <= 0.6 * np.log(exact), (at_least, exact, bound)  # and not wildly
    film = np.full(200_000, 0.001)
    assert tail_probability(film, 5_000) == significance._chernoff(200.0, 5_000) == pytest.approx(1e-300)


def test_a_look_begun_on_a_flat_picture_ends_at_the_first_described_one() -> None:
    """A fade from black: the first picture has no whole view (flat); the pictures after it are looks of their own."""
    codes = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], np.float32)
    times = np.array([0.0, 0.25, 0.5, 0.5, 0.75], np.float32)
    tags = np.array([1, 0, 0, 1, 0], np.uint8)  # the picture at 0 s only in view 1 (its whole view was flat)
    codes = np.vstack([codes[:1], codes[1:2], codes[2:3], codes[3:4], codes[2:3]])
    assert picture_looks(times, codes, tags, 0.98, views=(0,)).tolist() == [0, 1, 2, 2]
    assert picture_looks(times, codes, tags, 0.98).tolist() == [0, 1, 2, 2]


def test_the_looks_a_report_needs_follow_from_the_lines_searched_and_the_bar() -> None:
    """A line through every one of n looks is at best n**-n: 10 looks give 1.8e-5 after 180,000 lines, 11 give 6e-7."""
    short = reach(3, 1.8e5, 1e-6)
    assert (short.looks, short.needed, short.strongest_possible) == (3, 11, 1.0)
    assert reach(11, 1.8e5, 1e-6).strongest_possible == pytest.approx(11.0 ** -11 * 1.8e5)
    assert reach(11, 1.8e5, 1e-6).strongest_possible <= 1e-6 < reach(10, 1.8e5, 1e-6).strongest_possible
    assert reach(0, 1.8e5, 1e-6).strongest_possible == 1.0
    assert reach(5, 2.3e8, 1e-6).needed == 13  # a 1,000-hour catalog searches more lines


@settings(max_examples=60, deadline=None)
@given(looks=st.integers(1, 24), chance_hits=st.integers(0, 200), seed=st.integers(0, 2**32 - 1),
       on_line=st.floats(0.0, 1.0))
def test_no_line_is_stronger_than_the_reach_of_the_suspects_looks(looks: int, chance_hits: int, seed: int,
                                                                  on_line: float) -> None:
    """Whatever the hits, a line's probability after correction is never below what ``reach`` says is possible."""
    moments = np.arange(looks) * 2.0  # apart by more than the tolerance: a line on all of them meets the bound
    hits = _copy_among_chance(moments, on_line, chance_hits, seed)
    searched = 1e4
    evidence = line_evidence(hits, moments, 0, 1.0, [100.0], TOLERANCE, 600.0, searched)
    assert evidence.false_match_probability >= reach(looks, searched, 1e-6).strongest_possible * (1 - 1e-9)


def _copy_among_chance(moments: NDArray[np.float64], on_line: float, chance_hits: int, seed: int) -> Hits:
    """A share ``on_line`` of ``moments`` (at least one) copied from 100 s on, and ``chance_hits`` scattered hits."""
    rng = np.random.default_rng(seed)
    copied = moments[rng.random(len(moments)) < max(on_line, 1.0 / len(moments))]
    query = [*copied.tolist(), *rng.choice(moments, chance_hits).tolist()]
    return _hits(query, [*(copied + 100.0).tolist(), *rng.uniform(0, 600, chance_hits).tolist()])


def test_a_line_through_every_look_and_nothing_else_meets_the_reach_exactly() -> None:
    moments = np.arange(9) * 2.0
    evidence = line_evidence(_hits(moments.tolist(), (moments + 100.0).tolist()), moments, 0, 1.0, [100.0],
                             TOLERANCE, 600.0, 1e4)
    assert evidence.false_match_probability == pytest.approx(reach(9, 1e4, 1e-6).strongest_possible, rel=1e-9)


STRETCH = 4.0


def _burst_meeting_a_burst(start: float) -> tuple[Hits, NDArray[np.float64], int]:
    """A 30 s suspect; one 2.4 s voice burst in it, from ``start``, meets a like burst of the title all along it.

    Its looks (every 0.1 s) hit every title time of the burst at 300-302.4 s, where a
    period of the voice repeats; the rest of the suspect meets the title at a few scattered
    times, as unrelated sound does.
    """
    rng = np.random.default_rng(5)
    moments = np.round(np.arange(0.0, 30.0, 0.1), 3)
    burst = moments[(moments >= start - 1e-9) & (moments < start + 2.4 - 1e-9)]
    query = np.repeat(burst, len(burst)).tolist()
    target = np.tile(np.linspace(300.0, 302.4, len(burst)), len(burst)).tolist()
    elsewhere = rng.choice(moments, 80)
    return _hits([*query, *elsewhere.tolist()], [*target, *rng.uniform(0, 600, 80).tolist()]), moments, len(burst)


@pytest.mark.parametrize("start", np.round(np.arange(8.0, 12.01, 0.4), 1).tolist())
def test_a_burst_that_meets_a_like_burst_everywhere_is_evidence_only_to_the_suspect_wide_deal(start: float) -> None:
    """The suspect-wide deal takes 24 looks on a line for a wonder; dealt among its stretch's other looks, they are not.

    Wherever the burst falls — inside one stretch or cut by a boundary of one grid of
    stretches (the other grid, half a stretch apart, holds it whole) — it is no report.
    """
    hits, moments, burst_looks = _burst_meeting_a_burst(start)
    offset = 300.0 - start
    wide = line_evidence(hits, moments, 0, 1.0, [offset], 0.25, 600.0, 1.0)
    local = line_evidence(hits, moments, 0, 1.0, [offset], 0.25, 600.0, 1.0, stretch=STRETCH)
    # the burst's looks, and at most one of the 80 scattered hits that happens to fall on the line too
    assert wide.looks == local.looks and burst_looks <= wide.looks <= burst_looks + 1 and burst_looks >= 24
    assert wide.line_probability < 1e-15  # reported against any catalog of fewer than 1e9 lines searched
    assert local.line_probability > 1e-4 and local.expected > wide.expected  # reported against none


def test_a_copy_stays_strong_when_its_hit_sets_are_dealt_within_stretches() -> None:
    """A copy's far neighbours meet the title each at its own time: dealt among them, a look keeps a small chance."""
    rng = np.random.default_rng(4)
    moments = np.round(np.arange(0.0, 30.0, 0.1), 3)
    copied = moments[(moments >= 8.0) & (moments < 18.0)][rng.random(100) < 0.5]  # half its looks found again
    chance = rng.choice(moments, 300)
    hits = _hits([*copied.tolist(), *chance.tolist()], [*(copied + 100.0).tolist(), *rng.uniform(0, 600, 300).tolist()])
    local = line_evidence(hits, moments, 0, 1.0, [100.0], 0.25, 600.0, 1.0, stretch=STRETCH)
    wide = line_evidence(hits, moments, 0, 1.0, [100.0], 0.25, 600.0, 1.0)
    assert local.looks == wide.looks == len(copied)
    assert wide.line_probability <= local.line_probability < 1e-40  # 2e-49 and 8e-47: its near neighbours left out


def test_stretches_are_counted_from_the_start_of_the_suspect_by_each_looks_first_moment() -> None:
    moments = np.array([0.0, 1.0, 3.9, 4.0, 9.5, 12.0])
    assert stretches_of(moments, np.arange(6), 4.0).tolist() == [0, 0, 0, 1, 2, 3]
    assert stretches_of(moments, np.array([0, 0, 1, 1, 2, 2]), 4.0).tolist() == [0, 0, 2]


@settings(max_examples=60, deadline=None)
@given(looks=st.integers(1, 40), chance_hits=st.integers(0, 200), seed=st.integers(0, 2**32 - 1),
       on_line=st.floats(0.0, 1.0))
def test_no_line_dealt_within_stretches_is_stronger_than_the_reach_says(looks: int, chance_hits: int, seed: int,
                                                                       on_line: float) -> None:
    """The deal within stretches only ever makes a look's chance larger: the suspect-wide reach still bounds a line."""
    moments = np.arange(looks) * 0.6  # apart by more than twice the tolerance, 6-7 looks a stretch
    hits = _copy_among_chance(moments, on_line, chance_hits, seed)
    searched = 1e4
    local = line_evidence(hits, moments, 0, 1.0, [100.0], 0.25, 600.0, searched, stretch=STRETCH)
    wide = line_evidence(hits, moments, 0, 1.0, [100.0], 0.25, 600.0, searched)
    assert local.false_match_probability >= reach(looks, searched, 1e-6).strongest_possible * (1 - 1e-9)
    assert local.line_probability >= wide.line_probability * (1 - 1e-9) and local.expected >= wide.expected - 1e-9
