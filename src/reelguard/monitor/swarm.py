"""Proof that a peer really distributes a torrent: a piece from that peer alone, checked against the torrent's hash.

A tracker's or a DHT's peer list is only what peers *said*: passive listings once
accused printers of sharing films (Piatek et al., 2008). So a peer counts as a
distributor only when the probe completed the BitTorrent handshake with it for this
infohash, read its bitfield, and downloaded at least one piece **from it alone** (the
probe's IP filter admits no other address while it asks) that libtorrent verified
against the piece's SHA-1 in the info dictionary. A peer that is listed but never
delivers such a piece is recorded as ``listed``; one whose piece fails the check as
``corrupt`` — never a distributor. Each peer gets an observation record that says what
happened, when (UTC), with which piece and hash, how many bytes came from it, how it was
found, and from which address and software the probe asked.

Peers are asked several at a time, each in a libtorrent session of its own whose IP
filter admits that one peer, so a silent peer's timeout is paid once per batch::

    probe = SwarmProbe(work_dir, address="127.0.0.9")
    for seen in probe.prove(torrent_bytes, [CandidatePeer("127.0.0.2", 6881, "tracker")]):
        seen.verdict, seen.piece_index, seen.piece_sha1, seen.bytes_received

libtorrent runs with DHT, local peer discovery, UPnP and NAT-PMP off, bound to the
probe's address; it connects over TCP without protocol encryption (``session_settings``,
shared with ``discovery`` and ``samples``; never a public DHT bootstrap node).
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import libtorrent as lt

from reelguard import __version__
from reelguard.errors import InvalidInput

__all__ = ["CandidatePeer", "PeerObservation", "SwarmProbe", "read_torrent", "session_settings"]

MAX_TORRENT_BYTES = 16 * 1024 * 1024  # a .torrent of a film is tens of kB; 16 MB is an attack on the parser
MAX_PIECES = 1_000_000


@dataclass(frozen=True)
class CandidatePeer:
    ip: str
    port: int
    found_by: str  # "tracker", "dht", "pex", "magnet hint", "given"


@dataclass(frozen=True)
class PeerObservation:
    infohash: str
    torrent_name: str
    peer_ip: str
    peer_port: int
    transport: str
    client: str
    peer_id: str  # hex
    started_at: datetime
    ended_at: datetime
    verdict: str  # "distributor", "listed" or "corrupt"
    reason: str
    piece_index: int | None
    piece_sha1: str | None  # the info dictionary's hash of the piece that was verified
    bytes_received: int
    pieces_advertised: int | None  # pieces the peer's bitfield said it had
    found_by: str
    probe_address: str
    probe_software: str
    pieces_in_torrent: int = 0

    @property
    def progress(self) -> float | None:
        """The share of the torrent the peer's bitfield claimed (a claim: only the verified piece is proof)."""
        if self.pieces_advertised is None or not self.pieces_in_torrent:
            return None
        return self.pieces_advertised / self.pieces_in_torrent

    def to_json(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items() if not isinstance(v, datetime)},
                "started_at": self.started_at.isoformat(), "ended_at": self.ended_at.isoformat(),
                "progress": self.progress}


def read_torrent(data: bytes) -> Any:
    """A ``.torrent`` file's info, or ``InvalidInput`` saying why it is not one (not bencode, absurd, too large)."""
    if len(data) > MAX_TORRENT_BYTES:
        raise InvalidInput(f"expected a .torrent of at most {MAX_TORRENT_BYTES} bytes, got {len(data)}")
    if not data.startswith(b"d"):
        raise InvalidInput(f"expected a .torrent (a bencoded dictionary), got {data[:20]!r}")
    try:
        info = lt.torrent_info(data)  # libtorrent's own decoder bounds depth and item counts
    except (RuntimeError, ValueError, TypeError) as exc:
        raise InvalidInput(f"expected a .torrent, got bytes libtorrent refuses: {exc}") from None
    if info.num_pieces() > MAX_PIECES:
        raise InvalidInput(f"expected at most {MAX_PIECES} pieces, got {info.num_pieces()}")
    return info


def session_settings(address: str, *, software: str = "", dht: bool = False, dht_private: bool = False,
                     timeout: float = 15.0) -> dict[str, Any]:
    """A libtorrent session bound to ``address``: TCP only, no encryption, LSD/UPnP/NAT-PMP off, DHT if asked.

    The DHT never bootstraps from libtorrent's public routers: it joins the nodes it is
    given. ``dht_private``: those nodes are on a private or loopback network (one address
    range, no BEP 42 node ids), which libtorrent's DHT otherwise refuses to route through.
    """
    settings: dict[str, Any] = {
        "listen_interfaces": f"{address}:0", "outgoing_interfaces": address,
        "enable_dht": dht, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False, "out_enc_policy": 2, "in_enc_policy": 2,
        "allow_multiple_connections_per_ip": True, "alert_mask": lt.alert.category_t.all_categories,
        "user_agent": software or f"reelguard {__version__}, libtorrent {lt.__version__}",
        "peer_connect_timeout": max(1, int(timeout)), "dht_bootstrap_nodes": "",
        # a peer stays connected once the piece asked for is in, so its handshake and bitfield can still be read
        "close_redundant_connections": False}
    if dht_private:
        settings.update(dht_restrict_routing_ips=False, dht_restrict_search_ips=False,
                        dht_ignore_dark_internet=False, dht_prefer_verified_node_ids=False, dht_enforce_node_id=False)
    return settings


class SwarmProbe:
    def __init__(self, work_dir: Path, *, address: str = "127.0.0.1", timeout_seconds: float = 15.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), rng: random.Random | None = None) -> None:
        self.work_dir, self.address, self.timeout, self.clock = work_dir, address, timeout_seconds, clock
        self._rng = rng or random.Random()  # noqa: S311 - which piece to ask for, not a secret
        self.software = f"reelguard {__version__}, libtorrent {lt.__version__}"

    def prove(self, torrent: bytes, peers: Sequence[CandidatePeer], *, at_once: int = 8) -> list[PeerObservation]:
        """One observation per peer, in the order given; ``at_once`` peers are asked together, each alone.

        Each peer gets its own libtorrent session whose IP filter admits that peer only, so
        asking several at once never lets a piece come from anyone but the peer it is
        credited to; a silent peer costs its timeout once per batch, not once per peer.
        """
        info = read_torrent(torrent)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        seen: list[PeerObservation] = []
        for first in range(0, len(peers), max(1, at_once)):
            batch = [_Asking(self, info, peer) for peer in peers[first:first + max(1, at_once)]]
            deadline = time.monotonic() + self.timeout
            try:
                while time.monotonic() < deadline and any(asking.state.outcome is None for asking in batch):
                    for asking in batch:
                        asking.poll(self._rng)
                    time.sleep(0.05)
            finally:
                seen.extend(asking.close() for asking in batch)
        return seen


class _Asking:
    """One peer being asked for one piece, in a session of its own that admits no other address."""

    def __init__(self, probe: SwarmProbe, info: Any, peer: CandidatePeer) -> None:
        self.probe, self.info, self.peer = probe, info, peer
        self.started, self.ended = probe.clock(), None
        settings = session_settings(probe.address, software=probe.software, timeout=probe.timeout)
        self.session = lt.session(settings)  # type: ignore[call-overload]  # a dict of settings, as the bindings take
        only = lt.ip_filter()
        only.add_rule("0.0.0.0", "255.255.255.255", 1)  # noqa: S104 - a filter blocking every IPv4 address
        only.add_rule(peer.ip, peer.ip, 0)  # this peer alone: a piece can only have come from it
        self.session.set_ip_filter(only)
        self.save = Path(tempfile.mkdtemp(dir=probe.work_dir, prefix="probe-"))
        params = lt.add_torrent_params()
        params.ti, params.save_path = lt.torrent_info(info), str(self.save)
        self.handle = self.session.add_torrent(params)
        self.wanted = probe._rng.randrange(info.num_pieces())
        self.handle.prioritize_pieces([0] * info.num_pieces())
        self.handle.piece_priority(self.wanted, 7)
        self.handle.connect_peer((peer.ip, peer.port))
        self.state = _Seen()

    def poll(self, rng: random.Random) -> None:
        if self.state.outcome is not None:
            return
        for alert in self.session.pop_alerts():
            self.state.read(alert, self.peer, self.wanted)
        if self.state.outcome is None:
            self.wanted = self.state.watch(self.handle, self.peer, self.wanted, rng)
        else:  # its handshake and bitfield as they stood when the verdict came; the piece asked for stays
            self.state.watch(self.handle, self.peer, self.wanted, rng)
            self.ended = self.probe.clock()

    def close(self) -> PeerObservation:
        self.session.remove_torrent(self.handle)
        shutil.rmtree(self.save, ignore_errors=True)
        state, info, peer, probe = self.state, self.info, self.peer, self.probe
        verdict, reason = state.outcome or ("listed", state.why_not(probe.timeout))
        if verdict == "distributor":  # the whole piece came from it (no other address was admitted)
            state.received = max(state.received, int(info.piece_size(self.wanted)))
        proven = verdict == "distributor"
        return PeerObservation(
            str(info.info_hashes().v1), info.name(), peer.ip, peer.port, state.transport, state.client,
            state.peer_id, self.started, self.ended or probe.clock(), verdict, reason,
            self.wanted if proven else state.failed_piece,
            info.hash_for_piece(self.wanted).hex() if proven else None,
            state.received, state.advertised, peer.found_by, probe.address, probe.software, int(info.num_pieces()))


class _Seen:
    """What the probe has seen of one peer so far."""

    def __init__(self) -> None:
        self.connected = False
        self.outcome: tuple[str, str] | None = None
        self.transport, self.client, self.peer_id = "tcp", "", ""
        self.received: int = 0
        self.advertised: int | None = None
        self.failed_piece: int | None = None

    def read(self, alert: Any, peer: CandidatePeer, wanted: int) -> None:
        if isinstance(alert, lt.piece_finished_alert) and alert.piece_index == wanted:
            self.outcome = ("distributor", f"piece {wanted} received from it alone and its SHA-1 verified")
        elif isinstance(alert, lt.hash_failed_alert):
            self.failed_piece = int(alert.piece_index)
            self.outcome = ("corrupt", f"piece {alert.piece_index} from it failed its SHA-1 check")

    def watch(self, handle: Any, peer: CandidatePeer, wanted: int, rng: random.Random) -> int:
        """Record the peer's handshake and counts; ask for a piece it has if it lacks the one asked for."""
        for info in handle.get_peer_info():
            if info.ip[0] != peer.ip or info.pid.is_all_zeros():
                continue  # another address, or no handshake yet (a connection attempt is listed too)
            self.connected = True
            self.client, self.peer_id = str(info.client), bytes(info.pid.to_bytes()).hex()
            self.received = max(self.received, int(info.total_download))
            have = [index for index, present in enumerate(info.pieces) if present]
            if have:
                self.advertised = len(have)
                if wanted not in have:
                    handle.piece_priority(wanted, 0)
                    wanted = rng.choice(have)
                    handle.piece_priority(wanted, 7)
        return wanted

    def why_not(self, timeout: float) -> str:
        if not self.connected:
            return f"listed, but no BitTorrent handshake within {timeout:g} s"
        if not self.advertised:
            return f"connected, but it showed no piece within {timeout:g} s"
        return f"connected and showed {self.advertised} pieces, but delivered no verified piece within {timeout:g} s"
