"""The watching worker: due watchlist titles searched on the configured sources, on a schedule, with backoff.

``once`` runs one round: the titles due (or those named), each source asked for its
titles' searches unless it is resting after failures, sightings stored (``rounds``),
each searched title's next time set to the interval moved by up to ``jitter`` (so a
thousand titles do not all fall due in the same minute). A source that fails rests for
``backoff_minutes``, twice as long after each further failure, up to
``max_backoff_minutes``; one that refused the API key rests the longest at once (a key
does not mend itself). Its state is stored, so the next round — in this process or
another — knows. With a ``pipeline``, each round then takes every matched sighting
through its jobs (``pipeline``: probe, sample, identify, trace). ``run`` repeats rounds
until asked to stop::

    watcher = Watcher(settings.monitor, db, clock)
    watcher.once(["dune2"])              # one round for one title, due or not
    watcher.run(stop_event)              # the long-running worker (reelguard monitor run)
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from reelguard.errors import ConfigurationError, ReelguardError
from reelguard.monitor.matching import CatalogEntry, CatalogMatcher
from reelguard.monitor.rounds import MonitorRound, SourceReport, watch_queries
from reelguard.monitor.sources import PiracySource, Throttle, make_source
from reelguard.monitor.torznab import load_api_key
from reelguard.settings import MonitorSettings, MonitorSourceSettings
from reelguard.store.database import Database
from reelguard.store.repositories import list_titles
from reelguard.store.sightings import SightingStore
from reelguard.store.watchlist import SourceState, Watch, WatchStore

if TYPE_CHECKING:
    from reelguard.monitor.pipeline import LeakPipeline

__all__ = ["WatchReport", "Watcher", "build_source"]


def build_source(config: MonitorSourceSettings) -> PiracySource:
    """A configured source: its API key read from its 0600 file, its request rate bounded."""
    throttle = Throttle(config.requests_per_minute)
    if config.kind == "torznab":
        if not config.url or config.api_key_file is None:
            raise ConfigurationError(f"monitor source {config.name!r} (torznab) needs url and api_key_file")
        return make_source("torznab", name=config.name, url=config.url, api_key=load_api_key(config.api_key_file),
                           throttle=throttle)
    if config.kind == "feed":
        if not config.url:
            raise ConfigurationError(f"monitor source {config.name!r} (feed) needs url")
        return make_source("feed", name=config.name, url=config.url, throttle=throttle)
    if config.path is None:
        raise ConfigurationError(f"monitor source {config.name!r} (import) needs path")
    return make_source("import", name=config.name, path=config.path)


@dataclass
class WatchReport:
    started: datetime
    titles: list[str]
    sources: list[dict[str, Any]]
    leaks: list[dict[str, Any]] = field(default_factory=list)  # what the pipeline did with matched sightings

    def to_json(self) -> dict[str, Any]:
        return {"started": self.started.isoformat(), "titles": self.titles, "sources": self.sources,
                "leaks": self.leaks}


class Watcher:
    def __init__(self, settings: MonitorSettings, db: Database, clock: Callable[[], datetime], *,
                 sources: Sequence[PiracySource] | None = None, rng: random.Random | None = None,
                 pipeline: LeakPipeline | None = None) -> None:
        self.settings, self.db, self.clock, self.pipeline = settings, db, clock, pipeline
        self.watchlist, self.sightings = WatchStore(db), SightingStore(db)
        self._sources = list(sources) if sources is not None else None
        self._rng = rng or random.Random()  # noqa: S311 - jitter of a schedule, not a secret

    def sources(self) -> list[PiracySource]:
        if self._sources is None:
            self._sources = [build_source(config) for config in self.settings.sources]
        return self._sources

    def once(self, titles: Sequence[str] = ()) -> WatchReport:
        now = self.clock()
        sources = self.sources()
        if not sources:
            raise ConfigurationError("no monitor sources configured: add [[monitor.sources]] to reelguard.toml "
                                     "(docs/monitoring.md)")
        entries = self._entries(self.watchlist.watches())
        matcher = CatalogMatcher(list(entries.values()))  # every watched title: any sighting may be any of them
        due = self.watchlist.due(now, titles)
        states = self.watchlist.states()
        reports = []
        for source in sources:
            state = states.get(source.name)
            if state is not None and state.backoff_until is not None and state.backoff_until > now:
                reports.append({**SourceReport(source.name).to_json(),
                                "resting_until": state.backoff_until.isoformat(), "error": state.last_error})
                continue
            queries = watch_queries([entries[w.title] for w in due if not w.sources or source.name in w.sources])
            report = MonitorRound([source], matcher, self.sightings, self.clock).run(queries).sources[0]
            reports.append({**report.to_json(), **self._health(source.name, report, now, state)})
        self.watchlist.searched([w.title for w in due], now, [self._next_due(now) for _ in due])
        leaks: list[dict[str, Any]] = []
        if self.pipeline is not None:  # every matched sighting taken as far as it goes: probe … trace
            self.pipeline.enqueue_new()
            leaks = [outcome.to_json() for outcome in self.pipeline.run()]
        return WatchReport(now, [w.title for w in due], reports, leaks)

    def run(self, stop: threading.Event, *, on_round: Callable[[WatchReport], None] | None = None) -> None:
        """Rounds until ``stop`` is set: each as soon as a title falls due (checked at least a minute apart)."""
        while not stop.is_set():
            try:
                report = self.once()
                if on_round is not None:
                    on_round(report)
            except ReelguardError as exc:  # a bad source setting is said each round, the worker stays up
                if on_round is not None:
                    on_round(WatchReport(self.clock(), [], [{"error": str(exc)}]))
            stop.wait(self._until_next_due())

    def _entries(self, watches: Sequence[Watch]) -> dict[str, CatalogEntry]:
        """Each watched title as release names refer to it, with its catalog runtime (for the size check)."""
        with self.db.session() as session:
            runtimes = {title.name: title.duration_seconds for title in list_titles(session)}
        return {w.title: CatalogEntry(w.title, w.search_name, w.year, w.other_names, w.season, w.episode,
                                      runtimes.get(w.title) or None, w.country) for w in watches}

    def _health(self, name: str, report: SourceReport, now: datetime,
                previous: SourceState | None) -> dict[str, Any]:
        if report.error is None:
            self.watchlist.succeeded(name, now)
            return {}
        failures = 1 + (previous.failures if previous is not None else 0)
        minutes = (min(self.settings.max_backoff_minutes, self.settings.backoff_minutes * 2 ** (failures - 1))
                   if report.retryable else self.settings.max_backoff_minutes)
        until = now + timedelta(minutes=minutes)
        self.watchlist.failed(name, report.error, until=until)
        return {"resting_until": until.isoformat()}

    def _next_due(self, now: datetime) -> datetime:
        spread = self._rng.uniform(-self.settings.jitter, self.settings.jitter)
        return now + timedelta(minutes=self.settings.interval_minutes * (1 + spread))

    def _until_next_due(self) -> float:
        dues = [w.next_due_at for w in self.watchlist.watches() if w.next_due_at is not None]
        seconds = (min(dues) - self.clock()).total_seconds() if dues else self.settings.interval_minutes * 60
        return min(max(seconds, 60.0), self.settings.interval_minutes * 60)
