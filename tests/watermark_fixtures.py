"""A small watermarked title for the watermark tests: synthetic, 1-second segments.

A lavfi ``testsrc2`` programme never repeats a frame (its counter moves), so a suspect
aligns to it unambiguously; 1-second segments give a 60-second programme 60 A/B
positions — enough to accuse a leaker at 10⁻⁶ among a few sessions.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from reelguard.ingest.records import TitleView
from reelguard.ingest.service import IngestService
from reelguard.runtime import Runtime
from reelguard.settings import Settings

WM_TITLE = "wm-prog"


def make_programme(tools_ffmpeg: str, out: Path, seconds: int) -> Path:
    subprocess.run([tools_ffmpeg, "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(out)], check=True)
    return out


def watermark_settings(base: Settings) -> Settings:
    return base.model_copy(update={"segment_seconds": 1, "ladder": (360,)})


def ingest_watermarked(runtime: Runtime, work: Path, seconds: int = 30) -> TitleView:
    master = make_programme(runtime.tools.ffmpeg, work / "programme.mp4", seconds)
    return IngestService(runtime).add_title(master, name=WM_TITLE, watermark=True)
