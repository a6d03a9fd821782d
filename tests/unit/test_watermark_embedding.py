"""Embed → detect round trips on synthetic frames, quality of the mark, and flat areas left clean."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelguard.watermark.detection import MarkClock, SegmentEvidence, follow_the_mark, frame_grid, pool_segments
from reelguard.watermark.embedding import (
    FLAT_BOOST,
    MASK_FLOOR,
    UNFLOORED,
    FrameMarker,
    MaskRule,
    activity_map,
    perceptual_mask,
)

KEY = b"embed-key-0123456789abcdef"


def _textured(seed: int, width: int = 320, height: int = 180) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(128, 40, (height // 4, width // 4)).astype(np.float32)
    picture = np.kron(noise, np.ones((4, 4), np.float32)) + rng.normal(0, 6, (height, width))
    return np.clip(picture, 0, 255).astype(np.uint8)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), segment=st.integers(0, 5000), symbol=st.sampled_from([1, -1]))
def test_embed_then_detect_reads_the_symbol(seed: int, segment: int, symbol: int) -> None:
    marker = FrameMarker(key=KEY, strength=0.6)
    evidence = SegmentEvidence.empty(KEY, segment=segment)
    valid = np.ones((180, 320), dtype=bool)
    for frame in range(6):
        master = _textured(seed + frame)
        marked = marker.embed(master, segment, symbol)
        noisy = np.clip(marked + np.random.default_rng(frame).normal(0, 2, marked.shape), 0, 255)
        evidence.add(master.astype(np.float32), noisy.astype(np.float32), valid)
    assert np.sign(evidence.z) == symbol and abs(evidence.z) > 4, evidence.z


def test_another_key_or_segment_reads_nothing() -> None:
    marker = FrameMarker(key=KEY, strength=0.6)
    valid = np.ones((180, 320), dtype=bool)
    for key, segment in ((b"another-key-0123456789", 3), (KEY, 4)):
        evidence = SegmentEvidence.empty(key, segment=segment)
        for frame in range(6):
            master = _textured(frame)
            evidence.add(master.astype(np.float32), marker.embed(master, 3, 1).astype(np.float32), valid)
        assert abs(evidence.z) < 4, evidence.z


def test_the_mark_is_above_45_db_psnr_and_flat_areas_carry_it_at_strength_only() -> None:
    marker = FrameMarker(key=KEY, strength=0.3)
    picture = _textured(7, 1280, 720)
    picture[:, :320] = 90  # a flat band
    marked = marker.embed(picture, 0, 1)
    assert _psnr(picture, marked) >= 45
    band = marked[:, 40:280].astype(int) - 90
    assert np.abs(band).max() <= 1 and np.count_nonzero(band) > 0  # a level at most, where the pattern peaks
    flat = np.full((180, 320), 60, np.uint8)
    np.testing.assert_allclose(perceptual_mask(flat, MaskRule(flat_boost=0.0)), MASK_FLOOR)
    # a title marked before the floor (mask_floor 0) left flat areas clean, and is detected as it was marked
    before = FrameMarker(key=KEY, strength=0.3, mask=UNFLOORED)
    assert np.abs(before.embed(picture, 0, 1)[:, 40:280].astype(int) - 90).max() == 0
    assert perceptual_mask(flat, UNFLOORED).max() < 0.05


def test_only_a_mostly_flat_picture_gets_its_floor_raised() -> None:
    textured = _textured(5, 856, 480)
    assert MaskRule().floor_for(activity_map(textured, UNFLOORED)) == MASK_FLOOR
    np.testing.assert_array_equal(activity_map(textured), activity_map(textured, MaskRule(flat_boost=0.0)))
    flat = np.full((480, 856), 120, np.uint8)
    np.testing.assert_allclose(perceptual_mask(flat), MASK_FLOOR + FLAT_BOOST)
    half = flat.copy()
    half[:, :428] = textured[:, :428]  # half flat: under the share where the boost starts
    assert MaskRule().floor_for(activity_map(half, UNFLOORED)) == MASK_FLOOR
    with pytest.raises(ValueError, match="mask floor and flat boost"):
        MaskRule(floor=2.0, flat_boost=1.0)


def _cartoon(seed: int) -> np.ndarray:
    """Flat-coloured shapes on a flat background: almost no texture for the mask to hide a mark in."""
    rng = np.random.default_rng(seed)
    picture = np.full((180, 320), int(rng.integers(60, 200)), np.uint8)
    for _ in range(5):
        x, y = int(rng.integers(0, 260)), int(rng.integers(0, 130))
        cv2.rectangle(picture, (x, y), (x + int(rng.integers(20, 80)), y + int(rng.integers(20, 60))),
                      int(rng.integers(0, 255)), -1)
    return picture


def test_flat_animation_carries_a_mark_the_detector_reads() -> None:
    """With the mask falling to 0 on flat areas, flat animation kept a mark on its edges alone, which strong
    compression takes; a mark at ``strength`` over the flat areas survives it."""
    valid = np.ones((180, 320), dtype=bool)
    z = {}
    rules = {"unfloored": UNFLOORED, "floor": MaskRule(flat_boost=0.0), "flat boost": MaskRule()}
    for name, rule in rules.items():
        marker = FrameMarker(key=KEY, strength=0.3, mask=rule)
        evidence = SegmentEvidence.empty(KEY, segment=7, mask=rule)
        for frame in range(12):
            master = _cartoon(frame)
            marked = marker.embed(master, 7, 1)
            _, jpeg = cv2.imencode(".jpg", marked, [cv2.IMWRITE_JPEG_QUALITY, 40])  # strong compression
            copy = np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE), dtype=np.float32)
            evidence.add(master.astype(np.float32), copy, valid)
        z[name] = evidence.z
    assert z["flat boost"] > z["floor"] > 1.5 * z["unfloored"] > 0, z  # measured: 26.9, 14.7 and 8.1


def test_variant_a_and_b_are_opposite() -> None:
    marker = FrameMarker(key=KEY, strength=0.6)
    picture = np.clip(_textured(3), 20, 235)  # away from 0 and 255, where clipping breaks the symmetry
    a = marker.embed(picture, 9, 1).astype(int) - picture
    b = marker.embed(picture, 9, -1).astype(int) - picture
    assert np.abs(a + b).max() <= 1 and np.abs(a).sum() > 0


def test_a_shared_activity_map_gives_every_rendition_the_mark_of_its_own_picture() -> None:
    marker = FrameMarker(key=KEY, strength=0.3)
    large = _textured(11, 1280, 720)
    small = np.asarray(cv2.resize(large, (640, 360), interpolation=cv2.INTER_AREA), dtype=np.uint8)
    shared = marker.mark(large, 5, activity_map(small))
    own = marker.mark(large, 5)
    assert np.corrcoef(shared.ravel(), own.ravel())[0, 1] > 0.99
    assert 0.97 < np.sqrt(np.mean(shared**2) / np.mean(own**2)) < 1.03
    np.testing.assert_array_equal(marker.mark(small, 5, activity_map(small)), marker.mark(small, 5))


def test_pooling_groups_frames_by_segment_and_leaves_out_boundary_frames() -> None:
    rate, seconds = 30000 / 1001, 1  # 29.97 fps: segments of 29 or 30 frames
    segment_of = lambda index: int(np.floor(index / rate / seconds + 1e-9))  # noqa: E731
    marker = FrameMarker(key=KEY, strength=0.6)
    valid = np.ones((180, 320), dtype=bool)
    symbols = {0: 1, 1: -1, 2: 1}
    pairs = []
    for index in range(90):
        master = _textured(index)
        marked = marker.embed(master, segment_of(index), symbols[segment_of(index)])
        pairs.append((index, master.astype(np.float32), marked.astype(np.float32)))
    evidence = pool_segments(KEY, iter(pairs), valid, segment_of)
    assert [e.segment for e in evidence] == [0, 1, 2]
    inside = [sum(segment_of(i) == n and segment_of(i - 1) == n == segment_of(i + 1) for i in range(90))
              for n in range(3)]
    assert [e.frames for e in evidence] == inside and all(count >= 27 for count in inside)
    assert [int(np.sign(e.z)) for e in evidence] == [1, -1, 1] and min(abs(e.z) for e in evidence) > 4


def test_a_coding_error_that_lasts_across_segments_is_taken_off() -> None:
    """A re-encode of a still, noisy picture keeps one coding error for seconds: far larger than the mark, it
    buries each segment's projection; the neighbours' mean residual holds it, and taking it off leaves the mark."""
    segment_of = lambda index: index // 12  # noqa: E731
    marker = FrameMarker(key=KEY, strength=0.3)
    valid = np.ones((180, 320), dtype=bool)
    rng = np.random.default_rng(4)
    master = np.asarray(_textured(21) * 0.15 + 20, dtype=np.uint8)  # dark and low in texture: the mark at its floor
    lasting = cv2.GaussianBlur(rng.normal(0, 1, (180, 320)).astype(np.float32), (0, 0), 8)
    lasting *= 4.0 / float(lasting.std())  # 4 levels RMS, lasting the whole copy
    symbols = rng.choice([1, -1], 8)
    pairs, unmarked = [], []
    for index in range(96):
        noise = rng.normal(0, 1, (180, 320)).astype(np.float32)
        marked = marker.embed(master, segment_of(index), int(symbols[segment_of(index)])).astype(np.float32)
        pairs.append((index, master.astype(np.float32), marked + lasting + noise))
        unmarked.append((index, master.astype(np.float32), master.astype(np.float32) + lasting + noise))
    plain = pool_segments(KEY, iter(pairs), valid, segment_of)
    cleaned = pool_segments(KEY, iter(pairs), valid, segment_of, background_reach=2)
    assert [int(np.sign(e.z)) for e in cleaned] == list(symbols) and min(abs(e.z) for e in cleaned) > 4
    assert np.mean([abs(e.z) for e in cleaned]) > 3 * np.mean([abs(e.z) for e in plain])  # it swamped the mark
    innocent = pool_segments(KEY, iter(unmarked), valid, segment_of, background_reach=2)
    assert max(abs(e.z) for e in innocent) < 4  # no mark: nothing is made up


def _still_copy(late: int, *, marked: bool = True) -> tuple[list[tuple[int, np.ndarray, np.ndarray]], list[int]]:
    """A still noisy picture marked segment by segment (12 frames each, 12 segments), and the symbols.

    Frames 48-95 are paired ``late`` frames late, as a tracker that missed a capture's stall
    on a still picture leaves them: the picture looks the same at either time.
    """
    segment_of = lambda index: index // 12  # noqa: E731
    marker = FrameMarker(key=KEY, strength=0.6)
    rng = np.random.default_rng(8)
    master = _textured(31)
    symbols = [int(s) for s in rng.choice([1, -1], 12)]
    pairs = []
    for index in range(144):
        copy = marker.embed(master, segment_of(index), symbols[segment_of(index)]) if marked else master
        noisy = copy.astype(np.float32) + rng.normal(0, 2, copy.shape).astype(np.float32)
        pairs.append((index + (late if 48 <= index < 96 else 0), master.astype(np.float32), noisy))
    return pairs, symbols


def test_frames_timed_seconds_off_on_a_still_picture_count_where_their_mark_says() -> None:
    segment_of = lambda index: index // 12  # noqa: E731
    valid = np.ones((180, 320), dtype=bool)
    pairs, symbols = _still_copy(late=20)
    clock = MarkClock(block=6, reach=30)
    lost = pool_segments(KEY, iter(pairs), valid, segment_of, background_reach=2)
    followed = pool_segments(KEY, iter(pairs), valid, segment_of, background_reach=2, clock=clock)
    right = lambda evidence: sum(np.sign(e.z) == symbols[e.segment] for e in evidence if e.segment < 12)  # noqa: E731
    assert right(lost) <= 9  # the stretch read in the wrong segments
    assert [e.segment for e in followed if e.frames] == list(range(12))
    assert right(followed) == 12 and min(abs(e.z) for e in followed if e.segment < 12) > 4


def test_a_copy_on_time_or_without_a_mark_is_not_moved() -> None:
    segment_of = lambda index: index // 12  # noqa: E731
    valid = np.ones((180, 320), dtype=bool)
    clock = MarkClock(block=6, reach=30)
    for marked in (True, False):
        pairs, _ = _still_copy(late=0, marked=marked)
        frames = [(index, frame_grid(master, suspect, valid)) for index, master, suspect in pairs]
        assert follow_the_mark(KEY, [(i, g) for i, g in frames if g is not None], segment_of, clock) == list(range(144))
