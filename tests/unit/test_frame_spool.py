"""The suspect's frames kept from trace's first read: the same pixels back, within a disk budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelguard.watermark.spool import FrameSpool

SIZE = (64, 36)  # width, height
FRAME_BYTES = SIZE[0] * SIZE[1]


def _frames(count: int) -> list[tuple[float, np.ndarray]]:
    rng = np.random.default_rng(7)
    return [(index / 25, rng.integers(0, 256, (SIZE[1], SIZE[0]), dtype=np.uint8)) for index in range(count)]


def test_frames_come_back_exactly_in_order_and_the_file_goes(tmp_path: Path) -> None:
    frames = _frames(30)
    with FrameSpool.create(tmp_path, SIZE, budget_bytes=30 * FRAME_BYTES, expected_frames=30) as spool:
        assert all(spool.add(when, picture) for when, picture in frames)
        assert spool.kept
        back = list(spool.frames())
        assert [when for when, _ in back] == [when for when, _ in frames]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(back, frames, strict=True))
        assert len(list(tmp_path.iterdir())) == 1
    assert not list(tmp_path.iterdir())


def test_a_copy_longer_than_its_container_said_stops_being_kept_at_the_budget(tmp_path: Path) -> None:
    spool = FrameSpool.create(tmp_path, SIZE, budget_bytes=10 * FRAME_BYTES, expected_frames=8)
    added = [spool.add(when, picture) for when, picture in _frames(12)]
    assert added == [True] * 10 + [False] * 2
    assert not spool.kept and not list(tmp_path.iterdir())
    with pytest.raises(RuntimeError, match="decode the copy again"):
        next(spool.frames())


def test_a_copy_known_to_be_too_long_is_not_kept_at_all(tmp_path: Path) -> None:
    spool = FrameSpool.create(tmp_path, SIZE, budget_bytes=10 * FRAME_BYTES, expected_frames=11)
    assert not spool.kept and not spool.add(0.0, _frames(1)[0][1])
    assert not list(tmp_path.iterdir())


def test_a_frame_of_another_size_is_refused(tmp_path: Path) -> None:
    with FrameSpool.create(tmp_path, SIZE, budget_bytes=FRAME_BYTES * 4, expected_frames=1) as spool, \
            pytest.raises(ValueError, match="expected a 64x36 uint8 frame"):
        spool.add(0.0, np.zeros((SIZE[0], SIZE[1]), np.uint8))
