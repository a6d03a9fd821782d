"""The watermark signal (pure): keyed low-frequency patterns, a perceptual mask, embedding.

Every segment ``n`` of a title has its own keyed pattern ``P_n``: Gaussian values on a
coarse grid (``GRID`` cells across the picture) smoothly interpolated to the frame size.
A low-frequency pattern survives what pirates do to a picture — downscaling, re-encoding,
cropping, blur — and its position is relative to the picture, so one pattern serves every
rendition of the ladder.

Variant A of segment ``n`` carries ``+W`` and variant B ``-W`` in the luma plane, where
``W = strength · M ⊙ P_n`` and ``M`` is a perceptual mask: the local activity (standard
deviation) of the frame, from ``MASK_FLOOR`` on flat areas (sky, black bars, flat
animation: the mark at ``strength``, a fraction of a level) up to 2.5 where texture hides a
stronger one. The mask is computed from the frame itself, so a detector that holds the
unmarked master recomputes ``W`` exactly (informed detection)::

    marker = FrameMarker(key=title_key, strength=0.3)
    luma_a = marker.embed(luma, segment=12, symbol=+1)   # variant A
    luma_b = marker.embed(luma, segment=12, symbol=-1)   # variant B
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from reelguard.titles import WatermarkParams

__all__ = ["FLAT_BOOST", "GRID", "MASK_FLOOR", "FrameMarker", "MaskRule", "activity_map", "mark_from_activity",
           "perceptual_mask", "segment_pattern"]

GRID = (32, 18)  # pattern cells across x down (16:9 pictures get square cells)
_ANALYSIS_WIDTH = 320  # the mask is computed on a 320-wide picture, so every rendition gets the same mask
_ACTIVITY_REF = 6.0  # luma std (levels) at which the mask is 1
_MASK_CAP = 2.5
# The mask's least value. Texture hides a mark, so the mask raises it there (up to the cap);
# flat areas carry it at ``strength``: flat animation, slides and dark scenes are mostly flat,
# and a mask that fell to 0 there left them almost unmarked (docs/watermarking.md). Titles
# ingested before the floor keep 0 (``WatermarkParams.mask_floor``).
MASK_FLOOR = 1.0
# Mostly flat pictures (animation, slides) have no texture to hide a mark in, and a strong re-encode
# quantises a mark at the floor away there (docs/watermarking.md); so their floor is raised, by up to
# FLAT_BOOST, as their flat share (activity under 1) goes from _FLAT_FROM to _FLAT_FULL. Natural pictures
# stay under _FLAT_FROM, so their mark is unchanged. Set on tuning content only: posterised Perlin noise
# (flat share 0.88-0.98) and the natural programme (at most 0.60).
FLAT_BOOST = 1.0
_FLAT_FROM, _FLAT_FULL = 0.6, 0.9

Luma = NDArray[np.uint8]
Floats = NDArray[np.float32]


@dataclass(frozen=True)
class MaskRule:
    """How a title's perceptual mask is made, fixed when it is marked (``WatermarkParams.mask_floor``, ``flat_boost``).

    ``floor``: the mask's least value, what flat areas get. ``flat_boost``: how much the
    floor rises on a mostly flat picture. Titles marked before either have 0 there, and
    are detected with the mask they were marked with.
    """

    floor: float = MASK_FLOOR
    flat_boost: float = FLAT_BOOST

    def __post_init__(self) -> None:
        if not 0 <= self.floor <= _MASK_CAP or not 0 <= self.flat_boost <= _MASK_CAP - self.floor:
            raise ValueError(f"expected a mask floor and flat boost within [0, {_MASK_CAP}] together, "
                             f"got {self.floor} and {self.flat_boost}")

    @classmethod
    def of(cls, params: WatermarkParams) -> MaskRule:
        """The rule a title was marked with."""
        return cls(floor=params.mask_floor, flat_boost=params.flat_boost)

    def floor_for(self, activity: Floats) -> float:
        """The floor of one picture, from its unfloored activity: raised as its flat share rises."""
        if self.flat_boost == 0:
            return self.floor
        flat_share = float(np.mean(activity < 1.0))
        ramp = min(1.0, max(0.0, (flat_share - _FLAT_FROM) / (_FLAT_FULL - _FLAT_FROM)))
        return self.floor + self.flat_boost * ramp


UNFLOORED = MaskRule(floor=0.0, flat_boost=0.0)  # titles marked before the floor


def segment_pattern(key: bytes, segment: int) -> Floats:
    """The keyed coarse pattern of one segment: zero mean, unit RMS, shape (GRID[1], GRID[0])."""
    seed = hashlib.sha256(b"reelguard-wm-pattern/" + key + segment.to_bytes(8, "big")).digest()
    values = np.random.default_rng(np.frombuffer(seed, dtype=np.uint64)).standard_normal((GRID[1], GRID[0]))
    values -= values.mean()
    return np.asarray(values / np.sqrt(np.mean(values**2)), dtype=np.float32)


def upsample_pattern(pattern: Floats, width: int, height: int) -> Floats:
    """The coarse pattern interpolated (bicubic) to a ``width``×``height`` picture."""
    return np.asarray(cv2.resize(pattern, (width, height), interpolation=cv2.INTER_CUBIC), dtype=np.float32)


def _analysis_size(width: int, height: int) -> tuple[int, int]:
    """The (width, height) at which the mask is computed: 320 wide, the picture's aspect kept."""
    return _ANALYSIS_WIDTH, max(2, round(height * _ANALYSIS_WIDTH / width))


def activity_map(luma: NDArray[np.uint8] | Floats, rule: MaskRule = MaskRule()) -> Floats:
    """The perceptual mask at analysis size (``_analysis_size``), in [the picture's floor, _MASK_CAP].

    Computed once per frame and shared by every rendition: the mask is the same picture's
    activity whatever the rendition, and recomputing it per rendition (a full-size float
    copy and an area resize each) was most of the mark's cost in variant encoding.
    """
    height, width = luma.shape
    small = np.asarray(cv2.resize(luma.astype(np.float32), _analysis_size(width, height),
                                  interpolation=cv2.INTER_AREA), dtype=np.float32)
    mean = cv2.blur(small, (5, 5))
    variance = np.maximum(cv2.blur(small * small, (5, 5)) - mean * mean, 0.0)
    activity = np.clip(np.sqrt(variance) / _ACTIVITY_REF, 0.0, _MASK_CAP).astype(np.float32)
    smooth = np.asarray(cv2.GaussianBlur(activity, (0, 0), 1.5), dtype=np.float32)
    return np.asarray(np.maximum(smooth, rule.floor_for(smooth)), dtype=np.float32)


def perceptual_mask(luma: NDArray[np.uint8] | Floats, rule: MaskRule = MaskRule()) -> Floats:
    """Local activity of a luma plane in [floor, _MASK_CAP]: the picture's floor on flat areas, 1 at moderate
    texture."""
    height, width = luma.shape
    return upsample_mask(activity_map(luma, rule), width, height)


def upsample_mask(activity: Floats, width: int, height: int) -> Floats:
    """An ``activity_map`` spread (bilinear) over a ``width``×``height`` picture."""
    return np.asarray(cv2.resize(activity, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


def mark_from_activity(activity: Floats, pattern_full: Floats, strength: float) -> Floats:
    """``W = strength · mask ⊙ pattern`` at the pattern's size, from the frame's ``activity_map``.

    One fused OpenCV product: the numpy form made two full-size temporaries per frame and
    rendition, a measurable part of the mark's cost.
    """
    height, width = pattern_full.shape
    mask = upsample_mask(activity, width, height)
    return np.asarray(cv2.multiply(mask, pattern_full, scale=strength), dtype=np.float32)


class FrameMarker:
    """Embeds ±W in luma planes; caches the upsampled pattern per (segment, size)."""

    def __init__(self, *, key: bytes, strength: float, mask: MaskRule = MaskRule()) -> None:
        if len(key) < 16:
            raise ValueError(f"expected a watermark key of at least 16 bytes, got {len(key)}")
        if not 0 < strength <= 8:
            raise ValueError(f"expected a strength in (0, 8] luma levels, got {strength}")
        self._key = key
        self.strength = strength
        self.mask = mask
        self._pattern = lru_cache(maxsize=8)(self._full_pattern)

    def _full_pattern(self, segment: int, width: int, height: int) -> Floats:
        return upsample_pattern(segment_pattern(self._key, segment), width, height)

    def activity(self, luma: Luma) -> Floats:
        """The frame's ``activity_map``, to be shared by the marks of all its renditions."""
        return activity_map(luma, self.mask)

    def mark(self, luma: Luma, segment: int, activity: Floats | None = None) -> Floats:
        """The mark ``W`` of this frame (variant A adds it, B subtracts it).

        ``activity`` is the frame's ``activity_map`` when the caller already has it (one
        per frame for every rendition); otherwise it is computed from ``luma``.
        """
        height, width = luma.shape
        activity = self.activity(luma) if activity is None else activity
        return mark_from_activity(activity, self._pattern(segment, width, height), self.strength)

    def embed(self, luma: Luma, segment: int, symbol: int) -> Luma:
        """Return ``luma + symbol·W`` rounded and clipped to 8 bits; symbol is +1 (A) or -1 (B)."""
        if symbol not in (1, -1):
            raise ValueError(f"expected symbol +1 (variant A) or -1 (variant B), got {symbol}")
        return embed_mark(luma, self.mark(luma, segment), symbol)


def embed_mark(luma: Luma, mark: Floats, symbol: int) -> Luma:
    """``luma + symbol·mark``, rounded and clipped to 8 bits.

    OpenCV's mixed-depth add/subtract does it in one pass (and saturates, i.e. clips);
    the numpy form took six full-size passes and is the hot loop of variant encoding.
    """
    operation = cv2.add if symbol > 0 else cv2.subtract
    return np.asarray(operation(luma, mark, dtype=cv2.CV_8U), dtype=np.uint8)
