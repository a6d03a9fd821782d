"""Torznab: the Newznab RSS dialect that Jackett, Prowlarr and bitmagnet speak (Torznab 1.3).

``t=caps`` says what an indexer can do (which search functions, their parameters, its
categories, its page limits); ``t=search`` / ``tvsearch`` (``season``, ``ep``) / ``movie``
answer RSS items with ``torznab:attr`` elements (``infohash``, ``magneturl``, ``seeders``,
``peers``, ``size``, ``category``). Pages are asked for with ``offset`` and ``limit`` until
a short page or the indexer's stated total. An indexer that refuses answers ``<error
code=… description=…/>``: 100-199 the API key, 201 a bad request, 203 a function it lacks,
900 and up its own failure — each becomes a ``SourceError`` that says which, and whether a
later try may succeed (900+, HTTP 5xx and 429, timeouts).

The API key goes in every request's query (the protocol's way) and nowhere else: errors
name the indexer's base URL only, never a URL with the key in it::

    indexer = Torznab("local-jackett", "http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab",
                      api_key=load_api_key(Path("/srv/rg/jackett.key")))
    indexer.caps().categories            # {2000: "Movies", 2040: "Movies/HD", …}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree.ElementTree import Element

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
)
from reelguard.secretfiles import read_secret_text

__all__ = ["Capabilities", "Torznab", "load_api_key"]

TORZNAB_NS = "http://torznab.com/schemas/2015/feed"
NEWZNAB_NS = "http://www.newznab.com/DTD/2010/feeds/attributes/"
_FUNCTIONS = {"search": "search", "tvsearch": "tv-search", "movie": "movie-search"}
_MAX_ITEMS = 10_000  # a search that lists more than this is asking the wrong question


def load_api_key(path: Path) -> str:
    """An indexer's API key from a 0600 file (the way reelguard keeps every secret)."""
    return read_secret_text(path, "Torznab API key")


@dataclass(frozen=True)
class Capabilities:
    """What ``t=caps`` says: search functions with their parameters, categories, page limits."""

    functions: Mapping[str, tuple[str, ...]]  # "search" / "tvsearch" / "movie" → supported parameters
    categories: Mapping[int, str]
    default_limit: int
    max_limit: int


class Torznab(PiracySource):
    kind = "torznab"

    def __init__(self, name: str, url: str, *, api_key: str, timeout_seconds: float = 20.0,
                 transport: httpx.BaseTransport | None = None, throttle: Throttle | None = None) -> None:
        super().__init__(name, throttle=throttle)
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"Torznab source {name!r}: expected an http(s) URL, got {url!r}")
        self.url, self._api_key = url, api_key
        self._client = httpx.Client(timeout=timeout_seconds, follow_redirects=False, transport=transport)
        self._caps: Capabilities | None = None

    def caps(self) -> Capabilities:
        if self._caps is None:
            self._caps = _capabilities(self._get({"t": "caps"}))
        return self._caps

    def search(self, query: SearchQuery) -> Iterator[SourceItem]:
        caps = self.caps()
        supported = caps.functions.get(query.kind)
        if supported is None:
            raise SourceError(f"Torznab source {self.name!r} ({self.url}) has no {query.kind} function "
                              f"(it offers {', '.join(sorted(caps.functions)) or 'none'})", code=203)
        params: dict[str, str] = {"t": query.kind, "q": query.terms}
        if query.season is not None and "season" in supported:
            params["season"] = str(query.season)
        if query.episode is not None and "ep" in supported:
            params["ep"] = str(query.episode)
        if query.categories:
            params["cat"] = ",".join(str(c) for c in query.categories)
        limit = max(1, caps.max_limit or caps.default_limit or 100)
        offset = 0
        while offset < _MAX_ITEMS:
            channel = self._get({**params, "offset": str(offset), "limit": str(limit)}).find("channel")
            if channel is None:
                raise SourceError(f"Torznab source {self.name!r} ({self.url}) answered RSS without a channel")
            items = channel.findall("item")
            for item in items:
                try:
                    yield self._item(item)
                except InvalidInput as exc:  # one hostile item does not end the search
                    self.rejected.append(f"{(item.findtext('title') or '?')[:120]!r}: {exc}")
            total = _total(channel)
            offset += len(items)
            if len(items) < limit or (total is not None and offset >= total):
                return

    def close(self) -> None:
        self._client.close()

    def _get(self, params: dict[str, str]) -> Element:
        """One request: bounded, its errors said without the API key, ``<error>`` turned into ``SourceError``."""
        where = f"Torznab source {self.name!r} ({self.url})"
        self.throttle.wait()
        status, body = fetch(self._client, self.url, {**params, "apikey": self._api_key}, where)
        if status >= 400 and not body.lstrip().startswith(b"<"):
            raise SourceError(f"{where} answered HTTP {status}")
        try:
            root = read_xml(body, where)
        except InvalidInput as exc:
            raise SourceError(str(exc)) from None
        if root.tag == "error":
            raise _refusal(where, root)
        return root

    def _item(self, item: Element) -> SourceItem:
        attrs = {a.get("name", ""): a.get("value", "") for a in item.findall(f"{{{TORZNAB_NS}}}attr")}
        attrs.update({a.get("name", ""): a.get("value", "") for a in item.findall(f"{{{NEWZNAB_NS}}}attr")
                      if a.get("name", "") not in attrs})
        name = (item.findtext("title") or "").strip()
        v1 = v2 = None
        if attrs.get("infohash"):
            v1, v2 = parse_infohash(attrs["infohash"])
        magnet = attrs.get("magneturl") or _magnet_link(item)
        if magnet:
            parsed = parse_magnet(magnet)
            v1, v2 = v1 or parsed.infohash_v1, v2 or parsed.infohash_v2
        enclosure = item.find("enclosure")
        link = (enclosure.get("url") if enclosure is not None else None) or (item.findtext("link") or None)
        guid = (item.findtext("guid") or "").strip() or v1 or v2 or name
        seeders, peers = whole_number(attrs.get("seeders")), whole_number(attrs.get("peers"))
        leechers = whole_number(attrs.get("leechers")) if "leechers" in attrs else (
            peers - seeders if peers is not None and seeders is not None and peers >= seeders else None)
        size = whole_number(attrs.get("size") or item.findtext("size") or
                      (enclosure.get("length") if enclosure is not None else None))
        categories = tuple(sorted({int(c) for c in _all_categories(item, attrs) if c.isdigit()}))
        known = {"infohash", "magneturl", "seeders", "peers", "leechers", "size", "category"}
        return SourceItem(self.name, guid, name, size, v1, v2, magnet or None, link, categories, seeders, leechers,
                          _published(item.findtext("pubDate")), {k: v for k, v in attrs.items() if k not in known})


def _refusal(where: str, error: Element) -> SourceError:
    code_text = error.get("code", "")
    code = int(code_text) if code_text.isdigit() else None
    said = error.get("description", "") or "no description"
    if code is not None and 100 <= code <= 199:
        return SourceError(f"{where} refused the API key (Torznab error {code}: {said})", code=code)
    if code == 201:
        return SourceError(f"{where} called the request malformed (Torznab error 201: {said})", code=code)
    if code in (202, 203):
        return SourceError(f"{where} does not offer that function (Torznab error {code}: {said})", code=code)
    if code is not None and code >= 900:
        return SourceError(f"{where} failed (Torznab error {code}: {said})", code=code, retryable=True)
    return SourceError(f"{where} refused the request (Torznab error {code_text or '?'}: {said})", code=code)


def _capabilities(root: Element) -> Capabilities:
    if root.tag != "caps":
        raise SourceError(f"expected a <caps> answer to t=caps, got <{root.tag}>")
    functions: dict[str, tuple[str, ...]] = {}
    searching = root.find("searching")
    for kind, tag in _FUNCTIONS.items():
        element = searching.find(tag) if searching is not None else None
        if element is not None and element.get("available", "no").lower() == "yes":
            functions[kind] = tuple(p.strip() for p in element.get("supportedParams", "q").split(",") if p.strip())
    categories: dict[int, str] = {}
    for category in root.iter("category"):
        for element in (category, *category.findall("subcat")):
            if element.get("id", "").isdigit():
                categories[int(element.get("id", "0"))] = element.get("name", "")
    limits = root.find("limits")
    default, most = (None, None) if limits is None else (limits.get("default"), limits.get("max"))
    return Capabilities(functions, categories, whole_number(default) or 100, whole_number(most) or 100)


def _total(channel: Element) -> int | None:
    response = channel.find(f"{{{NEWZNAB_NS}}}response")
    return whole_number(response.get("total")) if response is not None else None


def _magnet_link(item: Element) -> str | None:
    for text in (item.findtext("link"), item.findtext("guid")):
        if text and text.strip().startswith("magnet:?"):
            return text.strip()
    return None


def _all_categories(item: Element, attrs: Mapping[str, str]) -> list[str]:
    found = [a.get("value", "") for a in item.findall(f"{{{TORZNAB_NS}}}attr") if a.get("name") == "category"]
    return found + [c.strip() for c in (item.findtext("category") or "").split(",")] + [attrs.get("category", "")]



def _published(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


register_source("torznab", Torznab)
