"""What fingerprinting reads from one media file: sampled gray pictures and mono audio (pure data).

``reelguard.media.sampling.read_media`` fills it from a file; the signature types in
``reelguard.fingerprint`` read only this, so their math runs on arrays, never on files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["MediaSample"]


@dataclass(frozen=True)
class MediaSample:
    """Sampled gray pictures with their times, and mono audio; either part may be empty."""

    picture_times: NDArray[np.float64]  # seconds from the start of the file
    pictures: NDArray[np.uint8]  # (n, size, size) luma, aspect not kept
    audio: NDArray[np.float32]  # mono PCM at audio_rate, -1..1
    audio_rate: int
    duration: float

    @property
    def has_video(self) -> bool:
        return len(self.picture_times) > 0

    @property
    def has_audio(self) -> bool:
        return self.audio.size > 0
