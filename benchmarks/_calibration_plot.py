"""A calibration plot as a plain SVG file (no plotting library): stated probability against what was observed.

    note = calibration("find-calibration", smallest_per_negative, smallest_per_copy,
                       "bar alpha → negative queries answered / positives found")

x: the bar alpha (the largest false-match probability reported), log scale; y: the share of
negative queries answered at that bar (each a false match), log scale, beside the
diagonal y = alpha that a calibrated probability may not exceed; and, on a linear right-hand
scale, the share of copies found at that bar (recall). An observed share of 0 is drawn at
the bottom edge, labelled with the number of negative queries it rests on.
"""

from __future__ import annotations

import math
from pathlib import Path

__all__ = ["calibration", "write_calibration_plot"]

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 640, 420, 70, 70, 30, 60
_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def calibration(name: str, negatives: list[float], copies: list[float], legend: str) -> str:
    """Stated vs observed, from each negative query's and each copy's smallest false-match probability.

    Writes the plot to docs/images/``name``.svg and returns the benchmark's note line: at
    each bar, the negatives answered (each a false match the bar promised to keep under
    that share) and the copies found.
    """
    bars = [10.0 ** -k for k in range(1, 13)]  # a bar of 1 answers everything: not a point
    observed = [sum(p <= bar for p in negatives) / len(negatives) for bar in bars]
    recall = [sum(p <= bar for p in copies) / len(copies) for bar in bars]
    write_calibration_plot(_IMAGES / f"{name}.svg", bars, observed, recall, len(negatives))
    return (f"calibration (docs/images/{name}.svg): {legend}: "
            + ", ".join(f"{bar:.0e} → {o * len(negatives):.0f}/{len(negatives)} / {r:.2f}"
                        for bar, o, r in zip(bars, observed, recall, strict=True)))


def write_calibration_plot(path: Path, bars: list[float], observed: list[float], recall: list[float],
                           negatives: int) -> None:
    low = min(min(bars), 1.0 / (10 * negatives))
    decades = range(math.floor(math.log10(low)), 1)

    def x(value: float) -> float:
        return _LEFT + (math.log10(value) - math.log10(low)) / -math.log10(low) * (_W - _LEFT - _RIGHT)

    def y(value: float) -> float:  # log scale for probabilities; 0 sits on the bottom edge
        share = max(value, low)
        return _H - _BOTTOM - (math.log10(share) - math.log10(low)) / -math.log10(low) * (_H - _TOP - _BOTTOM)

    def y_recall(value: float) -> float:
        return _H - _BOTTOM - value * (_H - _TOP - _BOTTOM)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" font-family="sans-serif" '
             f'font-size="11"><rect width="{_W}" height="{_H}" fill="white"/>']
    for decade in decades:
        value = 10.0 ** decade
        parts.append(f'<line x1="{x(value):.1f}" y1="{_TOP}" x2="{x(value):.1f}" y2="{_H - _BOTTOM}" stroke="#eee"/>')
        parts.append(f'<text x="{x(value):.1f}" y="{_H - _BOTTOM + 14}" text-anchor="middle">1e{decade}</text>')
        parts.append(f'<line x1="{_LEFT}" y1="{y(value):.1f}" x2="{_W - _RIGHT}" y2="{y(value):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">1e{decade}</text>')
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{_W - _RIGHT + 6}" y="{y_recall(tick) + 4:.1f}" fill="#1a7f37">{tick:.2f}</text>')
    parts.append(f'<line x1="{x(low):.1f}" y1="{y(low):.1f}" x2="{x(1.0):.1f}" y2="{y(1.0):.1f}" '
                 f'stroke="#999" stroke-dasharray="4 3"/>')
    points = " ".join(f"{x(b):.1f},{y(o):.1f}" for b, o in zip(bars, observed, strict=True))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#cf222e" stroke-width="2"/>')
    parts += [f'<circle cx="{x(b):.1f}" cy="{y(o):.1f}" r="3" fill="#cf222e"/>' for b, o in zip(bars, observed,
                                                                                              strict=True)]
    recall_points = " ".join(f"{x(b):.1f},{y_recall(r):.1f}" for b, r in zip(bars, recall, strict=True))
    parts.append(f'<polyline points="{recall_points}" fill="none" stroke="#1a7f37" stroke-width="2"/>')
    parts.append(f'<text x="{_W / 2}" y="{_H - 20}" text-anchor="middle">stated false-match probability '
                 f'(the bar alpha)</text>')
    parts.append(f'<text x="{_LEFT}" y="18" fill="#cf222e">negative queries answered at alpha (of {negatives}; '
                 f'bottom edge: none)</text>')
    parts.append(f'<text x="{_W - _RIGHT}" y="18" text-anchor="end" fill="#1a7f37">copies found (right scale)'
                 f'</text>')
    parts.append(f'<text x="{x(1e-1):.1f}" y="{y(1e-1) - 8:.1f}" fill="#999" text-anchor="end">observed = '
                 f'stated</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n")
