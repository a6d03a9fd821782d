"""What fingerprinting reads from one media file: sampled gray pictures and mono audio (pure data).

``reelguard.media.sampling.read_media`` fills it from a file; the signature types in
``reelguard.fingerprint`` read only this, so their math runs on arrays, never on files.
``Coverage`` says which part of the file that was: a leak fetched from a swarm is usually
a partial download, read as far as it decodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Coverage", "MediaSample"]

_SPAN_JOIN = 1.0  # decoded moments closer than this (seconds) are one stretch


@dataclass(frozen=True)
class Coverage:
    """Which stretches of a file were decoded, against what its container says it holds.

    A truncated download ends early (``stopped_early``); a download made of chosen pieces
    has holes (several ``spans``, ``damaged_packets`` skipped). Times are the file's own.
    """

    declared: float | None  # seconds the container says the file lasts, if it says
    spans: tuple[tuple[float, float], ...]  # stretches decoded (pictures or sound), in order
    damaged_packets: int = 0  # packets that would not decode, skipped
    stopped_early: bool = False  # the file ends (or breaks off) before the end its container declares

    @classmethod
    def whole(cls, duration: float) -> Coverage:
        return cls(duration, ((0.0, duration),) if duration > 0 else ())

    @classmethod
    def of(cls, moments: list[tuple[float, float]], declared: float | None, *, damaged_packets: int,
           broke_off: bool) -> Coverage:
        """From decoded (start, end) moments: joined into stretches; early when short of ``declared``."""
        spans: list[tuple[float, float]] = []
        for start, end in sorted(moments):
            if spans and start <= spans[-1][1] + _SPAN_JOIN:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        read_end = spans[-1][1] if spans else 0.0
        short = declared is not None and read_end < declared - max(_SPAN_JOIN, 0.02 * declared)
        return cls(declared, tuple((round(a, 3), round(b, 3)) for a, b in spans), damaged_packets,
                   broke_off or short)

    @property
    def read_seconds(self) -> float:
        return sum(end - start for start, end in self.spans)

    @property
    def complete(self) -> bool:
        """Known to be whole: one stretch, nothing damaged, up to the end the container declares (a file that
        declares no length — a stream written without an index — may be cut anywhere, and is not known whole)."""
        return (self.declared is not None and not self.stopped_early and self.damaged_packets == 0
                and len(self.spans) <= 1)

    def describe(self) -> str:
        """``read 7.5 s of 15.9 s (0.0-7.5 s); the file stops there`` — or ``read whole``."""
        if self.complete:
            return "read whole"
        of = f" of {self.declared:.1f} s" if self.declared else ""
        stretches = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in self.spans)
        notes = [f"read {self.read_seconds:.1f} s{of} ({stretches})"]
        if self.stopped_early:
            notes.append("the file stops there" if len(self.spans) == 1 else "the file stops early")
        elif self.declared is None:
            notes.append("the file does not say how long it is (a stream written without an index), so it may "
                         "have been cut there")
        if self.damaged_packets:
            notes.append(f"{self.damaged_packets} damaged packet(s) skipped")
        return "; ".join(notes)

    def to_json(self) -> dict[str, Any]:
        return {"complete": self.complete, "declared_seconds": self.declared,
                "read_seconds": round(self.read_seconds, 3),
                "spans": [list(span) for span in self.spans], "damaged_packets": self.damaged_packets,
                "stopped_early": self.stopped_early, "summary": self.describe()}


@dataclass(frozen=True)
class MediaSample:
    """Sampled gray pictures with their times, and mono audio; either part may be empty."""

    picture_times: NDArray[np.float64]  # seconds from the start of the file
    pictures: NDArray[np.uint8]  # (n, size, size) luma, aspect not kept
    audio: NDArray[np.float32]  # mono PCM at audio_rate, -1..1
    audio_rate: int
    duration: float
    coverage: Coverage | None = field(default=None)  # which part of the file this is; None: all of it

    @property
    def read(self) -> Coverage:
        return self.coverage or Coverage.whole(self.duration)

    @property
    def has_video(self) -> bool:
        return len(self.picture_times) > 0

    @property
    def has_audio(self) -> bool:
        return self.audio.size > 0
