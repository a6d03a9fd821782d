"""Proof of participation on a loopback swarm: seeders proven by a verified piece, pretenders never."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

import pytest

from reelguard.errors import InvalidInput
from reelguard.monitor.swarm import CandidatePeer, SwarmProbe, read_torrent
from tests.swarm_peers import LoopbackSwarm


def test_seeders_are_proven_and_a_silent_or_corrupt_peer_never_is(tmp_path: Path) -> None:
    with LoopbackSwarm(os.urandom(1_000_000)) as swarm:
        seeders = [swarm.seed("127.0.0.2"), swarm.seed("127.0.0.3")]
        silent = swarm.pretend("127.0.0.4", corrupt=False)
        corrupt = swarm.pretend("127.0.0.5", corrupt=True)
        seen = SwarmProbe(tmp_path, address="127.0.0.9", timeout_seconds=6).prove(swarm.torrent, swarm.peers)
        by_ip = {observation.peer_ip: observation for observation in seen}
        for seeder in seeders:
            proven = by_ip[seeder.ip]
            assert proven.verdict == "distributor", proven.reason
            assert proven.piece_index is not None
            assert proven.piece_sha1 == swarm.info.hash_for_piece(proven.piece_index).hex()
            assert proven.bytes_received >= swarm.info.piece_size(proven.piece_index)  # the whole piece, from it
            assert proven.pieces_advertised == swarm.info.num_pieces()
            assert proven.infohash == str(swarm.info.info_hashes().v1) and proven.peer_id
            assert proven.probe_address == "127.0.0.9" and "libtorrent" in proven.probe_software
            assert proven.started_at.tzinfo is UTC and proven.ended_at >= proven.started_at
        assert by_ip[silent.ip].verdict == "listed" and "delivered no verified piece" in by_ip[silent.ip].reason
        assert by_ip[corrupt.ip].verdict == "corrupt" and by_ip[corrupt.ip].piece_sha1 is None
        assert "failed its SHA-1 check" in by_ip[corrupt.ip].reason


def test_a_peer_that_does_not_answer_is_only_listed(tmp_path: Path) -> None:
    with LoopbackSwarm(os.urandom(200_000)) as swarm:
        (seen,) = SwarmProbe(tmp_path, address="127.0.0.9", timeout_seconds=2).prove(
            swarm.torrent, [CandidatePeer("127.0.0.6", 9, "tracker")])
    assert seen.verdict == "listed" and "no BitTorrent handshake" in seen.reason and seen.bytes_received == 0


@pytest.mark.parametrize(("data", "said"), [
    (b"not bencode at all", "expected a .torrent"),
    (b"d4:infod6:lengthi-5e4:name1:a12:piece lengthi16384e6:pieces0:ee", "libtorrent refuses"),
    (b"d" + b"l" * 100_000, "libtorrent refuses"),
    (b"d" + b"0" * (17 * 1024 * 1024), "at most"),
])
def test_a_torrent_file_that_is_not_one_is_refused(data: bytes, said: str) -> None:
    with pytest.raises(InvalidInput, match=said):
        read_torrent(data)
