"""The VSC22 scores, written from their public definitions (Pizzi et al. 2023; VCSL's precision/recall).

- **Descriptor μAP**: every (query, title) pair gets one score; pairs ranked by score over
  all queries; AP = Σ precision@k × Δrecall over the ranking, recall counted against every
  true pair (so pairs never scored cost recall).
- **Matching μAP** (segment AP): predictions (query, title, query span, title span, score)
  ranked by score; after each score level, per axis (query time, title time), the overlap
  of the union of predicted spans with the true spans of the pair — counting only true
  segments some prediction overlaps as a 2-D box — over all true length (recall) and over
  all predicted length (precision); P = √(Pq·Pr), R = √(Rq·Rr); AP = Σ P ΔR.
- **Recall at 99 % precision**, per transform: the lowest score at which the pair-level
  precision of all predictions at or above it is still ≥ 0.99; a true copy is recalled
  when a prediction for its pair at or above that score overlaps it in both axes.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass

__all__ = ["Prediction", "Truth", "descriptor_micro_ap", "recall_at_precision", "segment_ap"]


@dataclass(frozen=True)
class Span:
    """Query seconds [query_start, query_end) matched to title seconds [title_start, title_end)."""

    query: str
    title: str
    query_start: float
    query_end: float
    title_start: float
    title_end: float


@dataclass(frozen=True)
class Truth(Span):
    transform: str = ""


@dataclass(frozen=True)
class Prediction(Span):
    score: float = 0.0


def descriptor_micro_ap(pair_scores: dict[tuple[str, str], float], truths: list[Truth]) -> float:
    positives = {(t.query, t.title) for t in truths}
    ranked = sorted(pair_scores.items(), key=lambda item: -item[1])
    hits, ap = 0, 0.0
    for rank, (pair, _) in enumerate(ranked, start=1):
        if pair in positives:
            hits += 1
            ap += hits / rank / len(positives)
    return ap


def _union_length(spans: list[tuple[float, float]]) -> float:
    total, current = 0.0, None
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = [start, end]
        else:
            current[1] = max(current[1], end)
    return total + (current[1] - current[0] if current else 0.0)


def _intersection(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return _union_length(a) + _union_length(b) - _union_length(a + b)


def _boxes_overlap(p: Span, t: Span) -> bool:
    return (min(p.query_end, t.query_end) > max(p.query_start, t.query_start)
            and min(p.title_end, t.title_end) > max(p.title_start, t.title_start))


def segment_ap(predictions: list[Prediction], truths: list[Truth]) -> float:
    by_pair: dict[tuple[str, str], list[Truth]] = defaultdict(list)
    for truth in truths:
        by_pair[(truth.query, truth.title)].append(truth)
    axes = (("query_start", "query_end"), ("title_start", "title_end"))
    true_total = [sum(_union_length([(getattr(t, a), getattr(t, b)) for t in pair]) for pair in by_pair.values())
                  for a, b in axes]
    predicted: dict[tuple[str, str], list[Prediction]] = defaultdict(list)
    intersections = {pair: [0.0, 0.0] for pair in set(by_pair) | {(p.query, p.title) for p in predictions}}
    lengths = {pair: [0.0, 0.0] for pair in intersections}
    recall, metric = 0.0, 0.0
    ordered = sorted(predictions, key=lambda p: -p.score)
    for _, group in itertools.groupby(ordered, key=lambda p: p.score):
        for prediction in group:
            pair = (prediction.query, prediction.title)
            predicted[pair].append(prediction)
            touched = [t for t in by_pair.get(pair, []) if any(_boxes_overlap(p, t) for p in predicted[pair])]
            for axis, (a, b) in enumerate(axes):
                spans = [(getattr(p, a), getattr(p, b)) for p in predicted[pair]]
                intersections[pair][axis] = _intersection(spans, [(getattr(t, a), getattr(t, b)) for t in touched])
                lengths[pair][axis] = _union_length(spans)
        inter = [sum(v[axis] for v in intersections.values()) for axis in (0, 1)]
        total = [sum(v[axis] for v in lengths.values()) for axis in (0, 1)]
        new_recall = math.sqrt((inter[0] / true_total[0]) * (inter[1] / true_total[1]))
        precision = math.sqrt((inter[0] / total[0]) * (inter[1] / total[1])) if min(total) > 0 else 0.0
        metric += precision * (new_recall - recall)
        recall = new_recall
    return metric


def recall_at_precision(predictions: list[Prediction], truths: list[Truth],
                        target: float = 0.99) -> tuple[float, dict[str, float], dict[str, int]]:
    """(score threshold, recall per transform, copies per transform) at pair-level precision ≥ ``target``."""
    positives = {(t.query, t.title) for t in truths}
    ordered = sorted(predictions, key=lambda p: -p.score)
    threshold, correct = math.inf, 0
    for count, prediction in enumerate(ordered, start=1):
        correct += (prediction.query, prediction.title) in positives
        if correct / count >= target:
            threshold = prediction.score
    kept = [p for p in ordered if p.score >= threshold]
    by_transform: dict[str, list[bool]] = defaultdict(list)
    for truth in truths:
        by_transform[truth.transform].append(any(
            (p.query, p.title) == (truth.query, truth.title) and _boxes_overlap(p, truth) for p in kept))
    return threshold, {k: sum(v) / len(v) for k, v in by_transform.items()}, \
        {k: len(v) for k, v in by_transform.items()}
