"""Where copies are listed: the ``PiracySource`` interface, what a source lists (``SourceItem``), and its registry.

A source answers searches with items — a release name, its size, the torrent's infohash
(v1: SHA-1 of the info dictionary, 40 hex digits; v2: SHA-256, 64), a magnet link, seeders
and leechers as the source counts them. Every source speaks untrusted text from the
network, so everything here is checked where it arrives: an infohash is hex of the right
length (a base32 v1 hash in a magnet is turned to hex), a magnet must name a torrent,
and XML is read only after its size is bounded and with DTDs refused (``read_xml``:
no entity expansion, no external entities — XXE and "billion laughs" stop there).

Sources register under a stable name that stored sightings carry::

    source = make_source("torznab", name="my-indexer", url="http://127.0.0.1:9117/api", api_key=key)
    for item in source.search(SearchQuery("Dune Part Two")):
        item.name, item.infohash_v1, item.seeders
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from reelguard.errors import InvalidInput, SourceError

__all__ = ["MAX_RESPONSE_BYTES", "Magnet", "PiracySource", "SearchQuery", "SourceItem", "Throttle", "fetch",
           "make_source",
           "parse_infohash", "parse_magnet", "read_xml", "register_source", "source_kinds", "whole_number",
           "words_in"]

MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # an indexer's page of 100 items is about 100 kB; 8 MB is not a page
_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True)
class SearchQuery:
    """One search: words, and what kind of release (``search``, ``tvsearch`` with season/episode, ``movie``)."""

    terms: str
    kind: str = "search"
    season: int | None = None
    episode: int | None = None
    categories: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("search", "tvsearch", "movie"):
            raise InvalidInput(f"expected a search kind of search, tvsearch or movie, got {self.kind!r}")


@dataclass(frozen=True)
class SourceItem:
    """One listing of a release on a source, as the source gave it (checked, not yet matched)."""

    source: str  # the source's configured name
    item_id: str  # the source's own id of the listing (its guid), or the infohash when it has none
    name: str
    size_bytes: int | None = None
    infohash_v1: str | None = None  # lower-case hex
    infohash_v2: str | None = None
    magnet: str | None = None
    link: str | None = None  # where the .torrent file is
    categories: tuple[int, ...] = ()
    seeders: int | None = None
    leechers: int | None = None
    published: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # every other attribute the source gave

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "item_id": self.item_id, "name": self.name, "size_bytes": self.size_bytes,
                "infohash_v1": self.infohash_v1, "infohash_v2": self.infohash_v2, "magnet": self.magnet,
                "link": self.link, "categories": list(self.categories), "seeders": self.seeders,
                "leechers": self.leechers, "published": self.published.isoformat() if self.published else None,
                "attributes": self.attributes}


class Throttle:
    """At most ``per_minute`` requests a minute to one source: each waits for its turn (indexers ban the impatient)."""

    def __init__(self, per_minute: float | None, *, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.gap = 60.0 / per_minute if per_minute else 0.0
        self._sleep, self._monotonic = sleep, monotonic
        self._next = -math.inf

    def wait(self) -> None:
        now = self._monotonic()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.gap


class PiracySource(ABC):
    """A place copies are listed. ``kind`` is the registry name sightings store; ``name`` the configured one."""

    kind: str

    def __init__(self, name: str, *, throttle: Throttle | None = None) -> None:
        self.name = name
        self.throttle = throttle or Throttle(None)
        self.rejected: list[str] = []  # items refused since last asked, each with why (a bad infohash or magnet)

    @abstractmethod
    def search(self, query: SearchQuery) -> Iterator[SourceItem]:
        """Every item the source lists for ``query`` (paged through); raises ``SourceError`` when the source fails."""


_REGISTRY: dict[str, Callable[..., PiracySource]] = {}


def register_source(kind: str, factory: Callable[..., PiracySource]) -> None:
    _REGISTRY[kind] = factory


def source_kinds() -> list[str]:
    return sorted(_REGISTRY)


def make_source(kind: str, **options: Any) -> PiracySource:
    """A source of a registered ``kind`` ("torznab", "feed", "import"), configured by ``options``."""
    if kind not in _REGISTRY:
        raise InvalidInput(f"expected a source kind of {', '.join(source_kinds())}, got {kind!r}")
    return _REGISTRY[kind](**options)


def parse_infohash(text: str) -> tuple[str | None, str | None]:
    """(v1, v2) hex infohashes from ``text``: 40 hex digits (v1), 32 base32 letters (v1), or 64 hex digits (v2).

    Raises ``InvalidInput`` for anything else.
    """
    value = text.strip()
    if len(value) == 40 and _HEX.fullmatch(value):
        return value.lower(), None
    if len(value) == 64 and _HEX.fullmatch(value):
        return None, value.lower()
    if len(value) == 32:
        try:
            return base64.b32decode(value.upper()).hex(), None
        except (binascii.Error, ValueError):
            pass
    shown = value if len(value) <= 80 else value[:80] + "…"
    raise InvalidInput(f"expected an infohash (40 or 64 hex digits, or 32 base32 letters), got {shown!r}")


@dataclass(frozen=True)
class Magnet:
    infohash_v1: str | None
    infohash_v2: str | None
    display_name: str | None
    trackers: tuple[str, ...]


def parse_magnet(uri: str) -> Magnet:
    """A magnet link's infohashes (``xt=urn:btih:`` v1, ``urn:btmh:1220…`` v2), name and trackers.

    Raises ``InvalidInput`` for a link that is not a magnet or names no torrent.
    """
    shown = uri if len(uri) <= 120 else uri[:120] + "…"
    if not uri.startswith("magnet:?"):
        raise InvalidInput(f"expected a magnet link (magnet:?xt=urn:btih:…), got {shown!r}")
    fields = urllib.parse.parse_qs(uri[len("magnet:?"):])
    v1 = v2 = None
    for topic in fields.get("xt", []):
        if topic.lower().startswith("urn:btih:"):
            v1 = parse_infohash(topic[len("urn:btih:"):])[0]
        elif topic.lower().startswith("urn:btmh:1220"):
            v2 = parse_infohash(topic[len("urn:btmh:1220"):])[1]
    if v1 is None and v2 is None:
        raise InvalidInput(f"expected a magnet link naming a torrent (xt=urn:btih: or urn:btmh:), got {shown!r}")
    names = fields.get("dn", [])
    return Magnet(v1, v2, names[0] if names else None, tuple(fields.get("tr", [])))


def fetch(client: httpx.Client, url: str, params: dict[str, str], where: str) -> tuple[int, bytes]:
    """(status, body) of one GET, read to at most ``MAX_RESPONSE_BYTES``.

    Raises ``SourceError`` — retryable for a timeout, an unreachable source, HTTP 5xx and
    429 — that names the source by ``where`` only: the URL with its query (an API key) is
    never said.
    """
    try:
        with client.stream("GET", url, params=params) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                raise SourceError(f"{where} answered {declared} bytes; at most {MAX_RESPONSE_BYTES} are read")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise SourceError(f"{where} answered more than {MAX_RESPONSE_BYTES} bytes; reading stopped")
            status = response.status_code
    except httpx.TimeoutException:
        raise SourceError(f"{where} did not answer in time", retryable=True) from None
    except httpx.HTTPError as exc:
        raise SourceError(f"{where} could not be reached ({type(exc).__name__})", retryable=True) from None
    if status >= 500 or status == 429:
        raise SourceError(f"{where} answered HTTP {status}", retryable=True)
    return status, bytes(body)


def read_xml(body: bytes, what: str) -> Element:
    """``body`` parsed as XML, refusing a DTD (entities, external entities) and anything over ``MAX_RESPONSE_BYTES``."""
    if len(body) > MAX_RESPONSE_BYTES:
        raise InvalidInput(f"{what}: expected at most {MAX_RESPONSE_BYTES} bytes of XML, got {len(body)}")
    try:
        return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InvalidInput(f"{what}: the XML declares a DTD or entities, which a source never needs ({exc})") from exc
    except ParseError as exc:
        raise InvalidInput(f"{what}: expected XML, got {_excerpt(body)!r} ({exc})") from exc


def whole_number(value: object) -> int | None:
    """A count a source gave (seeders, size, a page total) as an int, or None when it gave none or not a number."""
    text = "" if value is None else str(value).strip()
    return int(text) if text.isdigit() else None


def words_in(query: str, name: str) -> bool:
    """Whether every word of ``query`` is in ``name`` (dots, dashes and underscores are spaces): a feed's own search."""
    haystack = " ".join(re.split(r"[\s._\-\[\]()]+", name.casefold()))
    return all(word in haystack for word in query.casefold().split())


def _excerpt(body: bytes) -> str:
    return body[:80].decode("utf-8", "replace")
