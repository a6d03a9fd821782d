"""Following a copy's clock frame by frame: which master frame each suspect frame shows.

Trace knows, after alignment, roughly where the suspect sits in the master; the tracker
pairs every suspect frame with the master frame it shows, block by block, so that a copy
whose clock drifts (re-timed, screen-captured, camcorded) or stalls is still read against
the right frames::

    tracker = FrameTracker(MasterFrames(MasterDecoder(master, reference), work), valid_pixels, wide=75)
    for index, picture, master_frame in tracker.pairs(timed_suspect_frames): ...
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from reelguard.watermark.alignment import unit_rows
from reelguard.watermark.master_frames import MasterFrames

__all__ = ["TRACK_WIDE_SECONDS", "FrameTracker", "correlation", "normalised"]

TRACK_WIDE_SECONDS = 3.0  # how far a lost block is searched for (a stall, a cut)
_TRACK_FRAMES = 2  # each suspect frame is matched to the likest master frame within ±2 of where time puts it
_TRACK_WINDOW = 25  # frames per tracker block: each block settles its offset together
_TRACK_AGREEMENT = 2 / 3  # share of a block's frames that must prefer a new offset before the tracker moves
_LOST_BY = 0.08  # a block matching this much worse (correlation) than the ones before it is lost
_JUMP_GAIN = 0.04  # and jumps only to an offset that matches it at least this much better
_WIDE_SAMPLE_STEP = 5  # every 5th frame of a lost block takes part in the wide search
# a lost block that matches under half as well as the copy's blocks did, here or anywhere near, shows another
# picture (an advert or an intro put in): its frames are not the master's and carry no mark to read
_FOREIGN_SHARE = 0.5


class FrameTracker:
    """Pairs suspect frames with master frames, following a clock that drifts from the master's.

    One offset for the whole suspect is right to the frame only when the copy keeps the
    master's clock. A re-timed copy (25→30 fps, a screen capture, a camcorder) drifts, and
    one frame off erases the mark on anything that moves. So frames are taken in blocks:
    each block tries the offsets within ±_TRACK_FRAMES of the current one and moves to the
    one its pictures correlate with best — when most of its frames agree (a sign test), so
    that a still scene, where every offset looks alike, does not walk the offset away.

    A stall (a screen capture whose player rebuffered, a dropped stretch) jumps the clock
    by more than that. A block that matches clearly worse than the blocks before it (and
    the first block, whose offset came from the whole copy) is searched for over ±``wide``
    frames, and the offset jumps where it matches clearly better; each frame of that block
    then keeps the side of the jump it matches.
    """

    def __init__(self, frames: MasterFrames, valid: NDArray[np.bool_], wide: int) -> None:
        self._frames, self._valid, self._wide = frames, valid, wide
        self._drift = 0
        self._shifts = range(-_TRACK_FRAMES, _TRACK_FRAMES + 1)
        self._vectors: OrderedDict[int, NDArray[np.float32]] = OrderedDict()  # master index → normalised pixels
        self._typical: float | None = None  # how well blocks have matched so far
        self._restart = False  # the prediction jumped to a new piece: its first block is searched wide

    def pairs(self, timed: Iterator[tuple[int, NDArray[np.float32]]]
              ) -> Iterator[tuple[int, NDArray[np.float32], NDArray[np.float32]]]:
        """(master index, master frame, suspect frame) for (predicted master index, suspect frame).

        Where the prediction itself jumps (the time map's next piece: a cut, inserted
        footage) the tracker starts afresh there: what it followed before was the last
        piece's clock. A block that matches no master frame near where it should and
        under half as well as the copy's blocks did is another picture put in, and is left
        out.
        """
        block: list[tuple[int, NDArray[np.float32]]] = []
        for item in timed:
            if block and abs(item[0] - block[-1][0]) > self._wide:
                yield from self._settle(block)
                block = []
                self._drift, self._restart = 0, True
            block.append(item)
            if len(block) == _TRACK_WINDOW:
                yield from self._settle(block)
                block = []
        yield from self._settle(block)

    def _settle(self, block: list[tuple[int, NDArray[np.float32]]]
                ) -> Iterator[tuple[int, NDArray[np.float32], NDArray[np.float32]]]:
        suspects = [normalised(warped[self._valid]) for _predicted, warped in block]
        likeness, candidates = self._try(block, suspects)
        quality = _block_quality(likeness)
        # the first block is searched too: one offset for a whole drifting copy may be off at its start
        lost = quality is not None and (self._typical is None or self._restart or quality < self._typical - _LOST_BY)
        self._restart = False
        if lost:
            jump = self._search_wide(block, suspects)
            self._drift += jump
            after = self._try(block, suspects) if jump else None
            if self._foreign(quality) and (after is None or self._foreign(_block_quality(after[0]))):
                self._drift -= jump
                return  # another picture, not a stall: nothing of the master's to pair it with
            if after is not None:  # the block straddles the jump: each frame keeps the side it matches
                if self._typical is None:
                    self._typical = _block_quality(after[0])
                yield from self._straddle(block, (likeness, candidates), after, jump)
                return
        if quality is not None:  # a lost block moves the reference only slowly: a stall must not redefine it
            weight = 0.05 if lost else 0.2
            self._typical = quality if self._typical is None else (1 - weight) * self._typical + weight * quality
        moved = self._agreed_shift(likeness)
        self._drift += moved
        column = self._shifts.index(moved)
        for row, ((predicted, warped), found) in enumerate(zip(block, candidates, strict=True)):
            # the settled offset is among the tried ones; in a lost block, a frame of another picture is left out
            if moved in found and not (lost and self._foreign(float(likeness[row, column]))):
                yield predicted + self._drift, found[moved], warped

    def _foreign(self, quality: float | None) -> bool:
        """Whether a block matching this well shows another picture than the master's (see ``_FOREIGN_SHARE``)."""
        return quality is not None and self._typical is not None and quality < self._typical * _FOREIGN_SHARE

    def _straddle(self, block: list[tuple[int, NDArray[np.float32]]],
                  before: tuple[NDArray[np.float64], list[dict[int, NDArray[np.float32]]]],
                  after: tuple[NDArray[np.float64], list[dict[int, NDArray[np.float32]]]],
                  jump: int) -> Iterator[tuple[int, NDArray[np.float32], NDArray[np.float32]]]:
        """Each frame of a block that jumped, paired on whichever side of the jump it matches best."""
        for row, (predicted, warped) in enumerate(block):
            sides = []
            for (likeness, candidates), base in ((before, self._drift - jump), (after, self._drift)):
                if not np.isnan(likeness[row]).all():
                    column = int(np.nanargmax(likeness[row]))
                    shift = self._shifts[column]
                    sides.append((float(likeness[row, column]), predicted + base + shift, candidates[row][shift]))
            if sides:
                score, index, master = max(sides, key=lambda side: side[0])
                if not self._foreign(score):  # a frame of another picture put in beside the jump is left out
                    yield index, master, warped

    def _try(self, block: list[tuple[int, NDArray[np.float32]]], suspects: list[NDArray[np.float32]]
             ) -> tuple[NDArray[np.float64], list[dict[int, NDArray[np.float32]]]]:
        """Likeness of each block frame to the master frames ±_TRACK_FRAMES around the current offset."""
        likeness = np.full((len(block), len(self._shifts)), np.nan)
        candidates: list[dict[int, NDArray[np.float32]]] = []
        for row, ((predicted, _warped), suspect) in enumerate(zip(block, suspects, strict=True)):
            found: dict[int, NDArray[np.float32]] = {}
            for column, shift in enumerate(self._shifts):
                index = predicted + self._drift + shift
                master = self._frames.frame(index)
                if master is not None:
                    found[shift] = master
                    likeness[row, column] = float(np.dot(suspect, self._vector(index, master)))
            candidates.append(found)
        return likeness, candidates

    def _search_wide(self, block: list[tuple[int, NDArray[np.float32]]],
                     suspects: list[NDArray[np.float32]]) -> int:
        """The shift within ±wide frames where a sample of the block matches best, if clearly better."""
        sample = list(range(0, len(block), _WIDE_SAMPLE_STEP))
        centres = np.array([block[i][0] + self._drift for i in sample])
        first, last = max(0, int(centres.min()) - self._wide), int(centres.max()) + self._wide
        scores = np.full((len(sample), last - first + 1), np.nan)
        matrix = np.stack([suspects[i] for i in sample])
        for index in range(first, last + 1):
            master = self._frames.frame(index)
            if master is None:
                break
            scores[:, index - first] = matrix @ normalised(master[self._valid])
        shifts = np.arange(-self._wide, self._wide + 1)
        columns = centres[:, None] + shifts[None, :] - first
        inside = (columns >= 0) & (columns < scores.shape[1])
        picked = scores[np.arange(len(sample))[:, None], np.clip(columns, 0, scores.shape[1] - 1)]
        means = np.where(inside & ~np.isnan(picked), picked, -1.0).mean(axis=0)  # no master frame: no match
        best = int(np.argmax(means))
        return int(shifts[best]) if means[best] - means[self._wide] >= _JUMP_GAIN else 0

    def _vector(self, index: int, master: NDArray[np.float32]) -> NDArray[np.float32]:
        vector = self._vectors.get(index)
        if vector is None:
            vector = self._vectors[index] = normalised(master[self._valid])
            if len(self._vectors) > 4 * _TRACK_WINDOW:
                self._vectors.popitem(last=False)
        return vector

    def _agreed_shift(self, likeness: NDArray[np.float64]) -> int:
        """The best shift of the block, if its frames prefer it to staying put (else 0)."""
        usable = ~np.isnan(likeness).any(axis=1)
        if usable.sum() < _TRACK_WINDOW // 2:
            return 0
        rows = likeness[usable]
        stay = _TRACK_FRAMES
        best = int(np.argmax(rows.sum(axis=0)))
        if best == stay or np.mean(rows[:, best] > rows[:, stay]) < _TRACK_AGREEMENT:
            return 0
        return best - stay


def _block_quality(likeness: NDArray[np.float64]) -> float | None:
    """How well a block matches at its best offsets: the mean of each usable frame's best likeness."""
    usable = ~np.isnan(likeness).all(axis=1)
    if usable.sum() < _TRACK_WINDOW // 2:
        return None
    return float(np.mean(np.nanmax(likeness[usable], axis=1)))


def normalised(values: NDArray[np.float32]) -> NDArray[np.float32]:
    """One picture's valid pixels as a zero-mean unit vector (``unit_rows`` of one row)."""
    vector: NDArray[np.float32] = unit_rows(values[None])[0]
    return vector


def correlation(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Pearson correlation of two pictures' valid pixels."""
    return float(np.dot(normalised(a), normalised(b)))
