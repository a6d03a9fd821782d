"""What a part of recognition costs ``identify``: the same queries with and without it, interleaved.

Reads ``--queries`` queries of the evaluation set (``find_evaluation.py`` builds it) once,
then times ``identify_sample`` on each, alternating the shipped search with the same
search less one part — the comparator, measured in the same run on the same samples:

- ``--without probability``: every line's weighing (``significance.line_evidence``)
  replaced by a constant;
- ``--without insets``: no picture-in-picture inset views (``insets.inset_boxes`` finds
  no rectangle), so each suspect picture is described in its seven fixed views.

Reading the file is left out of both (it is the same work either way). Prints and
appends to docs/benchmarks.md::

    .venv/bin/python benchmarks/find_significance_cost.py --work /tmp/reelguard-find-eval --without insets
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import report

from reelguard.fingerprint import service, views
from reelguard.fingerprint.index import CatalogIndex
from reelguard.fingerprint.significance import Evidence
from reelguard.media.sample import MediaSample


def _unweighed(*_: object, **__: object) -> Evidence:
    return Evidence(0, 0, 0.0, 1.0, 1.0)


def _no_insets(pictures: object) -> list[tuple[()]]:
    return [()] * len(pictures)  # type: ignore[arg-type]


def _leaving_out(part: str) -> AbstractContextManager[object]:
    """The comparator's patch: the part replaced by what does nothing."""
    if part == "probability":
        return mock.patch.object(service, "line_evidence", _unweighed)
    return mock.patch.object(views, "inset_boxes", _no_insets)


PARTS = {"probability": "false-match probability", "insets": "inset views"}  # --without: the part's name


def _time(index: CatalogIndex, sample: MediaSample, part: str | None) -> float:
    started = time.perf_counter()
    if part is None:
        service.identify_sample(index, sample, "q", keep_weak=True)
    else:
        with _leaving_out(part):
            service.identify_sample(index, sample, "q", keep_weak=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/reelguard-find-eval"))
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--without", choices=sorted(PARTS), default="probability")
    args = parser.parse_args()
    name = PARTS[args.without]
    index = CatalogIndex(args.work / "index")
    index.titles()
    paths = sorted((args.work / "queries").glob("*.mp4"))
    chosen = [p for p in paths if ".tmp" not in p.name][::max(1, len(paths) // args.queries)][:args.queries]
    started = time.perf_counter()
    samples = [service.read_sample(path) for path in chosen]
    read_per_minute = (time.perf_counter() - started) / (sum(s.duration for s in samples) / 60)
    minutes = sum(s.duration for s in samples) / 60
    with_it: list[float] = []
    without: list[float] = []
    for round_number in range(args.rounds):
        for sample in samples:  # alternate which goes first, so neither always meets a warm cache
            order = (None, args.without) if round_number % 2 == 0 else (args.without, None)
            for part in order:
                (with_it if part is None else without).append(_time(index, sample, part))
    per_round = len(samples)
    totals_with = [sum(with_it[i * per_round:(i + 1) * per_round]) / minutes for i in range(args.rounds)]
    totals_without = [sum(without[i * per_round:(i + 1) * per_round]) / minutes for i in range(args.rounds)]
    ratio = statistics.median(a / b for a, b in zip(with_it, without, strict=True))
    shipped, comparator = statistics.median(totals_with), statistics.median(totals_without)
    whole = (read_per_minute + shipped) / (read_per_minute + comparator)
    rows = [[f"search + verify with the {name} (shipped)", f"{shipped:.2f}", f"{ratio:.2f}"],
            [f"search + verify without the {name} (comparator)", f"{comparator:.2f}", "1.00"],
            ["reading the suspect (pictures 4/s, sound 8 kHz), once", f"{read_per_minute:.2f}", ""],
            ["whole identify (read + search + verify), with / without", f"{read_per_minute + shipped:.2f} / "
             f"{read_per_minute + comparator:.2f}", f"{whole:.2f}"]]
    notes = [f"{len(samples)} evaluation-set queries ({minutes:.1f} minutes), {args.rounds} rounds, interleaved; "
             "reading the file excluded (identify reads at 4 pictures/s and 8 kHz, the same either way)",
             "ratio: median over queries of (with / without); budget: identify at most 3.5 s per minute of query "
             "(read included), and the false-match probability at most 10 % of it"]
    report(f"Content recognition: what the {name} costs", ["identify", "s per minute of query", "ratio"], rows,
           notes)


if __name__ == "__main__":
    main()
