"""Probing a master: is it playable video, and what is it?

``probe_master`` refuses anything that is not playable video — a text file, a zero-length
file, audio only, an MP4 whose ``moov`` or media data is cut off — with an
``InvalidMedia`` that says what was expected and what arrived. Two checks: ffprobe for
the structure, then a demux-only pass (``ffmpeg -xerror -c copy -f null``) that reads
every packet without decoding, which catches truncated media data in a fraction of a
second::

    info = probe_master(tools, Path("ep01.mp4"))
    info.width, info.height, info.duration_seconds, info.has_audio
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from reelguard.errors import InvalidMedia
from reelguard.media.processes import run_tied
from reelguard.media.tools import MediaTools

__all__ = ["MediaInfo", "probe_master"]

_PROBE_TIMEOUT_SECONDS = 120
_MIN_DURATION_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class MediaInfo:
    duration_seconds: float
    width: int
    height: int
    frame_rate: float
    video_codec: str
    has_audio: bool
    size_bytes: int


def probe_master(tools: MediaTools, path: Path) -> MediaInfo:
    """Validate ``path`` as playable video and describe it; raise InvalidMedia otherwise."""
    size = _require_nonempty_file(path)
    streams, fmt = _ffprobe(tools, path)
    video = _first_video_stream(path, streams)
    info = MediaInfo(
        duration_seconds=_duration(path, video, fmt),
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
        frame_rate=_frame_rate(video),
        video_codec=str(video.get("codec_name", "unknown")),
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
        size_bytes=size,
    )
    if info.width <= 0 or info.height <= 0:
        raise InvalidMedia(f"{path.name}: video stream has no picture size ({info.width}x{info.height})")
    _require_complete_packets(tools, path)
    return info


def _require_nonempty_file(path: Path) -> int:
    if not path.is_file():
        raise InvalidMedia(f"expected a video file, but {path} does not exist or is not a file")
    size = path.stat().st_size
    if size == 0:
        raise InvalidMedia(f"expected a video file, got an empty (0-byte) file: {path.name}")
    return size


def _ffprobe(tools: MediaTools, path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    command = [tools.ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)]
    result = _run(command, path)
    if result.returncode != 0:
        reason = _probe_reason(result.stderr, path) or f"ffprobe exit status {result.returncode}"
        raise InvalidMedia(f"expected a playable video file, but {path.name} is not: {reason}")
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise InvalidMedia(f"{path.name}: ffprobe produced unreadable output") from exc
    return list(document.get("streams", [])), dict(document.get("format", {}))


def _first_video_stream(path: Path, streams: list[dict[str, Any]]) -> dict[str, Any]:
    for stream in streams:
        attached = stream.get("disposition", {}).get("attached_pic", 0)
        if stream.get("codec_type") == "video" and not attached:
            return stream
    kinds = sorted({str(s.get("codec_type")) for s in streams}) or ["no streams"]
    raise InvalidMedia(
        f"expected a file with a video stream, got {path.name} with {', '.join(kinds)} only"
    )


def _duration(path: Path, video: dict[str, Any], fmt: dict[str, Any]) -> float:
    for candidate in (video.get("duration"), fmt.get("duration")):
        try:
            value = float(candidate)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if value >= _MIN_DURATION_SECONDS:
            return value
    raise InvalidMedia(
        f"expected at least {_MIN_DURATION_SECONDS} s of video, {path.name} has no usable duration"
    )


def _frame_rate(video: dict[str, Any]) -> float:
    for field in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(str(video.get(field, "0/0")))
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return float(rate)
    return 25.0


def _require_complete_packets(tools: MediaTools, path: Path) -> None:
    command = [tools.ffmpeg, "-nostdin", "-v", "error", "-xerror", "-i", str(path),
               "-map", "0", "-c", "copy", "-f", "null", "-"]
    result = _run(command, path)
    if result.returncode != 0:
        reason = _last_meaningful_line(result.stderr)
        raise InvalidMedia(
            f"expected a complete video file, but {path.name} is damaged or truncated: {reason}"
        )


def _run(command: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    try:
        return run_tied(command, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_SECONDS, errors="replace")
    except subprocess.TimeoutExpired as exc:
        raise InvalidMedia(f"{path.name}: probing took longer than {_PROBE_TIMEOUT_SECONDS} s") from exc


def _probe_reason(stderr: str, path: Path) -> str:
    """ffprobe's own words, without the file path; the MP4 index diagnosis first."""
    reasons = []
    for line in stderr.splitlines():
        text = line.split("] ", 1)[-1].replace(f"{path}: ", "").strip()
        if text and text not in reasons:
            reasons.append(text)
    if "moov atom not found" in reasons:
        return "moov atom not found (the MP4 index is missing: truncated, or not an MP4)"
    return "; ".join(reasons[:2])


def _last_meaningful_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "partial file" in line or "Invalid data" in line or "corrupt" in line:
            return line.split("] ", 1)[-1]
    return lines[-1].split("] ", 1)[-1] if lines else "unknown demux error"
