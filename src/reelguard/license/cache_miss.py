"""The one signal between the licence caches and the web shell.

Licence requests are answered on the event loop from caches (titles, keys, account
facts, stream slots). Whatever needs the database instead raises ``CacheMiss``, and the
route retries the same call on a worker thread with ``cached_only=False``.
"""

from __future__ import annotations

__all__ = ["CacheMiss"]


class CacheMiss(Exception):
    """The answer needs the database; retry off the event loop with ``cached_only=False``."""
