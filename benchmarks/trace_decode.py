"""Trace with the suspect decoded once (its frames kept on disk) against decoded twice.

Trace reads the whole copy to place it in the title and register it, then reads it again
frame by frame to detect the mark. Since issue 17 the first read's frames are kept
(``watermark/spool.py``) up to ``[watermark] trace_spool_bytes``; with a budget of 0 the
copy is decoded a second time, as before — the comparator, same code, same run.

A programme of ``--seconds`` built from the real test clips is ingested with watermarking
(one 720p rendition), three sessions are started, one session's programme is rendered (the
file a pirate holds), cut 3.3 s in, scaled to 960×540 and re-encoded at CRF 26. Identify
runs once and its placements are handed to every trace (as the monitoring pipeline does);
then the two ways alternate for ``--rounds`` rounds. Both must give the same report.

    python benchmarks/trace_decode.py [--seconds 180] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _report import report
from fetch_test_media import build_programme, fetch

from reelguard.accounts.service import AccountService
from reelguard.composition import Runtime
from reelguard.fingerprint.service import MatchedSegment
from reelguard.settings import Settings
from reelguard.watermark.trace import TraceReport, TraceService

TITLE = "trace-decode"
SPOOL_BYTES = 4 << 30


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    fetch(root / "media")
    work = args.work or Path(tempfile.mkdtemp(prefix="rg-bench-trace-"))
    runtime = Runtime.open(Settings.load(config_file=work / "none.toml", data_dir=work / "data",
                                         store={"database_url": ""}, media={"ladder": (720,)}))
    suspect, leaker = _suspect(runtime, root, work, args.seconds)
    placements = runtime.fingerprint_service().identify(suspect).segments
    seconds: dict[int, list[float]] = {SPOOL_BYTES: [], 0: []}
    reports: dict[int, TraceReport] = {}
    for _ in range(args.rounds):
        for budget in seconds:
            took, reports[budget] = _trace(runtime, suspect, placements, budget)
            seconds[budget].append(took)
    once, twice = reports[SPOOL_BYTES], reports[0]
    assert once == twice, "the kept frames gave another report than a second decode"
    assert [a.session for a in once.accused] == [leaker], once.reason
    median = {budget: statistics.median(times) for budget, times in seconds.items()}
    frames = sum(1 for _ in _frame_count(suspect))
    rows = [["decoded once, frames kept", *_cells(seconds[SPOOL_BYTES]), f"{median[SPOOL_BYTES] / median[0]:.2f}"],
            ["decoded twice (comparator: spool budget 0)", *_cells(seconds[0]), "1.00"]]
    report("Trace: the suspect decoded once against twice", ["trace", "median s", "runs s", "÷ decoded twice"], rows,
           [f"a {args.seconds:.0f} s watermarked programme (one 720p rendition, 3 sessions); the leak cut 3.3 s in, "
            f"scaled to 960x540, CRF 26: {frames} frames, {frames * 640 * 360 / 2**20:.0f} MiB kept (640x360 gray); "
            "identify's placements handed in; the two ways alternate, "
            f"{args.rounds} rounds; both reports identical (accused the leaker only, p = "
            f"{once.accused[0].p_value:.3g}, {len(once.segments)} segments)"])
    runtime.close()


def _suspect(runtime: Runtime, root: Path, work: Path, seconds: float) -> tuple[Path, str]:
    programme = build_programme(root / "media", work, seconds)
    runtime.ingest_service().add_title(programme, name=TITLE, watermark=True)
    accounts = AccountService(runtime.db, runtime.clock)
    accounts.create_account("bench", plan="standard")
    accounts.register_device("bench", "tv", type="browser", security_level="software", hdcp="none")
    accounts.set_title_rights(TITLE, plans=["standard"], downloadable=False)
    service = runtime.session_service()
    ids = [service.start(account="bench", device="tv", title=TITLE, ip=f"198.51.100.{i}").session_id
           for i in range(3)]
    leak = service.render(ids[1], work / "leak.mp4")
    suspect = work / "suspect.mp4"
    subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", "3.3", "-i", str(leak), "-vf",
                    "scale=960:540", "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", str(suspect)], check=True)
    return suspect, ids[1]


def _trace(runtime: Runtime, suspect: Path, placements: list[MatchedSegment],
           spool_bytes: int) -> tuple[float, TraceReport]:
    service = TraceService(db=runtime.db, blobs=runtime.blobs, watermark=runtime.watermark,
                           fingerprints=runtime.fingerprint_service(),
                           false_accusation=runtime.settings.watermark.false_accusation,
                           work_dir=runtime.work_dir, spool_bytes=spool_bytes)
    started = time.perf_counter()
    traced = service.trace(suspect, title=TITLE, placements=placements)
    return time.perf_counter() - started, traced


def _frame_count(path: Path) -> list[int]:
    from reelguard.watermark.frames import gray_frames

    return [0 for _ in gray_frames(path, 64, 36)]


def _cells(times: list[float]) -> list[str]:
    return [f"{statistics.median(times):.2f}", ", ".join(f"{t:.2f}" for t in times)]


if __name__ == "__main__":
    main()
