"""A BitTorrent swarm on loopback for tests: real libtorrent seeders, and two peers that only pretend.

Seeders are libtorrent sessions, each bound to its own loopback address (127.0.0.2,
127.0.0.3, …) so that peers differ by IP, with DHT, LSD, UPnP and NAT-PMP off.
``PretendingPeer`` speaks just enough of the wire protocol (BEP 3) to be listed and
connected to: the handshake for the infohash and a bitfield saying it has everything.
``silent`` never unchokes (a peer that announces but serves nothing); ``corrupt``
answers every request with random bytes (a peer whose pieces fail their hash)::

    with LoopbackSwarm(payload) as swarm:
        swarm.seed("127.0.0.2"); swarm.pretend("127.0.0.5", corrupt=True)
        probe.prove(swarm.torrent, swarm.peers)
"""

from __future__ import annotations

import os
import socket
import struct
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import libtorrent as lt

from reelguard.monitor.swarm import CandidatePeer

PIECE = 64 * 1024


class PretendingPeer:
    __test__ = False

    def __init__(self, ip: str, infohash: bytes, pieces: int, *, corrupt: bool) -> None:
        self.infohash, self.pieces, self.corrupt = infohash, pieces, corrupt
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
                while not self._stop.is_set():
                    length = struct.unpack(">I", _read(connection, 4))[0]
                    message = _read(connection, length) if length else b""
                    if message[:1] == b"\x02" and self.corrupt:  # interested: unchoke
                        connection.sendall(struct.pack(">IB", 1, 1))
                    elif message[:1] == b"\x06" and self.corrupt:  # request: random bytes for the block
                        index, begin, size = struct.unpack(">III", message[1:13])
                        connection.sendall(struct.pack(">IBII", 9 + size, 7, index, begin) + os.urandom(size))
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


class LoopbackSwarm:
    __test__ = False

    def __init__(self, payload: bytes, name: str = "Dune.Part.Two.2024.1080p.WEB-DL-FLUX.mkv") -> None:
        self._folder = tempfile.TemporaryDirectory()
        self.content = Path(self._folder.name) / "content"
        self.content.mkdir()
        (self.content / name).write_bytes(payload)
        made = lt.create_torrent(lt.list_files(str(self.content / name)), PIECE)
        lt.set_piece_hashes(made, str(self.content))
        self.torrent = lt.bencode(made.generate())
        self.info = lt.torrent_info(self.torrent)
        self.peers: list[CandidatePeer] = []
        self._sessions: list[Any] = []
        self._pretenders: list[PretendingPeer] = []

    def seed(self, ip: str) -> CandidatePeer:
        session = lt.session({"listen_interfaces": f"{ip}:0", "enable_dht": False, "enable_lsd": False,
                              "enable_upnp": False, "enable_natpmp": False, "enable_incoming_utp": False,
                              "enable_outgoing_utp": False, "in_enc_policy": 2, "out_enc_policy": 2})
        params = lt.add_torrent_params()
        params.ti, params.save_path, params.flags = lt.torrent_info(self.info), str(self.content), \
            lt.torrent_flags.seed_mode
        session.add_torrent(params)
        self._sessions.append(session)
        return self._listed(CandidatePeer(ip, session.listen_port(), "tracker"))

    def pretend(self, ip: str, *, corrupt: bool) -> CandidatePeer:
        peer = PretendingPeer(ip, self.info.info_hashes().v1.to_bytes(), self.info.num_pieces(), corrupt=corrupt)
        self._pretenders.append(peer)
        return self._listed(CandidatePeer(ip, peer.port, "tracker"))

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
        self._folder.cleanup()
