"""Decoded frames to gray: limited-range luma is stretched to 0-255 as swscale does it, never mirrored."""

from __future__ import annotations

import av
import numpy as np

from reelguard.watermark.frames import gray_picture


def _limited_range_frame(luma: np.ndarray) -> av.VideoFrame:
    """A yuv420p frame (limited range, as encoders write it) whose Y plane is ``luma``; chroma grey."""
    height, width = luma.shape
    chroma = np.full((height // 2, width), 128, dtype=np.uint8)  # U and V, stacked as yuv420p lays them out
    return av.VideoFrame.from_ndarray(np.vstack([luma, chroma]), format="yuv420p")


def test_limited_range_luma_is_stretched_and_what_lies_beyond_black_and_white_is_clipped() -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (2, 1))  # every Y value, below 16 and above 235 too
    gray = gray_picture(_limited_range_frame(ramp), 256, 2)[0].astype(int)
    assert (gray[:17] == 0).all()  # below black is black
    assert (gray[235:] == 255).all()  # above white is white
    expected = np.clip(np.round((np.arange(256) - 16) * 255 / 219), 0, 255)
    assert np.abs(gray - expected).max() <= 1
    assert (np.diff(gray) >= 0).all()  # one level darker never reads lighter


def test_a_mark_on_a_picture_darkened_below_black_is_not_read_inverted() -> None:
    """A brightness cut takes a dark picture below Y = 16; a mark there must not come back with its sign flipped."""
    rng = np.random.default_rng(3)
    mark = rng.choice([-2, 2], size=(16, 64))
    darkened = (np.full((16, 64), 8) + mark).astype(np.uint8)  # 6 or 10: both below black
    gray = gray_picture(_limited_range_frame(darkened), 64, 16).astype(float)
    read = float(np.mean((gray - gray.mean()) * mark))
    assert read >= 0  # clipped away (0) at worst, never negative
