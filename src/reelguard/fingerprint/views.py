"""Views of a sampled picture: the ways one picture is looked at to undo what pirates do to pictures.

A copy may be letterboxed, pillarboxed, cropped, mirrored, or shrunk into another
picture (picture-in-picture). Rather than hoping a descriptor survives all of that, each
picture is described in several views, each a window of it (the signature row's tag):

- every picture first loses its black borders (``content_box``);
- a reference is described whole and as its centre 75 % (a copy cropped by 0.6-0.9
  lies closer to one of the two);
- a query is described whole, as its centre 75 %, mirrored, as its four quadrants
  (an inset at half size lies in one of them), and as the rectangles whose edges persist
  over a few seconds (``reelguard.fingerprint.insets``: an inset of any size, anywhere,
  once its border is found). The centre is what survives a rotation:
  a copy turned by 5° has black wedges in its corners, outside the centre, and its centre
  is like the reference's centre (on the copy-detection suite, rotated copies of 2-18 s
  scored 2-3 times higher with it, and one of 2.4 s was found only with it).

References carry few views (the index grows with them), queries carry more (a query is
short): that is where the asymmetry belongs.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from reelguard.fingerprint.insets import Box, inset_boxes
from reelguard.fingerprint.signatures import Role, Signature, SignatureType
from reelguard.media.sample import MediaSample

__all__ = ["QUERY_VIEWS", "REFERENCE_VIEWS", "VIEW_NAMES", "PictureSignatureType", "content_box", "picture_views"]

VIEW_NAMES = ("whole", "centre", "mirrored", "top-left", "top-right", "bottom-left", "bottom-right",
              "inset 1", "inset 2", "inset 3", "inset 4")
REFERENCE_VIEWS = (0, 1)
QUERY_VIEWS = (0, 1, 2, 3, 4, 5, 6)  # and the insets found, as views 7 and on
_BORDER_LEVEL = 28  # a border row/column is this dark on average (limited-range black is 16) …
_BORDER_SPREAD = 10  # … and this uniform
_MIN_CONTENT = 0.25  # never crop below a quarter of either side (a dark scene is not a border)
_CENTRE = 0.75
_FIRST_INSET = VIEW_NAMES.index("inset 1")


def content_box(picture: NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture inside its black borders, the whole picture if none.

    Most pictures (and most inset windows) have content on all four edges, which settles
    it: the edges are judged first and every row and column only when one of them is dark.
    """
    height, width = picture.shape
    edges = (picture[0], picture[height - 1], picture[:, 0], picture[:, width - 1]) if height and width else ()
    if edges and _shows_content(np.array([edge.mean() for edge in edges]),
                                np.array([edge.std() for edge in edges])).all():
        return 0, height, 0, width
    rows = _content_span(picture.mean(axis=1), picture.std(axis=1))
    columns = _content_span(picture.mean(axis=0), picture.std(axis=0))
    return rows[0], rows[1], columns[0], columns[1]


def _shows_content(level: NDArray[np.float64], spread: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether each row or column is not border: bright enough on average, or not uniform."""
    return (level > _BORDER_LEVEL) | (spread > _BORDER_SPREAD)


def _content_span(level: NDArray[np.float64], spread: NDArray[np.float64]) -> tuple[int, int]:
    content = np.flatnonzero(_shows_content(level, spread))
    if not len(content):
        return 0, len(level)
    first, last = int(content[0]), int(content[-1]) + 1
    if last - first < _MIN_CONTENT * len(level):
        return 0, len(level)
    return first, last


def picture_views(picture: NDArray[np.uint8], views: tuple[int, ...],
                  insets: tuple[Box, ...] = ()) -> list[tuple[int, NDArray[np.uint8]]]:
    """(view, window) for each asked view of ``picture``, then each of ``insets``; windows are numpy views."""
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
    chosen = [(view, windows[view]) for view in views]
    for view, (top, bottom, left, right) in enumerate(insets, start=_FIRST_INSET):
        inset = picture[top:bottom, left:right]
        inner_top, inner_bottom, inner_left, inner_right = content_box(inset)  # a letterboxed title inset
        chosen.append((view, inset[inner_top:inner_bottom, inner_left:inner_right]))
    return chosen


class PictureSignatureType(SignatureType):
    """A video signature type that describes each view of each sampled picture with ``_describe``.

    Subclasses give the code's width and dtype and the describing function; sampling
    (4 pictures a second read, 2 kept for references), views and empty signatures are here.
    """

    modality = "video"
    picture_rate: ClassVar[float] = 4.0  # queries keep every picture read; references every other
    reference_rate: ClassVar[float] = 2.0
    picture_size: ClassVar[int] = 256
    code_width: ClassVar[int]
    code_dtype: ClassVar[type[np.generic]]

    @abstractmethod
    def _describe(self, window: NDArray[np.uint8]) -> NDArray[np.generic] | None:
        """The view's code, or None when the view says nothing (flat, black)."""

    def empty(self) -> Signature:
        return Signature(self.name, np.zeros(0, np.float32), np.zeros((0, self.code_width), self.code_dtype),
                         np.zeros(0, np.uint8))

    def _do_extract(self, sample: MediaSample, role: Role) -> Signature:
        views = REFERENCE_VIEWS if role == "reference" else QUERY_VIEWS
        insets = inset_boxes(sample.pictures) if role == "query" else [()] * len(sample.pictures)
        times, codes, tags = [], [], []
        due = -1.0
        for when, picture, boxes in zip(sample.picture_times.tolist(), sample.pictures, insets, strict=True):
            if role == "reference" and when + 1e-6 < due:
                continue
            due = when + 0.75 / self.reference_rate  # the next picture one period on, give or take a sample
            for view, window in picture_views(picture, views, boxes):
                code = self._describe(window)
                if code is not None:
                    times.append(when)
                    codes.append(code)
                    tags.append(view)
        if not codes:
            return self.empty()
        return Signature(self.name, np.asarray(times, np.float32), np.stack(codes).astype(self.code_dtype),
                         np.asarray(tags, np.uint8))
