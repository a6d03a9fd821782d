"""Trace (part of) the inputs an interrupted ``watermark_trace.py`` run left in its work folder.

The full benchmark builds the programme, ingests it, starts the sessions, renders leaks,
attacks and coalition copies, then traces them all; on this 2-core machine the tracing
alone takes longer than some sessions have. This script re-opens the run's data folder,
takes its sessions in start order (leaks from the first two, coalitions from the next
five, as the full run made them), traces the chosen attack files (writing each report to
``reports.jsonl`` as it lands) and appends the same tables to docs/benchmarks.md.

    python benchmarks/watermark_trace_resume.py --work /tmp/wbfull --speed-json speed.json \\
        --ingest-seconds 1047 --attacks "H.264 CRF 30,crop 0.71" [--collusion]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlalchemy import select
from watermark_trace import (
    ATTACKS,
    MID_SEGMENT_START,
    TITLE,
    ffmpeg,
    tabulate,
    trace_job,
)

from reelguard.runtime import Runtime
from reelguard.settings import Settings
from reelguard.store.models import WatermarkSessionRow
from reelguard.watermark.sessions import SessionService


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--attacks", default="")
    parser.add_argument("--collusion", action="store_true")
    parser.add_argument("--speed-json", type=Path, required=True)
    parser.add_argument("--ingest-seconds", type=float, required=True)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--excerpt", type=float, default=200.0)
    args = parser.parse_args()
    data_dir = args.work / "data"
    runtime = Runtime.open(Settings.load(config_file=args.work / "none.toml", data_dir=data_dir, database_url=""))
    with runtime.db.session() as session:
        ids = [r.id for r in session.scalars(select(WatermarkSessionRow).order_by(WatermarkSessionRow.started_at))]
    ids = ids[:1000]
    service = SessionService(runtime)
    names = list(ATTACKS)
    chosen = [n for n in names if not args.attacks or n in args.attacks.split(",")]
    jobs = [(n, names.index(n) % 2, _attack_file(runtime, args, names.index(n))) for n in chosen]
    collusion = [(f"{k} colluders, {kind}", ids[2:2 + k], args.work / f"{stem}-{k}.mp4")
                 for k in (2, 3) for kind, stem in (("interleaved segments", "interleave"),
                                                     ("averaged frames", "average"))] if args.collusion else []
    unmarked = args.work / "unmarked.mp4"
    if not unmarked.exists():
        ffmpeg(runtime, "-ss", str(MID_SEGMENT_START), "-t", str(args.excerpt), "-i", str(args.work / "programme.mp4"),
               "-an", "-c:v", "libx264", "-crf", "23", str(unmarked))
    suspects = [str(j[2]) for j in jobs[1:]] + [str(c[2]) for c in collusion] + [str(args.work / "unmarked.mp4")]
    solo = trace_job((str(data_dir), str(jobs[0][2]), TITLE))
    reports = [solo]
    log = (args.work / "reports.jsonl").open("a")
    log.write(json.dumps(solo) + "\n")
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        for rep in pool.map(trace_job, [(str(data_dir), s, TITLE) for s in suspects]):
            reports.append(rep)
            log.write(json.dumps(rep) + "\n")
            log.flush()
    tabulate(runtime, service, ids, jobs, collusion, reports, args, json.loads(args.speed_json.read_text()),
             args.ingest_seconds)


def _attack_file(runtime: Runtime, args: argparse.Namespace, index: int) -> Path:
    """The run's attack file, made from its leak now if the run stopped before it (every span: the excerpt)."""
    name = list(ATTACKS)[index]
    vf_args, suffix, _span = ATTACKS[name]
    out = args.work / f"attack-{index:02d}{suffix}"
    if not out.exists():
        leak = args.work / f"leak-{index % 2}.mp4"
        ffmpeg(runtime, "-ss", str(MID_SEGMENT_START), "-t", str(args.excerpt), "-i", str(leak), "-an", *vf_args,
               str(out))
    return out


if __name__ == "__main__":
    main()
