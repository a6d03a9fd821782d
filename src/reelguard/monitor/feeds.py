"""RSS and Atom feeds of release sites, read with ``feedparser``: items with a torrent enclosure or a magnet.

A release site's feed lists its newest releases; it cannot be searched, so a search is
answered from the feed's items whose names hold every word of the query. An item is a
sighting when it points at a torrent: an enclosure of type ``application/x-bittorrent``,
a magnet link (as its link, or in the ``torrent:magnetURI`` element some sites add), or an
infohash element (``torrent:infoHash``, ``nyaa:infoHash``). The body is fetched bounded and
checked for a DTD before feedparser sees it (``read_xml``), so XXE and entity bombs stop
there as they do for Torznab::

    feed = Feed("release-site", "http://127.0.0.1:8080/rss.xml")
    [item.name for item in feed.search(SearchQuery("oppenheimer"))]
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx

from reelguard.errors import ConfigurationError, InvalidInput, SourceError
from reelguard.monitor.sources import (
    PiracySource,
    SearchQuery,
    SourceItem,
    Throttle,
    fetch,
    parse_infohash,
    parse_magnet,
    read_xml,
    register_source,
    whole_number,
    words_in,
)

__all__ = ["Feed", "feed_items"]

_TORRENT_TYPE = "application/x-bittorrent"
_INFOHASH_KEYS = ("torrent_infohash", "nyaa_infohash", "infohash")
_MAGNET_KEYS = ("torrent_magneturi", "magneturi")
_FEED_ROOTS = frozenset({"rss", "RDF", "feed"})


class Feed(PiracySource):
    kind = "feed"

    def __init__(self, name: str, url: str, *, timeout_seconds: float = 20.0,
                 transport: httpx.BaseTransport | None = None, throttle: Throttle | None = None) -> None:
        super().__init__(name, throttle=throttle)
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"feed source {name!r}: expected an http(s) URL, got {url!r}")
        self.url = url
        self._client = httpx.Client(timeout=timeout_seconds, follow_redirects=False, transport=transport)

    def search(self, query: SearchQuery) -> Iterator[SourceItem]:
        where = f"feed source {self.name!r} ({self.url})"
        self.throttle.wait()
        status, body = fetch(self._client, self.url, {}, where)
        if status >= 400:
            raise SourceError(f"{where} answered HTTP {status}")
        items, rejected = feed_items(self.name, body, where)
        self.rejected.extend(rejected)
        yield from (item for item in items if words_in(query.terms, item.name))

    def close(self) -> None:
        self._client.close()


def feed_items(source: str, body: bytes, where: str) -> tuple[list[SourceItem], list[str]]:
    """The torrent items of an RSS or Atom document, and the items refused with why."""
    try:
        root = read_xml(body, where)  # bounded, no DTD: only then does feedparser see it
    except InvalidInput as exc:
        raise SourceError(str(exc)) from None
    if root.tag.rsplit("}", 1)[-1] not in _FEED_ROOTS:
        raise SourceError(f"{where} is not an RSS or Atom feed: expected <rss>, <rdf:RDF> or <feed>, got <{root.tag}>")
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    items, rejected = [], []
    for entry in parsed.entries:
        try:
            item = _item(source, entry)
        except InvalidInput as exc:
            rejected.append(f"{str(entry.get('title', '?'))[:120]!r}: {exc}")
            continue
        if item is not None:
            items.append(item)
    return items, rejected


def _item(source: str, entry: Any) -> SourceItem | None:
    name = str(entry.get("title", "")).strip()
    enclosure = next((e for e in entry.get("enclosures", []) if e.get("type") == _TORRENT_TYPE), None)
    link = str(entry.get("link", "") or "")
    magnet = next((str(entry[key]) for key in _MAGNET_KEYS if entry.get(key)), None)
    if magnet is None and link.startswith("magnet:?"):
        magnet = link
    v1 = v2 = None
    hash_text = next((str(entry[key]) for key in _INFOHASH_KEYS if entry.get(key)), None)
    if hash_text:
        v1, v2 = parse_infohash(hash_text)
    if magnet:
        parsed = parse_magnet(magnet)
        v1, v2 = v1 or parsed.infohash_v1, v2 or parsed.infohash_v2
    if enclosure is None and magnet is None and v1 is None and v2 is None:
        return None  # a news post, not a release
    size = enclosure.get("length") if enclosure is not None else entry.get("torrent_contentlength")
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    return SourceItem(
        source, str(entry.get("id") or v1 or v2 or name), name,
        whole_number(size) or None,
        v1, v2, magnet, enclosure.get("href") if enclosure is not None else (link or None),
        published=_utc(published),
        seeders=whole_number(entry.get("nyaa_seeders") or entry.get("torrent_seeds")),
        leechers=whole_number(entry.get("nyaa_leechers") or entry.get("torrent_peers")))


def _utc(moment: Any) -> datetime | None:
    """feedparser's parsed time (a UTC ``struct_time``) as an aware datetime."""
    if not moment:
        return None
    year, month, day, hour, minute, second = (int(part) for part in tuple(moment)[:6])
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)



register_source("feed", Feed)
