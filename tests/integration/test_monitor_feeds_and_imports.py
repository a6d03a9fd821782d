"""RSS/Atom feeds of release sites (a feed served on loopback) and vendor exports (CSV, JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reelguard.errors import InvalidInput, SourceError
from reelguard.monitor.feeds import Feed
from reelguard.monitor.imports import ImportedSightings
from reelguard.monitor.sources import SearchQuery, make_source
from tests.source_servers import FeedTestServer

V1 = "0123456789abcdef0123456789abcdef01234567"
RSS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/" xmlns:nyaa="https://nyaa.si/xmlns/nyaa">
<channel><title>releases</title>
<item><title>Oppenheimer.2023.HDTS.x264-SUNSCREEN</title><guid>site-1</guid>
  <enclosure url="http://127.0.0.1/t/1.torrent" length="1400000000" type="application/x-bittorrent"/>
  <pubDate>Tue, 01 Dec 2026 10:00:00 +0000</pubDate><torrent:infoHash>{V1}</torrent:infoHash></item>
<item><title>Dune.Part.Two.2024.1080p.WEB-DL-FLUX</title><link>magnet:?xt=urn:btih:{"a" * 40}&amp;dn=Dune</link>
  <nyaa:seeders>12</nyaa:seeders><nyaa:leechers>3</nyaa:leechers></item>
<item><title>Site news: we moved</title><link>http://127.0.0.1/news</link></item>
<item><title>Bad.Hash.2020</title><torrent:infoHash>zzzz</torrent:infoHash></item>
</channel></rss>""".encode()
ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>atom releases</title>
<entry><title>Oppenheimer 2023 1080p WEBRip</title><id>urn:x:1</id><updated>2026-12-01T10:00:00Z</updated>
<link rel="enclosure" type="application/x-bittorrent" href="http://127.0.0.1/t/2.torrent" length="900"/>
<link rel="alternate" href="magnet:?xt=urn:btih:{"b" * 40}"/></entry></feed>""".encode()


def test_an_rss_feed_s_torrent_items_are_read_and_news_posts_are_not() -> None:
    with FeedTestServer(RSS) as server:
        feed = Feed("site", server.url)
        items = list(feed.search(SearchQuery("")))
    assert [item.name for item in items] == ["Oppenheimer.2023.HDTS.x264-SUNSCREEN",
                                             "Dune.Part.Two.2024.1080p.WEB-DL-FLUX"]
    opp, dune = items
    assert (opp.infohash_v1, opp.size_bytes, opp.link, opp.item_id) == (V1, 1_400_000_000,
                                                                       "http://127.0.0.1/t/1.torrent", "site-1")
    assert opp.published is not None and opp.published.year == 2026
    assert (dune.infohash_v1, dune.seeders, dune.leechers) == ("a" * 40, 12, 3)
    assert len(feed.rejected) == 1 and "Bad.Hash" in feed.rejected[0]


def test_a_feed_is_searched_by_the_words_of_its_item_names() -> None:
    with FeedTestServer(RSS) as server:
        assert [i.name for i in Feed("site", server.url).search(SearchQuery("dune part two"))] == [
            "Dune.Part.Two.2024.1080p.WEB-DL-FLUX"]


def test_an_atom_feed_with_a_torrent_enclosure() -> None:
    with FeedTestServer(ATOM) as server:
        (item,) = make_source("feed", name="atom", url=server.url).search(SearchQuery("oppenheimer"))
    assert item.link == "http://127.0.0.1/t/2.torrent" and item.published is not None


@pytest.mark.parametrize(("body", "said"), [
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>', "DTD"),
    (b"this is not a feed at all", "expected XML"),
    (b"<html><body>blocked</body></html>", "not an RSS or Atom feed"),
])
def test_a_hostile_or_wrong_feed_is_refused_saying_what_arrived(body: bytes, said: str) -> None:
    with FeedTestServer(body) as server, pytest.raises(SourceError, match=said):
        list(Feed("site", server.url).search(SearchQuery("")))


def test_a_feed_that_fails_may_be_tried_again() -> None:
    with FeedTestServer(b"down", status=503) as server, pytest.raises(SourceError, match="HTTP 503") as caught:
        list(Feed("site", server.url).search(SearchQuery("")))
    assert caught.value.retryable


# -- a vendor's export ------------------------------------------------------------------------
def test_a_csv_export_is_imported_row_by_row(tmp_path: Path) -> None:
    export = tmp_path / "vendor.csv"
    export.write_text("name,infohash,magnet,size_bytes,seeders,leechers,first_seen\n"
                      f"Oppenheimer.2023.HDTS.x264,{V1},,1400000000,40,7,2026-11-30T08:00:00Z\n"
                      f"Dune.Part.Two.2024.1080p,,magnet:?xt=urn:btih:{'c' * 40},,,,\n")
    items = ImportedSightings("vendor", export).items()
    assert [(i.name, i.infohash_v1, i.seeders) for i in items] == [
        ("Oppenheimer.2023.HDTS.x264", V1, 40), ("Dune.Part.Two.2024.1080p", "c" * 40, None)]
    assert items[0].published is not None and items[0].published.tzinfo is not None


def test_a_json_export_and_its_search(tmp_path: Path) -> None:
    export = tmp_path / "vendor.json"
    export.write_text(json.dumps({"items": [{"name": "Dune.Part.Two.2024.1080p", "infohash": "d" * 40},
                                            {"name": "Frozen.2013.720p", "infohash": "e" * 64}]}))
    source = ImportedSightings("vendor", export)
    assert [i.infohash_v2 for i in source.items()] == [None, "e" * 64]
    assert [i.name for i in source.search(SearchQuery("frozen"))] == ["Frozen.2013.720p"]


def test_an_export_with_bad_rows_is_refused_whole_naming_every_bad_row(tmp_path: Path) -> None:
    export = tmp_path / "vendor.csv"
    export.write_text("name,infohash,magnet,seeders,first_seen\n"
                      f"Good.Row.2020,{V1},,5,\n"
                      "No.Hash.2020,,,3,\n"
                      "Bad.Hash.2020,xyz,,,\n"
                      f"Bad.Count.2020,{V1},,many,\n"
                      f"Bad.Time.2020,{V1},,,yesterday\n"
                      f",{V1},,,\n")
    with pytest.raises(InvalidInput) as caught:
        ImportedSightings("vendor", export).items()
    said = str(caught.value)
    assert "5 of 6 rows are not sightings, nothing was imported" in said
    for part in ("row 2: expected an infohash or a magnet", "row 3: expected an infohash",
                 "row 4: expected seeders as a whole number, got 'many'", "row 5: expected first_seen",
                 "row 6: expected a release name"):
        assert part in said


@pytest.mark.parametrize(("name", "content", "said"), [
    ("export.txt", "name\nx\n", "expected a .csv or .json export"),
    ("export.csv", "title,hash\nx,y\n", "a header holding 'name'"),
    ("export.json", "{not json", "expected JSON"),
    ("export.json", '{"items": 3}', "expected a JSON list of objects"),
])
def test_an_export_that_is_not_one_is_refused(tmp_path: Path, name: str, content: str, said: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(InvalidInput, match=said):
        ImportedSightings("vendor", tmp_path / name).items()
    with pytest.raises(InvalidInput, match="found nothing there"):
        ImportedSightings("vendor", tmp_path / "missing.csv").items()
