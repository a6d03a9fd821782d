"""End to end: minutes from a leak's torrent appearing on the indexer to the accused session (issue 19).

A 3-minute watermarked title is staged as in the end-to-end test (``tests/leak_loop.py``):
ingested and watched, played in two sessions, one session's copy rescaled and
re-encoded, seeded on a loopback swarm behind opentracker (two seeders and a peer that
serves nothing) and, beside it, an unrelated video under a name as close to the title.
The clock starts when both are listed on the Torznab test server; ``reelguard monitor
once`` then runs in its own process (search, match, discovery, proof, sample, identify,
trace) and the clock stops when it has answered. Each step's share comes from its job's
finishing time in the store.

The comparator, in the same run: ``reelguard trace`` run by hand on the very file the
pirates released (no search, no swarm): what the loop adds to the tracing itself.

    python benchmarks/monitor_loop.py [--seconds 180]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]

from _report import report  # noqa: E402
from fetch_test_media import fetch  # noqa: E402

from tests.leak_loop import staged_leak  # noqa: E402
from tests.watermark_fixtures import WM_TITLE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=180, help="the title's length")
    parser.add_argument("--pex-seconds", type=float, default=60.0, help="discovery's PEX window (the default setting)")
    args = parser.parse_args()
    fetch(ROOT / "media")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        with staged_leak(work, f"sqlite:///{work / 'reelguard.db'}", ROOT / "media", seconds=args.seconds,
                         pex_seconds=args.pex_seconds) as loop:
            loop.list_on_indexer()
            started = time.perf_counter()
            round_report = loop.reelguard("monitor", "once")
            loop_seconds = time.perf_counter() - started
            leak = loop.reelguard("sightings", "show", loop.leak.infohash)
            other = loop.reelguard("sightings", "show", loop.other.infohash)
            by_hand = time.perf_counter()
            traced_by_hand = loop.reelguard("trace", str(loop.ripped), "--title", WM_TITLE)
            by_hand_seconds = time.perf_counter() - by_hand
            leak_bytes, pieces = loop.leak.info.total_size(), loop.leak.info.num_pieces()
    steps = {s["step"]: s for s in leak["steps"]}
    accused = (steps.get("trace", {}).get("result") or {}).get("accused", [])
    correct = accused == [loop.leaker] and [a["session"] for a in traced_by_hand["accused"]] == [loop.leaker]
    other_verdict = next((s["result"] or {}).get("verdict") for s in other["steps"] if s["step"] == "identify")
    marks = [datetime.fromisoformat(round_report["started"])] + [
        datetime.fromisoformat(steps[s]["updated_at"]) for s in ("probe", "sample", "identify", "trace")]
    # the other sighting's jobs run between the leak's: a step's share is its own finishing time less the
    # previous finish in the whole queue, so the leak's steps are what is named, in the order they ran
    finishes = sorted([*marks[1:], *(datetime.fromisoformat(s["updated_at"]) for s in other["steps"])])
    share = {}
    for name, mark in zip(("probe", "sample", "identify", "trace"), marks[1:], strict=True):
        before = max([m for m in finishes if m < mark] or [marks[0]])
        share[name] = (mark - before).total_seconds()
    rows = [[f"{args.seconds / 60:g}", f"{leak_bytes / 1e6:.1f} MB, {pieces} pieces", f"{loop_seconds / 60:.2f}",
             *(f"{share[n]:.1f}" for n in ("probe", "sample", "identify", "trace")),
             f"{by_hand_seconds:.1f}", f"{loop_seconds / by_hand_seconds:.2f}", "yes" if correct else "NO",
             str(other_verdict)]]
    report("End to end: a leak's listing to the accused session", [
        "title min", "leak torrent", "listing → accused, min", "probe s", "sample s", "identify s", "trace s",
        "trace by hand s", "loop ÷ by hand", "leaker accused", "unrelated torrent"], rows, [
        "One `reelguard monitor once` in its own process, SQLite, this 2-core machine: Torznab search, release "
        f"match, discovery from the magnet (opentracker, BEP 9, then {args.pex_seconds:g} s listening for PEX), "
        "proof of 3 listed peers (2 seeders, 1 silent: "
        "the silent one costs the peer timeout, 10 s), a sample (the whole file: it is under the sample size), "
        "identify, trace. The unrelated torrent listed beside it goes through probe, sample and identify too.",
        "Step shares are from the jobs' finishing times; the round itself (search and match) is what precedes "
        "the probe's share. Comparator, same run: `reelguard trace` by hand on the released file.",
    ])


if __name__ == "__main__":
    main()
