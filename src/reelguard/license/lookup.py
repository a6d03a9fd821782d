"""A read-through cache of what the licence path reads: title readiness and content keys.

Every licence request needs the token's title (is it ready? which stream has which
tier?) and the requested keys.

- Content keys never change once created, so they are cached without expiry (bounded
  in size). A key is only handed out after its title passed the readiness check.
- A title's snapshot is cached for ``ttl_seconds`` (default 2 s), so a withdrawn title
  stops being licensed within that time plus one refresh. Refreshes are single-flight:
  when a snapshot expires, one request refreshes it from the database while concurrent
  requests keep using the expiring snapshot, instead of all of them stampeding the
  database at the same instant (which showed up as p99 latency spikes every TTL).
- Misses are never cached, so a new title is licensable at once; TTL 0 disables caching.

    lookup = LicenseLookup(db, keystore, ttl_seconds=2.0)
    snapshot = lookup.title("ep01", cached_only=False)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reelguard.drm.keys import ContentKey, KeyId, TrackTier
from reelguard.drm.keystore import KeyStore, StoredKey
from reelguard.license.caching import CacheMiss, Generations
from reelguard.store import repositories
from reelguard.store.database import Database

__all__ = ["LicenseLookup", "TitleSnapshot"]

_MAX_ENTRIES = 100_000  # per generation: at most twice that held (caching.Generations)


@dataclass(frozen=True, slots=True)
class TitleSnapshot:
    id: str
    name: str
    status: str
    stage: str
    stream_tiers: dict[str, TrackTier]
    tiers: frozenset[TrackTier]       # the tiers the title has keys for (built once, not per request)
    generation: int = 1               # the keys its current package is under
    retiring: Mapping[str, datetime] = field(default_factory=dict)  # KID (hex) → when a rotation retires it


class LicenseLookup:
    def __init__(self, db: Database, keystore: KeyStore, *, ttl_seconds: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._db, self._keystore, self._ttl, self._now = db, keystore, ttl_seconds, monotonic
        self._titles: Generations[str, tuple[float, TitleSnapshot]] = Generations(_MAX_ENTRIES)
        self._refreshing: set[str] = set()
        self._keys: Generations[KeyId, StoredKey] = Generations(_MAX_ENTRIES)
        self._title_keys: Generations[tuple[str, int], dict[TrackTier, ContentKey]] = Generations(_MAX_ENTRIES)

    def title(self, name: str, *, cached_only: bool) -> TitleSnapshot | None:
        hit = self._titles.get(name)
        if hit is not None and (hit[0] > self._now() or (cached_only and name in self._refreshing)):
            return hit[1]
        if cached_only:
            self._refreshing.add(name)  # this request refreshes; the others use the old snapshot
            raise CacheMiss
        try:
            snapshot = self._load_title(name)
        finally:
            self._refreshing.discard(name)
        if snapshot is not None and self._ttl > 0:
            self._titles[name] = (self._now() + self._ttl, snapshot)
        elif snapshot is None:
            self._titles.pop(name, None)
        return snapshot

    def keys(self, kids: Sequence[KeyId], *, cached_only: bool) -> dict[KeyId, StoredKey]:
        found = {kid: hit for kid in kids if (hit := self._keys.get(kid)) is not None}
        if len(found) == len(kids):
            return found
        if cached_only:
            raise CacheMiss
        with self._db.session() as session:
            stored = self._keystore.lookup(session, kids)
        if self._ttl > 0:
            self._keys.update({item.key.kid: item for item in stored})
        return {item.key.kid: item for item in stored}

    def title_keys(self, title_id: str, generation: int, *, cached_only: bool) -> dict[TrackTier, ContentKey]:
        """The title's keys of one generation, by tier (a generation's keys never change: cached for good)."""
        hit = self._title_keys.get((title_id, generation))
        if hit is not None:
            return hit
        if cached_only:
            raise CacheMiss
        with self._db.session() as session:
            keys = {k.tier: k for k in self._keystore.keys_of_title(session, title_id, generation)}
        if self._ttl > 0 and keys:
            self._title_keys[(title_id, generation)] = keys
        return keys

    def _load_title(self, name: str) -> TitleSnapshot | None:
        with self._db.session() as session:
            title = repositories.lookup_title(session, name)
            retiring = repositories.retiring_keys(session, title.id) if title is not None else {}
        if title is None:
            return None
        stream_tiers = {s.name: TrackTier(s.tier) for s in (title.package.streams if title.package else ())}
        return TitleSnapshot(title.id, title.name, title.status, title.stage, stream_tiers,
                             frozenset(stream_tiers.values()), title.package.generation if title.package else 1,
                             retiring)

