"""Transcoding a master into the H.264/AAC ladder with segment-aligned GOPs.

One ffmpeg process decodes the master once, scales it to every rendition and encodes
each with a closed GOP of exactly ``segment_seconds`` (keyframes forced at multiples of
the segment duration, scene-cut keyframes off). Every rendition — and later every
watermark variant — therefore switches cleanly at the same segment boundaries::

    plan = TranscodePlan(renditions, segment_seconds=4, frame_rate=25, ...)
    run_transcode(tools, plan, master, out_dir, on_progress=print)
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelguard.errors import ProcessingError
from reelguard.media.ladder import Rendition
from reelguard.media.processes import popen_tied
from reelguard.media.tools import MediaTools

__all__ = [
    "AUDIO_OUTPUT", "TranscodePlan", "build_transcode_command", "run_ffmpeg", "run_transcode", "video_encoder_args",
]

AUDIO_OUTPUT = "audio.mp4"


@dataclass(frozen=True)
class TranscodePlan:
    renditions: tuple[Rendition, ...]
    segment_seconds: int
    frame_rate: float
    has_audio: bool
    x264_preset: str = "veryfast"
    audio_bitrate_kbps: int = 128

    @property
    def gop_frames(self) -> int:
        return max(1, round(self.frame_rate * self.segment_seconds))


def build_transcode_command(tools: MediaTools, plan: TranscodePlan, master: Path, out_dir: Path) -> list[str]:
    """The whole ffmpeg command line (pure: no I/O), one output file per rendition."""
    count = len(plan.renditions)
    splits = "".join(f"[v{i}]" for i in range(count))
    scales = ";".join(
        f"[v{i}]scale={r.width}:{r.height}:flags=bicubic,setsar=1[o{i}]"
        for i, r in enumerate(plan.renditions)
    )
    command = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(master),
               "-filter_complex", f"[0:v:0]split={count}{splits};{scales}",
               "-progress", "pipe:1", "-nostats"]
    for index, rendition in enumerate(plan.renditions):
        command += _video_output_args(plan, rendition, index, out_dir)
    if plan.has_audio:
        command += ["-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", f"{plan.audio_bitrate_kbps}k",
                    "-ac", "2", "-map_metadata", "-1", str(out_dir / AUDIO_OUTPUT)]
    return command


def _video_output_args(plan: TranscodePlan, rendition: Rendition, index: int, out_dir: Path) -> list[str]:
    return ["-map", f"[o{index}]", "-an", *video_encoder_args(plan, rendition), str(out_dir / f"{rendition.name}.mp4")]


def video_encoder_args(plan: TranscodePlan, rendition: Rendition) -> list[str]:
    """The encoder settings of one rendition; watermark variants reuse them verbatim."""
    gop = str(plan.gop_frames)
    return [
        "-c:v", "libx264", "-preset", plan.x264_preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-b:v", f"{rendition.bitrate_kbps}k", "-maxrate", f"{rendition.bitrate_kbps * 3 // 2}k",
        "-bufsize", f"{rendition.bitrate_kbps * 2}k",
        "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{plan.segment_seconds})",
        "-x264-params", "open-gop=0", "-map_metadata", "-1",
    ]


def run_transcode(
    tools: MediaTools,
    plan: TranscodePlan,
    master: Path,
    out_dir: Path,
    on_progress: Callable[[float], None] | None = None,
) -> None:
    """Run ffmpeg; ``on_progress`` gets seconds of output done. Raise ProcessingError on failure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(build_transcode_command(tools, plan, master, out_dir), f"transcoding {master.name}", on_progress)


def run_ffmpeg(command: list[str], what: str, on_progress: Callable[[float], None] | None = None) -> None:
    """Run an ffmpeg command that reports ``-progress pipe:1``; raise ProcessingError on failure."""
    with popen_tied(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    errors="replace") as process:
        assert process.stdout is not None and process.stderr is not None
        for line in process.stdout:
            if line.startswith("out_time_us=") and on_progress is not None:
                _report(line, on_progress)
        stderr = process.stderr.read()
    if process.returncode != 0:
        tail = stderr.strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
        raise ProcessingError(f"{what} failed: {tail[0]}")


def _report(line: str, on_progress: Callable[[float], None]) -> None:
    try:
        on_progress(max(0.0, int(line.split("=", 1)[1]) / 1_000_000))
    except ValueError:
        pass
