"""A BitTorrent swarm on loopback for tests: a real tracker, real libtorrent seeders, and peers that only pretend.

The tracker is Debian's ``opentracker`` on 127.0.0.1 (whitelist mode, as Debian builds
it: the swarm's infohash is written to its whitelist before it starts).

Seeders are libtorrent sessions, each bound to its own loopback address (127.0.0.2,
127.0.0.3, …) so that peers differ by IP, with DHT, LSD, UPnP and NAT-PMP off.
``PretendingPeer`` speaks just enough of the wire protocol (BEP 3) to be listed and
connected to: the handshake for the infohash and a bitfield saying it has everything.
``silent`` never unchokes (a peer that announces but serves nothing); ``corrupt``
answers every request with random bytes (a peer whose pieces fail their hash); a
``flaky`` peer serves the true bytes but hangs up after a few blocks on each connection::

    with LoopbackSwarm(payload, tracker=True) as swarm:
        swarm.seed("127.0.0.2"); swarm.pretend("127.0.0.5", corrupt=True)
        probe.prove(swarm.torrent, swarm.peers)
        discovery.discover(swarm.magnet)      # metadata and peers from the tracker
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import libtorrent as lt

from reelguard.monitor.swarm import CandidatePeer, session_settings

PIECE = 64 * 1024


class PretendingPeer:
    __test__ = False

    def __init__(self, ip: str, infohash: bytes, pieces: int, *, corrupt: bool, payload: bytes = b"",
                 blocks_per_connection: int = 0) -> None:
        """``payload``: serve these true bytes (rather than nothing, or random ones if ``corrupt``), hanging up
        after ``blocks_per_connection`` blocks on each connection."""
        self.infohash, self.pieces, self.corrupt, self.payload = infohash, pieces, corrupt, payload
        self.blocks_per_connection = blocks_per_connection
        self._listener = socket.create_server((ip, 0))
        self.ip, self.port = ip, self._listener.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                if len(_read(connection, 68)) < 68:
                    return
                connection.sendall(b"\x13BitTorrent protocol" + bytes(8) + self.infohash + b"-XX0001-" + os.urandom(12))
                bits = bytearray((self.pieces + 7) // 8)
                for index in range(self.pieces):
                    bits[index // 8] |= 0x80 >> (index % 8)
                connection.sendall(struct.pack(">IB", 1 + len(bits), 5) + bits)
                served = 0
                while not self._stop.is_set():
                    length = struct.unpack(">I", _read(connection, 4))[0]
                    message = _read(connection, length) if length else b""
                    serves = self.corrupt or bool(self.payload)
                    if message[:1] == b"\x02" and serves:  # interested: unchoke
                        connection.sendall(struct.pack(">IB", 1, 1))
                    elif message[:1] == b"\x06" and serves:  # request: the block's bytes, true or random
                        index, begin, size = struct.unpack(">III", message[1:13])
                        start = index * PIECE + begin
                        block = self.payload[start:start + size] if self.payload else os.urandom(size)
                        connection.sendall(struct.pack(">IBII", 9 + size, 7, index, begin) + block)
                        served += 1
                        if served == self.blocks_per_connection:
                            return  # hangs up
            except (OSError, struct.error):
                return


def _read(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


class OpenTracker:
    """Debian's opentracker on 127.0.0.1, HTTP and UDP on one free port, admitting the infohashes given."""

    __test__ = False

    def __init__(self, infohashes: list[str]) -> None:
        binary = shutil.which("opentracker")
        if binary is None:
            raise RuntimeError("opentracker is not installed: `make system-deps` installs it (Debian package)")
        self._folder = tempfile.TemporaryDirectory()
        os.chmod(self._folder.name, 0o755)  # it drops to user nobody inside this folder
        Path(self._folder.name, "whitelist").write_text("".join(f"{h}\n" for h in infohashes))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._process = subprocess.Popen(
            [binary, "-i", "127.0.0.1", "-p", str(self.port), "-P", str(self.port), "-w", "whitelist",
             "-d", self._folder.name, "-u", "nobody"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}/announce"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError("opentracker did not start listening within 10 s")

    def announce(self, ip: str, port: int, infohash: str) -> None:
        """Announce as a peer at ``ip``:``port`` (the tracker lists the address the request came from).

        opentracker reads its whitelist in a thread of its own after it starts listening; on a
        loaded machine an announce can come first and be refused as "not authorized". That
        refusal is asked again until the whitelist has had 10 s to load; any other is final.
        """
        deadline = time.monotonic() + 10
        while True:
            answer = self._announce_once(ip, port, infohash)
            if b"failure" not in answer:
                return
            if b"not authorized" not in answer or time.monotonic() > deadline:
                raise RuntimeError(f"opentracker refused the announce: {answer!r}")
            time.sleep(0.1)

    def _announce_once(self, ip: str, port: int, infohash: str) -> bytes:
        query = urllib.parse.urlencode({"peer_id": b"-XX0001-" + os.urandom(6).hex().encode()[:12], "port": port,
                                        "uploaded": 0, "downloaded": 0, "left": 0, "compact": 1,
                                        "event": "started"})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5, source_address=(ip, 0))
        connection.request("GET", f"/announce?info_hash={urllib.parse.quote(bytes.fromhex(infohash))}&{query}")
        answer = connection.getresponse().read()
        connection.close()
        return answer

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(5)
        self._folder.cleanup()


class LoopbackSwarm:
    __test__ = False

    def __init__(self, payload: bytes, name: str = "Dune.Part.Two.2024.1080p.WEB-DL-FLUX.mkv", *,
                 tracker: bool = False, source: Path | None = None) -> None:
        self._folder = tempfile.TemporaryDirectory()
        self.content = Path(self._folder.name) / "content"
        self.content.mkdir()
        if source is not None:
            shutil.copyfile(source, self.content / name)
        else:
            (self.content / name).write_bytes(payload)
        made = lt.create_torrent(lt.list_files(str(self.content / name)), PIECE)
        lt.set_piece_hashes(made, str(self.content))
        hashes = lt.torrent_info(lt.bencode(made.generate())).info_hashes()
        self.infohash = str(hashes.v1)
        # a hybrid torrent is announced twice: by v1 and by its v2 hash cut to 20 bytes (BEP 52)
        self.tracker = OpenTracker([self.infohash, str(hashes.v2)[:40]]) if tracker else None
        if self.tracker is not None:
            made.add_tracker(self.tracker.url)
        self.torrent = lt.bencode(made.generate())
        self.info = lt.torrent_info(self.torrent)
        self.magnet = f"magnet:?xt=urn:btih:{self.infohash}&dn={urllib.parse.quote(name)}" + (
            f"&tr={urllib.parse.quote(self.tracker.url, safe='')}" if self.tracker else "")
        self.peers: list[CandidatePeer] = []
        self._sessions: list[Any] = []
        self._pretenders: list[PretendingPeer] = []

    def seed(self, ip: str, *, dht: DhtNode | None = None) -> CandidatePeer:
        """A libtorrent seeder on ``ip``, announced to the tracker (if any) and to the DHT through ``dht``."""
        session = lt.session({"listen_interfaces": f"{ip}:0", "outgoing_interfaces": ip, "enable_dht": False,
                              "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                              "enable_incoming_utp": False, "enable_outgoing_utp": False, "in_enc_policy": 2,
                              "out_enc_policy": 2, "dht_bootstrap_nodes": "",
                              "alert_mask": lt.alert.category_t.tracker_notification}
                             if dht is None else session_settings(ip, dht=True, dht_private=True))
        params = lt.add_torrent_params()
        params.ti, params.save_path, params.flags = lt.torrent_info(self.info), str(self.content), \
            lt.torrent_flags.seed_mode
        handle = session.add_torrent(params)
        self._sessions.append(session)
        if self.tracker is not None:
            _announced(session, handle)
        if dht is not None:
            dht.announce(session, handle, self.infohash)
        return self._listed(CandidatePeer(ip, session.listen_port(), "tracker"))

    def leech(self, ip: str, peers: list[CandidatePeer]) -> None:
        """A downloader on ``ip`` connected to ``peers``, held to 1 kB/s so it stays in the swarm (and in PEX)."""
        session = lt.session(session_settings(ip))
        params = lt.add_torrent_params()
        params.ti, params.save_path, params.download_limit = lt.torrent_info(self.info), str(
            Path(self._folder.name) / f"leech-{ip}"), 1024
        handle = session.add_torrent(params)
        for peer in peers:
            handle.connect_peer((peer.ip, peer.port))
        self._sessions.append(session)

    def pretend(self, ip: str, *, corrupt: bool) -> CandidatePeer:
        peer = PretendingPeer(ip, self.info.info_hashes().v1.to_bytes(), self.info.num_pieces(), corrupt=corrupt)
        self._pretenders.append(peer)
        if self.tracker is not None:
            self.tracker.announce(ip, peer.port, self.infohash)
        return self._listed(CandidatePeer(ip, peer.port, "tracker"))

    def flaky(self, ip: str, *, blocks_per_connection: int) -> CandidatePeer:
        """A peer serving the true bytes that hangs up after ``blocks_per_connection`` blocks each time."""
        payload = (self.content / self.info.name()).read_bytes()
        peer = PretendingPeer(ip, self.info.info_hashes().v1.to_bytes(), self.info.num_pieces(), corrupt=False,
                              payload=payload, blocks_per_connection=blocks_per_connection)
        self._pretenders.append(peer)
        return self._listed(CandidatePeer(ip, peer.port, "tracker"))

    def stop_seeding(self) -> None:
        """Every libtorrent peer leaves the swarm (its socket closes); the tracker may still list it a while."""
        self._sessions.clear()

    def _listed(self, peer: CandidatePeer) -> CandidatePeer:
        self.peers.append(peer)
        return peer

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for peer in self._pretenders:
            peer.close()
        self._sessions.clear()
        if self.tracker is not None:
            self.tracker.close()
        self._folder.cleanup()


class DhtNode:
    """A DHT-only libtorrent node on loopback (no torrents): the node seeders announce to and probes ask."""

    __test__ = False

    def __init__(self, ip: str) -> None:
        self.session = lt.session(session_settings(ip, dht=True, dht_private=True))
        self.ip, self.port = ip, self.session.listen_port()

    def announce(self, session: Any, handle: Any, infohash: str, seconds: float = 15.0) -> None:
        """Join ``session``'s DHT through this node and announce ``handle`` until this node has stored it."""
        session.add_dht_node((self.ip, self.port))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            handle.force_dht_announce()
            stop = time.monotonic() + 1.0
            while time.monotonic() < stop:
                for alert in self.session.pop_alerts():
                    if isinstance(alert, lt.dht_announce_alert) and str(alert.info_hash) == infohash:
                        return
                session.pop_alerts()
                time.sleep(0.05)
        raise RuntimeError(f"the DHT node did not store the announce within {seconds:g} s")


def _announced(session: Any, handle: Any, seconds: float = 10.0) -> None:
    """Wait until the tracker has answered the seeder's first announce (so it is listed before anyone asks)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for alert in session.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert):
                return
            if isinstance(alert, lt.tracker_error_alert):
                raise RuntimeError(f"the tracker refused a seeder: {alert.message()}")
        time.sleep(0.02)
    raise RuntimeError(f"the tracker did not answer a seeder within {seconds:g} s")
