"""Trace speed at this commit against another commit's, on the same suspects, in the same run.

A change to how trace reads (the master, the suspect) should leave every report as it
was and only take less time. This script checks out ``--baseline`` into a temporary git
worktree and traces each suspect with both versions in turn (alternating, ``--rounds``
times; the best of each kept), each in a fresh process, against the same data folder
(a ``watermark_robustness.py`` or ``watermark_trace.py`` ``--work`` folder). It reports
seconds per minute of suspect for both, their ratio, and whether the reports agree
(offset, segments' z, the accused and their p-values).

    python benchmarks/trace_against_commit.py --work DIR --title wm-dark --baseline a97ab02 SUSPECT...

``--write-proxy`` first writes the title's master proxy (``variants.write_proxy``) if it has
none — a title ingested before proxies — so that this commit reads it; a commit from before
proxies reads the master as it always did.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, report

_TRACE = """
import json, sys, time
from pathlib import Path
from reelguard.composition import Runtime
from reelguard.settings import Settings
data, suspect, title = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
runtime = Runtime.open(Settings.load(config_file=data / "none.toml", data_dir=data, store={"database_url": ""}))
started = time.perf_counter()
report = runtime.trace_service().trace(suspect, title=title).to_json()
seconds = time.perf_counter() - started
runtime.close()
kept = {"offset": report.get("offset_seconds"), "z": [s["z"] for s in report["segments"]],
        "accused": [(a["session"], a["p_value"]) for a in report.get("accused", [])]}
print(json.dumps({"seconds": seconds, "report": kept}))
"""


def trace_with(source: Path, data: Path, suspect: Path, title: str) -> tuple[float, dict[str, Any]]:
    done = subprocess.run([sys.executable, "-c", _TRACE, str(data), str(suspect), title], capture_output=True,
                          text=True, check=True, env={**os.environ, "PYTHONPATH": str(source)})
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return float(answer["seconds"]), answer["report"]


def _evidence(kept: dict[str, Any]) -> str:
    """What a report found, in short: segments read, mean |z|, sessions accused."""
    z = [abs(value) for value in kept["z"]]
    return f"{len(z)} seg, mean abs z {sum(z) / max(1, len(z)):.2f}, {len(kept['accused'])} accused"


def suspect_minutes(suspect: Path) -> float:
    from reelguard.watermark.frames import video_facts
    return video_facts(suspect).duration / 60


def write_missing_proxy(data: Path, title: str) -> None:
    from reelguard.composition import Runtime
    from reelguard.settings import Settings
    from reelguard.store import repositories
    from reelguard.watermark.packaging import proxy_blob, reference_blob
    from reelguard.watermark.variants import MasterReference, write_proxy

    runtime = Runtime.open(Settings.load(config_file=data / "none.toml", data_dir=data, store={"database_url": ""}))
    with runtime.db.session() as session:
        row = repositories.load_title(session, title)
    if not runtime.blobs.exists(proxy_blob(row.id)):
        with runtime.blobs.open_local(reference_blob(row.id)) as path:
            reference = MasterReference.load(path)
        with tempfile.TemporaryDirectory() as folder, runtime.blobs.open_local(row.master_blob) as master:
            write_proxy(runtime.tools, master, reference.frame_rate, Path(folder) / "proxy.mp4")
            runtime.blobs.put_file(proxy_blob(row.id), Path(folder) / "proxy.mp4")
    runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True, help="the benchmark's work folder (holds data/)")
    parser.add_argument("--title", required=True)
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--write-proxy", action="store_true", help="write the title's proxy first if it has none")
    parser.add_argument("suspects", type=Path, nargs="+")
    args = parser.parse_args()
    if args.write_proxy:
        write_missing_proxy(args.work / "data", args.title)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rg-baseline-") as folder:
        baseline = Path(folder) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(baseline), args.baseline], cwd=ROOT,
                       check=True)
        try:
            for suspect in args.suspects:
                here, there = [], []
                for _ in range(args.rounds):
                    here.append(trace_with(ROOT / "src", args.work / "data", suspect, args.title))
                    there.append(trace_with(baseline / "src", args.work / "data", suspect, args.title))
                minutes = suspect_minutes(suspect)
                now, before = min(s for s, _ in here) / minutes, min(s for s, _ in there) / minutes
                same = all(r == there[0][1] for _, r in here + there)
                rows.append([suspect.name, f"{now:.1f} s", f"{before:.1f} s", f"{now / before:.2f}",
                             "yes" if same else "NO", f"{_evidence(here[0][1])} / {_evidence(there[0][1])}"])
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False)
    report(f"Trace speed against commit {args.baseline}", ["suspect", "per minute, this commit",
                                                          f"per minute, {args.baseline}", "ratio", "same report",
                                                          f"evidence, this commit / {args.baseline}"],
           rows, [f"title {args.title}; best of {args.rounds} round(s), the two versions alternating, each trace in "
                  "a fresh process; same report: offset, every segment's z, the accused and their p-values",
                  "evidence: segments read, their mean |z|, and how many sessions were accused"])


if __name__ == "__main__":
    main()
