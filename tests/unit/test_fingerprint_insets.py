"""Picture-in-picture: the inset's rectangle is found from its persistent border and searched as a view."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from reelguard.fingerprint.insets import KEPT, RUNS, best_rectangles, inset_boxes
from reelguard.fingerprint.significance import picture_looks
from reelguard.fingerprint.thumbnails import DctVideo, thumbnail_descriptor
from reelguard.fingerprint.views import VIEW_NAMES
from reelguard.media.sample import MediaSample

SIZE = 256
INSET = (70, 172, 110, 212)  # top, bottom, left, right: 40 % of the frame, off every quadrant's grid


def _moving(seed: int, count: int, size: tuple[int, int], step: int = 5) -> NDArray[np.uint8]:
    """A smooth random texture panning ``step`` pixels a picture: content that moves, like a real shot."""
    rng = np.random.default_rng(seed)
    height, width = size
    coarse = rng.integers(0, 255, (height // 16 + count * step // 16 + 2, width // 16 + 2)).astype(np.float32)
    field = np.kron(coarse, np.ones((16, 16), np.float32))
    kernel = np.ones(9, np.float32) / 9
    field = np.apply_along_axis(lambda row: np.convolve(row, kernel, "same"), 1, field)
    field = np.apply_along_axis(lambda column: np.convolve(column, kernel, "same"), 0, field)
    return np.stack([field[i * step:i * step + height, :width] for i in range(count)]).astype(np.uint8)


def _picture_in_picture(count: int, host: NDArray[np.uint8] | None = None) -> tuple[NDArray[np.uint8],
                                                                                   NDArray[np.uint8]]:
    """(suspect pictures, the title's pictures): the title shrunk into ``INSET`` over a moving host."""
    import cv2

    title = _moving(7, count, (SIZE, SIZE), step=6)
    suspect = _moving(3, count, (SIZE, SIZE)) if host is None else host.copy()
    top, bottom, left, right = INSET
    for i in range(count):
        suspect[i, top:bottom, left:right] = cv2.resize(title[i], (right - left, bottom - top),
                                                        interpolation=cv2.INTER_AREA)
    return suspect, title


def _near(found: tuple[int, int, int, int], wanted: tuple[int, int, int, int], pixels: int = 2) -> bool:
    return all(abs(a - b) <= pixels for a, b in zip(found, wanted, strict=True))


def test_an_inset_over_a_moving_host_is_found_to_the_pixel() -> None:
    suspect, _ = _picture_in_picture(12)
    assert _near(best_rectangles(suspect, 2)[0], INSET)


def test_an_inset_is_found_among_a_hosts_own_static_lines() -> None:
    """A host with a still frame drawn on it (a slide's box, a window) offers a rectangle too: both are kept."""
    host = _moving(3, 12, (SIZE, SIZE))
    host[:, 20:60, 20:200] = 235
    host[:, 22:58, 22:198] = 40
    suspect, _ = _picture_in_picture(12, host)
    assert any(_near(box, INSET) for box in best_rectangles(suspect, 2))


def test_the_inset_view_describes_the_title_and_the_quadrants_do_not() -> None:
    suspect, title = _picture_in_picture(12)
    sample = MediaSample(np.arange(12) / 4.0, suspect, np.zeros(0, np.float32), 8000, 3.0)
    signature = DctVideo().extract(sample, role="query")
    wanted = thumbnail_descriptor(title[0])
    assert wanted is not None
    first = signature.times == 0.0
    likeness = {VIEW_NAMES[tag]: float(code @ wanted) for tag, code in zip(signature.tags[first],
                                                                         signature.codes[first], strict=True)}
    assert max(v for k, v in likeness.items() if k.startswith("inset")) >= 0.95
    assert max(v for k, v in likeness.items() if not k.startswith("inset")) < 0.8


def test_references_carry_no_inset_views() -> None:
    suspect, _ = _picture_in_picture(12)
    sample = MediaSample(np.arange(12) / 4.0, suspect, np.zeros(0, np.float32), 8000, 3.0)
    assert set(DctVideo().extract(sample, role="reference").tags.tolist()) <= {0, 1}


@pytest.mark.parametrize("count", [0, 1, 13, 41])
def test_every_picture_gets_the_boxes_of_its_runs(count: int) -> None:
    pictures = _picture_in_picture(max(count, 1))[0][:count]
    boxes = inset_boxes(pictures)
    assert len(boxes) == count
    assert all(len(found) <= 4 for found in boxes)


def test_the_boxes_of_a_picture_are_those_of_its_runs_judged_whole_short_run_first() -> None:
    """Runs are summed from blocks of pictures; that must find what judging each run at once finds."""
    pictures = _picture_in_picture(45)[0]
    pictures[20:] = np.roll(pictures[20:], 9, axis=(1, 2))  # the inset moves: the runs disagree
    expected: list[list[tuple[int, int, int, int]]] = [[] for _ in pictures]
    for run in RUNS:
        for start in range(0, len(pictures), run):
            for box in best_rectangles(pictures[start:start + run], KEPT):
                for found in expected[start:start + run]:
                    if box not in found:
                        found.append(box)
    assert inset_boxes(pictures) == [tuple(found) for found in expected]


def test_flat_pictures_offer_no_rectangle() -> None:
    assert best_rectangles(np.full((12, SIZE, SIZE), 90, np.uint8), 2) == ()


def test_looks_are_judged_on_the_views_asked_for() -> None:
    """An inset playing on a still host: the whole barely changes (the inset is a sixth of it); the inset does."""
    still_host = np.repeat(_moving(3, 1, (SIZE, SIZE)), 24, axis=0)
    suspect, _ = _picture_in_picture(24, still_host)
    signature = DctVideo().extract(MediaSample(np.arange(24) / 4.0, suspect, np.zeros(0, np.float32), 8000, 6.0),
                                   role="query")
    codes = signature.codes.astype(np.float32)
    by_whole_view = picture_looks(signature.times, codes, signature.tags, 0.98, views=(VIEW_NAMES.index("whole"),))
    by_every_view = picture_looks(signature.times, codes, signature.tags, 0.98)
    assert by_whole_view.max() + 1 <= 3
    assert by_every_view.max() + 1 >= 12
