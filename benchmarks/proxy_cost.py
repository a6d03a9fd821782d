"""What writing the master's proxy adds to a watermarked ingest's encode, measured in the same run.

A watermarked title's transcode (``watermark/variants.py``: decode the master once, mark,
pipe A and B of every rendition to x264) now also writes the master's proxy, the 640 px
luma copy trace decodes instead of the master. The comparator is the same pipeline with
the proxy's encoder replaced by a sink that drops its frames. Runs alternate; the best
of each is kept (the machine is shared).

    python benchmarks/proxy_cost.py MASTER [MASTER...] [--seconds 30] [--runs 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import report

import reelguard.watermark.variants as variants
from reelguard.composition import Runtime
from reelguard.media import TranscodePlan, plan_ladder, probe_master
from reelguard.settings import Settings
from reelguard.watermark.embedding import FrameMarker


class _DroppedProxy:
    """The comparator's proxy encoder: takes the frames and drops them."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size

    def write(self, frame: memoryview) -> None:
        pass

    def close(self) -> None:
        pass

    def kill(self) -> None:
        pass


def encode_seconds(runtime: Runtime, plan: TranscodePlan, master: Path, out: Path, with_proxy: bool) -> float:
    real = variants._Encoder.proxy
    if not with_proxy:
        variants._Encoder.proxy = classmethod(lambda cls, tools, plan, size, output: _DroppedProxy(size))  # type: ignore[assignment, method-assign]
    try:
        started = time.perf_counter()
        variants.encode_variants(runtime.tools, plan, master, out, marker=FrameMarker(key=b"k" * 32, strength=0.3))
        return time.perf_counter() - started
    finally:
        variants._Encoder.proxy = real  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("masters", type=Path, nargs="+")
    parser.add_argument("--seconds", type=float, default=30.0, help="of each master, from its start")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rg-bench-proxy-") as folder:
        work = Path(folder)
        runtime = Runtime.open(Settings.load(config_file=work / "none.toml", data_dir=work / "data",
                                             store={"database_url": ""}))
        for master in args.masters:
            excerpt = work / f"{master.stem}-excerpt.mp4"
            subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(master), "-t",
                            str(args.seconds), "-an", "-c:v", "copy", str(excerpt)], check=True)
            info = probe_master(runtime.tools, excerpt)
            media = runtime.settings.media
            plan = TranscodePlan(tuple(plan_ladder(info.width, info.height, media.ladder)), media.segment_seconds,
                                 info.frame_rate, False, media.x264_preset)
            timed: dict[bool, list[float]] = {True: [], False: []}
            for run in range(args.runs):
                for with_proxy in (True, False):
                    timed[with_proxy].append(encode_seconds(runtime, plan, excerpt, work / f"out-{run}-{with_proxy}",
                                                            with_proxy))
            proxy_bytes = (work / "out-0-True" / variants.PROXY_FILE).stat().st_size
            variant_bytes = sum(p.stat().st_size for p in (work / "out-0-True").glob("[ab]/*.mp4"))
            best, without = min(timed[True]), min(timed[False])
            rows.append([master.name, f"{info.width}x{info.height}", ", ".join(r.name for r in plan.renditions),
                         f"{best:.1f} s", f"{without:.1f} s", f"{best / without:.2f}",
                         f"{proxy_bytes * 8 / info.duration_seconds / 1e6:.2f} Mbit/s "
                         f"({proxy_bytes / variant_bytes:.0%} of A+B)"])
            for out in work.glob("out-*"):
                subprocess.run(["rm", "-rf", str(out)], check=True)
        runtime.close()
    report("Watermarked encode: the master's proxy", ["master", "size", "renditions", "with the proxy",
                                                     "proxy dropped (comparator)", "ratio", "proxy size"],
           rows, [f"first {args.seconds:g} s of each master; `encode_variants` with the default ladder; best of "
                  f"{args.runs} alternating runs; proxy: 640 px luma, x264 veryfast CRF {variants.PROXY_CRF}, "
                  "a key frame at least every second"])


if __name__ == "__main__":
    main()
