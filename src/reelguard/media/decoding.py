"""Decoding a file as far as it decodes (PyAV): the shared reader of suspects, whole or partial.

A leak fetched from a swarm is usually a partial download: a file cut where the data
stopped, or one with holes where pieces are missing (zero-filled, as BitTorrent clients
write sparse files). Fingerprinting and trace both read such a file up to where it stops
and around its holes, and say which part that was; only a file of which nothing decodes is
refused, with a message that says what ffmpeg could and could not do with it::

    log = DecodeLog()
    with opened(path) as container:
        log.streams, log.declared = describe(container)
        for frame in decoded(container, container.streams.video[0], log): ...
    log.coverage()  # read 7.5 s of 15.9 s (0.0-7.5 s); the file stops there
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av

from reelguard.errors import InvalidMedia
from reelguard.media.sample import Coverage

__all__ = ["DecodeLog", "decoded", "describe", "nothing_decoded", "opened"]


@dataclass
class DecodeLog:
    """What reading one stream gave: its decoded moments, and what went wrong on the way."""

    streams: str = ""  # what the container holds, for errors: "mov,mp4: h264, aac"
    declared: float | None = None  # the container's duration
    moments: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each decoded frame
    damaged: int = 0  # packets that would not decode, skipped
    broke_off: bool = False  # the demuxer could not go on before the end

    def coverage(self) -> Coverage:
        """Which stretches were read, against what the container declares."""
        return Coverage.of(self.moments, self.declared, damaged_packets=self.damaged, broke_off=self.broke_off)


@contextmanager
def opened(path: Path, expected: str = "a video or audio file") -> Iterator[av.container.InputContainer]:
    """``path`` opened for reading, or an InvalidMedia that says why ffmpeg cannot (an MP4 without its index…).

    ``expected`` names what the caller reads, for that message: trace needs "a video file".
    """
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidMedia(_index_trouble(path) or _unopenable(path, exc, expected)) from exc
    with container:
        if not any(s.type in ("video", "audio") for s in container.streams) and (trouble := _index_trouble(path)):
            raise InvalidMedia(trouble)  # the index that lists the streams is what is missing
        yield container


def describe(container: av.container.InputContainer) -> tuple[str, float | None]:
    """("mov,mp4: h264, aac", declared seconds or None): what the container says it holds."""
    codecs = ", ".join(s.codec_context.name for s in container.streams if s.type in ("video", "audio"))
    declared = container.duration / 1e6 if container.duration else None
    return f"{container.format.name}: {codecs or 'no video or audio stream'}", declared


def decoded(container: av.container.InputContainer, stream: av.stream.Stream, log: DecodeLog) -> Iterator[Any]:
    """The stream's frames, packet by packet: a damaged packet is skipped, a broken-off file ends the stream."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except (av.FFmpegError, ValueError):
            log.broke_off = True
            return
        try:
            frames = packet.decode()
        except av.FFmpegError:
            log.damaged += 1
            continue
        yield from frames


def nothing_decoded(path: Path, *logs: DecodeLog) -> str:
    """Why nothing of ``path`` could be read: a damaged index, no stream to read, or every packet damaged or cut
    off."""
    if trouble := _index_trouble(path):
        return trouble
    streams = logs[0].streams if logs else ""
    damaged, broke_off = sum(log.damaged for log in logs), any(log.broke_off for log in logs)
    if not damaged and not broke_off:
        return (f"expected a file with a picture or sound track, but {path.name} ({streams}) has no "
                f"decodable video or audio")
    what = [f"{damaged} damaged packet(s)"] if damaged else []
    what += ["it breaks off before any frame"] if broke_off else []
    return (f"ffmpeg opened {path.name} ({streams}) but could not decode any of it ({'; '.join(what)}): "
            "a partial download holding none of its content, or a damaged file")


def _index_trouble(path: Path) -> str | None:
    """What is wrong with an MP4's index (its 'moov' box: missing, or with pieces missing), if anything."""
    boxes = _mp4_top_level_boxes(path)
    if not boxes or boxes[0][0] != b"ftyp":
        return None
    index = next(((offset, size) for kind, offset, size in boxes if kind == b"moov"), None)
    if index is None:
        return (f"expected a media file ffmpeg can read, but {path.name} is an MP4 without its index (no 'moov' "
                "box): it was not written 'faststart', so the index sits at the end of the file, and this copy "
                "stops before it (a partial download) or lost it. Nothing in it can be placed in time without "
                "it; fetch the file's last pieces, or a faststart copy")
    if _has_hole(path, *index):
        return (f"expected a media file ffmpeg can read, but {path.name} is an MP4 whose index (its 'moov' box, "
                f"{index[1]} bytes at byte {index[0]}) has pieces missing (zero-filled, as a partial download "
                "leaves them). Nothing in it can be placed in time without it; fetch the pieces that hold it")
    return None


def _unopenable(path: Path, exc: Exception, expected: str) -> str:
    return (f"expected {expected} ffmpeg can read, but {path.name} is not one "
            f"({type(exc).__name__}: {str(exc)[:120]})")


_HOLE_BYTES = 4096  # a zero-filled run this long inside an index is a missing piece, not data


def _has_hole(path: Path, offset: int, size: int) -> bool:
    """Whether ``size`` bytes at ``offset`` (at most the first 64 MiB of them) hold a zero-filled run."""
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read(min(size, 64 << 20))
    return len(data) < size or bytes(_HOLE_BYTES) in data


def _mp4_top_level_boxes(path: Path, limit: int = 64) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of an ISO-BMFF file's top-level boxes, as far as they can be walked (empty if it is
    not one)."""
    boxes: list[tuple[bytes, int, int]] = []
    size_of_file = path.stat().st_size
    with path.open("rb") as handle:
        offset = 0
        while offset + 8 <= size_of_file and len(boxes) < limit:
            handle.seek(offset)
            header = handle.read(16)
            size, kind = struct.unpack(">I4s", header[:8])
            if size == 1 and len(header) == 16:
                size = struct.unpack(">Q", header[8:16])[0]
            elif size == 0:
                size = size_of_file - offset
            if size < 8 or not kind.isalnum():  # not a box: the walk has left the file's structure
                break
            boxes.append((kind, offset, size))
            offset += size
    return boxes
