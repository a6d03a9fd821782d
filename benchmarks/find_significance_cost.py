"""What the false-match probability costs ``identify``: the same queries with and without it, interleaved.

Reads ``--queries`` queries of the evaluation set (``find_evaluation.py`` builds it) once,
then times ``identify_sample`` on each, alternating the shipped search (every line weighed
by ``significance.line_evidence``) with the same search whose weighing is replaced by a
constant — the comparator, measured in the same run on the same samples. Reading the file
is left out of both (it is the same work either way). Prints and appends to
docs/benchmarks.md::

    .venv/bin/python benchmarks/find_significance_cost.py --work /tmp/reelguard-find-eval
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import report

from reelguard.fingerprint import service
from reelguard.fingerprint.index import CatalogIndex
from reelguard.fingerprint.significance import Evidence
from reelguard.media.sample import MediaSample


def _unweighed(*_: object, **__: object) -> Evidence:
    return Evidence(0, 0, 0.0, 1.0, 1.0)


def _time(index: CatalogIndex, sample: MediaSample, weigh: bool) -> float:
    started = time.perf_counter()
    if weigh:
        service.identify_sample(index, sample, "q", keep_weak=True)
    else:
        with mock.patch.object(service, "line_evidence", _unweighed):
            service.identify_sample(index, sample, "q", keep_weak=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/reelguard-find-eval"))
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    index = CatalogIndex(args.work / "index")
    index.titles()
    paths = sorted((args.work / "queries").glob("*.mp4"))
    chosen = [p for p in paths if ".tmp" not in p.name][::max(1, len(paths) // args.queries)][:args.queries]
    started = time.perf_counter()
    samples = [service.read_sample(path) for path in chosen]
    read_per_minute = (time.perf_counter() - started) / (sum(s.duration for s in samples) / 60)
    minutes = sum(s.duration for s in samples) / 60
    with_it, without = [], []
    for round_number in range(args.rounds):
        for sample in samples:  # alternate which goes first, so neither always meets a warm cache
            order = (True, False) if round_number % 2 == 0 else (False, True)
            for weigh in order:
                (with_it if weigh else without).append(_time(index, sample, weigh))
    per_round = len(samples)
    totals_with = [sum(with_it[i * per_round:(i + 1) * per_round]) / minutes for i in range(args.rounds)]
    totals_without = [sum(without[i * per_round:(i + 1) * per_round]) / minutes for i in range(args.rounds)]
    ratio = statistics.median(a / b for a, b in zip(with_it, without, strict=True))
    shipped, comparator = statistics.median(totals_with), statistics.median(totals_without)
    whole = (read_per_minute + shipped) / (read_per_minute + comparator)
    rows = [["search + verify + false-match probability (shipped)", f"{shipped:.2f}", f"{ratio:.2f}"],
            ["search + verify, lines not weighed (comparator)", f"{comparator:.2f}", "1.00"],
            ["reading the suspect (pictures 4/s, sound 8 kHz), once", f"{read_per_minute:.2f}", ""],
            ["whole identify (read + search + verify), with / without", f"{read_per_minute + shipped:.2f} / "
             f"{read_per_minute + comparator:.2f}", f"{whole:.2f}"]]
    notes = [f"{len(samples)} evaluation-set queries ({minutes:.1f} minutes), {args.rounds} rounds, interleaved; "
             "reading the file excluded (identify reads at 4 pictures/s and 8 kHz, the same either way)",
             "ratio: median over queries of (with / without); budget: the probability may cost at most 10 % of "
             "identify (read included: see the evaluation set's s per minute)"]
    report("Content recognition: what the false-match probability costs", ["identify", "s per minute of query",
                                                                            "ratio"], rows, notes)


if __name__ == "__main__":
    main()
