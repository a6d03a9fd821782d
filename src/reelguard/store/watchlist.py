"""The watchlist (which catalog titles are searched for, under which names, when next) and each source's health.

A watched title carries what release names call it — its search name, year, other names
(original, translated, transliterated), and for an episode its season and episode —
since a catalog title's own name ("ep01") is rarely what pirates write. Each round moves
a searched title's ``next_due_at`` on by the interval; a source that failed rests until
``backoff_until``, recorded here so every worker (and the next ``monitor once``) sees it::

    watch = WatchStore(db)
    watch.add(Watch("dune2", "Dune: Part Two", 2024, ("Dune 2",)), now)
    watch.due(now)                                  # the watches to search now
    watch.failed("indexer", "answered HTTP 500", until=now + backoff, now=now)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from reelguard.errors import Conflict, NotFound
from reelguard.store.database import Database
from reelguard.store.models import SourceStateRow, TitleRow, WatchRow

__all__ = ["SourceState", "Watch", "WatchStore"]


@dataclass(frozen=True)
class Watch:
    title: str  # the catalog title's name
    search_name: str
    year: int | None = None
    other_names: tuple[str, ...] = ()
    season: int | None = None
    episode: int | None = None
    country: str | None = None
    sources: tuple[str, ...] = ()  # empty: every configured source
    next_due_at: datetime | None = None
    last_searched_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "search_name": self.search_name, "year": self.year,
                "other_names": list(self.other_names), "season": self.season, "episode": self.episode,
                "country": self.country, "sources": list(self.sources),
                "next_due_at": self.next_due_at.isoformat() if self.next_due_at else None,
                "last_searched_at": self.last_searched_at.isoformat() if self.last_searched_at else None}


@dataclass(frozen=True)
class SourceState:
    name: str
    failures: int
    backoff_until: datetime | None
    last_error: str | None
    last_success_at: datetime | None


class WatchStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, watch: Watch, now: datetime) -> None:
        """Watch a catalog title (due at once); ``NotFound`` if no such title, ``Conflict`` if already watched."""
        with self._db.transaction() as session:
            if session.scalars(select(TitleRow.id).where(TitleRow.name == watch.title)).first() is None:
                raise NotFound(f"no catalog title {watch.title!r} to watch (`reelguard titles list` shows them)")
            if session.get(WatchRow, watch.title) is not None:
                raise Conflict(f"{watch.title!r} is already watched (`reelguard watch remove {watch.title}` first)")
            session.add(WatchRow(title=watch.title, search_name=watch.search_name, year=watch.year,
                                 other_names=list(watch.other_names), season=watch.season, episode=watch.episode,
                                 country=watch.country, sources=list(watch.sources), added_at=now,
                                 next_due_at=now, last_searched_at=None))

    def remove(self, title: str) -> None:
        with self._db.transaction() as session:
            row = session.get(WatchRow, title)
            if row is None:
                raise NotFound(f"{title!r} is not watched (`reelguard watch list` shows what is)")
            session.delete(row)

    def watches(self) -> list[Watch]:
        with self._db.session() as session:
            return [_watch(row) for row in session.scalars(select(WatchRow).order_by(WatchRow.title))]

    def due(self, now: datetime, titles: Sequence[str] = ()) -> list[Watch]:
        """Watches due by ``now`` — or exactly ``titles``, due or not (``NotFound`` for one not watched)."""
        watches = self.watches()
        if titles:
            known = {watch.title: watch for watch in watches}
            missing = [title for title in titles if title not in known]
            if missing:
                raise NotFound(f"not watched: {', '.join(missing)} (`reelguard watch add` first)")
            return [known[title] for title in titles]
        return [watch for watch in watches if watch.next_due_at is not None and watch.next_due_at <= now]

    def searched(self, titles: Sequence[str], now: datetime, next_due: Sequence[datetime]) -> None:
        with self._db.transaction() as session:
            for title, due in zip(titles, next_due, strict=True):
                row = session.get(WatchRow, title)
                if row is not None:
                    row.last_searched_at, row.next_due_at = now, due

    # -- sources' health ---------------------------------------------------------------------
    def states(self) -> dict[str, SourceState]:
        with self._db.session() as session:
            return {row.name: SourceState(row.name, row.failures, row.backoff_until, row.last_error,
                                          row.last_success_at) for row in session.scalars(select(SourceStateRow))}

    def failed(self, name: str, error: str, *, until: datetime) -> int:
        """Record a failure; the source rests until ``until``. Returns the failures in a row."""
        with self._db.transaction() as session:
            row = session.get(SourceStateRow, name)
            if row is None:
                row = SourceStateRow(name=name, failures=0)
                session.add(row)
            row.failures, row.backoff_until, row.last_error = row.failures + 1, until, error[:2000]
            return row.failures

    def succeeded(self, name: str, now: datetime) -> None:
        with self._db.transaction() as session:
            row = session.get(SourceStateRow, name)
            if row is None:
                session.add(SourceStateRow(name=name, failures=0, last_success_at=now))
            else:
                row.failures, row.backoff_until, row.last_error, row.last_success_at = 0, None, None, now


def _watch(row: WatchRow) -> Watch:
    return Watch(row.title, row.search_name, row.year, tuple(row.other_names), row.season, row.episode, row.country,
                 tuple(row.sources), row.next_due_at, row.last_searched_at)
