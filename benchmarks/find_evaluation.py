"""Content recognition on the evaluation set: content and sound of kinds its thresholds never saw.

Recognition's evidence thresholds were set on the copy-detection suite
(``copy_detection.py``: real clips panned and tinted, synthetic fields, plucked-note
music). This set shares none of that footage or sound (``_content_classes.py``): a
catalog of ``--titles-per-class`` titles of each class (abstract generative visuals, a
fixed camera, looping cartoons, near-still pictures, slides, sports, a dark fixed
camera), hosts of the same classes made from other seeds, and — the hardest negatives —
hosts that are the catalog's own fixed-camera scenes at another time (same room, other
people, another clock).

Queries: ``--positives`` each hide one copy of 3-30 s of a title through one transform
(the suite's, plus a 40 % picture-in-picture inset and a 60 % crop, each also without
sound); ``--negatives`` are host excerpts of 10-40 s with no catalog content (a share of
them same-scene hard negatives). Every query is identified as ``reelguard identify`` does.
Reported: negative queries answered (must be 0), segments naming a wrong title, recall per
transform and per class, how much of each copy the reported segments cover, and the title
time error::

    .venv/bin/python benchmarks/find_evaluation.py --work /tmp/reelguard-find-eval

Stopped runs resume: titles, hosts, queries and identify results already in --work are kept.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _calibration_plot import calibration
from _content_classes import CLASSES, FPS, RATE, class_frames, class_sound
from _copy_suite import SPEEDS, Piece, encode_programme, render_query
from _report import report

from reelguard.fingerprint.index import CatalogIndex
from reelguard.fingerprint.service import (
    AUDIO,
    DEFAULT_MAX_FALSE_MATCH,
    VIDEO,
    identify_sample,
    picture_looks_of,
    read_sample,
)
from reelguard.fingerprint.significance import reach

EVAL_TRANSFORMS = ("h264 crf 35", "scale to 360p", "crop 0.7", "letterbox", "mirror", "rotate 5°", "gamma",
                   "logo/text overlay", "speed 1.1", "camcorder", "picture-in-picture 50%", "picture-in-picture 40%",
                   "picture-in-picture 40%, no sound", "crop 0.6", "crop 0.6, no sound")
HARD_CLASSES = ("fixed-camera", "dark")  # their hosts may be a title's own scene at another time


@dataclass(frozen=True)
class Programme:
    """A title or host: its class, seed (pictures and sound), scene (the place, for fixed cameras), length."""

    name: str
    kind: str
    seed: int
    scene: int
    seconds: float
    hard_negative_of: str = ""  # a host that is this title's scene at another time


@dataclass(frozen=True)
class Truth:
    query: str
    title: str
    kind: str
    transform: str
    query_start: float
    query_end: float
    title_start: float
    title_end: float


def catalog(titles_per_class: int, title_seconds: float, host_seconds: float,
            draw: int = 0) -> tuple[list[Programme], list[Programme]]:
    """The titles and hosts of one draw: draw N's seeds are 1,000 × N on from draw 0's, so no two draws share any."""
    base = 1_000 * draw
    titles = [Programme(f"E{c}{i}-{kind}", kind, 20_000 + base + 100 * c + i, 20_000 + base + 100 * c + i,
                        title_seconds) for c, kind in enumerate(CLASSES) for i in range(titles_per_class)]
    hosts = [Programme(f"G{c}-{kind}", kind, 40_000 + base + c, 40_000 + base + c, host_seconds)
             for c, kind in enumerate(CLASSES)]
    hosts += [Programme(f"S-{t.name}", t.kind, t.seed + 7_000, t.scene, host_seconds, hard_negative_of=t.name)
              for t in titles if t.kind in HARD_CLASSES]
    return titles, hosts


def _render(job: tuple[str, dict[str, Any]]) -> str:
    path, fields = job
    programme, target = Programme(**fields), Path(path)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_suffix(".tmp.mp4")
        frames = class_frames(programme.kind, programme.seed, round(programme.seconds * FPS), scene=programme.scene)
        encode_programme(staging, frames, class_sound(programme.kind, programme.seed, programme.seconds))
        staging.replace(target)
    return path


def build_programmes(work: Path, titles: list[Programme], hosts: list[Programme]) -> None:
    jobs = [(str(work / "titles" / f"{t.name}.mp4"), asdict(t)) for t in titles]
    jobs += [(str(work / "hosts" / f"{h.name}.mp4"), asdict(h)) for h in hosts]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_render, jobs))


def plan(titles: list[Programme], hosts: list[Programme], work: Path, positives: int, negatives: int,
         seed: int) -> tuple[dict[str, list[Piece]], list[Truth], dict[str, str]]:
    """Query recipes, the copies they hide, and what each negative query is made of."""
    rng = random.Random(seed)
    plans: dict[str, list[Piece]] = {}
    truths: list[Truth] = []
    negative_kind: dict[str, str] = {}
    plain_hosts = [h for h in hosts if not h.hard_negative_of]
    for q in range(positives):
        name, host = f"P{q:04d}", rng.choice(plain_hosts)
        transform, title = EVAL_TRANSFORMS[q % len(EVAL_TRANSFORMS)], rng.choice(titles)
        seconds = rng.uniform(3, 30)
        start, host_at, lead = rng.uniform(0, title.seconds - seconds - 0.5), rng.uniform(0, host.seconds - 80), \
            rng.uniform(2, 8)
        played = seconds / SPEEDS.get(transform, 1.0)
        own = class_sound(title.kind, title.seed, title.seconds)[int(start * RATE):int((start + seconds) * RATE)]
        host_file = str(work / "hosts" / f"{host.name}.mp4")
        pieces = [Piece(host_file, host_at, lead, ""),
                  Piece(str(work / "titles" / f"{title.name}.mp4"), start, seconds, transform,
                        host_start=host_at + lead, audio_rms=float(np.sqrt(np.mean(own.astype(np.float64) ** 2))))]
        after = host_at + lead + (played if transform.startswith("picture-in-picture") else 0.0)
        pieces.append(Piece(host_file, after, rng.uniform(4, 12), ""))
        plans[name] = pieces
        truths.append(Truth(name, title.name, title.kind, transform, round(lead, 3), round(lead + played, 3),
                            round(start, 3), round(start + seconds, 3)))
    hard_hosts = [h for h in hosts if h.hard_negative_of]
    for q in range(negatives):
        name = f"N{q:04d}"
        host = rng.choice(hard_hosts) if hard_hosts and q % 4 == 0 else rng.choice(plain_hosts)
        seconds = rng.uniform(10, 40)
        plans[name] = [Piece(str(work / "hosts" / f"{host.name}.mp4"), rng.uniform(0, host.seconds - seconds - 1),
                             seconds, "")]
        negative_kind[name] = f"same scene as {host.hard_negative_of}" if host.hard_negative_of else host.kind
    return plans, truths, negative_kind


def _render_query(job: tuple[str, list[Piece], str, int]) -> str:
    path, pieces, folder, seed = job
    target = Path(path)
    if not target.exists():
        staging = target.with_suffix(".tmp.mp4")
        render_query(staging, pieces, Path(folder), seed)
        staging.replace(target)
    return path


def build_queries(work: Path, plans: dict[str, list[Piece]]) -> None:
    folder = work / "queries"
    folder.mkdir(exist_ok=True)
    jobs = [(str(folder / f"{name}.mp4"), pieces, str(folder), i) for i, (name, pieces) in enumerate(plans.items())]
    with ProcessPoolExecutor(2) as pool:
        for done, _ in enumerate(pool.map(_render_query, jobs), start=1):
            if done % 50 == 0:
                print(f"  {done}/{len(jobs)} queries rendered", flush=True)


def build_index(work: Path, titles: list[Programme]) -> CatalogIndex:
    index = CatalogIndex(work / "index")
    done = {t.name for t in index.titles()}
    for title in titles:
        if title.name not in done:
            sample = read_sample(work / "titles" / f"{title.name}.mp4")
            index.add(title.name, title.name, VIDEO.extract(sample, role="reference"),
                      AUDIO.extract(sample, role="reference"))
    return index


def identify_all(work: Path, index: CatalogIndex, names: list[str]) -> dict[str, Any]:
    results_file = work / "results.json"
    results: dict[str, Any] = json.loads(results_file.read_text()) if results_file.exists() else {}
    for name in names:
        if name in results:
            continue
        started = time.perf_counter()
        sample = read_sample(work / "queries" / f"{name}.mp4")
        found = identify_sample(index, sample, name, keep_weak=True)  # every line, with its probability
        results[name] = {"lines": [asdict(s) for s in found.segments], "best": found.best, "reach": found.reach,
                         "seconds": time.perf_counter() - started, "duration": sample.duration}
        if len(results) % 50 == 0:
            results_file.write_text(json.dumps(results))
            print(f"  {len(results)} queries identified", flush=True)
    results_file.write_text(json.dumps(results))
    return results


def _judge(truth: Truth, segments: list[dict[str, Any]]) -> tuple[bool, float, float | None]:
    """(found, share of the copy covered, title-time error at the covered middle) for one hidden copy."""
    speed = SPEEDS.get(truth.transform, 1.0)
    right = [s for s in segments if s["title"] == truth.title and s["suspect_end"] > truth.query_start
             and s["suspect_start"] < truth.query_end]
    if not right:
        return False, 0.0, None
    covered = sum(min(s["suspect_end"], truth.query_end) - max(s["suspect_start"], truth.query_start) for s in right)
    best = max(right, key=lambda s: min(s["suspect_end"], truth.query_end) - max(s["suspect_start"],
                                                                                   truth.query_start))
    middle = (max(best["suspect_start"], truth.query_start) + min(best["suspect_end"], truth.query_end)) / 2
    actual = truth.title_start + (middle - truth.query_start) * speed
    starts = [best["title_start"], *(a for a, _ in best.get("title_alternatives", ()))]  # an honest range counts
    error = min(abs(start + (middle - best["suspect_start"]) * best["speed"] - actual) for start in starts)
    return True, min(1.0, covered / (truth.query_end - truth.query_start)), error


def reported(results: dict[str, Any], bar: float) -> dict[str, Any]:
    """What ``identify`` answers with the bar at ``bar``: each query's lines of that probability or less."""
    return {q: {**e, "segments": [s for s in e["lines"] if s["false_match_probability"] <= bar]}
            for q, e in results.items()}


def calibration_note(results: dict[str, Any], truths: list[Truth], negative_kind: dict[str, str]) -> str:
    """The evaluation split's calibration plot (docs/images/find-calibration.svg) and its note line."""
    def smallest(lines: list[dict[str, Any]]) -> float:
        return min((s["false_match_probability"] for s in lines), default=1.0)

    return calibration("find-calibration", [smallest(results[q]["lines"]) for q in negative_kind],
                       [smallest([s for s in results[t.query]["lines"] if _judge(t, [s])[0]]) for t in truths],
                       "bar alpha → negative queries answered / positives found")


def too_few_looks(work: Path, results: dict[str, Any], missed: list[Truth]) -> str:
    """How many missed copies had fewer picture looks than a report at the bar needs (``significance.reach``).

    A copy's looks are counted inside its own span of the query; the looks needed follow
    from the lines the query's picture search covered (its lines' ``lines_searched``).
    """
    short: dict[str, int] = defaultdict(int)
    for truth in missed:
        searched = [s["evidence"]["video"]["lines_searched"] for s in results[truth.query]["lines"]
                    if "video" in s["evidence"]]
        if not searched:
            continue
        query = VIDEO.extract(read_sample(work / "queries" / f"{truth.query}.mp4"), role="query")
        moments = np.unique(query.times.astype(np.float64))
        looks = picture_looks_of(query)
        inside = (moments >= truth.query_start) & (moments <= truth.query_end)
        if len(np.unique(looks[inside])) < reach(0, max(searched), DEFAULT_MAX_FALSE_MATCH).needed:
            short[truth.kind] += 1
    return (f"positives missed at the bar: {len(missed)}; of them {sum(short.values())} were copies with fewer "
            "picture looks than a report needs (docs/fingerprinting.md, reach: no statistic of this kind proves "
            "them by pictures): " + (", ".join(f"{k} {n}" for k, n in sorted(short.items())) or "none"))


def score(results: dict[str, Any], truths: list[Truth], negative_kind: dict[str, str], titles: int,
          draw: int, work: Path) -> None:
    calibration_line = calibration_note(results, truths, negative_kind)
    results = reported(results, DEFAULT_MAX_FALSE_MATCH)
    by_transform: dict[str, list[tuple[bool, float, float | None]]] = defaultdict(list)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    wrong_title = []
    for truth in truths:
        segments = results[truth.query]["segments"]
        judged = _judge(truth, segments)
        by_transform[truth.transform].append(judged)
        by_kind[truth.kind].append(judged[0])
        wrong_title += [(truth.query, s["title"], s["score"]) for s in segments if s["title"] != truth.title]
    rows = []
    for transform in EVAL_TRANSFORMS:
        judged = by_transform[transform]
        found = [j for j in judged if j[0]]
        errors = [j[2] for j in found if j[2] is not None]
        rows.append([transform, str(len(judged)), f"{len(found) / max(1, len(judged)):.2f}",
                     f"{statistics.median([j[1] for j in found]):.2f}" if found else "-",
                     f"{statistics.median(errors):.2f} / {max(errors):.1f}" if errors else "-"])
    answered = {q: results[q]["segments"] for q in negative_kind if results[q]["segments"]}
    hard = [q for q in negative_kind if negative_kind[q].startswith("same scene")]
    minutes = sum(e["duration"] for e in results.values()) / 60
    notes = [
        f"{len(truths)} positive queries (one copy of 3-30 s each, in hosts of the same classes), {len(negative_kind)} "
        f"negative queries ({len(hard)} of them a catalog fixed camera's own scene at another time); {titles} titles "
        f"of {len(CLASSES)} classes; content and sound share nothing with the copy-detection suite the thresholds "
        f"were set on; draw {draw}" + (" (the draw development was checked on)" if draw == 0 else
                                       " (seeds no change was judged by)"),
        f"negative queries answered with a match: {len(answered)} of {len(negative_kind)} "
        f"({sum(1 for q in answered if q in hard)} of {len(hard)} same-scene); by what the query was: "
        + _by_kind(answered, negative_kind) + "; e.g. "
        + ("; ".join(f"{q} ({negative_kind[q]}): " + ", ".join(f"{s['title']} {s['score']:.0f} {s['modality']}"
                                                               for s in segs[:3]) for q, segs in
                     list(answered.items())[:6]) or "none"),
        "reported segments whose title time is given as several equally good placements (a title that repeats "
        f"itself): {sum(1 for e in results.values() for s in e['segments'] if s.get('title_alternatives'))}",
        f"segments naming a wrong title on positive queries: {len(wrong_title)} (scores {_range(wrong_title)})",
        "recall per class: " + ", ".join(f"{k} {sum(v) / len(v):.2f} ({len(v)})" for k, v in sorted(by_kind.items())),
        too_few_looks(work, results, [t for t in truths if not _judge(t, results[t.query]["segments"])[0]]),
        f"identify: {sum(e['seconds'] for e in results.values()) / minutes:.1f} s per minute of query "
        f"(read + search + verify)",
        "columns: copies; recall (a reported segment of the right title overlaps the copy); median share of the copy "
        "the reported segments cover; title-time error at the middle of the covered part, median / max seconds",
        f"reported: segments whose false-match probability is at most {DEFAULT_MAX_FALSE_MATCH:g} (the default bar)",
        calibration_line,
    ]
    report("Content recognition: evaluation set (content unlike the suite)",
           ["transform", "copies", "recall", "covered", "time error s"], rows, notes)


def _by_kind(answered: dict[str, Any], negative_kind: dict[str, str]) -> str:
    """Answered / asked, per kind of negative query (same-scene ones together)."""
    kind_of = {q: "same scene" if k.startswith("same scene") else k for q, k in negative_kind.items()}
    return ", ".join(f"{k} {sum(1 for q in answered if kind_of[q] == k)}/{sum(1 for v in kind_of.values() if v == k)}"
                     for k in sorted(set(kind_of.values())))


def _range(wrong: list[tuple[str, str, float]]) -> str:
    scores = sorted(s for _, _, s in wrong)
    return f"{scores[0]:.0f}-{scores[-1]:.0f}, median {statistics.median(scores):.0f}" if scores else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/reelguard-find-eval"))
    parser.add_argument("--titles-per-class", type=int, default=4)
    parser.add_argument("--title-seconds", type=float, default=60.0)
    parser.add_argument("--host-seconds", type=float, default=150.0)
    parser.add_argument("--positives", type=int, default=210)
    parser.add_argument("--negatives", type=int, default=500)
    parser.add_argument("--draw", type=int, default=0,
                        help="which draw of content and queries (0: the one development was checked on; "
                             "report on one no change was judged by)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    titles, hosts = catalog(args.titles_per_class, args.title_seconds, args.host_seconds, args.draw)
    print(f"rendering {len(titles)} titles and {len(hosts)} hosts …", flush=True)
    build_programmes(args.work, titles, hosts)
    print("indexing titles …", flush=True)
    index = build_index(args.work, titles)
    plans, truths, negative_kind = plan(titles, hosts, args.work, args.positives, args.negatives,
                                        seed=18 + args.draw)
    print(f"rendering {len(plans)} queries …", flush=True)
    build_queries(args.work, plans)
    print("identifying …", flush=True)
    results = identify_all(args.work, index, list(plans))
    score(results, truths, negative_kind, len(titles), args.draw, args.work)


if __name__ == "__main__":
    main()
