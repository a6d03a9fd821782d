"""Client IP → country, from a MaxMind-format database (GeoLite2/GeoIP2 Country or City).

Read with ``maxminddb`` (the C extension when installed; memory-mapped), so a lookup is a
few microseconds on the licence path. Without a database every country is unknown, and
the policy decides what unknown means (``allow_unknown_country``)::

    geo = GeoLocator.open(Path("GeoLite2-Country.mmdb"))
    geo.country("81.2.69.142")   # 'GB'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import maxminddb

from reelguard.errors import ConfigurationError

__all__ = ["GeoLocator", "territories_unenforced"]


def territories_unenforced(titles: Sequence[str]) -> str:
    """The warning for titles limited to territories on a server that cannot locate clients."""
    named = ", ".join(titles[:5]) + (f" and {len(titles) - 5} more" if len(titles) > 5 else "")
    return (f"{named} {'is' if len(titles) == 1 else 'are'} limited to territories, but no geo database is "
            "configured ([license] geoip_database): every client's country is unknown, and a territory rule with "
            "allow_unknown_country = true (the built-in policy's) lets every client play them")


class GeoLocator:
    def __init__(self, reader: Any | None) -> None:
        self._reader = reader

    @classmethod
    def open(cls, path: Path | None) -> GeoLocator:
        if path is None:
            return cls(None)
        try:
            return cls(maxminddb.open_database(str(path), maxminddb.MODE_AUTO))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise ConfigurationError(f"geo database {path} is not a readable MaxMind DB: {exc}") from exc

    def country(self, ip: str) -> str | None:
        """ISO 3166-1 alpha-2 code of ``ip``, or None (unknown address, or no database)."""
        if self._reader is None:
            return None
        try:
            record = self._reader.get(ip)
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
        country = record.get("country") or record.get("registered_country") or {}
        code = country.get("iso_code") if isinstance(country, dict) else None
        return code if isinstance(code, str) else None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
