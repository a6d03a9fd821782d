"""Packaging a watermarked title: variant A and variant B with the same keys, plus WMPaceInfo.

Variant A is packaged exactly where an unmarked title would be (``dash/``, ``hls/``, with
audio), so manifests and init segments come from one tree; variant B's video is packaged
beside it under ``variants/b/`` with the same keys, the same segment grid and names, and
its own cenc IV. An origin or edge builds a session's stream by taking segment ``n`` from
A or B (``web/stream_routes.py``)::

    packages/<title>/dash/video_720p/7.m4s             variant A, position 6
    packages/<title>/variants/b/dash/video_720p/7.m4s  variant B, position 6
    packages/<title>/wmpaceinfo.json                    position and variant of every segment
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from reelguard.drm.keys import ContentKey, TrackTier, tier_for_height
from reelguard.drm.packaging import PackageStream, package_title
from reelguard.media.ladder import Rendition
from reelguard.media.tools import MediaTools
from reelguard.media.transcode import AUDIO_OUTPUT
from reelguard.watermark.pace import pace_info

__all__ = ["PACE_FILE", "PROXY_FILE", "REFERENCE_FILE", "VARIANT_B_DIR", "package_variants", "proxy_blob",
           "reference_blob", "variant_streams"]

PACE_FILE = "wmpaceinfo.json"
REFERENCE_FILE = "reference.npz"
PROXY_FILE = "proxy.mp4"
VARIANT_B_DIR = "variants/b"


def reference_blob(title_id: str) -> str:
    """Where a title's master reference (frame thumbnails for alignment) is kept; never served."""
    return f"watermark/{title_id}/{REFERENCE_FILE}"


def proxy_blob(title_id: str) -> str:
    """Where a title's master proxy (what trace decodes instead of the master, see variants.py) is kept; never
    served."""
    return f"watermark/{title_id}/{PROXY_FILE}"


def variant_streams(renditions: Sequence[Rendition], transcode_dir: Path, has_audio: bool,
                    variant: str) -> list[PackageStream]:
    """The streams of one variant tree: A carries the audio, B is video only."""
    streams = [PackageStream(r.name, transcode_dir / variant / f"{r.name}.mp4", "video",
                             tier_for_height(r.height)) for r in renditions]
    if has_audio and variant == "a":
        streams.append(PackageStream("audio", transcode_dir / "a" / AUDIO_OUTPUT, "audio", TrackTier.AUDIO))
    return streams


def package_variants(tools: MediaTools, renditions: Sequence[Rendition], transcode_dir: Path,
                     keys: Sequence[ContentKey], *, out_dir: Path, title_id: str, segment_seconds: int,
                     has_audio: bool, duration_seconds: float) -> list[PackageStream]:
    """Package A into ``out_dir`` and B into ``out_dir/variants/b``; write WMPaceInfo. Returns A's streams."""
    streams_a = variant_streams(renditions, transcode_dir, has_audio, "a")
    package_title(tools, streams_a, keys, out_dir=out_dir, title_id=title_id, segment_seconds=segment_seconds)
    package_title(tools, variant_streams(renditions, transcode_dir, has_audio, "b"), keys,
                  out_dir=out_dir / VARIANT_B_DIR, title_id=title_id, segment_seconds=segment_seconds, variant="b")
    info = pace_info([r.name for r in renditions], duration_seconds, segment_seconds)
    (out_dir / PACE_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")
    return streams_a
