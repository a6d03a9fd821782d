"""One round of watching: the catalog's searches asked of every source, each item read, matched and stored.

What to search for comes from the catalog (``watch_queries``): a film by its name and
each of its other names; a series once per season (Torznab's ``tvsearch`` with
``season``), since a season's episodes and its packs all answer that. Every item a
source lists is read (``releases``), matched (``matching``) and recorded as a sighting
(``store.sightings``: one per torrent, counted again when seen again). A source that
fails does not end the round: its error is reported, with whether to back off and try
later, and the other sources go on. Items a source listed that are not valid (a bad
infohash or magnet) are reported with why, never stored::

    report = MonitorRound(sources, CatalogMatcher(entries), SightingStore(db), clock).run(watch_queries(entries))
    report.to_json()    # per source: queries, items, new sightings, seen again, rejected, error
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reelguard.errors import InvalidInput, SourceError
from reelguard.monitor.matching import CatalogEntry, CatalogMatcher
from reelguard.monitor.releases import read_release
from reelguard.monitor.sources import PiracySource, SearchQuery, SourceItem
from reelguard.store.sightings import Listing, SightingStore

__all__ = ["MonitorRound", "RoundReport", "SourceReport", "watch_queries"]

_SEARCH_WORD = re.compile(r"[^\w]+")


def watch_queries(entries: Sequence[CatalogEntry]) -> list[SearchQuery]:
    """The searches that find the catalog's releases: films by every name, series once per season."""
    queries: dict[tuple[str, str, int | None], SearchQuery] = {}
    for entry in entries:
        for name in (entry.name, *entry.other_names):
            terms = " ".join(_SEARCH_WORD.split(name)).strip()
            if not terms:
                continue
            if entry.is_episode:
                queries.setdefault((terms.casefold(), "tvsearch", entry.season),
                                   SearchQuery(terms, kind="tvsearch", season=entry.season))
            else:
                queries.setdefault((terms.casefold(), "search", None), SearchQuery(terms))
    return list(queries.values())


@dataclass
class SourceReport:
    source: str
    queries: int = 0
    items: int = 0
    new: int = 0
    seen_again: int = 0
    matched: int = 0
    rejected: list[str] = field(default_factory=list)
    error: str | None = None
    retryable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "queries": self.queries, "items": self.items, "new": self.new,
                "seen_again": self.seen_again, "matched": self.matched, "rejected": self.rejected,
                "error": self.error, "retryable": self.retryable}


@dataclass
class RoundReport:
    started: datetime
    sources: list[SourceReport]

    def to_json(self) -> dict[str, Any]:
        return {"started": self.started.isoformat(), "sources": [s.to_json() for s in self.sources]}


class MonitorRound:
    def __init__(self, sources: Sequence[PiracySource], matcher: CatalogMatcher, store: SightingStore,
                 clock: Callable[[], datetime]) -> None:
        self.sources, self.matcher, self.store, self.clock = list(sources), matcher, store, clock
        self._known_titles = tuple(matcher.numbered_titles)

    def run(self, queries: Sequence[SearchQuery]) -> RoundReport:
        report = RoundReport(self.clock(), [])
        for source in self.sources:
            report.sources.append(self._ask(source, queries))
        return report

    def _ask(self, source: PiracySource, queries: Sequence[SearchQuery]) -> SourceReport:
        report = SourceReport(source.name)
        for query in queries:
            try:
                items = list(source.search(query))
            except SourceError as exc:  # this source is done for the round; the others go on
                report.error, report.retryable = str(exc), exc.retryable
                break
            report.queries += 1
            report.items += len(items)
            listings = [listing for item in items if (listing := self._read(item, report)) is not None]
            made, again = self.store.record(listings, self.clock())
            report.new, report.seen_again = report.new + made, report.seen_again + again
            report.matched += sum(1 for listing in listings if listing.matches)
        report.rejected.extend(source.rejected)
        source.rejected.clear()
        return report

    def _read(self, item: SourceItem, report: SourceReport) -> Listing | None:
        try:
            release = read_release(item.name, self._known_titles)
        except InvalidInput as exc:
            report.rejected.append(f"{item.item_id[:80]!r}: {exc}")
            return None
        matches = self.matcher.match(release, item.size_bytes)
        return Listing(item.source, item.item_id, release.name, item.size_bytes, item.infohash_v1, item.infohash_v2,
                       item.magnet, item.link, item.categories, item.seeders, item.leechers, item.published,
                       release.to_json(), [match.to_json() for match in matches])
