"""Informed detection (pure): a soft A/B symbol per segment from aligned frame pairs.

The detector holds the unmarked master, so it removes the picture itself: for each
suspect frame (already warped into the master's geometry at working size) it fits the
suspect's tone curve to the master (brightness, contrast, gamma and the like change it),
keeps the residual, clips outliers (edges a registration misses) and projects the
residual on the segment's expected mark ``W = M ⊙ P_n``. Summed over the frames of a
segment, the projection's sign is the variant (+ = A, - = B).

Its scale is calibrated per segment against decoy patterns — the same projection with
patterns of unrelated keys, which no copy carries — so ``z`` reads as standard deviations
above chance whatever the attack did to the noise. A re-encode's coding error that lasts
across segments (noisy and dark pictures) is taken off first: each segment's neighbours
show it too, with marks of their own (``remove_persistent_error``)::

    evidence = SegmentEvidence.empty(key, segment=12)
    for master, suspect, valid in frames_of_segment_12:
        evidence.add(master, suspect, valid)
    evidence.z          # e.g. +9.3: variant A, very confidently
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from reelguard.watermark.embedding import GRID, MaskRule, perceptual_mask, segment_pattern, upsample_pattern

__all__ = ["DECIDED_Z", "DECOYS", "PERSISTENT_ERROR_SECONDS", "MarkClock", "SegmentEvidence", "background_reach",
           "follow_the_mark", "frame_grid", "pool_segments", "remove_persistent_error", "soft_symbol"]

DECOYS = 32
# How far either side a segment's neighbours are taken to show the copy's lasting coding error: well
# inside x264's default 10 s between key frames, and wide enough that the neighbours' own marks average out.
PERSISTENT_ERROR_SECONDS = 4.0
_DECOY_LABEL = b"reelguard-wm-decoy/"
_MIN_VALID = 0.2  # a frame whose valid area is under 20 % of the picture says nothing

Floats = NDArray[np.float32]


def _patterns(key: bytes, segment: int) -> Floats:
    """(1 + DECOYS, GRID[1], GRID[0]): the segment's coarse pattern, then the decoys'."""
    keys = [key] + [_DECOY_LABEL + key + i.to_bytes(2, "big") for i in range(DECOYS)]
    return np.stack([segment_pattern(k, segment) for k in keys])


@lru_cache(maxsize=16)
def _interpolation(width: int, height: int) -> tuple[Floats, Floats]:
    """(U, V) with upsample_pattern(P) == U @ P @ V.T: bicubic resizing is linear and separable.

    Projecting a picture R on an upsampled pattern is then <Uᵀ R V, P>: one small matrix per
    frame, dotted with every coarse pattern, instead of a full-size product per pattern.
    """
    eye_rows = np.eye(GRID[1], dtype=np.float32)
    eye_cols = np.eye(GRID[0], dtype=np.float32)
    rows = np.stack([upsample_pattern(eye_rows[:, [j]], 1, height)[:, 0] for j in range(GRID[1])], axis=1)
    cols = np.stack([upsample_pattern(eye_cols[[j], :], width, 1)[0, :] for j in range(GRID[0])], axis=1)
    return rows, cols


def residual(master: Floats, suspect: Floats, valid: NDArray[np.bool_]) -> Floats | None:
    """Suspect minus the master through a fitted quadratic tone curve; None if unusable."""
    if valid.mean() < _MIN_VALID:
        return None
    m, s = master[valid], suspect[valid]
    if m.std() < 1.0 or s.std() < 1.0:
        return None  # a flat (black, fade) frame carries no mark
    step = max(1, m.size // 4000)
    coeffs = _quadratic_fit(m[::step] / 255.0, s[::step])
    fitted = np.polyval(coeffs, master / 255.0).astype(np.float32)
    out = np.where(valid, suspect - fitted, 0.0).astype(np.float32)
    spread = 1.4826 * float(np.median(np.abs(out[valid]))) + 1.0
    return np.clip(out, -3 * spread, 3 * spread)


def frame_grid(master: Floats, suspect: Floats, valid: NDArray[np.bool_],
               mask: MaskRule = MaskRule()) -> NDArray[np.float64] | None:
    """One frame pair's residual, weighted by the master's mask, on the pattern grid (``Uᵀ R V``); None if unusable."""
    r = residual(master, suspect, valid)
    if r is None:
        return None
    weighted = r * perceptual_mask(master, mask)
    rows, cols = _interpolation(weighted.shape[1], weighted.shape[0])
    return np.asarray((rows.T @ weighted @ cols) / weighted.size, dtype=np.float64)


def _quadratic_fit(x: NDArray[np.floating], y: NDArray[np.floating]) -> NDArray[np.float64]:
    """Least-squares ``a·x² + b·x + c`` (highest power first, as ``np.polyval`` takes it).

    By ``lstsq``, which takes the smallest solution when the fit is underdetermined: flat
    animation shows a handful of grey levels, and ``np.polyfit`` warns about its rank there.
    """
    design = np.stack([x * x, x, np.ones_like(x)], axis=1).astype(np.float64)
    coeffs, *_ = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)
    return np.asarray(coeffs, dtype=np.float64)


@dataclass
class SegmentEvidence:
    """One segment's frames, summed on the pattern grid, read against its pattern and the decoys.

    ``coarse`` is the sum over the segment's frames of the weighted residual on the
    pattern's grid (``Uᵀ R V``): everything a projection on any coarse pattern needs.
    ``background`` is what the copy's residual holds whatever the segment's mark — the
    mean residual of neighbouring segments (``pool_segments``) — and is taken off before
    the projection.
    """

    segment: int
    patterns: Floats
    mask: MaskRule = field(default_factory=MaskRule)  # the one the title was marked with (MaskRule.of)
    coarse: NDArray[np.float64] = field(default_factory=lambda: np.zeros((GRID[1], GRID[0])))
    frames: int = 0
    background: NDArray[np.float64] | None = None  # per frame, on the grid

    @classmethod
    def empty(cls, key: bytes, *, segment: int, mask: MaskRule = MaskRule()) -> SegmentEvidence:
        return cls(segment, _patterns(key, segment), mask)

    def add(self, master: Floats, suspect: Floats, valid: NDArray[np.bool_]) -> None:
        """Add one aligned frame pair (master and suspect at the same working size)."""
        grid = frame_grid(master, suspect, valid, self.mask)
        if grid is not None:
            self.add_grid(grid)

    def add_grid(self, grid: NDArray[np.float64]) -> None:
        """Add one frame's weighted residual on the pattern grid (``frame_grid``)."""
        self.coarse += grid
        self.frames += 1

    @property
    def mean_coarse(self) -> NDArray[np.float64]:
        """The residual on the grid, per frame (zeros when no frame counted)."""
        return self.coarse / max(self.frames, 1)

    @property
    def projections(self) -> NDArray[np.float64]:
        """The per-frame residual less the background, on the pattern (first) and each decoy."""
        coarse = self.mean_coarse if self.background is None else self.mean_coarse - self.background
        return np.asarray(np.tensordot(self.patterns, coarse, axes=([1, 2], [0, 1])), dtype=np.float64)

    @property
    def z(self) -> float:
        """The projection in units of the decoys' spread (0 when no frame counted)."""
        if self.frames == 0:
            return 0.0
        projections = self.projections
        spread = math.sqrt(float(np.mean(projections[1:] ** 2))) or 1e-12
        return float(projections[0] / spread)


def pool_segments(key: bytes, pairs: Iterable[tuple[int, Floats, Floats]], valid: NDArray[np.bool_],
                  segment_of: Callable[[int], int], mask: MaskRule = MaskRule(),
                  background_reach: int = 0, clock: MarkClock | None = None) -> list[SegmentEvidence]:
    """Each segment's evidence, in segment order, from (master frame index, master, suspect) pairs.

    The first and last frame of a segment are left out: a copy re-timed by a frame or two
    (a frame-rate change, a capture) may show either segment's variant there.

    With ``clock``, the segment each frame counts for follows the mark where it clearly
    disagrees with the frame's index (``follow_the_mark``). With ``background_reach`` k > 0,
    each segment's background is the mean residual of the segments up to k either side
    (``remove_persistent_error``).
    """
    # a frame the clock may move is read whatever its index; otherwise only frames inside a segment are
    frames = [(index, grid) for index, master, suspect in pairs
              if (clock is not None or _inside_segment(index, segment_of))
              and (grid := frame_grid(master, suspect, valid, mask)) is not None]
    indices = [index for index, _ in frames]
    if clock is not None and frames:
        indices = follow_the_mark(key, frames, segment_of, clock)
    evidence: dict[int, SegmentEvidence] = {}
    for index, (_, grid) in zip(indices, frames, strict=True):
        if not _inside_segment(index, segment_of):
            continue
        segment = segment_of(index)
        if segment not in evidence:
            evidence[segment] = SegmentEvidence.empty(key, segment=segment, mask=mask)
        evidence[segment].add_grid(grid)
    pooled = [evidence[n] for n in sorted(evidence)]
    if background_reach > 0:
        remove_persistent_error(pooled, background_reach)
    return pooled


def _inside_segment(index: int, segment_of: Callable[[int], int]) -> bool:
    """Whether frame ``index`` is neither the first nor the last of its segment."""
    return segment_of(index - 1) == segment_of(index) == segment_of(index + 1)


@dataclass(frozen=True)
class MarkClock:
    """How ``follow_the_mark`` reads the copy's clock off its mark, in frames."""

    block: int  # frames read together (about a second)
    reach: int  # the most a block's segment may move either way (the tracker's wide search)


# chi-square of a block's frames on the segment patterns they would fall in: 25 is 5 standard deviations, which
# noise reaches about once in a million blocks; and the tracker's placement must read four times less (z half)
_CLOCK_SURE = 25.0
_CLOCK_BETTER = 4.0


def follow_the_mark(key: bytes, frames: list[tuple[int, NDArray[np.float64]]], segment_of: Callable[[int], int],
                    clock: MarkClock) -> list[int]:
    """Each frame's index, moved for every block of frames whose mark says it shows other segments.

    The tracker times frames by their pictures; where the picture stands still (a fixed
    camera at night, a slide) a wrong time looks as right as the right one, and a capture
    that stalled there stays seconds off: its frames then count for their neighbours,
    read nothing in their own segment and, through the lasting-error removal (whose
    neighbours now hold the segment's own mark), read it inverted — the dark class's
    screen capture, 56 of 96 segments wrong. The mark is a clock the pictures are not:
    each segment has its own pattern. So every block of frames is read on the patterns
    of the segments it would fall in at each shift within ``reach``, and it moves to the
    shift where its frames carry them at ``_CLOCK_SURE``, if where the tracker put it reads
    ``_CLOCK_BETTER`` times less. A block that reads no clear clock takes its neighbours'
    shift when both sides agree. The shift is chosen on the patterns alone, never a
    session's bits, so the accusation's bound holds. It is for copies whose clock is not
    the master's: on one that keeps it, a block showing the segment before's mark is an
    encoder's stale picture (a still area skipped until its next key frame), and moving it
    thins the evidence — trace asks for it only on re-timed copies.
    """
    indices = np.array([index for index, _ in frames])
    grids = np.stack([grid for _, grid in frames]).reshape(len(frames), -1)
    first = max(0, segment_of(int(indices.min()) - clock.reach))  # before the title's start there is no mark
    last = segment_of(int(indices.max()) + clock.reach)
    patterns = {n: _patterns(key, n).reshape(1 + DECOYS, -1) for n in range(first, last + 1)}
    deltas = range(-clock.reach, clock.reach + 1)
    shifts: list[int | None] = []
    for start in range(0, len(frames), clock.block):
        block = slice(start, start + clock.block)
        labels = np.array([[segment_of(int(index) + delta) for index in indices[block]] for delta in deltas])
        # each frame's projection on every pattern it may fall in, once: a shift only regroups them
        projected = {int(n): grids[block] @ patterns[int(n)].T for n in np.unique(labels) if int(n) in patterns}
        readings: dict[bytes, float] = {}
        scores = {}
        for delta, row in zip(deltas, labels, strict=True):
            if row.tobytes() not in readings:
                readings[row.tobytes()] = _clock_reading(projected, row)
            scores[delta] = readings[row.tobytes()]
        best = max(scores, key=lambda delta: scores[delta])
        sure = scores[best] >= _CLOCK_SURE and scores[0] * _CLOCK_BETTER <= scores[best]
        shifts.append(best if sure else None)
    agreed = _fill_between(shifts)
    return [int(index) + agreed[position // clock.block] for position, index in enumerate(indices)]


def _clock_reading(projected: dict[int, NDArray[np.float64]], labels: NDArray[np.int64]) -> float:
    """Σ z² over the segments a block's frames fall in (``labels``): each part's summed projections on its
    pattern, in units of its decoys'."""
    reading = 0.0
    for segment in np.unique(labels):
        if int(segment) not in projected:
            continue  # before the title: nothing to read
        projections = projected[int(segment)][labels == segment].sum(axis=0)
        spread = math.sqrt(float(np.mean(projections[1:] ** 2))) or 1e-12
        reading += float(projections[0] / spread) ** 2
    return reading


def _fill_between(shifts: list[int | None]) -> list[int]:
    """Sure shifts as they are; an unsure block takes the shift of the sure blocks either side if they agree, else 0."""
    filled = []
    for position, shift in enumerate(shifts):
        if shift is None:
            before = next((s for s in reversed(shifts[:position]) if s is not None), None)
            after = next((s for s in shifts[position + 1:] if s is not None), None)
            shift = before if before is not None and before == after else 0
        filled.append(shift)
    return filled


def background_reach(segment_seconds: float) -> int:
    """Neighbouring segments either side that fall within ``PERSISTENT_ERROR_SECONDS`` (at least one)."""
    return max(1, round(PERSISTENT_ERROR_SECONDS / segment_seconds))


def remove_persistent_error(evidence: list[SegmentEvidence], reach: int) -> None:
    """Set each segment's background to the mean residual of its neighbours up to ``reach`` segments away.

    A re-encoder copies a picture's coding error from frame to frame until its next key
    frame (seconds later): on noisy or dark pictures that error is far larger than the
    mark, lasts across segment boundaries and, summed over a segment, does not average
    away. The mark does not last: every segment has its own independent pattern. So the
    neighbours' mean holds the lasting error and only a small share of other marks, and
    taking it off leaves the segment's own mark. It depends on the copy alone, so the
    decoys calibrate what is left as before and the accusation's bound still holds.
    """
    counted = {e.segment: e.mean_coarse for e in evidence if e.frames > 0}
    for item in evidence:
        neighbours = [counted[n] for n in range(item.segment - reach, item.segment + reach + 1)
                      if n != item.segment and n in counted]
        item.background = np.mean(neighbours, axis=0) if neighbours else None


def soft_symbol(z: float) -> float:
    """Map a detector z to a Tardos weight in [-1, 1]: ``z/3`` clipped, so ±1 when sure.

    Linear, with no erasure threshold: a weak segment still votes, weakly. Weighting by
    the evidence is what the best linear test does (its expected contribution grows with
    ``|z|``), and zeroing ``|z| < 1`` threw away segments whose sign was nearly always
    right on re-encoded copies. The false-accusation bound holds for any weights, since
    they depend on the copy alone.
    """
    return max(-1.0, min(1.0, z / 3.0))


DECIDED_Z = 1.0  # reporting only: a segment with |z| below this counts as undecided in error rates
