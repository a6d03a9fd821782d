"""Forensic watermark: how much of a segment boundary's change a pirate's strong re-encode keeps.

A leak switches between variants A and B at segment boundaries; the bit of segment ``n``
is the sign of its pattern ``P_n``. On flat, dark and fixed-camera content an H.264 CRF
40 copy misses (docs/watermarking.md, "Why H.264 CRF 40 misses"): x264 codes such
pictures' change mainly at its key frames and skips the small change at a boundary. This
measures that loss directly, away from alignment and the session code: synthetic probes
(none of them a report class, none of their footage shared) carry ``+a·P_0`` up to a
boundary at 2 s and ``±a·P_1`` after it, for mark amplitudes ``a`` (RMS, in luma levels,
no mask); each sign is encoded as a pirate would (x264 veryfast at a CRF, default GOP: its
one key frame is the first frame), decoded, and half the difference of the two signs is
projected on ``P_1``. The cell is the share of ``a·P_1`` the copy holds 0-1 s, 1-2 s and
2-4 s after the boundary. CRF 23 is the comparator in the same run: the suite's re-encode,
where the mark is read at every segment.

Amplitude is what a stronger mark would buy: a segment's z grows with the amplitude the
copy holds (``a`` × the share). The quality target (PSNR ≥ 45 dB against the unmarked
encode) allows an RMS of at most 1.43 levels (20·log10(255/1.43) = 45); the mark today is
about 0.5 (docs/benchmarks.md, "quality and mark energy per class").

``--marks shift`` measures another kind of change the same way, one reelguard does not
embed: the whole picture moved sideways by ``±δ`` pixels (bicubic) after the boundary. An
encoder codes a move as motion vectors, cheaply whatever the picture, where it skips a
small change of level. The cell is the move between the two decoded copies (phase
correlation) as a share of ``2δ``; the PSNR is the moved picture's against the unmoved.
``--marks field`` moves each part of the picture by its own keyed amount instead (``δ`` times
two segment patterns, across and down: a global move is what a stabiliser removes), read
as a mark would be: by the first-order change that move makes to the unmarked picture
(``-∇I · d``), projected.

    python benchmarks/watermark_boundary.py [--marks luma,shift,field] [--amplitudes 0.5,1,1.4,2,3] [--crfs 23,34,40]
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import report

from reelguard.media.tools import MediaTools
from reelguard.settings import MediaSettings
from reelguard.watermark.embedding import segment_pattern, upsample_pattern

WIDTH, HEIGHT, FPS = 854, 480, 25
BOUNDARY, FRAMES = 2 * FPS, 6 * FPS  # the boundary at 2 s; 4 s after it (x264's next key frame is at 10 s)
WINDOWS = ((0, FPS), (FPS, 2 * FPS), (2 * FPS, 4 * FPS))  # frames after the boundary: 0-1 s, 1-2 s, 2-4 s
KEY = b"boundary-benchmark-key-1"
Picture = NDArray[np.float32]


def probes(seed: int) -> dict[str, Callable[[], Iterator[Picture]]]:
    """Synthetic pictures of the kinds that miss: flat (drifting, or still under one moving disc), dark, grain."""
    rng = np.random.default_rng(seed)
    field = cv2.resize(rng.standard_normal((10, 18)).astype(np.float32), (WIDTH + 200, HEIGHT),
                       interpolation=cv2.INTER_CUBIC)
    posterised = np.floor(field * 2) * 30 + 120

    def flat_drifting() -> Iterator[Picture]:
        for t in range(FRAMES):
            yield posterised[:, t // 2:t // 2 + WIDTH].copy()

    def flat_still() -> Iterator[Picture]:
        for t in range(FRAMES):
            picture = posterised[:, :WIDTH].copy()
            cv2.circle(picture, (100 + 5 * t, 240), 40, 230.0, -1)
            yield picture

    def dark_noisy() -> Iterator[Picture]:
        for _ in range(FRAMES):
            yield (25 + 8 * field[:, :WIDTH] + rng.normal(0, 3, (HEIGHT, WIDTH))).astype(np.float32)

    def grain() -> Iterator[Picture]:
        for t in range(FRAMES):
            yield (120 + 40 * field[:, t // 2:t // 2 + WIDTH] + rng.normal(0, 6, (HEIGHT, WIDTH))).astype(np.float32)

    return {"flat, drifting": flat_drifting, "flat, still, one moving disc": flat_still,
            "dark, sensor noise (sd 3)": dark_noisy, "grain (sd 6), drifting": grain}


def kept_share(ffmpeg: str, pictures: list[Picture], amplitude: float, crf: int, work: Path) -> list[float]:
    """The share of ``amplitude·P_1`` an encode at ``crf`` keeps, per window after the boundary."""
    before, after = (upsample_pattern(segment_pattern(KEY, n), WIDTH, HEIGHT) for n in (0, 1))
    held = _held(ffmpeg, pictures, crf, work, lambda p, t, sign: p + amplitude * (before if t < BOUNDARY
                                                                                      else sign * after))
    energy = float(np.mean(after * after))
    return _per_window([float(np.mean(held[t] * after)) / (amplitude * energy) for t in range(BOUNDARY, FRAMES)])


def kept_shift(ffmpeg: str, pictures: list[Picture], delta: float, crf: int, work: Path) -> list[float]:
    """The share of a ``±delta``-pixel move after the boundary an encode at ``crf`` keeps, per window."""
    decoded = _decoded(ffmpeg, pictures, crf, work, lambda p, t, sign: p if t < BOUNDARY else _moved(p, sign * delta))
    window = cv2.createHanningWindow((WIDTH, HEIGHT), cv2.CV_32F)
    return _per_window([cv2.phaseCorrelate(decoded[-1][t], decoded[1][t], window)[0][0] / (2 * delta)
                        for t in range(BOUNDARY, FRAMES)])


def kept_field(ffmpeg: str, pictures: list[Picture], delta: float, crf: int, work: Path) -> list[float]:
    """The share of a keyed ``±delta`` displacement field after the boundary an encode at ``crf`` keeps."""
    held = _held(ffmpeg, pictures, crf, work,
                 lambda p, t, sign: p if t < BOUNDARY else _field_moved(p, sign * delta))
    across, down = _field()
    shares = []
    for t in range(BOUNDARY, FRAMES):
        gx, gy = (cv2.Sobel(pictures[t], cv2.CV_32F, dx, dy, ksize=3) / 8 for dx, dy in ((1, 0), (0, 1)))
        expected = -delta * (gx * across + gy * down)  # what the move changes, to first order
        shares.append(float(np.sum(held[t] * expected) / np.sum(expected * expected)))
    return _per_window(shares)


def _decoded(ffmpeg: str, pictures: list[Picture], crf: int, work: Path,
             change: Callable[[Picture, int, int], Picture]) -> dict[int, NDArray[np.float32]]:
    """Each sign's copy (+1, -1), changed frame by frame (``change(picture, frame, sign)``), encoded and decoded."""
    return {sign: _decode(ffmpeg, _encode(ffmpeg, [change(p, t, sign) for t, p in enumerate(pictures)], crf,
                                          work / f"sign{sign}.mp4"))
            for sign in (1, -1)}


def _held(ffmpeg: str, pictures: list[Picture], crf: int, work: Path,
          change: Callable[[Picture, int, int], Picture]) -> NDArray[np.float32]:
    """Half the difference of the two signs' decoded copies: what the copy holds of the change."""
    decoded = _decoded(ffmpeg, pictures, crf, work, change)
    return np.asarray((decoded[1] - decoded[-1]) / 2, dtype=np.float32)


def _per_window(shares: list[float]) -> list[float]:
    """The mean share in each window after the boundary (``shares`` start at the boundary)."""
    return [float(np.mean(shares[start:end])) for start, end in WINDOWS]


@cache
def _field() -> tuple[Picture, Picture]:
    """The keyed displacement patterns, across and down (unit RMS, smooth)."""
    return upsample_pattern(segment_pattern(KEY, 2), WIDTH, HEIGHT), upsample_pattern(segment_pattern(KEY, 3),
                                                                                     WIDTH, HEIGHT)


@cache
def _grid() -> tuple[Picture, Picture]:
    xs, ys = np.meshgrid(np.arange(WIDTH, dtype=np.float32), np.arange(HEIGHT, dtype=np.float32))
    return xs, ys


def _field_moved(picture: Picture, delta: float) -> Picture:
    across, down = _field()
    xs, ys = _grid()
    return np.asarray(cv2.remap(picture, xs - delta * across, ys - delta * down, cv2.INTER_CUBIC,
                                borderMode=cv2.BORDER_REFLECT), dtype=np.float32)


def _moved(picture: Picture, dx: float) -> Picture:
    return np.asarray(cv2.warpAffine(picture, np.array([[1, 0, dx], [0, 1, 0]], dtype=np.float32), (WIDTH, HEIGHT),
                                     flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT), dtype=np.float32)


def _psnr(a: Picture, b: Picture) -> float:
    return 20 * math.log10(255 / math.sqrt(float(np.mean((a - b) ** 2))))


def _encode(ffmpeg: str, pictures: list[Picture], crf: int, out: Path) -> Path:
    encoder = subprocess.Popen(
        [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{WIDTH}x{HEIGHT}",
         "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt",
         "yuv420p", str(out)], stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    for picture in pictures:
        encoder.stdin.write(np.clip(np.round(picture), 0, 255).astype(np.uint8).tobytes())
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise SystemExit(f"x264 at CRF {crf} failed")
    return out


def _decode(ffmpeg: str, path: Path) -> NDArray[np.float32]:
    raw = subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray",
                          "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, HEIGHT, WIDTH).astype(np.float32)


# mark → (the share an encode keeps, the change itself): the kinds of move, beside the luma pattern
MOVES: dict[str, tuple[Callable[[str, list[Picture], float, int, Path], list[float]],
                       Callable[[Picture, float], Picture]]] = {
    "shift": (kept_shift, _moved),
    "field": (kept_field, _field_moved),
}
# mark → (table title, its size column, what a cell is, what limits it)
TABLES = {
    "luma": ("Forensic watermark: a segment boundary's change kept by a strong re-encode",
             "mark RMS, levels (its PSNR)",
             "+a·P_0 before the boundary, then ±a·P_1 (the keyed segment patterns, no mask); a cell is the share of "
             "a·P_1 the decoded copy holds in each window after the boundary",
             "the mark today is about 0.5 levels RMS, and PSNR ≥ 45 dB against the unmarked encode allows at most "
             "1.43"),
    "shift": ("Forensic watermark: a picture move at a segment boundary kept by a strong re-encode",
              "move δ, pixels (its PSNR)",
              "the picture as it is before the boundary, then moved sideways by ±δ (bicubic); a cell is the move "
              "between the two decoded copies (phase correlation) as a share of 2δ",
              "where the comparator reads no move, phase correlation cannot measure one on that picture (sensor "
              "noise over weak edges), whatever the encode kept; not a mark reelguard embeds"),
    "field": ("Forensic watermark: a keyed move at a segment boundary kept by a strong re-encode",
              "field δ, pixels (its PSNR)",
              "the picture as it is before the boundary, then each part moved by ±δ times two keyed segment "
              "patterns (across, down; unit RMS, smooth); a cell is the decoded copies' half difference projected "
              "on the change that move makes to the unmarked picture (-∇I · d), as a share of it",
              "on noisy pictures the sensor noise's gradients make most of -∇I · d, which no encode keeps; not a "
              "mark reelguard embeds"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--marks", default="luma",
                        help="comma-separated: luma (the mark's kind), shift (a move), field (a keyed move)")
    parser.add_argument("--amplitudes", default="0.5,1,1.4,2,3")
    parser.add_argument("--moves", default="0.125,0.25,0.5", help="pixels, for --marks shift and field")
    parser.add_argument("--crfs", default="23,34,40")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    ffmpeg = MediaTools.locate(MediaSettings()).ffmpeg
    crfs = [int(c) for c in args.crfs.split(",")]
    marks = args.marks.split(",")
    windows = [f"x264 CRF {c}: 0-1 / 1-2 / 2-4 s" for c in crfs]
    setting = (f"synthetic {WIDTH}x{HEIGHT} probes at {FPS} fps (not report classes); x264 veryfast, default GOP (key "
               "frame at 0 only); the boundary at 2 s")
    rows: dict[str, list[list[str]]] = {mark: [] for mark in marks}
    with tempfile.TemporaryDirectory(prefix="rg-bench-boundary-") as folder:
        for name, make in probes(args.seed).items():
            pictures = list(make())
            for amplitude in ([float(a) for a in args.amplitudes.split(",")] if "luma" in marks else []):
                cells = [_cells(kept_share(ffmpeg, pictures, amplitude, crf, Path(folder))) for crf in crfs]
                rows["luma"].append([name, f"{amplitude:g} ({20 * math.log10(255 / amplitude):.1f} dB)", *cells])
                print(rows["luma"][-1], flush=True)
            for mark, (kept, move) in MOVES.items():
                for delta in ([float(m) for m in args.moves.split(",")] if mark in marks else []):
                    cells = [_cells(kept(ffmpeg, pictures, delta, crf, Path(folder))) for crf in crfs]
                    quality = _psnr(pictures[BOUNDARY], move(pictures[BOUNDARY], delta))
                    rows[mark].append([name, f"{delta:g} ({quality:.1f} dB)", *cells])
                    print(rows[mark][-1], flush=True)
    for mark, (title, column, how, caveat) in TABLES.items():
        if rows.get(mark):
            report(title, ["probe", column, *windows], rows[mark],
                   [f"{setting}; {how}", f"comparator: CRF {crfs[0]}, measured in the same run; {caveat}"])


def _cells(shares: list[float]) -> str:
    return " / ".join(f"{s:.2f}" for s in shares)


if __name__ == "__main__":
    main()
