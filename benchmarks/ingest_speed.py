"""Ingest speed of the sample programme as × real time, vs the bare ffmpeg transcode.

Full ingest (probe, store master, keys, transcode the default ladder, package DASH + HLS,
publish, record) of ``media/bbb_loop3.mp4`` (≈16 s, 720p + AAC), against the comparator
measured in the same run: the same ffmpeg ladder transcode alone, i.e. the encode floor.
Runs alternate; medians reported.

    python benchmarks/ingest_speed.py [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _report import report
from fetch_test_media import fetch

from reelguard.composition import Runtime
from reelguard.media import TranscodePlan, plan_ladder, probe_master, run_transcode
from reelguard.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    fetch(root / "media")
    source = root / "media" / "bbb_loop3.mp4"
    work = Path(tempfile.mkdtemp(prefix="rg-bench-ingest-"))
    ingest_s, transcode_s = [], []
    duration = 0.0
    for index in range(args.runs):
        data_dir = work / f"data-{index}"
        runtime = Runtime.open(Settings.load(config_file=work / "none.toml", data_dir=data_dir,
                                             store={"database_url": ""}))
        info = probe_master(runtime.tools, source)
        duration = info.duration_seconds
        plan = TranscodePlan(tuple(plan_ladder(info.width, info.height, runtime.settings.media.ladder)),
                             runtime.settings.media.segment_seconds, info.frame_rate, info.has_audio,
                             runtime.settings.media.x264_preset, runtime.settings.media.audio_bitrate_kbps)
        started = time.perf_counter()
        run_transcode(runtime.tools, plan, source, work / f"tx-{index}")
        transcode_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        runtime.ingest_service().add_title(source, name=f"bench-{index}")
        ingest_s.append(time.perf_counter() - started)
        runtime.close()
    shutil.rmtree(work)
    ingest, transcode = statistics.median(ingest_s), statistics.median(transcode_s)
    report(
        "Ingest speed (sample programme)",
        ["step", "median s", "× real time"],
        [["ffmpeg ladder transcode alone (comparator)", f"{transcode:.2f}", f"{duration / transcode:.2f}"],
         ["reelguard full ingest", f"{ingest:.2f}", f"{duration / ingest:.2f}"],
         ["ratio ingest / transcode", f"{ingest / transcode:.2f}", ""]],
        [f"{source.name}: {duration:.1f} s of 1280x720 H.264 + AAC; ladder 360p/540p/720p, x264 veryfast, "
         f"4 s GOPs; DASH/cenc + HLS/cbcs; SQLite; {args.runs} runs, alternating"],
    )


if __name__ == "__main__":
    main()
