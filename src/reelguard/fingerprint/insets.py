"""Where a picture-in-picture inset sits in a suspect: the rectangle whose four edges persist.

A copy shrunk into another video (a reaction channel, a "watch party", a news report)
is the title's whole picture at 25-75 % of the frame, somewhere on a host. Its
descriptor, taken from a window of the suspect that lies exactly on the inset, is the
title's own; taken from a quadrant a few per cent off, it is not (DCT thumbnails move
with position at that scale). So the inset is found, not guessed.

What gives an inset away is that its *border* stays put while the pictures on both
sides of it move on. For a run of pictures the mean absolute difference between
neighbouring rows (and columns) is taken at every boundary: inside moving content it
is smeared over many rows, at the inset's border it stands out as a one-pixel ridge
over the inset's width. A rectangle's score is its weakest side's mean ridge; the best
few rectangles of each run are offered as query views, and whether one of them really
holds a title is left to the search and the false-match test (a rectangle drawn by the
host's own static lines only adds hits that land nowhere in order).

A host whose own lines are static (slides, a cartoon's flat shapes) offers rectangles
of its own; that is why more than one is kept. Rectangles under a quarter of the
frame's side are not offered: a window that small of smoothly moving content carries
little but a gradient, and its course lined up with smoothly panning titles by chance
(on the calibration split, 2 of 117 reported segments named a wrong title through 40-60
pixel rectangles of a synthetic host; none with the quarter). An inset touching the
frame's edge has three visible sides and is not found here::

    boxes = inset_boxes(pictures)  # one tuple of boxes per picture
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Box", "best_rectangles", "inset_boxes"]

Box = tuple[int, int, int, int]  # (top, bottom, left, right), rows and columns as slice bounds

RUNS = (12, 40)  # pictures judged together: 3 s and 10 s at the 4 pictures a second queries are read at
KEPT = 2  # rectangles offered per run
_CANDIDATE_LINES = 20  # strongest rows (and columns) of ridge tried as sides
_LINE_GAP = 4  # two candidate lines are at least this many pixels apart
_RIDGE_REACH = 3  # a ridge is measured against the boundaries this far to either side
_SIDE_SHARE = (0.25, 0.9)  # an inset's side is this share of the frame's (smaller: a thumbnail; larger: the frame)


def inset_boxes(pictures: NDArray[np.uint8], runs: tuple[int, ...] = RUNS,
                kept: int = KEPT) -> list[tuple[Box, ...]]:
    """For each picture, the rectangles judged most like an inset over the runs of pictures it is in.

    A short run finds the inset of a short copy; a long one finds an inset whose edges
    are faint (a host of the same colours), which only persistence over more pictures
    brings out. Each picture's boundary differences are taken once, in blocks the runs
    are made of, and summed into every run the block belongs to.
    """
    found_in: dict[int, list[tuple[int, int, tuple[Box, ...]]]] = {run: [] for run in runs}  # (first, end, boxes)
    block = math.gcd(*runs)
    sums: dict[int, _Boundaries] = {}
    for start in range(0, len(pictures), block):
        these = _boundary_sums(pictures[start:start + block])
        end = min(start + block, len(pictures))
        for run in runs:
            sums[run] = these if start % run == 0 else sums[run] + these
            first = start - start % run
            if (end % run == 0 or end == len(pictures)) and end - first >= 2:
                found_in[run].append((first, end, _rectangles(sums[run], kept)))
    boxes: list[list[Box]] = [[] for _ in pictures]
    for run in runs:  # a picture's boxes in the order of the runs (its views are numbered so)
        for first, end, rectangles in found_in[run]:
            for box in rectangles:
                for found in boxes[first:end]:
                    if box not in found:
                        found.append(box)
    return [tuple(found) for found in boxes]


def best_rectangles(pictures: NDArray[np.uint8], kept: int) -> tuple[Box, ...]:
    """The ``kept`` rectangles whose weakest side is the strongest persistent edge in ``pictures``."""
    return _rectangles(_boundary_sums(pictures), kept)


@dataclass(frozen=True)
class _Boundaries:
    """Absolute differences across each row boundary (H-1, W) and column boundary (H, W-1), summed over pictures."""

    across_rows: NDArray[np.int32]
    across_columns: NDArray[np.int32]
    pictures: int

    def __add__(self, other: _Boundaries) -> _Boundaries:
        return _Boundaries(self.across_rows + other.across_rows, self.across_columns + other.across_columns,
                           self.pictures + other.pictures)


def _boundary_sums(pictures: NDArray[np.uint8]) -> _Boundaries:
    frames = np.asarray(pictures, np.int16)
    return _Boundaries(np.abs(np.diff(frames, axis=1)).sum(axis=0, dtype=np.int32),
                       np.abs(np.diff(frames, axis=2)).sum(axis=0, dtype=np.int32), len(frames))


def _rectangles(boundaries: _Boundaries, kept: int) -> tuple[Box, ...]:
    count = np.float32(boundaries.pictures)
    across_rows = _ridge(boundaries.across_rows.astype(np.float32) / count)  # (H-1, W): boundary under row y
    across_columns = _ridge((boundaries.across_columns.astype(np.float32) / count).T).T  # (H, W-1)
    height, width = across_columns.shape[0], across_rows.shape[1]
    rows = _strongest(across_rows.sum(axis=1))
    columns = _strongest(across_columns.sum(axis=0))
    tops, bottoms = _pairs(rows, height)
    lefts, rights = _pairs(columns, width)
    if not len(tops) or not len(lefts):
        return ()
    along_x = np.concatenate([np.zeros((across_rows.shape[0], 1)), np.cumsum(across_rows, axis=1)], axis=1)
    along_y = np.concatenate([np.zeros((1, across_columns.shape[1])), np.cumsum(across_columns, axis=0)], axis=0)
    # boundary t lies between rows t and t+1: the inset's rows are t+1 … b, its columns l+1 … r
    span_x = (rights - lefts)[None, :]
    span_y = (bottoms - tops)[:, None]
    top = (along_x[tops[:, None], rights[None, :] + 1] - along_x[tops[:, None], lefts[None, :] + 1]) / span_x
    bottom = (along_x[bottoms[:, None], rights[None, :] + 1] - along_x[bottoms[:, None], lefts[None, :] + 1]) / span_x
    left = (along_y[bottoms[:, None] + 1, lefts[None, :]] - along_y[tops[:, None] + 1, lefts[None, :]]) / span_y
    right = (along_y[bottoms[:, None] + 1, rights[None, :]] - along_y[tops[:, None] + 1, rights[None, :]]) / span_y
    weakest = np.minimum(np.minimum(top, bottom), np.minimum(left, right))
    order = np.argsort(weakest, axis=None)[::-1][:kept]
    chosen = []
    for flat in order.tolist():
        i, j = divmod(flat, weakest.shape[1])
        if weakest[i, j] > 0:
            chosen.append((int(tops[i]) + 1, int(bottoms[i]) + 1, int(lefts[j]) + 1, int(rights[j]) + 1))
    return tuple(chosen)


def _ridge(boundaries: NDArray[np.float32]) -> NDArray[np.float32]:
    """How much each boundary (axis 0) stands above the boundaries a few pixels to either side."""
    reach = _RIDGE_REACH
    padded = np.pad(boundaries, ((reach, reach), (0, 0)), mode="edge")
    return np.clip(boundaries - np.maximum(padded[:-2 * reach], padded[2 * reach:]), 0, None)


def _strongest(profile: NDArray[np.float32]) -> NDArray[np.int64]:
    """The lines of most ridge in all, each at least ``_LINE_GAP`` from a stronger one."""
    chosen: list[int] = []
    for line in np.argsort(profile)[::-1].tolist():
        if profile[line] <= 0 or len(chosen) == _CANDIDATE_LINES:
            break
        if all(abs(line - other) > _LINE_GAP for other in chosen):
            chosen.append(line)
    return np.asarray(sorted(chosen), np.int64)


def _pairs(lines: NDArray[np.int64], extent: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every (first, second) pair of lines whose distance is a plausible inset side."""
    first, second = np.meshgrid(lines, lines, indexing="ij")
    span = second - first
    keep = (span >= _SIDE_SHARE[0] * extent) & (span <= _SIDE_SHARE[1] * extent)
    return first[keep], second[keep]
