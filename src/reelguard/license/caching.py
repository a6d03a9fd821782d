"""What the licence caches share: the ``CacheMiss`` signal and a bounded cache without a cliff.

Licence requests are answered on the event loop from caches (titles, keys, account
facts, stream slots, per-token memos). Whatever needs the database instead raises
``CacheMiss``, and the route retries the same call on a worker thread with
``cached_only=False``.

Every cache is a ``Generations`` cache: two plain dicts, *young* and *old*. Writes go to
young; when young holds ``generation`` entries it becomes old and the former old is
dropped; a hit in old moves the entry back to young. Whatever was used during the last
generation stays, so a working set up to ``generation`` entries is never evicted, and a
larger one loses its least recently used half gradually — never the whole cache at once,
which (with the old clear-when-full dicts) made every playing stream re-verify its token at
the same moment once 20,000 tokens were live. A hit costs one dict lookup, as before; an LRU
would re-order on every hit. Changes (writes, promotions, ``pop``) take a lock: the caches are
read on the event loop and filled and invalidated from threads, and a promotion racing an
invalidation must not bring a forgotten entry back::

    cache: Generations[str, Claims] = Generations(20_000)
    cache["token"] = claims
    cache.get("token")
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Generic, TypeVar, overload

__all__ = ["CacheMiss", "Generations"]

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")
_MISSING = object()


class CacheMiss(Exception):
    """The answer needs the database; retry off the event loop with ``cached_only=False``."""


class Generations(Generic[K, V]):
    """A bounded map: at most ``2 × generation`` entries; the ``generation`` most recently used always kept."""

    __slots__ = ("_generation", "_lock", "_old", "_young")

    def __init__(self, generation: int) -> None:
        if generation < 1:
            raise ValueError(f"expected a generation of at least one entry, got {generation}")
        self._generation = generation
        self._young: dict[K, V] = {}
        self._old: dict[K, V] = {}
        self._lock = threading.Lock()

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        value = self._young.get(key, _MISSING)
        if value is not _MISSING:
            return value
        with self._lock:
            value = self._old.pop(key, _MISSING)
            if value is _MISSING:
                return self._young.get(key, default)  # promoted by another thread meanwhile
            self._put(key, value)  # type: ignore[arg-type]  # used again: back to the young generation
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._young or key in self._old

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._put(key, value)

    def update(self, items: Mapping[K, V]) -> None:
        with self._lock:
            for key, value in items.items():
                self._put(key, value)

    def pop(self, key: K, default: V | None = None) -> V | None:
        with self._lock:
            young = self._young.pop(key, _MISSING)
            old = self._old.pop(key, _MISSING)
        found = young if young is not _MISSING else old
        return default if found is _MISSING else found  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            self._young, self._old = {}, {}

    def _put(self, key: K, value: V) -> None:
        """Under the lock: into the young generation, which becomes the old one when full."""
        if key not in self._young:
            self._old.pop(key, None)  # a key lives in one generation only
            if len(self._young) >= self._generation:
                self._old, self._young = self._young, {}
        self._young[key] = value

    def __len__(self) -> int:
        return len(self._young) + len(self._old)
