"""Views of a sampled picture: the ways one picture is looked at to undo what pirates do to pictures.

A copy may be letterboxed, pillarboxed, cropped, mirrored, or shrunk into another
picture (picture-in-picture). Rather than hoping a descriptor survives all of that, each
picture is described in several views, each a window of it (the signature row's tag):

- every picture first loses its black borders (``content_box``);
- a reference is described whole and as its centre 75 % (a copy cropped by 0.6-0.9
  lies closer to one of the two);
- a query is described whole, mirrored, and as its four quadrants (an inset at half
  size lies in one of them).

References carry few views (the index grows with them), queries carry more (a query is
short): that is where the asymmetry belongs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["QUERY_VIEWS", "REFERENCE_VIEWS", "VIEW_NAMES", "content_box", "picture_views"]

VIEW_NAMES = ("whole", "centre", "mirrored", "top-left", "top-right", "bottom-left", "bottom-right")
REFERENCE_VIEWS = (0, 1)
QUERY_VIEWS = (0, 2, 3, 4, 5, 6)
_BORDER_LEVEL = 28  # a border row/column is this dark on average (limited-range black is 16) …
_BORDER_SPREAD = 10  # … and this uniform
_MIN_CONTENT = 0.25  # never crop below a quarter of either side (a dark scene is not a border)
_CENTRE = 0.75


def content_box(picture: NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture inside its black borders, the whole picture if none."""
    rows = _content_span(picture.mean(axis=1), picture.std(axis=1))
    columns = _content_span(picture.mean(axis=0), picture.std(axis=0))
    return rows[0], rows[1], columns[0], columns[1]


def _content_span(level: NDArray[np.float64], spread: NDArray[np.float64]) -> tuple[int, int]:
    content = np.flatnonzero((level > _BORDER_LEVEL) | (spread > _BORDER_SPREAD))
    if not len(content):
        return 0, len(level)
    first, last = int(content[0]), int(content[-1]) + 1
    if last - first < _MIN_CONTENT * len(level):
        return 0, len(level)
    return first, last


def picture_views(picture: NDArray[np.uint8], views: tuple[int, ...]) -> list[tuple[int, NDArray[np.uint8]]]:
    """(view, window) for each asked view of ``picture``; windows are numpy views, not copies."""
    top, bottom, left, right = content_box(picture)
    content = picture[top:bottom, left:right]
    height, width = content.shape
    half_h, half_w = picture.shape[0] // 2, picture.shape[1] // 2
    crop_h, crop_w = round(height * (1 - _CENTRE) / 2), round(width * (1 - _CENTRE) / 2)
    windows = {
        0: content,
        1: content[crop_h:height - crop_h, crop_w:width - crop_w],
        2: content[:, ::-1],
        3: picture[:half_h, :half_w], 4: picture[:half_h, half_w:],
        5: picture[half_h:, :half_w], 6: picture[half_h:, half_w:],
    }
    return [(view, windows[view]) for view in views]
