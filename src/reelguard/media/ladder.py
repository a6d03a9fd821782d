"""The rendition ladder (pure): which video renditions to encode for a source.

Heights above the source are dropped (never upscale); if the source is smaller than the
lowest rung, one rendition at the source size is made. Widths keep the source aspect
ratio, rounded to even numbers as H.264 4:2:0 needs::

    plan_ladder(1280, 720, (360, 540, 720, 1080))
    # [Rendition('video_360p', 640, 360, 800), ..., Rendition('video_720p', 1280, 720, 3000)]
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rendition", "plan_ladder", "video_bitrate_kbps"]


@dataclass(frozen=True, slots=True)
class Rendition:
    name: str
    width: int
    height: int
    bitrate_kbps: int


def video_bitrate_kbps(width: int, height: int) -> int:
    """About 0.1 bit per pixel at 25 fps: 360p ≈ 600, 720p ≈ 2300, 1080p ≈ 5200 kbit/s."""
    return max(200, round(width * height * 25 * 0.1 / 1000 / 50) * 50)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def plan_ladder(source_width: int, source_height: int, heights: tuple[int, ...]) -> list[Rendition]:
    usable = sorted(h for h in heights if h <= source_height) or [_even(source_height)]
    renditions = []
    for height in usable:
        width = _even(source_width * height / source_height)
        renditions.append(Rendition(f"video_{height}p", width, height, video_bitrate_kbps(width, height)))
    return renditions
