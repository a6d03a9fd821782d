"""A swarm's torrent and its peers, from a magnet or a ``.torrent``: metadata (BEP 9) and who the swarm lists.

A sighting usually carries only a magnet. The probe joins the swarm the way any
client does — the magnet's trackers (and ``x.pe`` peer hints), the DHT where it is
enabled, PEX from the peers it meets — and asks the peers for the info dictionary
(BEP 9's ``ut_metadata``), which libtorrent checks against the infohash. Nothing is
downloaded: the torrent is added in upload mode — unless PEX is listened for
(``pex_seconds``): peers send their lists about once a minute and only to a peer still
connected, so the probe then stays a downloader held to 2 kB/s for that long. What
comes back is the torrent file and every peer the swarm listed, each with how it was
found. Being listed proves nothing (``swarm`` asks each peer for a piece before calling
it a distributor)::

    found = SwarmDiscovery(work_dir, address="127.0.0.9").discover("magnet:?xt=urn:btih:…&tr=…")
    found.torrent, found.peers    # bencoded .torrent; [CandidatePeer(ip, port, "tracker"), …]
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libtorrent as lt

from reelguard.errors import InvalidInput, SourceError
from reelguard.monitor.sources import parse_magnet
from reelguard.monitor.swarm import CandidatePeer, read_torrent, session_settings

__all__ = ["Discovery", "SwarmDiscovery"]

_SETTLE_SECONDS = 2.0  # after the metadata and a tracker's answer, how long late answers are waited for
_PEX_TRICKLE = 2048  # bytes/s: while waiting for PEX, interested enough to stay connected, downloading next to nothing
_SOURCES = ((lt.peer_info.tracker, "tracker"), (lt.peer_info.dht, "dht"), (lt.peer_info.pex, "pex"),
            (lt.peer_info.lsd, "lsd"))


@dataclass(frozen=True)
class Discovery:
    torrent: bytes  # the bencoded .torrent (from the sighting, or rebuilt from the metadata peers sent)
    name: str
    infohash: str
    peers: list[CandidatePeer]
    trackers: dict[str, str] = field(default_factory=dict)  # tracker URL → what it answered

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "infohash": self.infohash, "trackers": self.trackers,
                "peers": [{"ip": p.ip, "port": p.port, "found_by": p.found_by} for p in self.peers]}


def _announces(torrent: bytes) -> bool:
    """Whether a .torrent (already read by ``read_torrent``) names a tracker."""
    decoded: Any = lt.bdecode(torrent)
    return isinstance(decoded, dict) and bool(decoded.get(b"announce") or decoded.get(b"announce-list"))


class SwarmDiscovery:
    def __init__(self, work_dir: Path, *, address: str = "127.0.0.1", seconds: float = 20.0,
                 dht_nodes: tuple[tuple[str, int], ...] = (), dht_private: bool = False,
                 pex_seconds: float = 0.0) -> None:
        self.work_dir, self.address, self.seconds, self.dht_nodes = work_dir, address, seconds, dht_nodes
        self.dht_private, self.pex_seconds = dht_private, pex_seconds

    def discover(self, source: bytes | str) -> Discovery:
        """The torrent and its listed peers; ``SourceError`` (retryable) when no peer gave the metadata in time."""
        params, hints = self._params(source)
        announced = bool(params.trackers) or (isinstance(source, bytes) and _announces(source))
        if not announced and not hints and not self.dht_nodes:
            raise InvalidInput("expected a tracker (a magnet's tr=, a .torrent's announce) or peer hints (x.pe=), or "
                               "DHT nodes in the settings ([monitor] dht_nodes): nothing says where this swarm is")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        save = Path(tempfile.mkdtemp(dir=self.work_dir, prefix="discover-"))
        settings = session_settings(self.address, dht=bool(self.dht_nodes), dht_private=self.dht_private)
        session = lt.session(settings)  # type: ignore[call-overload]
        for host, port in self.dht_nodes:
            session.add_dht_node((host, port))
        params.save_path = str(save)
        if self.pex_seconds > 0:
            # PEX: peers send their peer lists about once a minute, and only to a peer that is still connected —
            # seeders drop one that wants nothing. So the probe stays a (very slow) downloader that long.
            params.download_limit = _PEX_TRICKLE
        else:
            params.flags |= lt.torrent_flags.upload_mode  # listen and list; download nothing
        handle = session.add_torrent(params)
        try:
            return self._watch(session, handle, hints)
        finally:
            session.remove_torrent(handle)
            shutil.rmtree(save, ignore_errors=True)

    def _params(self, source: bytes | str) -> tuple[Any, set[tuple[str, int]]]:
        if isinstance(source, bytes):
            params = lt.add_torrent_params()
            params.ti = read_torrent(source)
            return params, set()
        magnet = parse_magnet(source)  # InvalidInput for a bad link, before libtorrent sees it
        if magnet.infohash_v1 is None and magnet.infohash_v2 is None:
            raise InvalidInput(f"expected a magnet naming a torrent, got {source[:120]!r}")
        try:
            params = lt.parse_magnet_uri(source)
        except (RuntimeError, ValueError) as exc:
            raise InvalidInput(f"expected a magnet link libtorrent can read, got {source[:120]!r}: {exc}") from None
        return params, {(str(ip), int(port)) for ip, port in params.peers}

    def _watch(self, session: Any, handle: Any, hints: set[tuple[str, int]]) -> Discovery:
        peers: dict[tuple[str, int], str] = {}
        trackers: dict[str, str] = {}
        started = time.monotonic()
        settled_at: float | None = None
        settle = max(_SETTLE_SECONDS, self.pex_seconds)
        while (time.monotonic() - started < self.seconds if settled_at is None
               else time.monotonic() - settled_at <= settle):
            for alert in session.pop_alerts():
                self._read(alert, peers, trackers, hints)
            for info in handle.get_peer_info():
                self._met(info, peers, hints)
            if settled_at is None and handle.status().has_metadata and (trackers or self.dht_nodes or peers):
                settled_at = time.monotonic()
                if self.dht_nodes:
                    session.dht_get_peers(handle.info_hashes().v1)
            time.sleep(0.05)
        if not handle.status().has_metadata:
            raise SourceError(f"no peer of the swarm gave the torrent's metadata within {self.seconds:g} s "
                              f"({len(peers)} peers listed; trackers: {trackers or 'none answered'})", retryable=True)
        info = handle.torrent_file()
        torrent = b"d4:info" + bytes(info.info_section()) + b"e"  # the verified info dictionary, as sent
        listed = [CandidatePeer(ip, port, found_by) for (ip, port), found_by in sorted(peers.items())
                  if ip != self.address]
        return Discovery(torrent, info.name(), str(info.info_hashes().v1), listed, trackers)

    def _read(self, alert: Any, peers: dict[tuple[str, int], str], trackers: dict[str, str],
              hints: set[tuple[str, int]]) -> None:
        if isinstance(alert, lt.tracker_reply_alert):
            trackers[alert.tracker_url().split("?")[0]] = f"{alert.num_peers} peers"
        elif isinstance(alert, lt.tracker_error_alert):
            trackers.setdefault(alert.tracker_url().split("?")[0], f"error: {alert.message()[-200:]}")
        elif isinstance(alert, lt.dht_get_peers_reply_alert):
            for ip, port in alert.peers():
                peers.setdefault((str(ip), int(port)), "dht")
        elif isinstance(alert, lt.peer_connect_alert) and "outgoing" in alert.message():
            # a connection the probe opened: to an address and listening port some source gave it
            ip, port = alert.endpoint
            key = (str(ip), int(port))
            peers.setdefault(key, "magnet hint" if key in hints else self._listed_by(trackers))

    def _listed_by(self, trackers: dict[str, str]) -> str:
        """How a peer the probe dialled but never met was found: the sources in use (libtorrent does not say which)."""
        used = [name for name, on in (("tracker", bool(trackers)), ("dht", bool(self.dht_nodes)),
                                      ("pex", self.pex_seconds > 0)) if on]
        return " or ".join(used) or "tracker"

    @staticmethod
    def _met(info: Any, peers: dict[tuple[str, int], str], hints: set[tuple[str, int]]) -> None:
        if not info.flags & lt.peer_info.local_connection:
            return  # it dialled the probe: its listening port is not known from the connection
        key = (str(info.ip[0]), int(info.ip[1]))
        named = [name for flag, name in _SOURCES if info.source & flag]
        peers[key] = "magnet hint" if key in hints else ("+".join(named) or peers.get(key, "tracker"))
