"""Would a frame-aligned look at detail tell copies from chance lines? A measurement for the next verification step.

The order test cannot tell a copy from content that shares ordered pictures with a title by
the way it was made (a camera panning over the same pitch at a related speed: evaluation
draw 2, docs/fingerprinting.md). Detail might: a copy keeps the players, another match does
not. This measures it on a finished evaluation run (``find_evaluation.py`` left its titles,
queries and results in ``--work``), changing nothing in identify.

Each query's line is taken from the run's results — positives: the strongest line of the
right title over the copy; negatives: the strongest line of any title with picture
evidence. Every query picture on the line is compared with the best frame of the title,
decoded at 25 frames a second, within 0.2 s of the time the line puts it at (pictures are
sampled 4 a second, so an unaligned pair can be 1/8 s apart, which on a fast pan costs more
likeness than the detail differs by): the zero-mean correlation of 64×64 thumbnails, the
larger of the picture's and its mirror's. A line's score is its pictures' median. Reported
per group (copies by transform, negatives by whether their line's false-match probability
is at most 1e-4): the lines' median score and 10th / 90th percentiles::

    .venv/bin/python benchmarks/find_fine_likeness.py --work /tmp/reelguard-find-eval --draw 0
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2
import numpy as np
from _report import report
from find_evaluation import EVAL_TRANSFORMS, Truth, catalog, plan
from numpy.typing import NDArray

from reelguard.fingerprint.service import read_sample
from reelguard.media.sampling import read_media

THUMBNAIL = 64
FRAME_RATE = 25.0
REACH_SECONDS = 0.2
STRONG = 1e-4


def _thumbnail(picture: NDArray[np.uint8]) -> NDArray[np.float32]:
    small = cv2.resize(picture.astype(np.float32), (THUMBNAIL, THUMBNAIL), interpolation=cv2.INTER_AREA)
    small -= small.mean()
    return np.asarray(small.reshape(-1) / (np.linalg.norm(small) + 1e-9), np.float32)


@lru_cache(maxsize=32)
def _title_frames(path: str) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    sample = read_media(Path(path), picture_rate=FRAME_RATE, picture_size=256, audio_rate=8000)
    return sample.picture_times, np.stack([_thumbnail(p) for p in sample.pictures])


def line_score(job: tuple[str, str, dict[str, Any]]) -> float | None:
    """The median frame-aligned likeness of the query's pictures on ``line`` (None: no picture on it)."""
    query, title, line = job
    times, frames = _title_frames(title)
    sample = read_sample(Path(query))
    scores = []
    for when, picture in zip(sample.picture_times.tolist(), sample.pictures, strict=True):
        if not line["suspect_start"] <= when <= line["suspect_end"]:
            continue
        expected = line["title_start"] + (when - line["suspect_start"]) * line["speed"]
        near = np.flatnonzero(np.abs(times - expected) <= REACH_SECONDS)
        if len(near):
            views = np.stack([_thumbnail(picture), _thumbnail(np.ascontiguousarray(picture[:, ::-1]))])
            scores.append(float((frames[near] @ views.T).max()))
    return statistics.median(scores) if scores else None


def _strongest(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    return min(lines, key=lambda line: line["false_match_probability"], default=None)


def _jobs(work: Path, results: dict[str, Any], truths: list[Truth],
          negatives: list[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(group, query file, title file, line) for every query with a line to judge."""
    jobs = []
    for truth in truths:
        right = [s for s in results[truth.query]["lines"] if s["title"] == truth.title and "video" in s["evidence"]
                 and s["suspect_end"] > truth.query_start and s["suspect_start"] < truth.query_end]
        if (line := _strongest(right)) is not None:
            jobs.append((truth.transform, str(work / "queries" / f"{truth.query}.mp4"),
                         str(work / "titles" / f"{truth.title}.mp4"), line))
    for query in negatives:
        seen = [s for s in results[query]["lines"] if "video" in s["evidence"]]
        if (line := _strongest(seen)) is not None:
            group = "negatives, line at most 1e-4" if line["false_match_probability"] <= STRONG else \
                "negatives, weaker lines"
            jobs.append((group, str(work / "queries" / f"{query}.mp4"),
                         str(work / "titles" / f"{line['title']}.mp4"), line))
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/reelguard-find-eval"))
    parser.add_argument("--draw", type=int, default=0)
    args = parser.parse_args()
    titles, hosts = catalog(4, 60.0, 150.0, args.draw)
    _, truths, negative_kind = plan(titles, hosts, args.work, 210, 500, seed=18 + args.draw)
    results = json.loads((args.work / "results.json").read_text())
    jobs = sorted(_jobs(args.work, results, truths, list(negative_kind)), key=lambda job: job[2])  # title by title
    with ProcessPoolExecutor(2) as pool:
        scores = list(pool.map(line_score, [(query, title, line) for _, query, title, line in jobs], chunksize=8))
    by_group: dict[str, list[float]] = defaultdict(list)
    for (group, *_), score in zip(jobs, scores, strict=True):
        if score is not None:
            by_group[group].append(score)
    order = [*EVAL_TRANSFORMS, "negatives, line at most 1e-4", "negatives, weaker lines"]
    rows = [[group, str(len(by_group[group])), f"{statistics.median(by_group[group]):.3f}",
             f"{np.percentile(by_group[group], 10):.3f} / {np.percentile(by_group[group], 90):.3f}"]
            for group in order if by_group[group]]
    report("Content recognition: frame-aligned likeness of detail, copies against chance lines",
           ["lines", "count", "median", "p10 / p90"], rows,
           [f"evaluation draw {args.draw} (--work {args.work}); a line's score: the median over its query pictures of "
            f"the zero-mean correlation of {THUMBNAIL}x{THUMBNAIL} thumbnails with the best title frame (decoded at "
            f"{FRAME_RATE:g}/s) within {REACH_SECONDS} s of the line's time, picture or mirror",
            "positives: the strongest right-title line over the copy with picture evidence, found or not; negatives: "
            "their strongest line with picture evidence",
            "a measurement for a verification step not built yet: identify is unchanged"])


if __name__ == "__main__":
    main()
