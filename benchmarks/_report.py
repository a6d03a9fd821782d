"""Shared by the benchmark scripts: print a table and append it to docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmarks.md"


def _commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    # the results file itself does not count: a second benchmark run in one sitting finds it appended to
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            f":!{RESULTS.relative_to(ROOT)}"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return (result.stdout.strip() or "unknown") + ("+dirty" if dirty else "")


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(title: str, headers: list[str], rows: list[list[str]], notes: list[str]) -> None:
    """Print the table and append it, with date, commit and machine, to docs/benchmarks.md."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    table = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *[line(r) for r in rows]]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"## {title}", "", f"{stamp} · commit {_commit()} · {machine()}", "", *table, "",
             *[f"- {n}" for n in notes], "", ""]
    print("\n".join(block))
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmarks\n\nAppended by the scripts in `benchmarks/`; newest last. "
                           "Ratios against a comparator measured in the same run matter more than "
                           "absolute times (the machine is shared and noisy).\n\n")
    with RESULTS.open("a") as handle:
        handle.write("\n".join(block))
