"""A round of watching against an indexer and a feed on loopback: sightings stored once, counted again, matched.

Runs on SQLite, and on PostgreSQL in CI's second pass (``database_url_factory``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from reelguard.errors import NotFound
from reelguard.monitor.feeds import Feed
from reelguard.monitor.matching import CatalogEntry, CatalogMatcher
from reelguard.monitor.rounds import MonitorRound, watch_queries
from reelguard.monitor.sources import SearchQuery
from reelguard.monitor.torznab import Torznab
from reelguard.store import Database
from reelguard.store.sightings import Listing, SightingStore
from tests.source_servers import FeedTestServer, IndexerItem, TorznabTestServer

KEY = "round-key"
ENTRIES = [CatalogEntry("dune-2", "Dune: Part Two", 2024, runtime_seconds=166 * 60.0),
           *[CatalogEntry(f"office-s02e0{e}", "The Office", 2005, season=2, episode=e, country="US") for e in (1, 2)]]


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


ITEMS = [
    IndexerItem("Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.H.264-FLUX", 2040, infohash=_hash("dune"), seeders=40,
                peers=52, size=4_000_000_000),
    IndexerItem("Dune.Part.Two.2024.HDTS.x264-SUNSCREEN", 2000, infohash=_hash("dune-ts"), seeders=5, peers=9),
    IndexerItem("Dune.Part.Two.Ending.Explained.2024.1080p.WEB", 2000, infohash=_hash("dune-3"), seeders=2),
    IndexerItem("The.Office.US.S02E01.720p.WEBRip.x264-GalaxyTV", 5040, infohash=_hash("office1"), season=2,
                episode=1),
    IndexerItem("The.Office.US.S02.COMPLETE.1080p.WEB-DL.x264-NTb", 5040, infohash=_hash("office-pack"), season=2),
    IndexerItem("Broken.Dune.Part.Two.2024", 2000, infohash="zz-not-a-hash"),
]
FEED = f"""<?xml version="1.0"?><rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/"><channel><title>s</title>
<item><title>Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.H.264-FLUX</title><guid>feed-7</guid>
<torrent:infoHash>{_hash("dune")}</torrent:infoHash></item></channel></rss>""".encode()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(database_url_factory: Callable[[], str]) -> Iterator[SightingStore]:
    db = Database.connect(database_url_factory())
    yield SightingStore(db)
    db.dispose()


def test_watch_queries_search_films_by_every_name_and_series_once_a_season() -> None:
    queries = watch_queries([*ENTRIES, CatalogEntry("parasite", "Parasite", 2019, ("기생충",))])
    assert queries == [SearchQuery("Dune Part Two"), SearchQuery("The Office", kind="tvsearch", season=2),
                       SearchQuery("Parasite"), SearchQuery("기생충")]


def test_a_round_stores_each_torrent_once_across_sources_and_counts_it_again(store: SightingStore) -> None:
    clock = Clock()
    with TorznabTestServer(ITEMS, api_key=KEY) as indexer, FeedTestServer(FEED) as feed:
        sources = [Torznab("indexer", indexer.url, api_key=KEY), Feed("site", feed.url)]
        watch = MonitorRound(sources, CatalogMatcher(ENTRIES), store, clock)
        first = watch.run(watch_queries(ENTRIES)).to_json()["sources"]
        clock.now += timedelta(hours=1)
        second = watch.run(watch_queries(ENTRIES)).to_json()["sources"]

    assert [(s["source"], s["queries"], s["new"], s["seen_again"], s["error"]) for s in first] == [
        ("indexer", 2, 5, 0, None), ("site", 2, 0, 1, None)]
    assert len(first[0]["rejected"]) == 1 and "Broken.Dune" in first[0]["rejected"][0]
    assert [(s["new"], s["seen_again"]) for s in second] == [(0, 5), (0, 1)]
    assert store.count() == 5

    dune = store.get(_hash("dune"))
    assert (dune.times_seen, dune.seeders, dune.leechers, dune.size_bytes) == (4, 40, 12, 4_000_000_000)
    assert dune.first_seen == datetime(2026, 12, 3, 12, 0, tzinfo=UTC) and dune.last_seen == clock.now
    assert sorted((listing["source"], listing["item_id"]) for listing in dune.listings) == [
        ("indexer", _hash("dune")), ("site", "feed-7")]
    assert dune.matches[0]["title_id"] == "dune-2" and "year 2024 ✔" in dune.matches[0]["reasons"]
    assert "size 3.2 Mbit/s ✔" in dune.matches[0]["reasons"]

    assert store.get(_hash("dune-ts")).release["cinema_copy"] is True
    assert store.get(_hash("dune-3")).matches == []  # a video about the film: stored as seen, not matched
    pack = store.get(_hash("office-pack"))
    assert [m["title_id"] for m in pack.matches] == ["office-s02e01", "office-s02e02"]
    assert {s.infohash_v1 for s in store.find(matched=False)} == {_hash("dune-3")}
    assert {s.infohash_v1 for s in store.find(title_id="office-s02e01")} == {_hash("office1"), _hash("office-pack")}


def test_a_failing_source_is_reported_and_the_round_goes_on(store: SightingStore) -> None:
    with TorznabTestServer(ITEMS, api_key=KEY) as indexer, FeedTestServer(FEED) as feed:
        indexer.mode = "http500"
        sources = [Torznab("indexer", indexer.url, api_key=KEY), Feed("site", feed.url)]
        report = MonitorRound(sources, CatalogMatcher(ENTRIES), store, Clock()).run(watch_queries(ENTRIES))
    broken, working = report.to_json()["sources"]
    assert broken["error"] is not None and "HTTP 500" in broken["error"] and broken["retryable"]
    assert KEY not in broken["error"]
    assert (working["new"], working["error"]) == (1, None)


def test_a_listing_is_found_again_by_its_listing_and_a_hash_learnt_later_is_kept(store: SightingStore) -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)
    assert store.record([Listing("site", "item-1", "Dune.Part.Two.2024.1080p", link="http://x/1.torrent")], now) == (
        1, 0)
    assert store.record([Listing("site", "item-1", "Dune.Part.Two.2024.1080p", infohash_v1="f" * 40)], now) == (0, 1)
    assert store.record([Listing("other", "x", "Dune.Part.Two.2024.1080p", infohash_v1="f" * 40)], now) == (0, 1)
    sighting = store.get("f" * 40)
    assert (sighting.times_seen, sighting.link, len(sighting.listings)) == (3, "http://x/1.torrent", 2)
    long_id = "http://indexer.invalid/details?" + "q=" * 400
    assert store.record([Listing("site", long_id, "Other.2020", infohash_v1="e" * 40)] * 2, now) == (1, 1)
    with pytest.raises(NotFound, match="no sighting 'nothing-here'"):
        store.get("nothing-here")
