"""WMPaceInfo (ETSI TS 104 002): which variant a packaged segment is and which position it marks.

An edge serving segment ``n`` of a rendition must know which position of the session's
A/B pattern that segment carries. reelguard packages every segment on the same closed-GOP
grid, so position ``n`` is segment ``$Number$ - 1`` in every rendition and both variants;
the WMPaceInfo file kept beside the packaged output says so explicitly, per variant tree
and rendition, so an edge (or an audit) need not assume it::

    {"format": "reelguard-wmpaceinfo/1", "segment_seconds": 4, "first_number": 1,
     "trees": {"A": "", "B": "variants/b/"},
     "renditions": {"video_720p": [{"number": 1, "position": 0, "start": 0.0, "duration": 4.0}, ...]}}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["PACE_FORMAT", "pace_info", "segment_count"]

PACE_FORMAT = "reelguard-wmpaceinfo/1"


def segment_count(duration_seconds: float, segment_seconds: int) -> int:
    return max(1, math.ceil(duration_seconds / segment_seconds - 1e-6))


def pace_info(renditions: Sequence[str], duration_seconds: float, segment_seconds: int) -> dict[str, Any]:
    count = segment_count(duration_seconds, segment_seconds)
    entries = [
        {"number": n + 1, "position": n, "start": float(n * segment_seconds),
         "duration": round(min(segment_seconds, duration_seconds - n * segment_seconds), 6)}
        for n in range(count)
    ]
    return {
        "format": PACE_FORMAT,
        "segment_seconds": segment_seconds,
        "first_number": 1,
        "positions": count,
        "trees": {"A": "", "B": "variants/b/"},
        "renditions": {name: entries for name in renditions},
    }
