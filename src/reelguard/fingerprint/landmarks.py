"""Audio signature: spectral peak landmarks, our own implementation (the Shazam / audfprint idea).

Audio at 8 kHz is cut into 64 ms frames every 32 ms; the peaks of the log spectrogram
(local maxima in a 0.35 s × 330 Hz neighbourhood, at most ``_PEAKS_PER_SECOND`` of the
strongest each second) are what survives noise, re-encoding and level change: a level
change moves every log magnitude alike and keeps the maxima where they were. Peaks are
what a signature stores; hashes are made from pairs of them when indexing or searching::

    hash = f1 (8 bits) · (f2 - f1) (7 bits) · (t2 - t1) (6 bits)   anchored at t1

Because a signature keeps the peaks, a query can be re-hashed under a speed hypothesis
(``landmark_hashes(..., tempo=1.06)``): a copy sped up by s (tempo, pitch kept — or with
the pitch raised too) has its peak pairs s times closer, so scaling them back finds the
reference's hashes again. That is how ±10 % speed changes are matched without
speed-invariant (and far weaker) hashes.

A copy's samples rarely fall on the reference's frame grid: it was cut, resampled and
re-encoded, so its 64 ms frames start anywhere between the reference's. A tone's peak
does not care, but the peaks of noise-like sound (a crowd, rain, an engine) are a
different draw on every grid — 8 % of a crowd copy's hashes were found again against 77 %
of the same sound re-encoded on its own grid. So a *query* is analysed on
``QUERY_SHIFTS`` grids a fraction of a hop apart (audfprint's ``--shifts``), and its codes
say which grid each peak came from; its hashes are made within each grid and pooled::

    signature = Landmarks().extract(sample, role="reference")
    hashes, anchors = landmark_hashes(signature.codes)
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np
from numpy.typing import NDArray

from reelguard.fingerprint.signatures import Role, Signature, SignatureType, register
from reelguard.media.sample import MediaSample

__all__ = ["FRAMES_PER_SECOND", "HASH_VALUES", "QUERY_SHIFTS", "Landmarks", "landmark_hashes", "query_peaks",
           "spectral_peaks"]

SAMPLE_RATE = 8000
_WINDOW = 512
_HOP = 256
FRAMES_PER_SECOND = SAMPLE_RATE / _HOP  # 31.25
_NEIGHBOUR_FRAMES = 11  # a peak is the maximum of ±5 frames …
_NEIGHBOUR_BINS = 21  # … and ±10 bins (±156 Hz) around it
_PEAKS_PER_SECOND = 18
_MIN_BIN, _MAX_BIN = 2, 255  # 31 Hz - 4 kHz
_FLOOR_DB = 12.0  # a peak stands this far (dB) above its frame's median
# Each peak is paired with its next 3 peaks (that fit the hash), in references and queries
# alike. Measured on Big Buck Bunny's soundtrack cropped and re-encoded at 64 kb/s (5.3 s):
# 3 and 3 find 18 matched moments, 5 and 5 find 20, 5 and 2 only 14 — while chance hits in
# a large catalog grow with the product of the two (9 against 25 and 10).
_MAX_DT, _MAX_DF, _FAN_OUT, _LOOK_AHEAD = 63, 63, 3, 20
HASH_VALUES = 1 << 21  # every hash is below this (8 + 7 + 6 bits)
QUERY_SHIFTS = 4  # grids a query is analysed on, a quarter hop (8 ms) apart


def _spectrogram(audio: NDArray[np.float32]) -> NDArray[np.float32]:
    """Log magnitude (dB), frames × bins."""
    if audio.size < _WINDOW:
        return np.zeros((0, _WINDOW // 2 + 1), np.float32)
    count = 1 + (audio.size - _WINDOW) // _HOP
    frames = np.lib.stride_tricks.as_strided(audio, shape=(count, _WINDOW),
                                             strides=(audio.strides[0] * _HOP, audio.strides[0]))
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(_WINDOW).astype(np.float32), axis=1))
    floor = 1e-5 * float(spectrum.max()) + 1e-12  # relative, so a level change moves every value alike
    return np.asarray(20 * np.log10(spectrum + floor), dtype=np.float32)


def spectral_peaks(audio: NDArray[np.float32]) -> NDArray[np.int32]:
    """(frame, bin) of the landmark peaks of mono 8 kHz ``audio``, sorted by frame then bin."""
    spectrogram = _spectrogram(audio)
    if not len(spectrogram):
        return np.zeros((0, 2), np.int32)
    neighbourhood = cv2.dilate(spectrogram, np.ones((_NEIGHBOUR_FRAMES, _NEIGHBOUR_BINS), np.uint8))
    floor = np.median(spectrogram, axis=1, keepdims=True) + _FLOOR_DB
    is_peak = (spectrogram >= neighbourhood) & (spectrogram > floor)
    is_peak[:, :_MIN_BIN] = False
    is_peak[:, _MAX_BIN + 1:] = False
    frames, bins = np.nonzero(is_peak)
    return _strongest_per_second(frames, bins, spectrogram[frames, bins])


def query_peaks(audio: NDArray[np.float32]) -> NDArray[np.int32]:
    """(frame, bin, grid) of the peaks of ``audio`` on each of ``QUERY_SHIFTS`` grids a fraction of a hop apart.

    Grid *g* starts ``g / QUERY_SHIFTS`` of a hop late, so its frame *f* is at frame
    ``f + g / QUERY_SHIFTS`` of grid 0.
    """
    grids = []
    for grid in range(QUERY_SHIFTS):
        peaks = spectral_peaks(audio[grid * _HOP // QUERY_SHIFTS:])
        grids.append(np.column_stack([peaks, np.full(len(peaks), grid, np.int32)]))
    return np.concatenate(grids).astype(np.int32)


def _strongest_per_second(frames: NDArray[np.intp], bins: NDArray[np.intp],
                          strength: NDArray[np.float32]) -> NDArray[np.int32]:
    second = (frames / FRAMES_PER_SECOND).astype(np.int64)
    order = np.lexsort((-strength, second))
    second_sorted = second[order]
    starts = np.searchsorted(second_sorted, second_sorted, side="left")
    rank = np.arange(len(order)) - starts
    kept = order[rank < _PEAKS_PER_SECOND]
    peaks = np.stack([frames[kept], bins[kept]], axis=1).astype(np.int32)
    return peaks[np.lexsort((peaks[:, 1], peaks[:, 0]))]


def landmark_hashes(peaks: NDArray[np.int32], *, tempo: float = 1.0,
                    pitch: float = 1.0) -> tuple[NDArray[np.uint32], NDArray[np.float64]]:
    """(hash, anchor frame) of peak pairs; ``tempo``/``pitch`` map a sped-up copy's peaks back first.

    A copy played ``tempo`` times faster has its peaks at frame/tempo; one whose pitch rose by
    ``pitch`` has them at bin·pitch. The anchor frame returned is in the copy's own clock.
    Peaks of several grids (``query_peaks``: a third column) are paired within their own
    grid only; a hash found again at the same frame on another grid is given once.
    """
    if peaks.ndim == 2 and peaks.shape[1] == 3:
        return _pooled_over_grids(peaks, tempo, pitch)
    return _hashes_of_grid(peaks, tempo, pitch)


def _pooled_over_grids(peaks: NDArray[np.int32], tempo: float,
                       pitch: float) -> tuple[NDArray[np.uint32], NDArray[np.float64]]:
    hashes, anchors = [], []
    for grid in np.unique(peaks[:, 2]).tolist():
        hashed, anchored = _hashes_of_grid(peaks[peaks[:, 2] == grid, :2], tempo, pitch)
        hashes.append(hashed)
        anchors.append(anchored + grid / QUERY_SHIFTS)
    if not hashes:
        return np.zeros(0, np.uint32), np.zeros(0, np.float64)
    hashed, anchored = np.concatenate(hashes), np.concatenate(anchors)
    key = (hashed.astype(np.int64) << 32) | np.rint(anchored).astype(np.int64)
    _, first = np.unique(key, return_index=True)
    first.sort()
    return hashed[first], anchored[first]


def _hashes_of_grid(peaks: NDArray[np.int32], tempo: float,
                    pitch: float) -> tuple[NDArray[np.uint32], NDArray[np.float64]]:
    if len(peaks) < 2:
        return np.zeros(0, np.uint32), np.zeros(0, np.float64)
    frames, bins = peaks[:, 0].astype(np.float64), peaks[:, 1].astype(np.float64) / pitch
    hashes, anchors = [], []
    taken = np.zeros(len(peaks), np.int64)
    for step in range(1, _LOOK_AHEAD + 1):
        first, second = np.arange(len(peaks) - step), np.arange(step, len(peaks))
        dt = np.rint((frames[second] - frames[first]) * tempo)
        df = np.rint(bins[second]) - np.rint(bins[first])
        usable = (dt >= 1) & (dt <= _MAX_DT) & (np.abs(df) <= _MAX_DF) & (taken[first] < _FAN_OUT)
        usable &= (np.rint(bins[first]) >= 0) & (np.rint(bins[first]) <= 255)
        taken[first[usable]] += 1
        f1 = np.rint(bins[first[usable]]).astype(np.uint32)
        hashes.append((f1 << 13) | ((df[usable] + 64).astype(np.uint32) << 6) | dt[usable].astype(np.uint32))
        anchors.append(frames[first[usable]])
    return np.concatenate(hashes), np.concatenate(anchors)


class Landmarks(SignatureType):
    """Spectral peaks; codes are (frame, bin) at ``FRAMES_PER_SECOND`` — and a query's, the grid (0-3) too."""

    name: ClassVar[str] = "landmark-audio-v1"
    modality = "audio"
    audio_rate: ClassVar[int] = SAMPLE_RATE

    def empty(self) -> Signature:
        return Signature(self.name, np.zeros(0, np.float32), np.zeros((0, 2), np.int32), np.zeros(0, np.uint8))

    def _do_extract(self, sample: MediaSample, role: Role) -> Signature:
        """A reference's peaks on its own grid; a query's on ``QUERY_SHIFTS`` grids (codes: frame, bin, grid)."""
        audio = np.ascontiguousarray(sample.audio, dtype=np.float32)
        if role == "query":
            peaks = query_peaks(audio)
            frames = peaks[:, 0] + peaks[:, 2] / QUERY_SHIFTS
        else:
            peaks = spectral_peaks(audio)
            frames = peaks[:, 0].astype(np.float64)
        times = (frames / FRAMES_PER_SECOND).astype(np.float32)
        return Signature(self.name, times, peaks, np.zeros(len(peaks), np.uint8))

    def _do_compare(self, a: Signature, b: Signature) -> float:
        """The share of ``a``'s landmark hashes that ``b`` lacks."""
        ours, _ = landmark_hashes(a.codes)  # type: ignore[arg-type]
        theirs, _ = landmark_hashes(b.codes)  # type: ignore[arg-type]
        if not ours.size:
            return 0.0 if not theirs.size else 1.0
        return float(1.0 - np.isin(ours, theirs).mean())


register(Landmarks())
