"""A short-lived read-through cache of what the licence path reads: title readiness and keys.

Every licence request needs the token's title (is it ready? which stream has which
tier?) and the requested keys. Content keys never change once created, and a title's
status changes rarely, so both are cached for ``ttl_seconds`` (default 2 s): a title
that is withdrawn stops being licensed within that time, and the hot path needs no
database round trip and no thread hop. Misses are never cached, so a new title is
licensable at once. Setting the TTL to 0 disables the cache.

    lookup = LicenseLookup(db, keystore, ttl_seconds=2.0)
    snapshot = lookup.title("ep01", cached_only=False)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reelguard.drm.keys import ContentKey, KeyId, TrackTier
from reelguard.drm.keystore import KeyStore, StoredKey
from reelguard.store import repositories
from reelguard.store.database import Database

__all__ = ["CacheMiss", "LicenseLookup", "TitleSnapshot"]


class CacheMiss(Exception):  # noqa: N818 - control flow inside the licence path, never escapes it
    """The answer needs the database; retry off the event loop with ``cached_only=False``."""


@dataclass(frozen=True, slots=True)
class TitleSnapshot:
    id: str
    name: str
    status: str
    stage: str
    stream_tiers: dict[str, TrackTier]


class LicenseLookup:
    def __init__(self, db: Database, keystore: KeyStore, *, ttl_seconds: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._db, self._keystore, self._ttl, self._now = db, keystore, ttl_seconds, monotonic
        self._titles: dict[str, tuple[float, TitleSnapshot | None]] = {}
        self._keys: dict[KeyId, tuple[float, StoredKey]] = {}
        self._title_keys: dict[str, tuple[float, dict[TrackTier, ContentKey]]] = {}

    def title(self, name: str, *, cached_only: bool) -> TitleSnapshot | None:
        hit = self._titles.get(name)
        if hit is not None and hit[0] > self._now():
            return hit[1]
        if cached_only:
            raise CacheMiss
        with self._db.session() as session:
            row = repositories.find_title(session, name)
            snapshot = None if row is None else TitleSnapshot(
                row.id, row.name, row.status, row.stage,
                {s["name"]: TrackTier(s["tier"]) for s in (row.package or {}).get("streams", [])},
            )
        if snapshot is not None:
            self._remember(self._titles, name, snapshot)
        return snapshot

    def keys(self, kids: Sequence[KeyId], *, cached_only: bool) -> dict[KeyId, StoredKey]:
        now = self._now()
        found = {kid: hit[1] for kid in kids if (hit := self._keys.get(kid)) is not None and hit[0] > now}
        if len(found) == len(kids):
            return found
        if cached_only:
            raise CacheMiss
        with self._db.session() as session:
            stored = self._keystore.lookup(session, kids)
        for item in stored:
            self._remember(self._keys, item.key.kid, item)
        return {item.key.kid: item for item in stored}

    def title_keys(self, title_id: str, *, cached_only: bool) -> dict[TrackTier, ContentKey]:
        hit = self._title_keys.get(title_id)
        if hit is not None and hit[0] > self._now():
            return hit[1]
        if cached_only:
            raise CacheMiss
        with self._db.session() as session:
            keys = {k.tier: k for k in self._keystore.keys_of_title(session, title_id)}
        self._remember(self._title_keys, title_id, keys)
        return keys

    def _remember(self, cache: dict, key: object, value: object) -> None:  # type: ignore[type-arg]
        if self._ttl > 0:
            if len(cache) > 100_000:
                cache.clear()
            cache[key] = (self._now() + self._ttl, value)
