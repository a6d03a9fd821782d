"""Proof of participation on a 20-peer loopback swarm: 16 seeders, 2 listed-only, 2 corrupt (issue 19).

A 4 MB torrent (64 KiB pieces) is seeded by 16 libtorrent sessions on 127.0.0.2-17;
two peers announce and serve nothing (127.0.0.18-19) and two answer every request with
random bytes (127.0.0.20-21). All 20 announce to Debian's opentracker on 127.0.0.1.
The probe (127.0.0.99) is handed only the magnet: it fetches the metadata (BEP 9),
lists the peers from the tracker, and asks each peer alone for a piece. A distributor
must be proven by a piece whose SHA-1 checks; the four others must never be.

The comparator, in the same run: a plain libtorrent client fetching the whole file from
the same swarm (every seeder admitted) — what a leak's download costs anyone.

    python benchmarks/swarm_proof.py [--peer-timeout 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]

import libtorrent as lt  # noqa: E402
from _report import report  # noqa: E402

from reelguard.monitor.discovery import SwarmDiscovery  # noqa: E402
from reelguard.monitor.swarm import SwarmProbe, session_settings  # noqa: E402
from tests.swarm_peers import LoopbackSwarm  # noqa: E402

SEEDERS = [f"127.0.0.{n}" for n in range(2, 18)]
SILENT = ["127.0.0.18", "127.0.0.19"]
CORRUPT = ["127.0.0.20", "127.0.0.21"]
PROBE = "127.0.0.99"


def plain_download(swarm: LoopbackSwarm, work: Path) -> float:
    """Seconds for an ordinary client to fetch the whole file from the swarm's seeders."""
    session = lt.session(session_settings("127.0.0.98"))  # type: ignore[call-overload]
    params = lt.add_torrent_params()
    params.ti, params.save_path = lt.torrent_info(swarm.info), str(work)
    started = time.perf_counter()
    handle = session.add_torrent(params)
    for peer in swarm.peers[: len(SEEDERS)]:
        handle.connect_peer((peer.ip, peer.port))
    while not handle.status().is_seeding:
        session.pop_alerts()
        time.sleep(0.01)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-timeout", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, LoopbackSwarm(os.urandom(4 << 20), tracker=True) as swarm:
        work = Path(folder)
        for ip in SEEDERS:
            swarm.seed(ip)
        for ip in SILENT + CORRUPT:
            swarm.pretend(ip, corrupt=ip in CORRUPT)
        started = time.perf_counter()
        found = SwarmDiscovery(work / "d", address=PROBE, seconds=30).discover(swarm.magnet)
        discovered = time.perf_counter() - started
        seen = SwarmProbe(work / "p", address=PROBE, timeout_seconds=args.peer_timeout).prove(found.torrent,
                                                                                              found.peers)
        proving = time.perf_counter() - started - discovered
        comparator = plain_download(swarm, work / "plain")
    verdicts = {o.peer_ip: o.verdict for o in seen}
    proven = [ip for ip in SEEDERS if verdicts.get(ip) == "distributor"]
    wrongly = [ip for ip in SILENT + CORRUPT if verdicts.get(ip) == "distributor"]
    seconds = {v: [(o.ended_at - o.started_at).total_seconds() for o in seen if o.verdict == v]
               for v in ("distributor", "listed", "corrupt")}
    mean = {v: f"{statistics.mean(s):.2f}" if s else "-" for v, s in seconds.items()}
    rows = [[f"{len(found.peers)} of 20", f"{len(proven)} of 16", f"{len(wrongly)} of 4",
             f"{sum(1 for ip in SILENT if verdicts.get(ip) == 'listed')} of 2",
             f"{sum(1 for ip in CORRUPT if verdicts.get(ip) == 'corrupt')} of 2",
             mean["distributor"], mean["listed"], mean["corrupt"], f"{discovered:.2f}", f"{proving:.1f}",
             f"{comparator:.2f}", f"{statistics.mean(seconds['distributor']) / comparator:.2f}"]]
    report("Proof of participation, 20-peer loopback swarm",
           ["peers listed (tracker)", "seeders proven", "others proven", "silent: listed", "corrupt: corrupt",
            "s/seeder", "s/silent", "s/corrupt", "discovery s", "proof s (all)", "plain download s",
            "s/seeder ÷ plain download"], rows,
           [f"Peers: 16 libtorrent {lt.__version__} seeders, 2 that announce and serve nothing, 2 that serve random "
            "bytes, all announced to Debian opentracker on 127.0.0.1; the probe had only the magnet "
            "(metadata by BEP 9).",
            "A distributor is proven by one piece downloaded from it alone (IP filter) whose SHA-1 matches the info "
            f"dictionary; a silent peer costs the peer timeout ({args.peer_timeout:g} s) by design.",
            "Comparator, same run: an ordinary libtorrent client fetching the whole 4 MB file from the 16 seeders.",
            "Peers are asked 8 at a time, each in a session of its own whose IP filter admits it alone; "
            "s/peer is from the first connection attempt to the verdict."])


if __name__ == "__main__":
    main()
