"""A title's master frames by index: decoded once where it can be, kept while memory allows, at each size asked.

Trace compares the suspect's pictures with the master's frames it was marked on, in the
master's decode order (the order the A/B variants were encoded in), at two sizes
(registration's and detection's)::

    decoder = MasterDecoder(proxy_path, reference, proxy=True)   # or (master_path, reference): titles before proxies
    frames = MasterFrames(decoder, (320, 180))
    frames.at(1200)           # one frame (its neighbours decoded and kept: offsets are tried next to it)
    frames.window(1194, 1206) # a run of frames
    frames.frame(1201)        # as float32, for the tracker's many look-ups of the same frames
    read_around([1200, 1460], [(frames, 0), (other_size, 6)])  # many moments (±6 at the other size), one walk

A title ingested since proxies is read from its proxy (``variants.py``: 640 px luma, a
key frame every second); one ingested before, from its master, which may hold a key frame
only every 10 s (x264's default), so reaching one frame by a seek can cost 250 decoded
frames. Alignment asks for the same moments again (each
candidate offset, coarse then fine, at both sizes) and the tracker looks back when it
searches for a lost block. So each size keeps the pictures it was given, least recently
used first out; the one decoder both sizes share decodes on to a frame ahead of where it
stands unless a seek would start decoding further on (a key frame lies between: the
master's key frames are read from its packets); and ``read_around`` reads many moments at
every size in one walk. Detection later reads nearly every frame the copy spans, and the
walks to alignment's moments decode most of them on the way (measured: 1,112 of the 1,327
a 50 s copy's detection read); a size made with ``keep_passing`` keeps those too, first
out, while it has room.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from reelguard.watermark.frames import SEEK_MARGIN, gray_picture, key_frame_times, video_frames
from reelguard.watermark.variants import MasterReference

__all__ = ["MasterDecoder", "MasterFrames", "read_around"]

_PICTURE_BYTES = 160 << 20  # pictures kept per size: 690 at 640x360, 2,770 at 320x180
_NEIGHBOURS = 8  # frames read either side of one asked for alone (the offsets tried are that close)
_SEEK_FRAMES = 12  # a seek (a new demuxer and decoder) costs about as much as decoding this many frames
_KEPT_FLOAT = 32  # float32 copies kept for the tracker (±2 frames around a 25-frame block)


class MasterDecoder:
    """Walks the master: forward from where it stands when the frames asked for are just ahead, else by a seek."""

    def __init__(self, master: Path, reference: MasterReference, *, proxy: bool = False) -> None:
        """``proxy``: ``master`` is the title's proxy, whose frames lie at the delivered times (the master's own
        timestamps may have gaps), not the master itself."""
        self._master, self._pts = master, reference.times if proxy else reference.pts
        self._walk: Iterator[tuple[int, av.VideoFrame]] | None = None
        self._decoded_to = -1  # the last index the walk gave
        self._key_times: NDArray[np.float64] | None = None  # read when first needed
        self._passers: list[MasterFrames] = []  # the sizes that keep what passes, wanted or not

    @property
    def count(self) -> int:
        return len(self._pts)

    def read(self, wanted_by: Sequence[tuple[MasterFrames, Iterable[int]]]) -> None:
        """Decode, in order, the frames (in the title) each size wants, and hand each size the ones it wants."""
        by_index: dict[int, list[MasterFrames]] = {}
        for frames, indices in wanted_by:
            for index in indices:
                if 0 <= index < self.count:
                    by_index.setdefault(index, []).append(frames)
        wanted = sorted(by_index)
        position = 0
        while position < len(wanted):
            seeking_to = -1
            if self._walk is None or not self._walk_reaches(wanted[position]):
                self._walk, seeking_to = self._decode_from(wanted[position]), wanted[position]
            for index, frame in self._walk:
                self._decoded_to = index
                while position < len(wanted) and wanted[position] < index:
                    position += 1  # a frame the master does not give (not one of its timestamps)
                if position < len(wanted) and wanted[position] == index:
                    for frames in by_index[index]:
                        frames.keep(index, frame)
                    position += 1
                for frames in self._passers:
                    frames.offer(index, frame)
                if index < seeking_to:
                    continue  # on the way from the key frame a seek landed on to the frame it was for
                if position == len(wanted) or not self._walk_reaches(wanted[position]):
                    break  # done, or a seek reaches the next for less
            else:
                self._walk = None  # the master ended
                return

    def add_passer(self, frames: MasterFrames) -> None:
        """Hand ``frames`` every frame decoded from now on, not only those it asks for."""
        self._passers.append(frames)

    def _walk_reaches(self, index: int) -> bool:
        """Whether decoding on from where the walk stands costs no more than seeking to ``index``."""
        if self._walk is None or index <= self._decoded_to:
            return False
        return self._seek_lands(index) <= self._decoded_to + _SEEK_FRAMES

    def _seek_lands(self, index: int) -> int:
        """The frame a seek to ``index`` starts decoding at: the key frame before it (as ``video_frames`` seeks)."""
        start = self._start_of(index)
        if start <= SEEK_MARGIN:
            return 0
        if self._key_times is None:
            self._key_times = key_frame_times(self._master)
        before = int(np.searchsorted(self._key_times, start - SEEK_MARGIN, side="right")) - 1
        return self._index_of(float(self._key_times[before])) if before >= 0 else 0

    def _decode_from(self, index: int) -> Iterator[tuple[int, av.VideoFrame]]:
        for when, frame in video_frames(self._master, start=max(0.0, self._start_of(index)),
                                        lead_in=bool(self._passers)):
            yield self._index_of(when), frame

    def _start_of(self, index: int) -> float:
        """Where decoding for frame ``index`` starts yielding: just before its timestamp."""
        return float(self._pts[index]) - 1e-3

    def _index_of(self, when: float) -> int:
        right = int(np.searchsorted(self._pts, when))
        if right > 0 and (right == len(self._pts) or when - self._pts[right - 1] < self._pts[right] - when):
            return right - 1
        return right


class MasterFrames:
    """Master frames at one size by index (decode order, as the variants were encoded)."""

    def __init__(self, decoder: MasterDecoder, size: tuple[int, int], *, keep_passing: bool = False) -> None:
        """``keep_passing``: also keep (while there is room) the frames decoded for other sizes or on the way."""
        self.decoder, self._size = decoder, size
        self._kept: OrderedDict[int, NDArray[np.uint8]] = OrderedDict()
        self._capacity = _PICTURE_BYTES // (size[0] * size[1])
        self._floats: OrderedDict[int, NDArray[np.float32]] = OrderedDict()
        if keep_passing:
            decoder.add_passer(self)

    def at(self, index: int) -> NDArray[np.uint8] | None:
        """One frame; its neighbours are read with it, for the offsets tried next to it."""
        if not 0 <= index < self.decoder.count:
            return None
        if index not in self._kept:
            self._read(range(index - _NEIGHBOURS, index + _NEIGHBOURS + 1))
        return self._get(index)

    def window(self, first: int, last: int) -> dict[int, NDArray[np.uint8]]:
        """Frames first..last (clipped to the title)."""
        self._read(range(first, last + 1))
        frames = {index: self._get(index) for index in range(max(0, first), min(last, self.decoder.count - 1) + 1)}
        return {index: frame for index, frame in frames.items() if frame is not None}

    def frame(self, index: int) -> NDArray[np.float32] | None:
        """One frame as float32 (the last few kept: the tracker asks for each several times)."""
        if not 0 <= index < self.decoder.count:
            return None
        if index in self._floats:
            self._floats.move_to_end(index)
            return self._floats[index]
        if index not in self._kept:
            self._read((index,))  # forward, as the tracker walks the master in order
        picture = self._get(index)
        if picture is None:
            return None
        converted = self._floats[index] = picture.astype(np.float32)
        if len(self._floats) > _KEPT_FLOAT:
            self._floats.popitem(last=False)
        return converted

    def keep(self, index: int, frame: av.VideoFrame) -> None:
        """Keep a decoded frame's picture at this size (the decoder hands them in)."""
        if index in self._kept:
            self._kept.move_to_end(index)
            return
        self._kept[index] = gray_picture(frame, *self._size)
        if len(self._kept) > self._capacity:
            self._kept.popitem(last=False)

    def offer(self, index: int, frame: av.VideoFrame) -> None:
        """Keep a frame decoded anyway, first out, if there is room (it never pushes out a frame asked for)."""
        if index in self._kept or len(self._kept) >= self._capacity:
            return
        self._kept[index] = gray_picture(frame, *self._size)
        self._kept.move_to_end(index, last=False)

    def missing(self, indices: Iterable[int]) -> list[int]:
        """Those of ``indices`` this size does not keep (a frame kept is not decoded again)."""
        return [index for index in indices if index not in self._kept]

    def _read(self, indices: Iterable[int]) -> None:
        self.decoder.read([(self, self.missing(indices))])

    def _get(self, index: int) -> NDArray[np.uint8] | None:
        picture = self._kept.get(index)
        if picture is not None:
            self._kept.move_to_end(index)
        return picture


def read_around(centres: Iterable[int], reaches: Sequence[tuple[MasterFrames, int]]) -> None:
    """Read, in one walk of one decoder, the frames within each size's reach of every centre, at that size.

    Alignment tries several candidate offsets, each at a handful of moments spread over the
    suspect; asked one by one, each candidate walks the whole stretch again. A size that
    registers needs the moments themselves (reach 0); one that refines the offset, the
    frames either side.
    """
    decoders = {id(frames.decoder) for frames, _ in reaches}
    if len(decoders) != 1:
        raise ValueError(f"expected master frames of one decoder, got {len(decoders)}")
    moments = set(centres)
    reaches[0][0].decoder.read([(frames, frames.missing({centre + step for centre in moments
                                                          for step in range(-reach, reach + 1)}))
                                for frames, reach in reaches])
