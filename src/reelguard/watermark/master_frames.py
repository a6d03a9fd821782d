"""A title's master frames at one size, by index: a few found by seeking, many decoded forward once.

Trace compares the suspect's pictures with the master's frames it was marked on, in the
master's decode order (the order the A/B variants were encoded in)::

    frames = MasterFrames(master_path, reference, (320, 180))
    frames.at(1200)           # one frame by a seek (its neighbours kept: offsets are tried next to it)
    frames.window(1194, 1206) # a run of frames
    frames.frame(1201)        # frames for increasing indices: decoded forward, the last few kept
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reelguard.watermark.frames import gray_frames
from reelguard.watermark.variants import MasterReference

__all__ = ["KEPT_FRAMES", "MasterFrames"]

KEPT_FRAMES = 10  # frames kept behind the forward decoder: the tracker looks up to ±2 frames around 4 blocks
_NEIGHBOURS = 8  # frames kept either side of one found by seeking (the offsets tried are that close)


class MasterFrames:
    """Master frames at one size by index (decode order, as the variants were encoded), found by seeking."""

    def __init__(self, master: Path, reference: MasterReference, size: tuple[int, int]) -> None:
        self._master, self._pts, self._size = master, reference.pts, size
        self._frames: Iterator[tuple[int, NDArray[np.uint8]]] | None = None
        self._index = -1
        self._recent: OrderedDict[int, NDArray[np.float32]] = OrderedDict()
        self._near: dict[int, NDArray[np.uint8]] = {}

    def _index_of(self, when: float) -> int:
        right = int(np.searchsorted(self._pts, when))
        if right > 0 and (right == len(self._pts) or when - self._pts[right - 1] < self._pts[right] - when):
            return right - 1
        return right

    def _decode_from(self, index: int) -> Iterator[tuple[int, NDArray[np.uint8]]]:
        start = float(self._pts[max(0, min(index, len(self._pts) - 1))]) - 1e-3
        for when, picture in gray_frames(self._master, *self._size, start=max(0.0, start)):
            yield self._index_of(when), picture

    def at(self, index: int) -> NDArray[np.uint8] | None:
        """One frame, by a seek; its neighbours are kept, for the offsets tried next to it."""
        if not 0 <= index < len(self._pts):
            return None
        if index not in self._near:
            for found, picture in self._decode_from(max(0, index - _NEIGHBOURS)):
                if found > index + _NEIGHBOURS:
                    break
                if found >= index - _NEIGHBOURS:
                    self._near[found] = picture
        return self._near.get(index)

    def window(self, first: int, last: int) -> dict[int, NDArray[np.uint8]]:
        """Frames first..last (clipped to the title)."""
        frames: dict[int, NDArray[np.uint8]] = {}
        for found, picture in self._decode_from(max(0, first)):
            if found > last:
                break
            frames[found] = picture
        return frames

    def frame(self, index: int) -> NDArray[np.float32] | None:
        """Frames for (mostly) increasing indices: decoded forward once, the last few kept."""
        if index >= len(self._pts) or index < 0:
            return None
        if index in self._recent:
            return self._recent[index]
        if self._frames is None or index < self._index:
            self._frames = self._decode_from(max(0, index - 1))
            self._index = -1
            self._recent.clear()
        while self._index < index:
            try:
                self._index, picture = next(self._frames)
            except StopIteration:
                return None
            self._recent[self._index] = picture.astype(np.float32)
            if len(self._recent) > KEPT_FRAMES:
                self._recent.popitem(last=False)
        return self._recent.get(index)
