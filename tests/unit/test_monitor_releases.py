"""Release names read (reelguard.monitor.releases) and matched to catalog titles (reelguard.monitor.matching)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelguard.errors import InvalidInput
from reelguard.monitor.matching import CatalogEntry, CatalogMatcher, normalise_title
from reelguard.monitor.releases import MAX_NAME_LENGTH, clean_release_name, parse_release

CATALOG = [
    CatalogEntry("dune-2", "Dune: Part Two", 2024, runtime_seconds=166 * 60.0),
    CatalogEntry("frozen", "Frozen", 2013),
    CatalogEntry("her", "Her", 2013),
    CatalogEntry("parasite", "Parasite", 2019, ("기생충", "Gisaengchung")),
    CatalogEntry("br2049", "Blade Runner 2049", 2017),
    CatalogEntry("mi7", "Mission: Impossible \u2013 Dead Reckoning Part One", 2023),
    CatalogEntry("lion-king", "The Lion King", 1994),
    *[CatalogEntry(f"office-s02e0{e}", "The Office", 2005, season=2, episode=e, country="US") for e in (1, 2, 3)],
    *[CatalogEntry(f"got-s01e0{e}", "Game of Thrones", 2011, ("Игра престолов",), season=1, episode=e)
      for e in (1, 2)],
    CatalogEntry("fargo-s02e01", "Fargo", 2014, season=2, episode=1),
]
MATCHER = CatalogMatcher(CATALOG)


def _matched(name: str, size_bytes: int | None = None) -> list[str]:
    return [match.title_id for match in MATCHER.match(parse_release(name, MATCHER.numbered_titles), size_bytes)]


# -- reading a name --------------------------------------------------------------------------
def test_a_scene_name_is_read_into_its_fields_and_guessit_s_answer_is_kept() -> None:
    release = parse_release("Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.Atmos.H.264-FLUX")
    assert (release.title, release.part, release.year, release.kind) == ("Dune", 2, 2024, "movie")
    assert (release.screen_size, release.release_group, release.cinema_copy) == ("1080p", "FLUX", False)
    assert release.raw["title"] == "Dune" and json.loads(json.dumps(release.to_json()))["raw"] == release.raw


@pytest.mark.parametrize("name", ["Oppenheimer.2023.HDTS.x264-SUNSCREEN", "Movie.2023.HQCAM.x264-NOGRP",
                                  "Movie 2023 PDVD", "Movie.2023.HDTC.x264", "Movie.2023.CAM.XviD",
                                  "Movie.2023.WORKPRINT"])
def test_copies_filmed_in_a_cinema_are_flagged_including_tags_guessit_does_not_know(name: str) -> None:
    release = parse_release(name)
    assert release.cinema_copy
    assert release.title in ("Oppenheimer", "Movie")  # the tag is not taken for a second title


@pytest.mark.parametrize("name", ["Movie.2023.1080p.BluRay.x264", "Movie.2023.DVDSCR.x264", "Tsunami.2019.1080p"])
def test_a_screener_a_disc_and_a_title_with_ts_in_it_are_not_cinema_copies(name: str) -> None:
    assert not parse_release(name).cinema_copy


@pytest.mark.parametrize(("name", "seasons", "episodes", "pack"), [
    ("Show.S02E03.720p.HDTV.x264-GRP", (2,), (3,), False),
    ("Show.S02.COMPLETE.1080p.WEB-DL", (2,), (), True),
    ("Show Season 2 Complete 1080p", (2,), (), True),
    ("Show.S01-S03.COMPLETE.1080p.BluRay", (1, 2, 3), (), True),
    ("Show.S02E01-E04.720p", (2,), (1, 2, 3, 4), True),
])
def test_episodes_and_packs(name: str, seasons: tuple[int, ...], episodes: tuple[int, ...], pack: bool) -> None:
    release = parse_release(name)
    assert (release.kind, release.seasons, release.episodes, release.pack) == ("episode", seasons, episodes, pack)


def test_control_and_direction_override_characters_are_dropped_before_reading() -> None:
    release = parse_release("\u202eEvil\u202c.Movie\x00.2020\t1080p\x1b[31m")
    assert "\u202e" not in release.name and "\x00" not in release.name and "\x1b" not in release.name
    assert release.year == 2020


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01\u202e", 42, None, b"Movie.2020", "M" * (MAX_NAME_LENGTH + 1)])
def test_a_name_that_is_not_text_empty_or_too_long_is_refused_saying_what_arrived(bad: object) -> None:
    with pytest.raises(InvalidInput, match="expected a release name"):
        clean_release_name(bad)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_a_name_in_any_script_or_with_any_characters_is_read_or_refused_never_crashes(name: str) -> None:
    try:
        release = parse_release(name)
    except InvalidInput:
        return
    json.dumps(release.to_json())


# -- matching it to the catalog -------------------------------------------------------------
def test_normalising_folds_accents_scripts_articles_and_number_words() -> None:
    assert normalise_title("Amélie") == "amelie"
    assert normalise_title("Игра престолов") == "igra prestolov"
    assert normalise_title("The Lion King") == "lion king"
    assert normalise_title("Frozen II") == normalise_title("Frozen 2") == "frozen 2"
    assert normalise_title("Dune: Part Two") == "dune part 2"
    assert normalise_title("Fast & Furious") == "fast and furious"


def test_dune_part_two_is_not_dune_and_a_sequel_is_not_its_first_part() -> None:
    assert _matched("Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.H.264-FLUX") == ["dune-2"]
    assert _matched("Dune.2021.2160p.UHD.BluRay.x265-TERMiNAL") == []
    assert _matched("Dune.Part.Three.2026.CAM") == []
    assert _matched("Frozen.II.2019.1080p.BluRay") == []
    assert _matched("Frozen.2013.1080p.BluRay") == ["frozen"]
    assert _matched("Mission.Impossible.Dead.Reckoning.Part.Two.2025.1080p") == []
    assert _matched("Mission.Impossible.Dead.Reckoning.Part.One.2023.1080p.WEB-DL") == ["mi7"]


def test_a_video_about_a_title_is_not_the_title_though_guessit_drops_the_words_that_say_so() -> None:
    release = parse_release("Dune.Part.Two.Ending.Explained.2024.1080p.WEB")
    assert (release.title, release.part, release.title_words) == ("Dune", 2, "Dune Part Two Ending Explained")
    assert _matched("Dune.Part.Two.Ending.Explained.2024.1080p.WEB") == []
    assert _matched("Dune.Part.Two.Behind.the.Scenes.2024.1080p") == []
    assert parse_release("The Office (US) Season 2 Complete 1080p").title_words == "The Office"
    assert parse_release("[SubsPlease] Attack on Titan - 60 (1080p)").title_words == "Attack on Titan"
    assert parse_release("us_2019_480p_webrip").title_words == "us"  # guessit took the title for a country


def test_a_title_with_a_number_is_read_whole_when_the_catalog_has_it() -> None:
    assert _matched("Blade.Runner.2049.1080p.HDTV.x264-GalaxyRG") == ["br2049"]
    assert _matched("Blade Runner 2049 (2017) [720p] [BluRay] [YTS.MX]") == ["br2049"]
    assert _matched("Blade.Runner.1982.Final.Cut.1080p") == []


def test_foreign_original_script_and_transliterated_names() -> None:
    assert _matched("Gisaengchung.2019.1080p.WEB-DL.H264-NTG") == ["parasite"]
    assert _matched("기생충.2019.1080p.WEB") == ["parasite"]
    assert _matched("Parasite.2019.KOREAN.1080p.BluRay.x264-EiDER") == ["parasite"]
    assert _matched("Игра.престолов.S01E01.2011.WEB-DL.1080p.Rus") == ["got-s01e01"]
    assert _matched("Igra.Prestolov.S01E02.WEB-DL") == ["got-s01e02"]


def test_a_one_word_title_needs_its_year_and_a_longer_title_is_not_it() -> None:
    assert _matched("Her.2013.720p.BluRay.x264-SPARKS") == ["her"]
    assert _matched("Her.720p.BluRay.x264") == []  # "Her" alone is in too many names
    assert _matched("Her.Smell.2018.1080p.WEB") == []
    assert _matched("Her.2019.1080p.WEB") == []


def test_a_leading_article_may_be_dropped_but_not_the_year() -> None:
    assert _matched("Lion.King.1994.1080p.BluRay") == ["lion-king"]
    assert _matched("The.Lion.King.2019.1080p.BluRay") == []


def test_episodes_packs_and_other_episodes() -> None:
    assert _matched("The.Office.US.S02E03.720p.WEBRip.x264-GalaxyTV") == ["office-s02e03"]
    assert _matched("The Office (US) Season 2 Complete 1080p AMZN WEB-DL") == [
        "office-s02e01", "office-s02e02", "office-s02e03"]
    assert _matched("The.Office.S02E01-E02.720p") == ["office-s02e01", "office-s02e02"]
    assert _matched("The.Office.S04E01.720p") == []
    assert _matched("The.Office.2005.1080p.BluRay") == []  # a series' name with no episode names no episode
    match = MATCHER.match(parse_release("The Office Season 2 Complete 1080p"))[0]
    assert "S02E01 ✔ (in a pack)" in match.reasons


def test_another_country_s_series_of_the_same_name_and_a_film_of_a_series_name_are_not_matched() -> None:
    assert _matched("The.Office.UK.S02E01.720p") == []
    assert _matched("Fargo.1996.1080p.BluRay") == []
    assert _matched("Fargo.S02E01.1080p.WEB") == ["fargo-s02e01"]


def test_a_size_that_no_copy_of_the_runtime_could_have_refuses_the_match() -> None:
    name = "Dune.Part.Two.2024.1080p.WEB-DL-FLUX"
    assert _matched(name, size_bytes=4_000_000_000) == ["dune-2"]
    assert _matched(name, size_bytes=5_000_000) == []  # 5 MB for 166 minutes
    match = MATCHER.match(parse_release(name), 4_000_000_000)[0]
    assert match.reasons[0] == "title 1.00" and "year 2024 ✔" in match.reasons
    assert any(reason.startswith("size 3.2 Mbit/s") for reason in match.reasons)


# -- the labelled corpus ---------------------------------------------------------------------
def _corpus_module():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import _release_corpus

    return _release_corpus


def test_the_corpus_halves_hold_a_thousand_labelled_names_each_and_share_no_title() -> None:
    module = _corpus_module()
    halves = {half: module.corpus(half, seed=19) for half in ("calibration", "evaluation")}
    titles = {}
    for half, (catalog, names) in halves.items():
        assert len(names) >= 1000
        assert sum(1 for n in names if not n.titles) >= 200
        titles[half] = {normalise_title(n) for entry in catalog for n in (entry.name, *entry.other_names)}
    assert not titles["calibration"] & titles["evaluation"]


@pytest.mark.slow
def test_matching_on_the_calibration_half_reaches_the_issue_s_precision_and_recall() -> None:
    catalog, names = _corpus_module().corpus("calibration", seed=19)
    matcher = CatalogMatcher(catalog)
    found = false = missed = 0
    for labelled in names:
        answer = {m.title_id for m in matcher.match(parse_release(labelled.name, matcher.numbered_titles),
                                                    labelled.size_bytes)}
        truth = set(labelled.titles)
        found, false, missed = found + len(answer & truth), false + len(answer - truth), missed + len(truth - answer)
    assert found / (found + false) >= 0.99
    assert found / (found + missed) >= 0.97
