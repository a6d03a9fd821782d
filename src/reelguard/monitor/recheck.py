"""Is the copy still up? Re-checks of the places a sighting was found, for a case's removal check.

Each check answers (still there, what was seen):

- ``IndexerRecheck``: the source is searched for the listing's name again; the copy is
  still listed when an item has the listing's id or its infohash.
- ``SwarmRecheck``: the swarm is found again (the magnet's trackers, hints, the DHT)
  and its peers asked for a verified piece; the copy is still distributed when any peer
  delivers one. A swarm no peer answers for is gone.

Both are given to ``enforcement.removal`` by the composition root, which keeps the
enforcement package free of BitTorrent and Torznab::

    still, seen = IndexerRecheck(lambda: sources)({"kind": "indexer", "source": "idx", "item_id": "…", "name": "…"})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from reelguard.errors import InvalidInput, SourceError
from reelguard.monitor.discovery import SwarmDiscovery
from reelguard.monitor.sources import PiracySource, SearchQuery
from reelguard.monitor.swarm import SwarmProbe

__all__ = ["IndexerRecheck", "SwarmRecheck"]


class IndexerRecheck:
    def __init__(self, sources: Callable[[], Mapping[str, PiracySource]]) -> None:
        """``sources``: the configured sources by name, built when a listing is first re-checked."""
        self._build = sources
        self._sources: Mapping[str, PiracySource] | None = None

    def __call__(self, place: dict[str, Any]) -> tuple[bool | None, str]:
        if self._sources is None:
            self._sources = self._build()
        source = self._sources.get(str(place["source"]))
        if source is None:
            return None, f"source {place['source']!r} is no longer configured: cannot check"
        wanted = {str(place["item_id"]), *(h for h in (place.get("infohash"),) if h)}
        try:
            items = list(source.search(SearchQuery(terms=str(place["name"]))))
        except SourceError as exc:
            return None, f"{place['source']} could not be searched: {exc}"
        if any(item.item_id in wanted or item.infohash_v1 in wanted or item.infohash_v2 in wanted for item in items):
            return True, f"{place['source']} still lists item {place['item_id']}"
        return False, f"{place['source']} no longer lists item {place['item_id']} ({len(items)} results searched)"


class SwarmRecheck:
    def __init__(self, work_dir: Path, *, address: str, discovery_seconds: float, peer_timeout_seconds: float,
                 clock: Callable[[], datetime], dht_nodes: tuple[tuple[str, int], ...] = (),
                 dht_private: bool = False) -> None:
        self.work_dir, self.address, self.clock = work_dir, address, clock
        self.discovery_seconds, self.peer_timeout_seconds = discovery_seconds, peer_timeout_seconds
        self.dht_nodes, self.dht_private = dht_nodes, dht_private

    def __call__(self, place: dict[str, Any]) -> tuple[bool | None, str]:
        route = place.get("magnet") or f"magnet:?xt=urn:btih:{place['infohash']}"
        discovery = SwarmDiscovery(self.work_dir / "recheck", address=self.address, seconds=self.discovery_seconds,
                                   dht_nodes=self.dht_nodes, dht_private=self.dht_private)
        try:
            found = discovery.discover(route)
        except InvalidInput as exc:
            return None, f"cannot find the swarm again: {exc}"
        except SourceError as exc:
            return False, f"no peer of swarm {place['infohash']} answered: {exc}"
        probe = SwarmProbe(self.work_dir / "recheck-probe", address=self.address,
                           timeout_seconds=self.peer_timeout_seconds, clock=self.clock)
        proven = [o for o in probe.prove(found.torrent, found.peers) if o.verdict == "distributor"]
        if proven:
            return True, (f"{len(proven)} of {len(found.peers)} peers still distribute it: "
                          + ", ".join(f"{o.peer_ip}:{o.peer_port}" for o in proven[:10]))
        return False, f"none of {len(found.peers)} listed peers delivered a verified piece"
