"""Temporal verification: lines of agreeing hits become segments; scattered hits become nothing."""

from __future__ import annotations

import numpy as np
import pytest

from reelguard.fingerprint.matching import Hits, VerifyRule, find_segments

RULE = VerifyRule(min_support=6, bin_seconds=1.0, tolerance=0.6, max_gap=4.0, min_fit_span=3.0)


def _line(title: int, query_from: float, query_to: float, title_from: float, slope: float = 1.0,
          step: float = 0.25) -> Hits:
    query = np.arange(query_from, query_to, step)
    target = title_from + slope * (query - query_from)
    return Hits(np.full(len(query), title, np.int32), query, target, np.full(len(query), 0.9), np.zeros(len(query)))


def _noise(count: int, titles: int, seconds: float, seed: int = 0) -> Hits:
    rng = np.random.default_rng(seed)
    return Hits(rng.integers(0, titles, count).astype(np.int32), rng.uniform(0, 60, count),
                rng.uniform(0, seconds, count), rng.uniform(0.8, 1.0, count), np.zeros(count))


def _join(*parts: Hits) -> Hits:
    return Hits(*(np.concatenate([getattr(p, f) for p in parts])
                  for f in ("title", "query_time", "title_time", "weight", "slope")))


@pytest.mark.parametrize("slope", [0.9, 1.0, 1.1])
def test_a_copy_at_any_speed_is_one_segment_with_its_bounds(slope: float) -> None:
    segments = find_segments(_join(_line(3, 10.0, 25.0, 100.0, slope), _noise(400, 20, 3600)), RULE)
    assert len(segments) == 1
    found = segments[0]
    assert found.title == 3 and found.slope == pytest.approx(slope, abs=0.01)
    assert found.suspect_start == pytest.approx(10.0, abs=0.3) and found.suspect_end == pytest.approx(24.75, abs=0.3)
    assert found.title_start == pytest.approx(100.0, abs=0.7)
    assert found.title_end == pytest.approx(100.0 + slope * 14.75, abs=0.7)


def test_a_compilation_yields_each_passage_separately() -> None:
    hits = _join(_line(1, 0.0, 8.0, 50.0), _line(2, 12.0, 30.0, 5.0), _line(1, 35.0, 45.0, 900.0),
                 _noise(300, 5, 1000, seed=1))
    found = sorted((s.title, round(s.suspect_start), round(s.title_start)) for s in find_segments(hits, RULE))
    assert found == [(1, 0, 50), (1, 35, 900), (2, 12, 5)]


def test_scattered_hits_are_no_match_and_a_still_scene_counts_once() -> None:
    assert find_segments(_noise(3000, 50, 3600, seed=2), RULE) == []
    still = Hits(np.zeros(40, np.int32), np.repeat([5.0, 5.25], 20), np.arange(40.0), np.ones(40), np.zeros(40))
    assert find_segments(still, RULE) == []  # two suspect moments, however many title pictures they match


def test_hits_with_a_known_slope_keep_it() -> None:
    line = _line(0, 0.0, 10.0, 20.0, slope=1.06)
    known = Hits(line.title, line.query_time, line.title_time, line.weight, np.full(len(line), 1.06))
    assert [s.slope for s in find_segments(known, RULE)] == [1.06]


def test_against_a_large_catalog_the_shortlist_keeps_the_copies_and_drops_chance() -> None:
    """Over 50,000 hits, only the busiest lines' hits are verified exactly: the copies must survive it."""
    noise = _noise(400_000, 2000, 3600, seed=4)
    known = Hits(noise.title, noise.query_time, noise.title_time, noise.weight, np.full(len(noise), 1.0))
    copies = _join(_line(17, 5.0, 20.0, 300.0), _line(1999, 30.0, 50.0, 12.0, slope=1.1))
    copies = Hits(copies.title, copies.query_time, copies.title_time, copies.weight,
                  np.r_[np.full(60, 1.0), np.full(80, 1.1)])
    found = sorted((s.title, round(s.suspect_start), round(s.title_start), s.slope)
                   for s in find_segments(_join(known, copies), RULE))
    assert found == [(17, 5, 300, 1.0), (1999, 30, 12, 1.1)]


def test_a_title_that_repeats_itself_reports_every_placement_that_fits() -> None:
    """A looping animation matched a copy equally well at several title times; one was reported as certain."""
    loop = _join(_line(4, 10.0, 22.0, 30.0), _line(4, 10.0, 22.0, 42.0), _line(4, 10.0, 22.0, 54.0),
                 _noise(300, 6, 600, seed=3))
    segments = find_segments(loop, RULE)
    assert len(segments) == 1
    placements = sorted([segments[0].title_start, *segments[0].rivals])
    assert placements == pytest.approx([30.0, 42.0, 54.0], abs=0.3)


def test_a_weaker_second_placement_is_not_a_rival() -> None:
    partial_repeat = _join(_line(4, 10.0, 22.0, 30.0), _line(4, 10.0, 14.0, 80.0))  # a third of the stretch again
    segments = find_segments(partial_repeat, RULE)
    assert [(round(s.title_start), s.rivals) for s in segments if s.suspect_start < 12] == [(30, ())]


def test_sound_that_does_not_repeat_places_a_looping_picture_for_certain() -> None:
    """Pictures of a loop fit three title times; the sound fits one of them: the fused segment is that one."""
    from reelguard.fingerprint.index import IndexedTitle
    from reelguard.fingerprint.matching import Segment
    from reelguard.fingerprint.service import _fuse
    from reelguard.fingerprint.significance import Evidence

    names = {4: IndexedTitle(4, "t-4", "cartoon", 120.0)}
    pictures = Segment(4, 10.0, 22.0, 30.0, 42.0, 1.0, 40, 36.0, rivals=(42.0, 54.0))
    sound = Segment(4, 10.2, 21.8, 42.2, 53.8, 1.0, 120, 0.0)
    seen, heard = Evidence(12, 20, 3.0, 1e-9, 1e3), Evidence(90, 300, 2.0, 1e-40, 1e3)
    alone = _fuse([("video", pictures, seen)], names)
    assert [(s.title_start, s.title_alternatives, s.placement_certain) for s in alone] == [
        (30.0, ((42.0, 54.0), (54.0, 66.0)), False)]
    assert alone[0].false_match_probability == pytest.approx(1e-6)
    fused = _fuse([("video", pictures, seen), ("audio", sound, heard)], names)
    assert len(fused) == 1 and fused[0].modality == "video+audio"
    assert fused[0].placement_certain and abs(fused[0].title_start - 42.0) < 0.3, fused
    assert fused[0].false_match_probability < 1e-37 and set(fused[0].evidence) == {"video", "audio"}


def test_a_weak_sound_line_neither_times_a_strong_picture_line_nor_loses_its_say_on_placement() -> None:
    """A drone's few landmarks fit a slope of 1.05 where the copy plays at 1.0: the pictures time the union."""
    from reelguard.fingerprint.index import IndexedTitle
    from reelguard.fingerprint.matching import Segment
    from reelguard.fingerprint.service import _fuse
    from reelguard.fingerprint.significance import Evidence

    names = {4: IndexedTitle(4, "t-4", "cartoon", 120.0)}
    pictures = Segment(4, 10.0, 22.0, 30.0, 42.0, 1.0, 40, 36.0, rivals=(42.0, 54.0))
    sound = Segment(4, 10.2, 21.8, 41.7, 53.9, 1.05, 12, 0.0)
    seen, heard = Evidence(40, 48, 3.0, 1e-40, 1e3), Evidence(9, 300, 2.0, 1e-9, 1e3)
    fused = _fuse([("video", pictures, seen), ("audio", sound, heard)], names)
    assert len(fused) == 1 and fused[0].modality == "video+audio"
    assert fused[0].speed == 1.0
    assert fused[0].placement_certain and fused[0].title_start == pytest.approx(42.0), fused
    strong_sound = _fuse([("video", pictures, Evidence(12, 20, 3.0, 1e-9, 1e3)),
                          ("audio", sound, Evidence(90, 300, 2.0, 1e-40, 1e3))], names)
    assert strong_sound[0].speed == 1.05  # a strong sound line is timed to 32 ms: it times the union


def test_a_sound_line_that_places_the_copy_elsewhere_in_the_title_makes_a_picture_placement_uncertain() -> None:
    """A sports copy's pictures were placed a pan period (34 s) off and reported as certain, while its sound —
    too weak to name the title among 28, sure enough of where it is in this one — placed it right."""
    from reelguard.fingerprint.index import IndexedTitle
    from reelguard.fingerprint.matching import Segment
    from reelguard.fingerprint.service import _Catalog, _disputed, _fuse
    from reelguard.fingerprint.significance import Evidence

    catalog = _Catalog({n: IndexedTitle(n, f"t-{n}", f"title {n}", 60.0) for n in range(28)}, 150.0)
    share = catalog.share(4)
    assert share == pytest.approx((60 + 150) / (28 * 60 + 28 * 150))
    pictures = Segment(4, 10.0, 40.0, 44.0, 74.0, 1.0, 40, 36.0)  # a pan period off
    sound = Segment(4, 10.5, 39.5, 10.5, 39.5, 1.0, 15, 0.0)  # where the copy really is
    seen = Evidence(30, 40, 3.0, 1e-20, 1.8e5)

    def answer(sound_line_probability: float) -> list:  # type: ignore[type-arg]
        heard = Evidence(20, 200, 2.0, sound_line_probability, 5e5)
        found = [("video", pictures, seen), ("audio", sound, heard)]
        return _disputed(_fuse(found, catalog.titles), found, catalog, 1e-6)

    sure_where = answer(1e-11)  # 5e-6 over the catalog (not reported), 1.8e-7 within this title
    video = next(s for s in sure_where if s.modality == "video")
    assert not video.placement_certain and video.title_start == 44.0
    assert video.title_alternatives == ((10.0, 40.0),)
    unsure = answer(1e-9)  # 1.8e-5 within this title: chance could have put it there
    assert next(s for s in unsure if s.modality == "video").placement_certain
    agreeing = _fuse([("video", pictures, seen), ("audio", Segment(4, 10.5, 39.5, 44.5, 73.5, 1.0, 15, 0.0),
                                                   Evidence(20, 200, 2.0, 1e-11, 5e5))], catalog.titles)
    assert _disputed(agreeing, [], catalog, 1e-6)[0].placement_certain  # one fused segment, nothing disputed
    # pictures of a pan that allow the sound's placement among their rivals do not dispute it: the sound settled
    # the pan's ambiguity (draw 4: a sports copy's sound line gained the pictures' other pan periods)
    panning = Segment(4, 10.0, 40.0, 44.0, 74.0, 1.0, 40, 36.0, rivals=(10.2, 78.0))
    found = [("video", panning, seen), ("audio", sound, Evidence(20, 200, 2.0, 1e-30, 5e5)),
             ("audio", Segment(4, 12.0, 30.0, 12.0, 30.0, 1.0, 15, 0.0), Evidence(20, 200, 2.0, 1e-29, 5e5))]
    answered = _disputed(_fuse(found, catalog.titles), found, catalog, 1e-6)
    assert sorted(s.modality for s in answered) == ["audio", "video+audio"]  # the pictures fused with one
    assert all(s.placement_certain for s in answered), answered


def test_a_line_mostly_inside_a_stronger_one_is_dropped_with_what_it_carries() -> None:
    from reelguard.fingerprint.matching import Segment, without_overlaps

    def line(title: int, start: float, end: float, label: str) -> tuple[Segment, str]:
        return Segment(title, start, end, start, end, 1.0, 8, 8.0), label

    strongest_first = [line(1, 0.0, 20.0, "copy"), line(2, 5.0, 15.0, "inside it"), line(3, 15.0, 40.0, "after it")]
    kept = without_overlaps(strongest_first, lambda pair: pair[0])
    assert [label for _, label in kept] == ["copy", "after it"]
