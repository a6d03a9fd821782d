"""Aligning a suspect copy to its master (pure; OpenCV and NumPy on frames in memory).

A leaked copy may be a trimmed excerpt that starts anywhere, at another frame rate, scaled,
cropped, letterboxed or filmed off a screen. Detection needs, for each suspect frame, the
master frame it shows and where the master's picture lies in it:

* **time** — a crop- and tone-robust activity signature (how much the picture changes,
  sampled at ``SIGNATURE_HZ``) of suspect and master is cross-correlated; the best few
  offsets are kept as candidates. Motion alone is ambiguous where it repeats (a series'
  recurring opening, a scene played twice), so the offsets whose thumbnails look most
  like the suspect's, over every offset at once, are candidates too;
* **space** — ORB features matched between suspect frames and the master frames at a
  candidate offset, pooled over several frame pairs, give a homography (RANSAC); it covers
  scaling, cropping, letterboxing and a camcorder's perspective. The candidate offset with
  the most inliers wins, then its offset is refined to the master frame.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from reelguard.watermark.orientation import AS_SHOWN, Orientation

__all__ = [
    "REGISTER_WIDTH",
    "SIGNATURE_HZ",
    "THUMB_SIZE",
    "Features",
    "PictureLikeness",
    "Registration",
    "TimeMap",
    "activity_signature",
    "candidate_offsets",
    "letterbox_box",
    "likeness",
    "picture_offsets",
    "picture_path",
    "picture_rate",
    "refine_picture_offset",
    "register",
    "register_by_intensity",
    "register_copy",
    "thumbnail",
    "unit_rows",
]

REGISTER_WIDTH = 640  # suspect and master frames are registered at this width
SIGNATURE_HZ = 10.0
THUMB_SIZE = (64, 36)
_ACTIVITY_LAG_SECONDS = 0.4
_MIN_INLIERS = 24
_PICTURE_SAMPLES = 60  # suspect thumbnails compared with every master thumbnail
_PICTURE_CHUNK = 4096  # master thumbnails normalised at a time (memory stays flat for a long title)
_STALL_SECONDS = 3.0  # the most the clock may jump between two picture samples
_STALL_COST = 0.15  # likeness a path gives up per jump: a true stall pays it back on every later sample
_SLIP_COST = 0.03  # ... and per one-frame slip (a capture's clock may run a little slow or fast)
# ... and per cut: a jump anywhere in the master (a stretch cut out, or another picture put in). Dearer than a
# stall, so short jumps stay stalls; paid back by a few samples that match the master where the copy went on.
_CUT_COST = 0.5
_LEAST_PIECE = 3  # picture samples: a shorter piece of a path is a pass over inserted pictures
# playback speeds a copy is searched at (master seconds per copy second): PAL's 25/24 speed-up (1.042) and its
# undoing (0.96), a pirate's 1.05× to dodge recognition; the tracker follows what is left between two steps
_RATES = tuple(round(0.94 + 0.005 * step, 3) for step in range(25))
_RATE_EVIDENCE = 3.0  # standard errors by which the samples must match better at a speed than at 1 to say it

Gray = NDArray[np.uint8]
Floats = NDArray[np.float32]


def thumbnail(gray: Gray) -> Gray:
    return np.asarray(cv2.resize(gray, THUMB_SIZE, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def letterbox_box(frames: Sequence[Gray], threshold: float = 24.0) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the picture inside black bars, from the brightest of many frames."""
    peak = np.max(np.stack([f.astype(np.float32) for f in frames]), axis=0)
    rows = np.flatnonzero(peak.mean(axis=1) > threshold)
    cols = np.flatnonzero(peak.mean(axis=0) > threshold)
    height, width = peak.shape
    if rows.size == 0 or cols.size == 0:
        return 0, 0, width, height
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def activity_signature(thumbs: Sequence[Gray], times: Sequence[float], duration: float) -> Floats:
    """How much the picture changes over ``_ACTIVITY_LAG_SECONDS``, at SIGNATURE_HZ, normalised."""
    times_arr = np.asarray(times, dtype=np.float64)
    grid = np.arange(0.0, max(duration, 0.0), 1 / SIGNATURE_HZ)
    if grid.size < 2 or len(thumbs) < 2:
        return np.zeros(0, dtype=np.float32)
    now = np.clip(np.searchsorted(times_arr, grid), 0, len(thumbs) - 1)
    before = np.clip(np.searchsorted(times_arr, grid - _ACTIVITY_LAG_SECONDS), 0, len(thumbs) - 1)
    stack = np.stack([t.astype(np.float32) for t in thumbs])
    stack -= stack.mean(axis=(1, 2), keepdims=True)  # brightness changes do not count as activity
    activity = np.abs(stack[now] - stack[before]).mean(axis=(1, 2))
    activity = np.log1p(activity)
    spread = activity.std() or 1.0
    return np.asarray((activity - activity.mean()) / spread, dtype=np.float32)


def candidate_offsets(master_sig: Floats, suspect_sig: Floats, count: int = 3) -> list[tuple[float, float]]:
    """The best ``count`` (offset seconds, correlation) with suspect time + offset = master time."""
    if suspect_sig.size == 0 or master_sig.size < suspect_sig.size:
        return []
    scores = np.correlate(master_sig, suspect_sig, mode="valid") / suspect_sig.size
    order = np.argsort(scores)[::-1]
    picked: list[int] = []
    for index in order:
        if all(abs(int(index) - p) > SIGNATURE_HZ for p in picked):
            picked.append(int(index))
        if len(picked) == count:
            break
    return [(p / SIGNATURE_HZ, float(scores[p])) for p in picked]


@dataclass(frozen=True)
class PictureLikeness:
    """How alike ~60 suspect thumbnails are to every master thumbnail: one product, used twice.

    ``picture_offsets`` and ``picture_path`` both score offsets from it, so the product of
    the samples with all master thumbnails (the costly part on a long title) is made once.
    """

    times: NDArray[np.float64]  # the samples' suspect times
    frames: NDArray[np.int64]  # the same, in master frames
    likeness: Floats  # (sample, master frame) correlation of the thumbnails
    frame_rate: float

    @classmethod
    def measure(cls, master_thumbs: NDArray[np.uint8], frame_rate: float, suspect_thumbs: Sequence[Gray],
                suspect_times: Sequence[float]) -> PictureLikeness:
        """The letterbox-stripped suspect thumbnails (and their times) against the master's."""
        picks = _sample_indices(len(suspect_thumbs))
        times = np.asarray(suspect_times, dtype=np.float64)[picks]
        samples = unit_rows(np.stack([suspect_thumbs[i] for i in picks]))
        likeness = np.concatenate([samples @ unit_rows(master_thumbs[start:start + _PICTURE_CHUNK]).T
                                   for start in range(0, len(master_thumbs), _PICTURE_CHUNK)], axis=1)
        return cls(times, np.round(times * frame_rate).astype(np.int64), likeness, frame_rate)

    @property
    def master_frames(self) -> int:
        return int(self.likeness.shape[1])

    def frames_at(self, rate: float) -> NDArray[np.int64]:
        """The samples' times in master frames, for a copy played at ``rate`` (master seconds per copy second)."""
        if rate == 1.0:
            return self.frames
        return np.round(self.times * rate * self.frame_rate).astype(np.int64)

    def mean_at(self, shifts: NDArray[np.int64], rate: float = 1.0) -> NDArray[np.float64]:
        """The samples' mean likeness at each shift (master frame - sample frame at ``rate``).

        The one score every offset search uses; a sample a shift puts outside the master
        counts as unlike (0), so a shift that runs the suspect off the title scores low.
        """
        totals = np.zeros(len(shifts), dtype=np.float64)
        for row, frame in enumerate(self.frames_at(rate)):
            placed = frame + shifts
            inside = (placed >= 0) & (placed < self.master_frames)
            totals[inside] += self.likeness[row, placed[inside]]
        return totals / len(self.frames)

    def per_sample(self, offset: float, rate: float = 1.0) -> NDArray[np.float64]:
        """Each sample's likeness where ``offset`` and ``rate`` put it (0 outside the master)."""
        placed = self.frames_at(rate) + round(offset * self.frame_rate)
        inside = (placed >= 0) & (placed < self.master_frames)
        values = np.zeros(len(placed), dtype=np.float64)
        values[inside] = self.likeness[np.flatnonzero(inside), placed[inside]]
        return values

    def at_offset(self, offset: float, rate: float = 1.0) -> float:
        """The samples' mean likeness where ``offset`` (master time at the copy's start) and ``rate`` put them."""
        return float(self.per_sample(offset, rate).mean())


def picture_offsets(pictures: PictureLikeness, count: int = 2, rate: float = 1.0) -> list[tuple[float, float]]:
    """The best ``count`` (offset seconds, mean thumbnail correlation), over every master frame.

    Only offsets that put every sample inside the master are searched. The suspect's
    thumbnails must be letterbox-stripped; a cropped copy scores low here and is left to
    the motion candidates. ``rate``: the copy's playback speed the samples are placed at.
    """
    frames, frame_rate = pictures.frames_at(rate), pictures.frame_rate
    first = int(frames[0])
    span = pictures.master_frames - (int(frames[-1]) - first)
    if span <= 0:
        return []
    scores = pictures.mean_at(np.arange(span, dtype=np.int64) - first, rate)  # index: the first sample's frame
    order = np.argsort(scores)[::-1]
    picked: list[int] = []
    for index in order:
        if all(abs(int(index) - p) > 2 * frame_rate for p in picked):  # not the best one's slow neighbours
            picked.append(int(index))
        if len(picked) == count:
            break
    return [((p - first) / frame_rate, float(scores[p])) for p in picked]


def picture_rate(pictures: PictureLikeness) -> tuple[float, float, float] | None:
    """(offset seconds, rate, mean thumbnail correlation) at the playback speed whose thumbnails match best.

    A copy sped up by 5 % and placed at one offset matches the master only around its
    middle: its start lies (rate - 1) × half its length from the offset found, further
    than the frame tracker searches on a long copy, and the tracker then finds the copy's
    clock only where the drift brings it by. Searched at every ``_RATES`` speed on the
    same likeness matrix. A speed other than 1 is said only when the samples match
    better there than at the best offset at speed 1 by ``_RATE_EVIDENCE`` standard errors
    of their paired differences: on a copy the thumbnails hardly recognise (a crop), the
    best speed is otherwise whichever chance favours. ``None`` when no offset fits.
    """
    at_one = picture_offsets(pictures, 1)
    if not at_one:
        return None
    best = (at_one[0][0], 1.0, at_one[0][1])
    for rate in _RATES:
        if rate == 1.0:
            continue  # searched above
        found = picture_offsets(pictures, 1, rate)
        if found and found[0][1] > best[2]:
            best = (found[0][0], rate, found[0][1])
    if best[1] == 1.0:
        return best
    gains = pictures.per_sample(best[0], best[1]) - pictures.per_sample(at_one[0][0])
    spread = float(gains.std(ddof=1)) / math.sqrt(len(gains)) if len(gains) > 1 else math.inf
    return best if float(gains.mean()) > _RATE_EVIDENCE * spread else (at_one[0][0], 1.0, at_one[0][1])


@dataclass(frozen=True)
class TimeMap:
    """Suspect time → master time: ``rate`` × suspect time + the offset at sample times.

    A file that keeps the master's clock has one offset and rate 1; a copy played faster
    (PAL's 25/24, a pirate's 1.05×) has one offset and its rate. A screen capture of a
    player that rebuffered has neither: each stall lets the capture's clock run on while
    the picture stands, so the offset falls by the stall's length, and over minutes it
    drifts by many seconds. Between samples the nearest sample's offset holds.
    """

    times: NDArray[np.float64]
    offsets: NDArray[np.float64]
    score: float = 0.0
    rate: float = 1.0  # master seconds per suspect second

    @classmethod
    def constant(cls, offset: float, score: float = 0.0, rate: float = 1.0) -> TimeMap:
        return cls(np.zeros(1), np.array([offset]), score, rate)

    @property
    def start(self) -> float:
        """The master time at the suspect's start: where the frame tracker begins."""
        return float(self.offsets[0])

    @property
    def jumps(self) -> int:
        return int(np.count_nonzero(np.diff(self.offsets)))

    def stalls(self, longest: float) -> int:
        """The jumps of at most ``longest`` seconds: a clock that stalls or slips, not a cut."""
        steps = np.abs(np.diff(self.offsets))
        return int(np.count_nonzero((steps > 0) & (steps <= longest)))

    def piece_starts(self, longest: float) -> list[int]:
        """The samples where each piece of the copy begins (the first is 0).

        A copy cut, or with other pictures put in (an advert, an intro), is pieces of the
        master, each at its own offset. A piece goes on while the offset stays within
        ``longest`` seconds of where it began (the frame tracker follows that much itself);
        the next begins at the first sample beyond.
        """
        starts = [0]
        for sample in range(1, len(self.offsets)):
            if abs(float(self.offsets[sample]) - float(self.offsets[starts[-1]])) > longest:
                starts.append(sample)
        # a piece of a sample or two is the path passing over pictures put in, not a stretch of the master: it
        # belongs to the piece after it (where the copy goes on)
        kept, carried = [0], None
        for start, end in zip(starts[1:], [*starts[2:], len(self.offsets)], strict=False):
            begins = start if carried is None else carried
            if end - start >= _LEAST_PIECE or end == len(self.offsets):
                kept.append(begins)
                carried = None
            else:
                carried = begins
        return kept

    def piece_offset(self, when: float, longest: float) -> float:
        """The offset of the piece that ``when`` lies in (between samples the nearest one's piece).

        The first piece's is the map's start. A later one's is the offset it holds longest:
        its first samples may still be on the pictures put in before it, which match
        nowhere and place the path anywhere.
        """
        nearest = int(np.argmin(np.abs(self.times - when)))
        starts = self.piece_starts(longest)
        first = max(start for start in starts if start <= nearest)
        if first == 0:
            return self.start
        end = next((start for start in starts if start > first), len(self.offsets))
        values, counts = np.unique(self.offsets[first:end], return_counts=True)
        return float(values[int(np.argmax(counts))])

    def master_time(self, when: float) -> float:
        """The master time the suspect shows at ``when`` (seconds from its start)."""
        return self.rate * when + float(self.offsets[int(np.argmin(np.abs(self.times - when)))])

    def shifted(self, seconds: float) -> TimeMap:
        return replace(self, offsets=self.offsets + seconds)

    def on_frames(self, frame_rate: float) -> TimeMap:
        """The same map with every offset on a whole master frame: no frame maps half-way."""
        step = 1 / frame_rate
        return replace(self, offsets=np.round(self.offsets / step) * step)

    def same_placement(self, other: TimeMap, seconds: float, duration: float) -> bool:
        """Whether the two maps stay within ``seconds`` of each other over ``duration`` of suspect (from its start
        only, where one jumps)."""
        apart = self.start - other.start
        if self.jumps or other.jumps:
            return abs(apart) <= seconds
        return abs(apart) <= seconds and abs(apart + (self.rate - other.rate) * duration) <= seconds


def picture_path(pictures: PictureLikeness) -> TimeMap | None:
    """The best path of offsets through the picture samples, letting the clock jump (stall) between them.

    Dynamic programming over (sample, offset in master frames): each sample adds its likeness
    at the master frame its offset puts it on; from one sample to the next the offset may
    stay (free), slip a frame (``_SLIP_COST``), jump by up to ``_STALL_SECONDS`` either way
    (``_STALL_COST``) or go anywhere (``_CUT_COST``: a pirate cut a stretch out, or put an
    advert or an intro in).
    The cost keeps a copy that keeps the master's clock on one offset and makes wandering
    between chance matches of another title a poor path. ``score`` is the path's mean
    likeness after costs, comparable with ``picture_offsets``' scores.
    """
    frames, count = pictures.frames, pictures.master_frames
    base = int(frames[-1])  # offset o (master frame - suspect frame) is stored at o + base
    width = count + base
    reach = max(2, round(_STALL_SECONDS * pictures.frame_rate))
    rows = np.full((len(frames), width), -np.inf, dtype=np.float32)
    for row, frame in enumerate(frames):
        rows[row, base - frame:base - frame + count] = pictures.likeness[row]
    totals = rows[0].copy()
    path_totals = [totals]
    for row in range(1, len(frames)):
        slip = _sliding_max(totals, 1) - _SLIP_COST
        jump = _sliding_max(totals, reach) - _STALL_COST
        cut = np.float32(totals.max() - _CUT_COST)
        totals = np.maximum(np.maximum(np.maximum(totals, slip), jump), cut) + rows[row]
        path_totals.append(totals)
    end = int(np.argmax(totals))
    if not np.isfinite(totals[end]):
        return None
    offsets = [end]
    for before in reversed(path_totals[:-1]):  # back through the choices that led to the best end
        offsets.append(_best_step(before, offsets[-1], reach))
    offsets.reverse()
    seconds = (np.asarray(offsets, dtype=np.float64) - base) / pictures.frame_rate
    return TimeMap(pictures.times, seconds, float(totals[end]) / len(frames))


def _best_step(before: Floats, here: int, reach: int) -> int:
    """The offset at the previous sample from which the best path came to ``here``."""
    near_lo, far_lo = max(0, here - 1), max(0, here - reach)
    near = near_lo + int(np.argmax(before[near_lo:here + 2]))
    far = far_lo + int(np.argmax(before[far_lo:here + reach + 1]))
    anywhere = int(np.argmax(before))
    options = [(before[here], here), (before[near] - _SLIP_COST, near), (before[far] - _STALL_COST, far),
               (before[anywhere] - _CUT_COST, anywhere)]
    return max(options, key=lambda option: option[0])[1]


def _sliding_max(values: Floats, radius: int) -> Floats:
    """``out[i] = max(values[i - radius : i + radius + 1])`` (edges padded with -inf), by doubling."""
    window = 2 * radius + 1
    padded = np.concatenate([np.full(radius, -np.inf, np.float32), values, np.full(radius, -np.inf, np.float32)])
    span, best = 1, padded
    while 2 * span <= window:  # best[i] = max(padded[i : i + span])
        best = np.maximum(best[:-span], best[span:])
        span *= 2
    rest = window - span  # two overlapping windows of ``span`` cover ``window``
    return np.asarray(np.maximum(best[:len(values)], best[rest:rest + len(values)]), dtype=np.float32)


def refine_picture_offset(master_thumbs: NDArray[np.uint8], frame_rate: float, suspect_thumbs: Sequence[Gray],
                          suspect_times: Sequence[float], offset: float, reach: float = 0.3,
                          rate: float = 1.0) -> float:
    """The offset within ±``reach`` seconds of ``offset``, in master frames, whose thumbnails match best.

    A motion candidate is only as fine as the signature's 0.1 s grid; this puts it on the
    master frame the suspect's pictures agree with, scored as ``picture_offsets`` scores.
    ``rate``: the copy's playback speed (master seconds per suspect second).
    """
    picks = _sample_indices(len(suspect_thumbs))
    times = np.asarray(suspect_times, dtype=np.float64)[picks]
    base = np.round((times * rate + offset) * frame_rate).astype(int)
    shifts = np.arange(-round(reach * frame_rate), round(reach * frame_rate) + 1)
    frames = base[:, None] + shifts[None, :]
    inside = (frames >= 0) & (frames < len(master_thumbs))
    if not inside.any():
        return offset
    masters = unit_rows(master_thumbs[np.clip(frames, 0, len(master_thumbs) - 1).ravel()])
    samples = unit_rows(np.stack([suspect_thumbs[i] for i in picks]))
    likeness = np.einsum("sd,skd->sk", samples, masters.reshape(*frames.shape, -1))
    counts = inside.sum(axis=0)
    means = np.where(counts > 0, np.where(inside, likeness, 0.0).sum(axis=0) / np.maximum(counts, 1), -np.inf)
    return offset + float(shifts[int(np.argmax(means))]) / frame_rate


def _sample_indices(count: int) -> NDArray[np.int64]:
    """Indices of the ~_PICTURE_SAMPLES suspect thumbnails compared, spread over the suspect."""
    return np.unique(np.linspace(0, count - 1, min(_PICTURE_SAMPLES, count)).astype(np.int64))


def unit_rows(values: NDArray[np.generic]) -> Floats:
    """Each row (thumbnail, frame) as a zero-mean unit vector: brightness and contrast do not count.

    A flat row (no contrast at all) stays zero, so it correlates 0 with everything.
    """
    rows = values.reshape(len(values), -1).astype(np.float32)
    rows -= rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-6), dtype=np.float32)


@dataclass(frozen=True)
class Registration:
    """Suspect pixel (as the copy shows it) → master pixel (at the master frames' size given to ``register``).

    ``orientation`` is how registration looked at the copy (as shown or mirrored); the
    homography already undoes it. ``hidden`` marks the suspect's pixels (as the copy shows
    them, at the size registered) that something burned in covers — a logo, a banner — and
    that comparisons leave out; None when nothing does.
    """

    homography: NDArray[np.float64]
    inliers: int
    orientation: Orientation = AS_SHOWN
    hidden: NDArray[np.bool_] | None = None

    def shown(self, shape: tuple[int, ...]) -> NDArray[np.uint8]:
        """1 where the suspect's picture (of ``shape``) shows the master, 0 where ``hidden`` covers it."""
        if self.hidden is None or self.hidden.shape != shape[:2]:
            return np.ones(shape[:2], dtype=np.uint8)
        return (~self.hidden).astype(np.uint8)


class Features:
    """ORB's keypoints and descriptors of pictures, each found once while the picture lives.

    A trace registers the same suspect frames (as shown and mirrored) against the master
    at every candidate offset, and often the same master frame more than once (coarse,
    then fine, then on the exact frame); finding features is most of registration's cost.
    Pictures are known by identity (they are not changed once decoded), held weakly.
    """

    def __init__(self) -> None:
        self.orb = cv2.ORB_create(nfeatures=1500, fastThreshold=10)  # type: ignore[attr-defined]
        self._found: dict[tuple[int, Orientation], tuple[weakref.ref[Gray], Any, Any]] = {}

    def of(self, picture: Gray, orientation: Orientation = AS_SHOWN) -> tuple[Any, Any]:
        """(keypoints, descriptors) of ``picture`` as ``orientation`` shows it."""
        key = (id(picture), orientation)
        known = self._found.get(key)
        if known is not None and known[0]() is picture:
            return known[1], known[2]
        keypoints, descriptors = self.orb.detectAndCompute(orientation.apply(picture), None)
        self._found[key] = (weakref.ref(picture), keypoints, descriptors)
        return keypoints, descriptors


def register(pairs: Sequence[tuple[Gray, Gray]],
             orientations: Sequence[Orientation] = (AS_SHOWN,),
             features: Features | None = None) -> Registration | None:
    """A homography from suspect to master, pooled over (master, suspect) frame pairs.

    The suspect is registered as shown and, when asked, mirrored (ORB features turn with
    the picture but do not mirror); the orientation with the most inliers is kept. The
    master's features are found once; with ``features`` kept across calls, each picture's
    are.
    """
    features = features or Features()
    masters = [features.of(master) for master, _ in pairs]
    height, width = pairs[0][1].shape if pairs else (0, 0)
    best: Registration | None = None
    for orientation in orientations:
        found = _register_oriented(masters, [features.of(suspect, orientation) for _, suspect in pairs])
        if found is None:
            continue
        found = Registration(found.homography @ orientation.matrix(width, height), found.inliers, orientation)
        if best is None or found.inliers > best.inliers:
            best = found
    return best


def _register_oriented(masters: Sequence[tuple[Any, Any]], suspects: Sequence[tuple[Any, Any]]) -> Registration | None:
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True)
    source: list[tuple[float, float]] = []
    target: list[tuple[float, float]] = []
    for (kp_m, des_m), (kp_s, des_s) in zip(masters, suspects, strict=True):
        if des_m is None or des_s is None:
            continue
        for match in matcher.match(des_s, des_m):
            source.append(kp_s[match.queryIdx].pt)
            target.append(kp_m[match.trainIdx].pt)
    if len(source) < _MIN_INLIERS:
        return None
    homography, inlier_mask = cv2.findHomography(np.asarray(source, dtype=np.float32),
                                                 np.asarray(target, dtype=np.float32), cv2.RANSAC, 3.0)
    if homography is None or inlier_mask is None or int(inlier_mask.sum()) < _MIN_INLIERS:
        return None
    return Registration(homography.astype(np.float64), int(inlier_mask.sum()))


# ORB inliers above which its map is taken without asking ECC: chance matches on noise or flat
# pictures pass the minimum (27 were seen on a grainy night picture), never four times it.
_CONFIDENT_INLIERS = 4 * _MIN_INLIERS


def register_copy(pairs: Sequence[tuple[Gray, Gray]],
                  orientations: Sequence[Orientation] = (AS_SHOWN,),
                  features: Features | None = None, *, polish: bool = True) -> Registration | None:
    """The suspect's map to the master: ORB's, unless it rests on few inliers and ECC's matches better.

    ORB's features fail two ways: too few (flat pictures), and a handful matched by chance
    (grain, heavy compression), which RANSAC can fit a wrong map to. So when ORB has few
    inliers, ECC registers too, and the map whose warped suspects correlate better with
    their masters is kept. ``polish=False`` takes a confident ORB map as RANSAC fitted it
    (``polished``): for a first look that only asks which orientation the copy has.
    """
    by_features = register(pairs, orientations, features)
    comparison = _Comparison(pairs)
    if by_features is not None and by_features.inliers >= _CONFIDENT_INLIERS:
        return polished(comparison, by_features) if polish else by_features
    by_intensity = (_register_by_intensity(comparison, orientations)
                    or _register_around_overlay(comparison, orientations, by_features)
                    or _register_by_centred_crops(comparison, orientations))
    if by_intensity is None:
        return by_features
    score, registration = by_intensity
    if by_features is None or score > comparison.likeness(by_features.homography, registration.shown(
            pairs[0][1].shape)):
        return registration
    return by_features


def polished(comparison: _Comparison, found: Registration) -> Registration:
    """ORB's map, or ECC's from it where that lines the pictures up better.

    RANSAC keeps the map most matches agree with to within 3 px, and on a fixed camera's
    copy (a static room, a clock in a corner) the matches crowd where the corners are: a
    map 1.3 % too small passed 618 of them, and its pictures, compared at detection's size,
    matched worse (0.90) than a wrong offset's better-fitted ones (0.94), which won. ECC,
    started from ORB's map, fits every pixel; the map whose warped suspects correlate best
    with their masters is kept (ORB's if none beats it).
    """
    best = (comparison.likeness(found.homography), found.homography)
    start = np.linalg.inv(found.homography)  # ECC maps master pixels to the suspect's
    start = (start / start[2, 2]).astype(np.float32)
    step = max(1, len(comparison.pairs) // _ECC_PAIRS)
    for master, suspect in comparison.pairs[::step][:_ECC_PAIRS]:
        try:
            _, fitted = cv2.findTransformECC(master, suspect, start.copy(), cv2.MOTION_HOMOGRAPHY,
                                             _ECC_CRITERIA, None)
        except cv2.error:
            continue  # did not converge from ORB's map
        homography = np.asarray(np.linalg.inv(fitted.astype(np.float64)), dtype=np.float64)
        score = comparison.likeness(homography)
        if score > best[0]:
            best = (score, homography)
    return Registration(best[1], found.inliers, found.orientation)



def likeness(pairs: Sequence[tuple[Gray, Gray]], registration: Registration) -> float:
    """Mean correlation of the suspects, warped by the registration, with their masters (grain left out)."""
    return _Comparison(pairs).likeness(registration.homography)


_GRAIN_WIDTH = 320  # pictures are compared as if this wide: finer detail is mostly grain and coding noise


class _Comparison:
    """(master, suspect) pairs as registration compares them: each master low-passed once.

    Pictures are compared low-passed (a Gaussian of 1 px at 320 wide): a grainy master's
    grain is its own — a delivered copy lost most of it to the ladder's encode — and at
    full resolution it outweighs the picture (a dark copy registered exactly correlated
    0.35). One registration scores many maps against the same masters.
    """

    def __init__(self, pairs: Sequence[tuple[Gray, Gray]]) -> None:
        self.pairs = list(pairs)
        width = self.pairs[0][0].shape[1] if self.pairs else _GRAIN_WIDTH
        self._sigma = max(1.0, width / _GRAIN_WIDTH)
        self._smooth_masters = [cv2.GaussianBlur(master.astype(np.float32), (0, 0), self._sigma)
                                for master, _ in self.pairs]

    def smooth_master(self, index: int) -> NDArray[np.float32]:
        """Pair ``index``'s master, low-passed as compared."""
        return np.asarray(self._smooth_masters[index], dtype=np.float32)

    def likeness(self, to_master: NDArray[np.float64], shown: NDArray[np.uint8] | None = None) -> float:
        """Mean correlation over every pair of the suspect warped by ``to_master`` with its master."""
        return float(np.mean([self.correlation(index, suspect, to_master, shown)
                              for index, (_, suspect) in enumerate(self.pairs)]))

    def correlation(self, index: int, suspect: Gray, to_master: NDArray[np.float64],
                    shown: NDArray[np.uint8] | None = None) -> float:
        """Correlation of ``suspect`` warped into pair ``index``'s master frame with that master where it covers.

        ``suspect`` is the pair's own, or it turned the way registration is trying; only its
        pixels that ``shown`` marks (1) are compared (all by default).
        """
        master = self.pairs[index][0]
        size = (master.shape[1], master.shape[0])
        warped = cv2.warpPerspective(suspect, to_master, size, flags=cv2.INTER_LINEAR).astype(np.float32)
        shown = np.ones_like(suspect) if shown is None else shown
        coverage = cv2.warpPerspective(shown, to_master, size, flags=cv2.INTER_NEAREST)
        if (coverage > 0).mean() < 0.2:
            return 0.0
        reach = math.ceil(2 * self._sigma)
        covered = cv2.erode(coverage, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0  # clear of the edge
        if not covered.any():
            return 0.0
        smooth_warped = cv2.GaussianBlur(warped, (0, 0), self._sigma)
        rows = unit_rows(np.stack([smooth_warped[covered], self._smooth_masters[index][covered]]))
        return float(rows[0] @ rows[1])


_ECC_WIDTHS = (80, 160, 320)  # coarse to fine: the pictures' widths ECC runs at
_ECC_PAIRS = 4
_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-4)  # each ECC run stops here
_ECC_MIN_LIKENESS = 0.6  # mean correlation of the registered pairs: ECC chose the map to raise it, so ask more
_ECC_MAX_TURN = 10.0  # degrees
_ECC_MAX_SCALE = 2.5  # a crop to 40 % or a shrink to 40 % of the picture
_ECC_MAX_ASPECT = 1.6  # a letterbox or an anamorphic squeeze
# where ECC starts: the copy shows the master's centre at this share of its width and height. ECC
# converges only from near the answer; a crop to 70 % is 1.43x from the stretch, too far on its own.
_ECC_START_ZOOMS = (1.0, 0.8, 0.64)
_BAR_FLATNESS = 1.0  # levels: padding is one colour; a level of spread leaves room for an encoder's ringing
_BAR_LEAST = 0.02  # of the side: thinner flat runs at an edge are the picture's own


def register_by_intensity(pairs: Sequence[tuple[Gray, Gray]],
                          orientations: Sequence[Orientation] = (AS_SHOWN,)) -> Registration | None:
    """An affine map from suspect to master by ECC (enhanced correlation), for pictures ORB finds no corners in.

    Flat animation, slides and heavily compressed copies of them have too few corners for
    ORB to register, while their edges and areas still line up. ECC maximises the
    pictures' correlation directly, coarse to fine (``inliers`` 0: no features).
    """
    found = _register_by_intensity(_Comparison(pairs), orientations)
    return found[1] if found else None


def _register_by_intensity(comparison: _Comparison,
                           orientations: Sequence[Orientation]) -> tuple[float, Registration] | None:
    """ECC's best map and its likeness over every pair, if it reaches ``_ECC_MIN_LIKENESS``.

    Each of a few pairs proposes a map; the one whose warped suspects correlate best with
    their masters over every pair wins.
    """
    pairs = comparison.pairs
    height, width = pairs[0][1].shape if pairs else (0, 0)
    best: tuple[float, Registration] | None = None
    step = max(1, len(pairs) // _ECC_PAIRS)
    for orientation in orientations:
        for index in range(0, len(pairs), step)[:_ECC_PAIRS]:
            to_master = _ecc_from_starts(comparison, index, orientation.apply(pairs[index][1]))
            if to_master is None:
                continue
            homography = to_master @ orientation.matrix(width, height)
            score = comparison.likeness(homography)
            if score >= _ECC_MIN_LIKENESS and (best is None or score > best[0]):
                best = (score, Registration(homography, 0, orientation))
    return best


def _ecc_from_starts(comparison: _Comparison, index: int, oriented: Gray) -> NDArray[np.float64] | None:
    """ECC's map for one pair from the stretch, and from other starts only while that does not fit.

    The stretch is tried first (a re-encode, a rescale, a mild crop converge from it);
    other starts cost ECC runs and are tried only when the stretch's map is implausible
    or its pair correlates under ``_ECC_MIN_LIKENESS``: the master on the suspect's picture
    inside its black bars (a letterbox on a dark picture, where ORB finds no corners and ECC
    did not converge from the stretch, 25 % off vertically), then centred crops. The
    best-fitting map seen is kept.
    """
    master = comparison.pairs[index][0]
    best: tuple[float, NDArray[np.float64]] | None = None
    area = picture_area(oriented)
    stretch, *crops = _ECC_START_ZOOMS
    starts = [(stretch, None), *([(1.0, area)] if area else []), *((zoom, None) for zoom in crops)]
    for zoom, shown in starts:
        found = _ecc(master, oriented, zoom, shown)
        if found is None or not _plausible_copy(found, oriented.shape, master.shape):
            continue
        score = comparison.correlation(index, oriented, found)
        if best is None or score > best[0]:
            best = (score, found)
        if score >= _ECC_MIN_LIKENESS:
            break
    return best[1] if best else None


def picture_area(picture: Gray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the picture inside flat bars at its edges (letterbox, pillarbox), or None without bars.

    A bar is a run of rows (columns) from an edge that hold one level each (spread under
    ``_BAR_FLATNESS``): padding is one colour, while a picture, however dark, has grain
    or detail. A run under ``_BAR_LEAST`` of the side is not taken for a bar.
    """
    height, width = picture.shape
    flat_rows = picture.std(axis=1) < _BAR_FLATNESS
    flat_cols = picture.std(axis=0) < _BAR_FLATNESS
    y0, y1 = _inside(flat_rows)
    x0, x1 = _inside(flat_cols)
    if y1 - y0 < height / 4 or x1 - x0 < width / 4:
        return None  # mostly flat: a fade or a title card, not bars
    if (x0, y0, x1, y1) == (0, 0, width, height):
        return None
    return x0, y0, x1, y1


def _inside(flat: NDArray[np.bool_]) -> tuple[int, int]:
    """The span between the flat runs at both ends, each kept only if at least ``_BAR_LEAST`` of the length."""
    size = len(flat)
    least = math.ceil(_BAR_LEAST * size)
    start = int(np.argmin(flat)) if not flat.all() else size
    end = size - int(np.argmin(flat[::-1])) if not flat.all() else 0
    return (start if start >= least else 0), (end if size - end >= least else size)


def _plausible_copy(to_master: NDArray[np.float64], suspect_shape: tuple[int, ...],
                    master_shape: tuple[int, ...]) -> bool:
    """Whether a map is what copies do from the stretch ECC starts at: a crop, a scale, a letterbox, a small turn.

    An affine map has six degrees of freedom, enough for ECC to line two unrelated
    pictures up somewhat (a test pattern came out "turned 86°"); a copy's map is close to
    an axis-aligned scale. Larger turns are ORB's, which does not need to be told.
    """
    stretch = np.diag([master_shape[1] / suspect_shape[1], master_shape[0] / suspect_shape[0]])
    linear = to_master[:2, :2] @ np.linalg.inv(stretch)  # what is left once the stretch is undone
    scales = np.linalg.svd(linear, compute_uv=False)
    turn = math.degrees(math.atan2(linear[1, 0] - linear[0, 1], linear[0, 0] + linear[1, 1]))
    return (np.linalg.det(linear) > 0 and abs(turn) <= _ECC_MAX_TURN
            and 1 / _ECC_MAX_SCALE <= scales[1] <= scales[0] <= _ECC_MAX_SCALE
            and scales[0] / scales[1] <= _ECC_MAX_ASPECT)


def _ecc(master: Gray, suspect: Gray, zoom: float = 1.0,
         shown: tuple[int, int, int, int] | None = None) -> NDArray[np.float64] | None:
    """Suspect pixel → master pixel (3×3, affine), by ECC from the suspect's area ``shown`` (x0, y0, x1, y1; the
    whole picture by default) showing the master's centre ``zoom``."""
    # ECC's warp maps template (master) coordinates to input (suspect) coordinates
    warp = _centred_crop(master.shape, suspect.shape, zoom, shown)[:2].astype(np.float32)
    return _ecc_from(master, suspect, warp)


def _crop_to_master(master_shape: tuple[int, ...], suspect_shape: tuple[int, ...],
                    zoom: float = 1.0) -> NDArray[np.float64]:
    """Suspect pixel → master pixel (3×3) of a whole copy showing the master's centre ``zoom`` (1: the stretch)."""
    return np.asarray(np.linalg.inv(_centred_crop(master_shape, suspect_shape, zoom)), dtype=np.float64)


def _centred_crop(master_shape: tuple[int, ...], suspect_shape: tuple[int, ...], zoom: float = 1.0,
                  shown: tuple[int, int, int, int] | None = None) -> NDArray[np.float64]:
    """Master pixel → suspect pixel (3×3) of a copy whose area ``shown`` (x0, y0, x1, y1; the whole picture by
    default) shows the master's centre ``zoom``: where ECC starts, and the maps the crops' grid scores."""
    m_h, m_w = master_shape[:2]
    s_h, s_w = suspect_shape[:2]
    x0, y0, x1, y1 = shown or (0, 0, s_w, s_h)
    margin = (1 - zoom) / 2
    across, down = (x1 - x0) / (zoom * m_w), (y1 - y0) / (zoom * m_h)
    return np.array([[across, 0.0, x0 - margin * m_w * across], [0.0, down, y0 - margin * m_h * down],
                     [0.0, 0.0, 1.0]])


def _ecc_from(master: Gray, suspect: Gray, warp: NDArray[np.float32],
              compared: NDArray[np.uint8] | None = None) -> NDArray[np.float64] | None:
    """Suspect pixel → master pixel (3×3, affine), by ECC coarse to fine from ``warp`` (master → suspect, 2×3),
    over the suspect's pixels ``compared`` marks (all by default); None if it does not converge."""
    m_h, m_w = master.shape
    s_h, s_w = suspect.shape
    for width in _ECC_WIDTHS:
        scale = width / m_w  # both pictures shrink alike: the warp's linear part holds at every level
        small_m = cv2.resize(master, (width, max(2, round(m_h * scale))), interpolation=cv2.INTER_AREA)
        small_size = (max(2, round(s_w * scale)), max(2, round(s_h * scale)))
        small_s = cv2.resize(suspect, small_size, interpolation=cv2.INTER_AREA)
        small_mask = None if compared is None else cv2.resize(compared, small_size, interpolation=cv2.INTER_NEAREST)
        level = warp.copy()
        level[:, 2] *= scale  # ... and its translation scales with the pictures
        try:
            _, found = cv2.findTransformECC(small_m, small_s, level, cv2.MOTION_AFFINE, _ECC_CRITERIA,
                                            small_mask)
        except cv2.error:
            return None  # did not converge: the pictures do not line up from there
        warp = np.array(found, dtype=np.float32)
        warp[:, 2] /= scale
    master_to_suspect = np.vstack([warp.astype(np.float64), [0.0, 0.0, 1.0]])
    return np.asarray(np.linalg.inv(master_to_suspect), dtype=np.float64)


# a pixel unlike its master by this many robust spreads, in most pairs, is covered by something burned in
_OVERLAY_SPREADS = 5.0
_OVERLAY_LARGEST = 0.25  # of the picture: more unlike than this is another picture or a wrong map, not an overlay


def _register_around_overlay(comparison: _Comparison, orientations: Sequence[Orientation],
                             by_features: Registration | None) -> tuple[float, Registration] | None:
    """ECC's map with what the copy burned in over the picture left out, if it reaches ``_ECC_MIN_LIKENESS``.

    A bright logo on a dark picture outweighs the picture itself: ECC did not converge from
    any start, and ORB's map (72 inliers, right) correlated 0.38 — with the logo's pixels
    left out, 0.85. Under a rough map (ORB's, else the stretch) the pixels unlike their
    master in most pairs are such an overlay (``_overlay``); ECC runs again from that map
    without them, and the likeness leaves them out. Tried only when ECC found nothing.
    """
    pairs = comparison.pairs
    height, width = pairs[0][1].shape if pairs else (0, 0)
    best: tuple[float, Registration] | None = None
    step = max(1, len(pairs) // _ECC_PAIRS)
    for orientation in orientations:
        to_oriented = orientation.matrix(width, height)  # its own inverse: a mirror, or nothing
        starts = [_crop_to_master(pairs[0][0].shape, (height, width))]  # the stretch
        if by_features is not None and by_features.orientation == orientation:
            starts.insert(0, by_features.homography @ to_oriented)  # oriented pixel → master pixel
        for start in starts:
            hidden = _overlay(comparison, orientation, start)
            if hidden is None:
                continue
            compared = (~hidden).astype(np.uint8)
            hidden_as_shown = orientation.apply(hidden.astype(np.uint8)) > 0
            to_suspect = np.linalg.inv(start)
            warp = (to_suspect / to_suspect[2, 2])[:2].astype(np.float32)
            for index in range(0, len(pairs), step)[:_ECC_PAIRS]:
                oriented = orientation.apply(pairs[index][1])
                found = _ecc_from(pairs[index][0], oriented, warp, compared)
                if found is None or not _plausible_copy(found, oriented.shape, pairs[index][0].shape):
                    continue
                registration = Registration(found @ to_oriented, 0, orientation, hidden_as_shown)
                score = comparison.likeness(registration.homography, registration.shown(oriented.shape))
                if score >= _ECC_MIN_LIKENESS and (best is None or score > best[0]):
                    best = (score, registration)
    return best


# centred crops scored where ECC converges from no start: 5 % apart (a crop between two is at most 2.5 % off, about
# a pixel at the 320-wide comparison), from the whole picture down to the smallest ECC start
_CROP_GRID = tuple(0.95 ** step for step in range(10))


def _register_by_centred_crops(comparison: _Comparison,
                               orientations: Sequence[Orientation]) -> tuple[float, Registration] | None:
    """The centred crop (as shown or mirrored) whose map correlates best, if it reaches ``_ECC_MIN_LIKENESS``.

    ECC follows the correlation's slope, and on a dark copy whose contrast was cut (the
    dark class's mirror → crop 0.85 → contrast 0.7 → H.265 CRF 34: 1.95 levels of spread
    left) it converged from no start, not even the right one — while the right map
    correlated 0.81. A pirate's crop is nearly always centred, so when nothing else
    registered, the crops themselves are scored, every 5 % from the whole picture to the
    smallest ECC start (``_CROP_GRID``; not polished: ECC does not converge there).
    """
    pairs = comparison.pairs
    height, width = pairs[0][1].shape if pairs else (0, 0)
    best: tuple[float, Registration] | None = None
    for orientation in orientations:
        for zoom in _CROP_GRID:
            to_master = _crop_to_master(pairs[0][0].shape, (height, width), zoom)
            registration = Registration(to_master @ orientation.matrix(width, height), 0, orientation)
            score = comparison.likeness(registration.homography)
            if score >= _ECC_MIN_LIKENESS and (best is None or score > best[0]):
                best = (score, registration)
    return best


def _overlay(comparison: _Comparison, orientation: Orientation,
             to_master: NDArray[np.float64]) -> NDArray[np.bool_] | None:
    """The oriented suspect's pixels unlike their master in most pairs under ``to_master``, or None.

    Each pair's suspect (low-passed as likeness compares it) is fitted to its master by a
    straight line (the copy's brightness and contrast); a pixel whose residual is over
    ``_OVERLAY_SPREADS`` robust spreads in most pairs shows something the master does not
    — what a copy burned in stays put while the picture moves on. None when no pixel is
    unlike, or too many are for an overlay (the map or the time is wrong).
    """
    unlike = []
    for index, (_, suspect) in enumerate(comparison.pairs):
        oriented = orientation.apply(suspect)
        height, width = oriented.shape
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        master = cv2.warpPerspective(comparison.smooth_master(index), to_master, (width, height), flags=flags)
        covered = cv2.warpPerspective(np.ones(comparison.pairs[index][0].shape, np.uint8), to_master,
                                      (width, height), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0
        if covered.mean() < 0.2:
            continue
        seen = cv2.GaussianBlur(oriented.astype(np.float32), (0, 0), max(1.0, width / _GRAIN_WIDTH))
        design = np.stack([master[covered], np.ones(int(covered.sum()), np.float32)], axis=1).astype(np.float64)
        (slope, offset), *_ = np.linalg.lstsq(design, seen[covered].astype(np.float64), rcond=None)
        residual = np.abs(seen - (slope * master + offset))
        spread = 1.4826 * float(np.median(residual[covered])) + 1.0  # a level's floor: exact copies of flat pictures
        unlike.append(np.where(covered, residual / spread, 0.0))
    if not unlike:
        return None
    hidden = np.median(np.stack(unlike), axis=0) > _OVERLAY_SPREADS
    if not hidden.any() or hidden.mean() > _OVERLAY_LARGEST:
        return None
    reach = 2 * math.ceil(2 * max(1.0, hidden.shape[1] / _GRAIN_WIDTH)) + 1  # the low-pass spread its edge this far
    return np.asarray(cv2.dilate(hidden.astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0)
