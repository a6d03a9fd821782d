"""Encoding the A and B variants of every rendition (PyAV decode → mark → two x264 encoders).

The master is decoded once (PyAV). Each frame is scaled to every rendition (swscale,
bicubic — what the unmarked ladder's ffmpeg filter does), marked with ``+W`` for variant A
and ``-W`` for variant B of the frame's segment, and piped to two ffmpeg/x264 encoders per
rendition with exactly the unmarked ladder's settings (``video_encoder_args``): the same
closed GOP of ``segment_seconds``, keyframes forced at the same instants. So segment ``n``
of A and of B start and end on the same frames, and a player may take any mix of them.

While decoding, it also keeps what trace needs of the master: its *reference* (a 64×36
thumbnail and time of every frame, to find where in the title a suspect excerpt lies) and
its *proxy* (``proxy.mp4``): every frame's luma at registration's width (640 px, never
upscaled), H.264 at x264's visually lossless CRF 18, a key frame every second. Trace
decodes the proxy instead of the master: a master may be a 1080p or 4K mezzanine with a
key frame every 10 s, and trace reads hundreds of frames around a few dozen moments at
640 and 320 px, so most of that decoding was pixels it scaled away and frames on the way
from a distant key frame::

    reference = encode_variants(tools, plan, master, out_dir, marker=FrameMarker(...))
    # out_dir/a/video_720p.mp4, out_dir/b/video_720p.mp4, ..., out_dir/a/audio.mp4, out_dir/proxy.mp4
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from reelguard.errors import InvalidMedia, ProcessingError
from reelguard.media.ladder import Rendition
from reelguard.media.processes import DIE_WITH_PARENT
from reelguard.media.tools import MediaTools
from reelguard.media.transcode import AUDIO_OUTPUT, TranscodePlan, run_ffmpeg, video_encoder_args
from reelguard.watermark.alignment import REGISTER_WIDTH, thumbnail
from reelguard.watermark.embedding import FrameMarker, embed_mark
from reelguard.watermark.frames import gray_picture, video_facts
from reelguard.watermark.packaging import PROXY_FILE

__all__ = ["PROXY_CRF", "VARIANTS", "MasterReference", "encode_variants", "proxy_size", "segment_of_frame",
           "write_proxy"]

VARIANTS = ("a", "b")
_SYMBOL = {"a": 1, "b": -1}
PROXY_CRF = 18  # x264's "visually lossless": the proxy stands in for the master in every comparison trace makes


@dataclass(frozen=True)
class MasterReference:
    """Per master frame (in decode order): its delivered time, its own timestamp, a 64×36 thumbnail.

    The variants are encoded frame by frame at a constant rate, so frame ``i`` plays at
    ``times[i] = i / frame_rate`` in every session's stream, whatever the master's own
    timestamps (``pts``, which may have gaps, e.g. after a concatenation) say. The tracer
    aligns suspects on ``times`` and finds master frames by ``pts``.
    """

    times: NDArray[np.float64]
    thumbs: NDArray[np.uint8]
    frame_rate: float
    pts: NDArray[np.float64]

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez_compressed(handle, times=self.times, thumbs=self.thumbs, frame_rate=self.frame_rate,
                                pts=self.pts)

    @classmethod
    def load(cls, path: Path) -> MasterReference:
        with np.load(path) as data:
            return cls(data["times"], data["thumbs"], float(data["frame_rate"]), data["pts"])


def proxy_size(width: int, height: int) -> tuple[int, int]:
    """The proxy's picture: registration's width, or the master's own if narrower (even sides, as x264 wants)."""
    proxy_width = min(REGISTER_WIDTH, width) // 2 * 2
    return proxy_width, max(2, round(height * proxy_width / width / 2) * 2)


def segment_of_frame(index: int, frame_rate: float, segment_seconds: int) -> int:
    """The segment holding frame ``index``: keyframes are forced at t ≥ n·segment_seconds."""
    return math.floor(index / frame_rate / segment_seconds + 1e-9)


class _Encoder:
    """One ffmpeg process encoding raw frames (``pixel_format`` at ``size``, one after another) read on stdin."""

    def __init__(self, tools: MediaTools, plan: TranscodePlan, pixel_format: str, size: tuple[int, int],
                 encoder_args: list[str], output: Path) -> None:
        self._log: IO[bytes] = tempfile.TemporaryFile()
        rate = Fraction(plan.frame_rate).limit_denominator(1001)
        command = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y",
                   "-f", "rawvideo", "-pix_fmt", pixel_format, "-s", f"{size[0]}x{size[1]}",
                   "-r", f"{rate.numerator}/{rate.denominator}", "-i", "pipe:0", *encoder_args, str(output)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log,
                                         preexec_fn=DIE_WITH_PARENT)  # killed by encode_variants on any failure
        self._output, self.size = output, size

    @classmethod
    def rendition(cls, tools: MediaTools, plan: TranscodePlan, rendition: Rendition, output: Path) -> _Encoder:
        """A variant of one rendition, with exactly the unmarked ladder's settings."""
        return cls(tools, plan, "yuv420p", (rendition.width, rendition.height), video_encoder_args(plan, rendition),
                   output)

    @classmethod
    def proxy(cls, tools: MediaTools, plan: TranscodePlan, size: tuple[int, int], output: Path) -> _Encoder:
        """The master's proxy: luma only, a key frame every second (a seek decodes at most a second of it)."""
        every = str(max(1, round(plan.frame_rate)))
        return cls(tools, plan, "gray", size, ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(PROXY_CRF),
                                               "-g", every, "-keyint_min", every, "-pix_fmt", "gray",
                                               "-movflags", "+faststart"], output)

    def write(self, frame: memoryview) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(frame)
        except BrokenPipeError:
            self.close()

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass
        if self._process.wait() != 0:
            self._log.seek(0)
            tail = self._log.read().decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise ProcessingError(f"encoding {self._output.name} failed: {tail[0]}")
        self._log.close()

    def kill(self) -> None:
        self._process.kill()
        self._process.wait()
        self._log.close()


def encode_variants(tools: MediaTools, plan: TranscodePlan, master: Path, out_dir: Path, *,
                    marker: FrameMarker, on_progress: Callable[[float], None] | None = None) -> MasterReference:
    """Write out_dir/{a,b}/<rendition>.mp4 (and a/audio.mp4) and out_dir/proxy.mp4; return the master reference."""
    for variant in VARIANTS:
        (out_dir / variant).mkdir(parents=True, exist_ok=True)
    if plan.has_audio:
        run_ffmpeg([tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(master),
                    "-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", f"{plan.audio_bitrate_kbps}k", "-ac", "2",
                    "-map_metadata", "-1", str(out_dir / "a" / AUDIO_OUTPUT)], f"encoding the audio of {master.name}")
    facts = video_facts(master)
    proxy = _Encoder.proxy(tools, plan, proxy_size(facts.width, facts.height), out_dir / PROXY_FILE)
    encoders = {(r.name, v): _Encoder.rendition(tools, plan, r, out_dir / v / f"{r.name}.mp4")
                for r in plan.renditions for v in VARIANTS}
    try:
        with _single_threaded_opencv():
            reference = _mark_frames(plan, master, marker, encoders, proxy, on_progress)
        for encoder in [*encoders.values(), proxy]:
            encoder.close()
    except BaseException:
        for encoder in [*encoders.values(), proxy]:
            encoder.kill()
        raise
    return reference


def write_proxy(tools: MediaTools, master: Path, frame_rate: float, output: Path) -> None:
    """The master's proxy alone, as ``encode_variants`` writes it beside the variants: for a title ingested before
    proxies (one more decode of its master)."""
    facts = video_facts(master)
    plan = TranscodePlan(renditions=(), segment_seconds=1, frame_rate=frame_rate, has_audio=False)
    proxy = _Encoder.proxy(tools, plan, proxy_size(facts.width, facts.height), output)
    try:
        with _decoded(master) as frames:
            for frame in frames:
                proxy.write(np.ascontiguousarray(gray_picture(frame, *proxy.size)).data)
        proxy.close()
    except BaseException:
        proxy.kill()
        raise


@contextmanager
def _decoded(master: Path) -> Iterator[Iterator[av.VideoFrame]]:
    """The master's video frames in decode order; a decoding failure inside the block is InvalidMedia."""
    try:
        with av.open(str(master)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            yield container.decode(stream)
    except av.FFmpegError as exc:
        raise InvalidMedia(f"could not decode {master.name}: {exc}") from exc


@contextmanager
def _single_threaded_opencv() -> Iterator[None]:
    """OpenCV on one thread while marking: the x264 processes already fill every core.

    The mark's operations are small (a few ms a frame); split over OpenCV's pool beside six
    busy encoders, each waits for a descheduled worker. Measured on the benchmark excerpt:
    the mark took 1.16× the null-mark pipeline with the pool, 0.99× without it.
    """
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(threads)


def _mark_frames(plan: TranscodePlan, master: Path, marker: FrameMarker,
                 encoders: dict[tuple[str, str], _Encoder], proxy: _Encoder,
                 on_progress: Callable[[float], None] | None) -> MasterReference:
    thumbs: list[NDArray[np.uint8]] = []
    pts: list[float] = []
    with _decoded(master) as frames:
        for index, frame in enumerate(frames):
            thumbs.append(thumbnail(np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)))
            pts.append(float(frame.time) if frame.time is not None else index / plan.frame_rate)
            segment = segment_of_frame(index, plan.frame_rate, plan.segment_seconds)
            _write_frame(frame, plan.renditions, segment, marker, encoders)
            proxy.write(np.ascontiguousarray(gray_picture(frame, *proxy.size)).data)
            if on_progress is not None and index % 25 == 0:
                on_progress(index / plan.frame_rate)
    times = np.arange(len(thumbs), dtype=np.float64) / plan.frame_rate
    return MasterReference(times, np.stack(thumbs), plan.frame_rate, np.asarray(pts, dtype=np.float64))


def _write_frame(frame: av.VideoFrame, renditions: Sequence[Rendition], segment: int, marker: FrameMarker,
                 encoders: dict[tuple[str, str], _Encoder]) -> None:
    """Scale one master frame to every rendition, mark it ±W and pipe variants A and B on.

    The perceptual mask is computed once, from the smallest rendition (the mask works on a
    320-wide picture, which every rendition gives alike), and spread over each rendition.
    """
    pictures = {rendition: _scaled(frame, rendition) for rendition in renditions}
    smallest = min(renditions, key=lambda rendition: rendition.width)
    activity = marker.activity(pictures[smallest][: smallest.height])
    for rendition, picture in pictures.items():
        luma = picture[: rendition.height].copy()  # the picture's own plane is overwritten per variant
        mark = marker.mark(luma, segment, activity)
        for variant in VARIANTS:
            picture[: rendition.height] = embed_mark(luma, mark, _SYMBOL[variant])
            encoders[(rendition.name, variant)].write(picture.data)


def _scaled(frame: av.VideoFrame, rendition: Rendition) -> NDArray[np.uint8]:
    """The frame as one contiguous yuv420p array at the rendition's size (swscale, bicubic)."""
    return np.ascontiguousarray(frame.reformat(rendition.width, rendition.height, "yuv420p",
                                               interpolation="BICUBIC").to_ndarray(), dtype=np.uint8)
