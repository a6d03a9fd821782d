"""Reading a media file for fingerprinting (PyAV): gray pictures at a fixed rate, and mono audio.

Fingerprints need few pictures (a few per second, small) and low-rate audio, so this
reads exactly that: frames that no other frame refers to are not decoded at all (about
half of an x264 stream's, and a sampling rate of 4 a second needs far fewer), the rest are
decoded without the deblocking filter (invisible at 256 pixels, a fifth of the decode),
and only the sampled frames are converted. A file that is not media, or has neither
picture nor sound, is an ``InvalidMedia`` that says what arrived::

    sample = read_media(Path("suspect.mp4"), picture_rate=2.0, picture_size=256, audio_rate=8000)
    sample.picture_times, sample.pictures.shape, sample.audio.shape
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from reelguard.errors import InvalidMedia
from reelguard.media.decoding import DecodeLog, decoded, describe, nothing_decoded, opened
from reelguard.media.sample import Coverage, MediaSample

__all__ = ["MediaSample", "luma_plane", "read_media"]

_MAX_AUDIO_SECONDS = 6 * 3600  # a bound on what one file may ask us to hold (8 kHz float32: 0.7 GB)
_AUDIO_HOLE = 0.5  # seconds of sound missing between two frames that are kept as silence


def read_media(path: Path, *, picture_rate: float, picture_size: int, audio_rate: int,
               sound: Path | None = None) -> MediaSample:
    """Sample ``path``'s first video stream at ``picture_rate`` and the first audio stream at ``audio_rate``.

    The audio is ``path``'s, or ``sound``'s when given (a transcoded ladder keeps it in a file of its own).
    A file is read as far as it decodes — a truncated download up to where it stops, one made of
    chosen pieces around its holes — and ``sample.read`` says which part that was; only a file of
    which nothing decodes is refused.
    """
    for each in (path, sound) if sound is not None else (path,):
        _check_file(each)
    pictures = _read_pictures(path, picture_rate, picture_size)
    audio = _read_audio(sound or path, audio_rate)
    if not len(pictures.times) and not audio.samples.size:
        raise InvalidMedia(nothing_decoded(path, pictures, audio))
    declared = max((d for d in (pictures.declared, audio.declared) if d is not None), default=None)
    coverage = Coverage.of(pictures.moments + audio.moments, declared,
                           damaged_packets=pictures.damaged + audio.damaged,
                           broke_off=pictures.broke_off or audio.broke_off)
    duration = max(pictures.end, audio.samples.size / audio_rate)
    return MediaSample(pictures.times, pictures.stack, audio.samples, audio_rate, duration, coverage)


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise InvalidMedia(f"expected a media file, but {path} does not exist")
    if path.stat().st_size == 0:
        raise InvalidMedia(f"expected a media file, but {path.name} is empty (0 bytes)")


@dataclass
class _Pictures(DecodeLog):
    times: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    stack: NDArray[np.uint8] = field(default_factory=lambda: np.zeros((0, 0, 0), np.uint8))
    end: float = 0.0


@dataclass
class _Sound(DecodeLog):
    samples: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))


def _read_pictures(path: Path, rate: float, size: int) -> _Pictures:
    read = _Pictures(stack=np.zeros((0, size, size), np.uint8))
    times: list[float] = []
    pictures: list[NDArray[np.uint8]] = []
    with opened(path) as container:
        read.streams, read.declared = describe(container)
        if not container.streams.video:
            return read
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.options = {**stream.codec_context.options, "skip_loop_filter": "all"}
        stream.codec_context.skip_frame = "NONREF"  # no other frame needs them, and we sample 4 of 25
        frame_seconds = 1.0 / float(stream.average_rate or 25)
        due = 0.0
        for index, frame in enumerate(decoded(container, stream, read)):
            when = float(frame.time) if frame.time is not None else index / 25.0
            read.end = max(read.end, when)
            read.moments.append((when, when + frame_seconds))
            if when + 1e-6 < due:
                continue
            times.append(when)
            pictures.append(_luma(frame, size))
            due = max(due + 1.0 / rate, when + 0.5 / rate)
    read.times = np.asarray(times, dtype=np.float64)
    if pictures:
        read.stack = np.stack(pictures)
    return read


_LUMA_FIRST = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"}


def luma_plane(frame: av.VideoFrame) -> NDArray[np.uint8] | None:
    """The frame's 8-bit Y plane as a view (no copy, no conversion), or None for other pixel formats."""
    if frame.format.name not in _LUMA_FIRST:
        return None
    plane = frame.planes[0]
    return np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(frame.height, plane.line_size)[:, :frame.width]


def _luma(frame: av.VideoFrame, size: int) -> NDArray[np.uint8]:
    """The frame's Y plane area-resized to size×size (no colour conversion: fingerprints read luma only)."""
    luma = luma_plane(frame)
    if luma is None:
        return np.asarray(frame.reformat(size, size, "gray", interpolation="AREA").to_ndarray(), dtype=np.uint8)
    return np.asarray(cv2.resize(luma, (size, size), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _read_audio(path: Path, rate: int) -> _Sound:
    """Mono audio at ``rate``; a hole in the file (a missing piece) is kept as silence, so later sound keeps
    its time."""
    read = _Sound()
    chunks: list[NDArray[np.float32]] = []
    held = 0
    first: float | None = None
    with opened(path) as container:
        read.streams, read.declared = describe(container)
        if not container.streams.audio:
            return read
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in decoded(container, stream, read):
            if frame.time is not None:
                when = float(frame.time)
                read.moments.append((when, when + frame.samples / max(1, frame.sample_rate)))
                first = when if first is None else first
                hole = round((when - first) * rate) - held
                if hole > _AUDIO_HOLE * rate:
                    chunks.append(np.zeros(hole, np.float32))
                    held += hole
            try:
                resampled = resampler.resample(frame)
            except av.FFmpegError:  # a damaged frame the decoder let through (its layout or rate is garbage)
                read.damaged += 1
                continue
            for out in resampled:
                chunk = np.asarray(out.to_ndarray(), dtype=np.float32).reshape(-1)
                chunks.append(chunk)
                held += chunk.size
            if held > _MAX_AUDIO_SECONDS * rate:
                raise InvalidMedia(f"expected at most {_MAX_AUDIO_SECONDS // 3600} hours of audio, "
                                   f"but {path.name} holds more")
        for out in resampler.resample(None):
            chunks.append(np.asarray(out.to_ndarray(), dtype=np.float32).reshape(-1))
    read.samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return read
