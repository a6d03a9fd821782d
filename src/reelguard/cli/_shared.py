"""What every command group shares: settings/runtime from the click context, output, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

if TYPE_CHECKING:
    from reelguard.composition import Runtime
    from reelguard.settings import Settings

__all__ = ["console", "emit", "json_option", "open_runtime", "read_note", "settings_from", "work_progress"]

# Long messages stay one line (grep-able, never cut); piped into a file or a log, tables get
# room for their columns instead of the 80 a non-terminal would give them.
console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 200)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def settings_from(ctx: click.Context) -> Settings:
    """Settings for the command: ``--data-dir`` (or ``$REELGUARD_DATA_DIR``) and that folder's reelguard.toml."""
    from reelguard.settings import Settings

    data_dir: Path | None = ctx.find_root().params.get("data_dir")
    return Settings.load(**({"data_dir": data_dir} if data_dir else {}))


@contextmanager
def open_runtime(ctx: click.Context) -> Iterator[Runtime]:
    from reelguard.composition import Runtime  # the adapters' imports are paid by commands that use them

    runtime = Runtime.open(settings_from(ctx))
    try:
        yield runtime
    finally:
        runtime.close()


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON on stdout, or render it for people."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        render(data)


@contextmanager
def work_progress(enabled: bool) -> Iterator[Callable[[str, float, float], None]]:
    """A Rich progress bar per step of a long job (ingest, identify, trace, render, rebuild).

    The job calls ``update(step, done, total)``; each step reports its own end as
    ``done == total``, so a bar at 100 % means the step finished. Silent when disabled
    (``--json``: stdout is for the document, and a bar on stderr would only be noise).
    """
    if not enabled:
        yield lambda _step, _done, _total: None
        return
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn  # only long jobs draw bars

    columns = (TextColumn("{task.description:<10}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def update(step: str, done: float, total: float) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total or 1)
            progress.update(tasks[step], completed=done, total=total or 1)

        yield update


def read_note(read: dict[str, Any]) -> str | None:
    """What part of a suspect was read (a report's ``read``, ``Coverage.to_json``), when not known to be all of it."""
    if not read or read["complete"]:
        return None
    known = read["stopped_early"] or read["damaged_packets"] or len(read["spans"]) > 1
    return f"{'partial file' if known else 'length unknown'}, {read['summary']}"
