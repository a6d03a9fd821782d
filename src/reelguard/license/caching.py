"""What the licence caches share: the ``CacheMiss`` signal and the bound on their size.

Licence requests are answered on the event loop from caches (titles, keys, account
facts, stream slots, per-token memos). Whatever needs the database instead raises
``CacheMiss``, and the route retries the same call on a worker thread with
``cached_only=False``. Every cache is a plain dict bounded by ``bounded``: cleared whole
when full, because a miss only costs a database read and an LRU would cost every hit.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["CacheMiss", "bounded"]

K = TypeVar("K")
V = TypeVar("V")


class CacheMiss(Exception):
    """The answer needs the database; retry off the event loop with ``cached_only=False``."""


def bounded(cache: dict[K, V], limit: int) -> dict[K, V]:
    """``cache``, emptied first if it holds ``limit`` entries: ``bounded(cache, N)[key] = value``."""
    if len(cache) >= limit:
        cache.clear()
    return cache
