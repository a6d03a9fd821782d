"""The Torznab source against a Torznab test server on loopback: caps, searches, paging, errors, hostile answers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelguard.errors import ConfigurationError, InvalidInput, SourceError
from reelguard.monitor.sources import SearchQuery, make_source, parse_infohash, parse_magnet, source_kinds
from reelguard.monitor.torznab import Torznab, load_api_key
from tests.source_servers import IndexerItem, TorznabTestServer

KEY = "s3cret-api-key-0123456789"


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


ITEMS = [
    *[IndexerItem(f"Dune.Part.Two.2024.1080p.WEB-DL.x264-GRP{i}", 2040, infohash=_hash(f"dune{i}"), seeders=i,
                  peers=i + 3) for i in range(120)],
    IndexerItem("The.Office.US.S02E03.720p.WEBRip.x264-GalaxyTV", 5040, infohash=_hash("office"), season=2, episode=3),
    IndexerItem("The.Office.US.S02E04.720p.WEBRip.x264-GalaxyTV", 5040, infohash=_hash("office4"), season=2, episode=4),
    IndexerItem("Oppenheimer.2023.HDTS.x264", 2000, magnet=f"magnet:?xt=urn:btih:{_hash('opp')}&dn=Oppenheimer",
             size=None),
    IndexerItem("Magnet.Base32.2020.720p", 2000,
             magnet="magnet:?xt=urn:btih:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U&dn=x"),
    IndexerItem("Broken.Hash.2020.720p", 2000, infohash="not-a-hash"),
]


@pytest.fixture
def server() -> Iterator[TorznabTestServer]:
    with TorznabTestServer(ITEMS, api_key=KEY) as running:
        yield running


def _source(server: TorznabTestServer, **options: float) -> Torznab:
    return Torznab("test-indexer", server.url, api_key=KEY, **options)  # type: ignore[arg-type]


def test_caps_say_which_functions_categories_and_page_size_the_indexer_has(server: TorznabTestServer) -> None:
    caps = _source(server).caps()
    assert caps.functions == {"search": ("q",), "tvsearch": ("q", "season", "ep")}
    assert caps.categories[2000] == "Movies" and caps.categories[2040] == "Movies/HD" and 5040 in caps.categories
    assert caps.max_limit == 50


def test_a_search_pages_through_every_item_with_offset_and_limit(server: TorznabTestServer) -> None:
    found = list(_source(server).search(SearchQuery("dune part two")))
    assert len(found) == 120 and len({item.infohash_v1 for item in found}) == 120
    pages = [request for request in server.requests if request.get("t") == "search"]
    assert [request["offset"] for request in pages] == ["0", "50", "100"]
    assert all(request["limit"] == "50" for request in pages)
    first = found[0]
    assert (first.source, first.name, first.categories) == ("test-indexer", ITEMS[0].title, (2040,))
    assert (first.seeders, first.leechers, first.size_bytes) == (0, 3, 1_500_000_000)
    assert first.link is not None and first.link.endswith(".torrent") and first.published is not None


def test_categories_filter_and_a_parent_category_holds_its_subcategories(server: TorznabTestServer) -> None:
    source = _source(server)
    movies = list(source.search(SearchQuery("2024", categories=(2000,))))
    assert len(movies) == 120 and all(item.categories == (2040,) for item in movies)
    assert [item.name for item in source.search(SearchQuery("office", categories=(5040,)))] == [
        ITEMS[120].title, ITEMS[121].title]
    assert server.requests[-1]["cat"] == "5040"


def test_a_tv_search_asks_for_season_and_episode(server: TorznabTestServer) -> None:
    found = list(_source(server).search(SearchQuery("office", kind="tvsearch", season=2, episode=4)))
    assert [item.name for item in found] == [ITEMS[121].title]
    assert (server.requests[-1]["season"], server.requests[-1]["ep"]) == ("2", "4")


def test_magnet_only_items_and_items_without_seeders(server: TorznabTestServer) -> None:
    source = _source(server)
    (opp,) = source.search(SearchQuery("oppenheimer"))
    assert opp.infohash_v1 == _hash("opp") and opp.magnet is not None and opp.seeders is None and opp.leechers is None
    assert opp.size_bytes is None
    (base32,) = source.search(SearchQuery("base32"))
    assert base32.infohash_v1 == "6162636465666768696a6b6c6d6e6f7071727374"  # b"abcdefghijklmnopqrst"


def test_an_item_with_an_invalid_infohash_is_skipped_with_why_and_the_rest_come(server: TorznabTestServer) -> None:
    source = _source(server)
    assert list(source.search(SearchQuery("broken"))) == []
    assert len(source.rejected) == 1 and "Broken.Hash" in source.rejected[0]
    assert "expected an infohash" in source.rejected[0]


def test_a_function_the_indexer_lacks_is_said_before_asking(server: TorznabTestServer) -> None:
    with pytest.raises(SourceError, match="no movie function") as caught:
        list(_source(server).search(SearchQuery("dune", kind="movie")))
    assert caught.value.code == 203 and not caught.value.retryable


def test_the_indexer_s_own_error_codes_become_clear_errors(server: TorznabTestServer) -> None:
    with pytest.raises(SourceError, match=r"refused the API key .*error 100") as caught:
        Torznab("test-indexer", server.url, api_key="wrong-key").caps()
    assert caught.value.code == 100 and not caught.value.retryable
    server.movie_search = False
    with pytest.raises(SourceError, match=r"does not offer that function .*202"):
        _source(server)._get({"t": "music"})
    server.mode = "error900"
    with pytest.raises(SourceError, match=r"failed .*error 900") as failed:
        _source(server).caps()
    assert failed.value.retryable


@pytest.mark.parametrize(("mode", "said", "retryable"), [
    ("http500", "answered HTTP 500", True),
    ("slow", "did not answer in time", True),
    ("xxe", "declares a DTD or entities", False),
    ("bomb", "declares a DTD or entities", False),
    ("huge", "more than 8388608 bytes", False),
])
def test_hostile_or_failing_answers_are_bounded_and_said_without_the_api_key(
        server: TorznabTestServer, mode: str, said: str, retryable: bool) -> None:
    server.mode = mode
    with pytest.raises(SourceError, match=said) as caught:
        _source(server, timeout_seconds=0.5).caps()
    assert caught.value.retryable is retryable
    assert KEY not in str(caught.value) and server.url in str(caught.value)


def test_the_api_key_is_read_from_a_0600_file_only(tmp_path: Path) -> None:
    key_file = tmp_path / "indexer.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="must be 0600"):
        load_api_key(key_file)
    key_file.chmod(0o600)
    assert load_api_key(key_file) == KEY
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_api_key(tmp_path / "missing.key")
    (tmp_path / "empty.key").write_text("  \n")
    (tmp_path / "empty.key").chmod(0o600)
    with pytest.raises(ConfigurationError, match="is empty"):
        load_api_key(tmp_path / "empty.key")


def test_sources_are_made_by_their_registered_kind(server: TorznabTestServer) -> None:
    assert "torznab" in source_kinds()
    source = make_source("torznab", name="by-kind", url=server.url, api_key=KEY)
    assert source.kind == "torznab" and source.name == "by-kind"
    with pytest.raises(InvalidInput, match=r"expected a source kind of .*got 'kazaa'"):
        make_source("kazaa", name="x")
    with pytest.raises(ConfigurationError, match="expected an http"):
        Torznab("x", "ftp://127.0.0.1/api", api_key=KEY)


# -- infohashes and magnets ----------------------------------------------------------------------
def test_infohashes_in_hex_base32_and_v2() -> None:
    assert parse_infohash("A" * 40) == ("a" * 40, None)
    assert parse_infohash("b" * 64) == (None, "b" * 64)
    assert parse_infohash("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U") == ("6162636465666768696a6b6c6d6e6f7071727374", None)
    for bad in ("", "abc", "g" * 40, "a" * 41, "1" * 32):
        with pytest.raises(InvalidInput, match="expected an infohash"):
            parse_infohash(bad)


def test_magnets_name_their_torrent_or_are_refused() -> None:
    magnet = parse_magnet(f"magnet:?xt=urn:btih:{'c' * 40}&xt=urn:btmh:1220{'d' * 64}&dn=Dune&tr=udp://127.0.0.1:6969")
    assert (magnet.infohash_v1, magnet.infohash_v2, magnet.display_name) == ("c" * 40, "d" * 64, "Dune")
    assert magnet.trackers == ("udp://127.0.0.1:6969",)
    with pytest.raises(InvalidInput, match="expected a magnet link"):
        parse_magnet("http://example.invalid/x.torrent")
    with pytest.raises(InvalidInput, match="naming a torrent"):
        parse_magnet("magnet:?dn=nothing")
    with pytest.raises(InvalidInput, match="expected an infohash"):
        parse_magnet("magnet:?xt=urn:btih:xyz")
