"""The swarm on loopback: metadata and peers found (opentracker, BEP 9), seeders proven, samples fetched."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

import libtorrent as lt
import pytest

from reelguard.errors import InvalidInput, SourceError
from reelguard.monitor.discovery import SwarmDiscovery
from reelguard.monitor.samples import acquire_sample, sample_pieces
from reelguard.monitor.swarm import CandidatePeer, SwarmProbe, read_torrent
from tests.swarm_peers import DhtNode, LoopbackSwarm


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
            assert proven.pieces_advertised == swarm.info.num_pieces() and proven.progress == 1.0
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


def test_a_magnet_gives_the_metadata_and_the_trackers_peers(tmp_path: Path) -> None:
    """BEP 9: the info dictionary comes from the peers (libtorrent checks it against the infohash); the peers
    come from opentracker — seeders, the peer that only announces, never the probe itself."""
    with LoopbackSwarm(os.urandom(700_000), tracker=True) as swarm:
        seeder = swarm.seed("127.0.0.2")
        silent = swarm.pretend("127.0.0.4", corrupt=False)
        found = SwarmDiscovery(tmp_path, address="127.0.0.9", seconds=15).discover(swarm.magnet)
        assert found.infohash == swarm.infohash and found.name == swarm.info.name()
        assert lt.torrent_info(found.torrent).info_hashes().v1 == swarm.info.info_hashes().v1
        assert {(p.ip, p.port, p.found_by) for p in found.peers} == {
            (seeder.ip, seeder.port, "tracker"), (silent.ip, silent.port, "tracker")}
        assert list(found.trackers.values()) and all("peers" in said for said in found.trackers.values())


def test_peer_hints_in_a_magnet_are_used_without_a_tracker(tmp_path: Path) -> None:
    with LoopbackSwarm(os.urandom(300_000)) as swarm:
        seeder = swarm.seed("127.0.0.3")
        hinted = f"magnet:?xt=urn:btih:{swarm.infohash}&x.pe={seeder.ip}:{seeder.port}"
        found = SwarmDiscovery(tmp_path, address="127.0.0.9", seconds=15).discover(hinted)
    assert [(p.ip, p.found_by) for p in found.peers] == [(seeder.ip, "magnet hint")]


def test_a_swarm_where_no_peer_answers_is_a_retryable_error(tmp_path: Path) -> None:
    with LoopbackSwarm(os.urandom(100_000), tracker=True) as swarm:
        swarm.pretend("127.0.0.6", corrupt=False)  # listed; has no metadata to give
        with pytest.raises(SourceError, match="no peer of the swarm gave the torrent's metadata") as caught:
            SwarmDiscovery(tmp_path, address="127.0.0.9", seconds=3).discover(swarm.magnet)
    assert caught.value.retryable


@pytest.mark.parametrize("magnet", ["magnet:?dn=nothing", "http://example.invalid/x.torrent",
                                    "magnet:?xt=urn:btih:zz"])
def test_a_bad_magnet_is_refused_before_the_swarm_is_asked(tmp_path: Path, magnet: str) -> None:
    with pytest.raises(InvalidInput, match=r"expected (a magnet|an infohash)"):
        SwarmDiscovery(tmp_path, address="127.0.0.9", seconds=1).discover(magnet)


def test_a_sample_comes_from_proven_distributors_alone(tmp_path: Path) -> None:
    """A large file: its head, its tail and a middle run are fetched, each piece hash-checked; the rest stays
    zeros. A corrupt peer handed in as a distributor would only cost time: its pieces fail their hash."""
    payload = os.urandom(3_000_000)
    with LoopbackSwarm(payload) as swarm:
        seeder = swarm.seed("127.0.0.2")
        bad = swarm.pretend("127.0.0.5", corrupt=True)
        info = read_torrent(swarm.torrent)
        _, ranges, pieces = sample_pieces(info, max_bytes=1_000_000)
        assert ranges[0][0] == 0 and ranges[-1][1] == len(payload) and len(pieces) < info.num_pieces()
        sample = acquire_sample(swarm.torrent, [bad, seeder], tmp_path / "s", address="127.0.0.9",
                                max_bytes=1_000_000, timeout_seconds=30)
    assert sample.complete and sample.pieces_wanted == len(pieces)
    got = sample.path.read_bytes()
    piece = info.piece_length()
    for index in range(info.num_pieces()):
        start, end = index * piece, min(len(payload), (index + 1) * piece)
        if index in pieces:
            assert got[start:end] == payload[start:end]
        else:
            assert not any(got[start:end])  # never fetched: a hole


def test_a_distributor_that_hangs_up_is_asked_again(tmp_path: Path) -> None:
    """A distributor that closes the connection after a few blocks, every time: libtorrent alone would not dial it
    again for a minute; the sample reconnects at once, keeps the pieces it has, and completes."""
    payload = os.urandom(3_000_000)
    with LoopbackSwarm(payload) as swarm:
        flaky = swarm.flaky("127.0.0.6", blocks_per_connection=12)
        sample = acquire_sample(swarm.torrent, [flaky], tmp_path / "s", address="127.0.0.9", max_bytes=1_000_000,
                                timeout_seconds=20)
        info = read_torrent(swarm.torrent)
    _, _, pieces = sample_pieces(info, max_bytes=1_000_000)
    assert sample.pieces_wanted == len(pieces) and len(pieces) * 4 > 2 * 12  # it takes several connections
    assert sample.complete
    got, piece = sample.path.read_bytes(), info.piece_length()
    assert all(got[i * piece:(i + 1) * piece] == payload[i * piece:(i + 1) * piece] for i in pieces)


def test_a_sample_with_no_distributor_is_refused(tmp_path: Path) -> None:
    with LoopbackSwarm(os.urandom(100_000)) as swarm, pytest.raises(InvalidInput, match="proven distributor"):
        acquire_sample(swarm.torrent, [], tmp_path, address="127.0.0.9", max_bytes=1 << 20, timeout_seconds=1)


def test_a_bare_infohash_finds_its_swarm_through_the_dht(tmp_path: Path) -> None:
    """DHT among loopback nodes only (BEP 5): a seeder announces through a DHT node; the probe, joined to that
    node and to nothing public, gets the seeder from get_peers and the metadata from the seeder."""
    with LoopbackSwarm(os.urandom(300_000)) as swarm:
        node = DhtNode("127.0.0.10")
        seeder = swarm.seed("127.0.0.2", dht=node)
        found = SwarmDiscovery(tmp_path, address="127.0.0.9", seconds=20, dht_nodes=((node.ip, node.port),),
                               dht_private=True).discover(f"magnet:?xt=urn:btih:{swarm.infohash}")
    assert found.infohash == swarm.infohash
    assert [(p.ip, p.port, p.found_by) for p in found.peers] == [(seeder.ip, seeder.port, "dht")]


def test_peers_a_peer_tells_of_are_listed_as_found_by_pex(tmp_path: Path) -> None:
    """PEX (ut_pex): the probe knows one seeder only (a magnet hint); a downloader connected to both seeders told
    the first of the second, and the first tells the probe in its PEX message, sent about once a minute."""
    with LoopbackSwarm(os.urandom(300_000)) as swarm:
        first, second = swarm.seed("127.0.0.2"), swarm.seed("127.0.0.3")
        swarm.leech("127.0.0.4", [first, second])
        hinted = f"magnet:?xt=urn:btih:{swarm.infohash}&x.pe={first.ip}:{first.port}"
        found = SwarmDiscovery(tmp_path, address="127.0.0.9", seconds=15, pex_seconds=60).discover(hinted)
    by_ip = {peer.ip: peer for peer in found.peers}
    assert by_ip[first.ip].found_by == "magnet hint"
    assert (by_ip[second.ip].port, by_ip[second.ip].found_by) == (second.port, "pex"), found.peers
    assert all(peer.found_by == "pex" for peer in found.peers if peer.ip != first.ip)


def test_a_swarm_with_no_tracker_no_hint_and_no_dht_is_refused_at_once(tmp_path: Path) -> None:
    with LoopbackSwarm(os.urandom(100_000)) as swarm, pytest.raises(InvalidInput, match="nothing says where"):
        SwarmDiscovery(tmp_path, address="127.0.0.9", seconds=30).discover(f"magnet:?xt=urn:btih:{swarm.infohash}")
    with pytest.raises(InvalidInput, match="nothing says where"):
        SwarmDiscovery(tmp_path, address="127.0.0.9", seconds=30).discover(swarm.torrent)  # no announce in it
