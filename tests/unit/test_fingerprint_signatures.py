"""Signature types: one interface, a registry by stable name, and stored forms that round-trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

import reelguard.fingerprint  # noqa: F401 — registers the types
from reelguard.errors import ConfigurationError, InvalidInput
from reelguard.fingerprint.landmarks import (
    FRAMES_PER_SECOND,
    QUERY_SHIFTS,
    Landmarks,
    landmark_hashes,
    query_peaks,
    spectral_peaks,
)
from reelguard.fingerprint.signatures import Signature, registered_types, signature_type
from reelguard.fingerprint.views import content_box
from reelguard.media.sample import MediaSample

SIZE = 256


def _pictures(seed: int, count: int) -> MediaSample:
    """Smooth random pictures (blurred noise, like real frames at low frequency) at 4 per second."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 255, (count, 8, 8)).astype(np.float32)
    pictures = np.stack([np.kron(c, np.ones((32, 32))) for c in coarse]).astype(np.uint8)
    return MediaSample(np.arange(count) / 4.0, pictures, np.zeros(0, np.float32), 8000, count / 4.0)


def _music(seed: int, seconds: float) -> MediaSample:
    """Plucked random notes with harmonics, one every 0.2 s, over a recording's noise floor (-50 dB), at 8 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 8000)) / 8000
    notes = rng.uniform(150, 1500, int(seconds / 0.2) + 1)[(t / 0.2).astype(int)]
    pluck = np.exp(-(t % 0.2) / 0.06)
    audio = sum(np.sin(2 * np.pi * k * notes * t) / k for k in (1, 2, 3)) * 0.3 * pluck + rng.normal(0, 0.003, t.size)
    return MediaSample(np.zeros(0), np.zeros((0, SIZE, SIZE), np.uint8), audio.astype(np.float32), 8000, seconds)


def test_the_registry_holds_every_type_by_a_stable_name() -> None:
    assert [t.name for t in registered_types()] == ["dct-video-v1", "landmark-audio-v1", "pdq-video-v1"]
    with pytest.raises(ConfigurationError, match=r"no signature type named 'learned-v9'; registered: \["):
        signature_type("learned-v9")


@pytest.mark.parametrize("name", ["dct-video-v1", "pdq-video-v1", "landmark-audio-v1"])
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_signature_compares_to_itself_at_distance_zero_and_round_trips(name: str, seed: int) -> None:
    kind = signature_type(name)
    sample = _pictures(seed, 12) if kind.modality == "video" else _music(seed, 4.0)
    for role in ("reference", "query"):
        signature = kind.extract(sample, role=role)  # type: ignore[arg-type]
        assert len(signature) > 0
        assert kind.compare(signature, signature) == 0.0
        assert Signature.from_bytes(signature.to_bytes()) == signature


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(0, 40), width=st.integers(1, 64), dtype=st.sampled_from([np.uint8, np.int32, np.float32]),
       data=st.data())
def test_any_signature_round_trips_through_bytes(rows: int, width: int, dtype: type, data: st.DataObject) -> None:
    elements = st.floats(-1e6, 1e6, width=32) if dtype is np.float32 else None
    codes = data.draw(hnp.arrays(dtype, (rows, width), elements=elements))
    times = data.draw(hnp.arrays(np.float32, rows, elements=st.floats(0, 1e5, width=32)))
    tags = data.draw(hnp.arrays(np.uint8, rows))
    signature = Signature("any-type", times, codes, tags)
    assert Signature.from_bytes(signature.to_bytes()) == signature


def test_unrelated_media_is_far_and_empty_media_gives_an_empty_signature() -> None:
    video = signature_type("dct-video-v1")
    a, b = (video.extract(_pictures(seed, 12), role="reference") for seed in (1, 2))
    assert video.compare(a, b) > 0.3
    audio = signature_type("landmark-audio-v1")
    assert len(audio.extract(_pictures(1, 4), role="query")) == 0  # no sound: nothing to say, no error
    assert audio.compare(audio.extract(_music(1, 4), role="query"), audio.extract(_music(2, 4), role="query")) > 0.9


@pytest.mark.parametrize("damage, message", [
    (lambda b: b"not a signature", "expected a reelguard signature"),
    (lambda b: b[:-3], "expected .* bytes for"),
    (lambda b: b[:12], "header is cut off"),
])
def test_damaged_bytes_are_refused_with_what_was_expected(damage: object, message: str) -> None:
    data = signature_type("pdq-video-v1").extract(_pictures(3, 8), role="reference").to_bytes()
    with pytest.raises(InvalidInput, match=message):
        Signature.from_bytes(damage(data))  # type: ignore[operator]


def test_a_sample_at_the_wrong_size_or_rate_is_refused() -> None:
    wrong = MediaSample(np.zeros(2), np.zeros((2, 64, 64), np.uint8), np.zeros(0, np.float32), 8000, 1.0)
    with pytest.raises(InvalidInput, match="expects 256×256 pictures"):
        signature_type("dct-video-v1").extract(wrong, role="query")
    with pytest.raises(InvalidInput, match="expects audio at 8000 Hz, got 44100 Hz"):
        signature_type("landmark-audio-v1").extract(
            MediaSample(np.zeros(0), np.zeros((0, 256, 256), np.uint8), np.ones(100, np.float32), 44100, 1.0),
            role="query")


def test_black_borders_are_found_and_a_dark_scene_is_not_a_border() -> None:
    picture = np.full((SIZE, SIZE), 16, np.uint8)
    picture[40:216, 20:236] = np.random.default_rng(0).integers(40, 220, (176, 216))
    assert content_box(picture) == (40, 216, 20, 236)
    assert content_box(np.full((SIZE, SIZE), 18, np.uint8)) == (0, SIZE, 0, SIZE)
    bottom_bar = np.random.default_rng(1).integers(40, 220, (SIZE, SIZE)).astype(np.uint8)
    bottom_bar[200:] = 16  # one dark edge: every row is judged
    assert content_box(bottom_bar) == (0, 200, 0, SIZE)


@pytest.mark.parametrize("tempo, pitch", [(1.1, 1.0), (0.9, 1.0), (1.08, 1.08)])
def test_landmarks_of_a_sped_up_copy_are_found_again_under_the_right_hypothesis(tempo: float, pitch: float) -> None:
    """Peaks moved as a speed change moves them (time / tempo, frequency × pitch) re-hash to the original's hashes."""
    peaks = Landmarks().extract(_music(7, 10.0), role="reference").codes
    original, _ = landmark_hashes(peaks)  # type: ignore[arg-type]
    moved = np.stack([np.rint(peaks[:, 0] / tempo), np.rint(peaks[:, 1] * pitch)], axis=1).astype(np.int32)
    naive, _ = landmark_hashes(moved)
    undone, _ = landmark_hashes(moved, tempo=tempo, pitch=pitch)
    found, found_naively = np.isin(undone, original).mean(), np.isin(naive, original).mean()
    assert found > 0.5 and found > 2 * found_naively + 0.2, (found, found_naively)


def test_peaks_survive_a_level_change_and_noise_at_10_db() -> None:
    audio = _music(9, 8.0).audio
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, audio.size).astype(np.float32)
    noise *= np.sqrt((audio**2).mean() / (noise**2).mean() / 10)  # 10 dB SNR
    clean = {tuple(p) for p in spectral_peaks(audio).tolist()}
    quieter = {tuple(p) for p in spectral_peaks(audio * np.float32(0.1)).tolist()}
    assert len(clean & quieter) / len(clean) > 0.95
    original, _ = landmark_hashes(spectral_peaks(audio))
    noisy, _ = landmark_hashes(spectral_peaks(audio + noise))
    assert np.isin(noisy, original).mean() > 0.8
    assert len(clean) / 8.0 <= 18 + 1 and FRAMES_PER_SECOND == 31.25


def _found_again(reference: NDArray[np.int32], query: NDArray[np.int32], late: float) -> float:
    """The share of the reference's (hash, frame) found among the query's at the query's frame + ``late``."""
    ours = set(zip(*(a.tolist() for a in _rounded(*landmark_hashes(reference))), strict=True))
    hashed, anchored = landmark_hashes(query)
    theirs = set(zip(*(a.tolist() for a in _rounded(hashed, anchored + late)), strict=True))
    return len(ours & theirs) / len(ours)


def _rounded(hashes: NDArray[np.uint32], anchors: NDArray[np.float64]) -> tuple[NDArray[np.uint32], NDArray[np.int64]]:
    return hashes, np.rint(anchors).astype(np.int64)


def test_a_query_on_another_sample_grid_finds_noise_like_sound_again() -> None:
    """A copy cut 3/8 of a hop off the reference's grid: noise's peaks are another draw on it, a tone's are not.

    Analysed on ``QUERY_SHIFTS`` grids, the query meets the reference's grid within an
    eighth of a hop and finds most of a crowd's hashes again; on its own grid alone, few.
    """
    rng = np.random.default_rng(3)
    crowd = np.convolve(rng.normal(0, 1, 8000 * 10), np.ones(6) / 6, mode="same").astype(np.float32)
    late = 96  # samples: the copy starts 3/8 of a 256-sample hop after a reference frame
    reference = Landmarks().extract(_sound(crowd), role="reference").codes
    one_grid = spectral_peaks(crowd[late:])
    grids = query_peaks(crowd[late:])
    assert set(grids[:, 2].tolist()) == set(range(QUERY_SHIFTS))
    alone, pooled = _found_again(reference, one_grid, late / 256), _found_again(reference, grids, late / 256)
    assert pooled > 0.5 and pooled > 2 * alone, (alone, pooled)
    query = Landmarks().extract(_sound(crowd[late:]), role="query")
    assert query.codes.shape[1] == 3
    assert np.allclose(query.times * FRAMES_PER_SECOND, grids[:, 0] + grids[:, 2] / QUERY_SHIFTS, atol=1e-3)


def _sound(audio: NDArray[np.float32]) -> MediaSample:
    return MediaSample(np.zeros(0), np.zeros((0, SIZE, SIZE), np.uint8), audio, 8000, audio.size / 8000)
