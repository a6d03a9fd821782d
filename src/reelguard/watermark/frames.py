"""Reading frames for tracing (PyAV): gray pictures with their times, scaled on decode."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from reelguard.errors import InvalidMedia
from reelguard.media.decoding import DecodeLog, decoded, describe, opened
from reelguard.media.sampling import luma_plane

__all__ = ["SEEK_MARGIN", "VideoFacts", "gray_frames", "gray_picture", "key_frame_times", "video_facts", "video_frames"]


@dataclass(frozen=True)
class VideoFacts:
    width: int
    height: int
    frame_rate: float
    duration: float


def video_facts(path: Path) -> VideoFacts:
    """Width, height, frame rate and duration of ``path``'s first video stream, or InvalidMedia.

    The duration is what the container declares (0 when it does not): a partial download
    declares the whole file's.
    """
    if not path.is_file():
        raise InvalidMedia(f"expected a video file, but {path} does not exist")
    if path.stat().st_size == 0:
        raise InvalidMedia(f"expected a video file, but {path.name} is empty (0 bytes)")
    with opened(path, "a video file") as container:
        if not container.streams.video:
            raise InvalidMedia(f"expected a video file, but {path.name} has no video stream")
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else \
            float(container.duration or 0) / 1_000_000
        return VideoFacts(stream.codec_context.width, stream.codec_context.height, rate, duration)


_FULL_RANGE = 2  # AVCOL_RANGE_JPEG


def _limited_to_full() -> NDArray[np.uint8]:
    """Limited-range luma (16-235) → 0-255 as swscale's gray conversion maps it: below 16 is black, above 235 white.

    A table, because the scaling alone (``convertScaleAbs``) takes the absolute value: a
    copy darkened below black (a brightness cut on a dark picture) came back mirrored about
    16, its mark inverted — dark slides read strongly wrong after ``eq=brightness=-0.15``.
    """
    table = cv2.convertScaleAbs(np.arange(256, dtype=np.uint8)[None, :], alpha=255 / 219, beta=-16 * 255 / 219)
    table[0, :16] = 0
    return np.asarray(table, dtype=np.uint8)


_LIMITED_TO_FULL = _limited_to_full()


def _gray(frame: av.VideoFrame, width: int, height: int) -> NDArray[np.uint8]:
    """The frame's luma at width×height: the Y plane itself, area-resized (2× faster than swscale's gray)."""
    luma = luma_plane(frame)
    if luma is None:
        return np.asarray(frame.reformat(width, height, "gray", interpolation="AREA").to_ndarray(), dtype=np.uint8)
    if (frame.width, frame.height) != (width, height):
        luma = np.asarray(cv2.resize(luma, (width, height), interpolation=cv2.INTER_AREA), dtype=np.uint8)
    if frame.format.name.startswith("yuvj") or frame.format.name == "gray" or frame.color_range == _FULL_RANGE:
        return np.array(luma, dtype=np.uint8)
    return np.asarray(cv2.LUT(luma, _LIMITED_TO_FULL), dtype=np.uint8)  # limited range stretched to 0-255


def key_frame_times(path: Path) -> NDArray[np.float64]:
    """The times of the first video stream's key frames, ascending, from its packets (nothing decoded)."""
    try:
        with opened(path, "a video file") as container:
            stream = container.streams.video[0]
            times = [float(packet.pts * stream.time_base) for packet in container.demux(stream)
                     if packet.is_keyframe and packet.pts is not None and stream.time_base]
    except av.FFmpegError as exc:
        raise InvalidMedia(f"could not read {path.name}'s packets: {exc}") from exc
    return np.sort(np.asarray(times, dtype=np.float64))


def gray_frames(path: Path, width: int, height: int, start: float = 0.0, *,
                log: DecodeLog | None = None) -> Iterator[tuple[float, NDArray[np.uint8]]]:
    """(time, gray picture of width×height) for every frame from ``start`` seconds on (see ``video_frames``)."""
    for when, frame in video_frames(path, start, log=log):
        yield when, gray_picture(frame, width, height)


def gray_picture(frame: av.VideoFrame, width: int, height: int) -> NDArray[np.uint8]:
    """One decoded frame's luma at width×height."""
    try:
        return _gray(frame, width, height)
    except av.FFmpegError as exc:
        raise InvalidMedia(f"could not convert a decoded frame to gray: {exc}") from exc


SEEK_MARGIN = 1.0  # seconds: a seek aims this far before the frame wanted (a seek by time may land past it)


def video_frames(path: Path, start: float = 0.0, *, log: DecodeLog | None = None,
                 lead_in: bool = False) -> Iterator[tuple[float, av.VideoFrame]]:
    """(time, decoded frame) for every frame from ``start`` seconds on.

    Without ``log`` the file must decode whole: a master's damage is an error, not something
    to read around. With it (a suspect: often a partial download) damaged packets are skipped
    and a file that breaks off ends the frames, and ``log`` records which moments were read.
    ``lead_in`` also gives the frames decoded on the way to ``start`` (from the key frame the
    seek lands on): decoded anyway, a caller may keep them.
    """
    try:
        with opened(path, "a video file") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if start > SEEK_MARGIN and stream.time_base:  # to the key frame before, a margin early
                container.seek(int((start - SEEK_MARGIN) / stream.time_base), stream=stream, backward=True)
            if log is not None:
                log.streams, log.declared = describe(container)
            frames = container.decode(stream) if log is None else decoded(container, stream, log)
            frame_seconds = 1.0 / float(stream.average_rate or 25)
            for index, frame in enumerate(frames):
                when = float(frame.time) if frame.time is not None else index / 25.0
                if when + 1e-6 < start and not lead_in:
                    continue
                if log is not None:
                    log.moments.append((when, when + frame_seconds))
                yield when, frame
    except av.FFmpegError as exc:
        raise InvalidMedia(f"could not decode {path.name}: {exc}") from exc
