"""Packaging overhead: reelguard's packaging vs Shaka Packager invoked directly, same run.

Both sides package the same transcoded ladder with the same keys and flags (DASH/cenc and
HLS/cbcs). The comparator passes everything on the command line; reelguard adds its
private flag file, output checks and MPD id normalisation. Runs alternate to share noise.
Target: median ratio ≤ 1.05.

    python benchmarks/packaging_overhead.py [--runs 25]  # fewer runs are noisy: 9 runs gave 0.95 to 1.08
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _report import report
from fetch_test_media import fetch

from reelguard.drm.keys import ContentKey, TrackTier
from reelguard.drm.packaging import Scheme, build_packager_flags, ladder_streams, package_title
from reelguard.media import MediaTools, TranscodePlan, plan_ladder, probe_master, run_transcode
from reelguard.settings import MediaSettings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    media = Path(__file__).resolve().parents[1] / "media"
    fetch(media)
    source = media / "bbb_loop3.mp4"
    tools = MediaTools.locate(MediaSettings())
    work = Path(tempfile.mkdtemp(prefix="rg-bench-pack-"))
    info = probe_master(tools, source)
    renditions = plan_ladder(info.width, info.height, (360, 540, 720, 1080))
    run_transcode(tools, TranscodePlan(tuple(renditions), 4, info.frame_rate, True), source, work / "tx")
    streams = ladder_streams(renditions, work / "tx", True)
    keys = [ContentKey.generate(t) for t in (TrackTier.AUDIO, TrackTier.SD, TrackTier.HD)]

    def reelguard_run(out: Path) -> None:
        package_title(tools, streams, keys, out_dir=out, title_id="bench", segment_seconds=4)

    def direct_run(out: Path) -> None:
        for scheme in (Scheme.CENC, Scheme.CBCS):
            descriptors, flags = build_packager_flags(streams, keys, scheme=scheme, out_dir=out,
                                                      title_id="bench", segment_seconds=4)
            subprocess.run([tools.packager, *descriptors, *flags], check=True, capture_output=True)

    timings: dict[str, list[float]] = {"reelguard": [], "direct": []}
    for index in range(args.runs + 1):
        for name, run in (("direct", direct_run), ("reelguard", reelguard_run)):
            out = work / f"{name}-{index}"
            started = time.perf_counter()
            run(out)
            elapsed = time.perf_counter() - started
            shutil.rmtree(out)
            if index > 0:  # the first round warms caches
                timings[name].append(elapsed)
    shutil.rmtree(work)
    direct, ours = statistics.median(timings["direct"]), statistics.median(timings["reelguard"])
    report(
        "Packaging overhead (reelguard vs Shaka Packager direct)",
        ["side", "median s", "min s", "runs"],
        [["Shaka Packager direct (comparator)", f"{direct:.3f}", f"{min(timings['direct']):.3f}", str(args.runs)],
         ["reelguard package_title", f"{ours:.3f}", f"{min(timings['reelguard']):.3f}", str(args.runs)],
         ["ratio reelguard / direct", f"{ours / direct:.3f}",
          f"{min(timings['reelguard']) / min(timings['direct']):.3f}", ""]],
        [f"input: {source.name} ({info.duration_seconds:.1f} s, {len(renditions)} video renditions + audio), "
         "DASH/cenc + HLS/cbcs, 3 keys; target ratio ≤ 1.05"],
    )


if __name__ == "__main__":
    main()
