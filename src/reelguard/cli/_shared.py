"""What every command group shares: settings/runtime from the click context, output, progress."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from reelguard.runtime import Runtime
from reelguard.settings import Settings

__all__ = ["console", "emit", "ingest_progress", "json_option", "open_runtime"]

console = Console(stderr=True)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def settings_from(ctx: click.Context) -> Settings:
    data_dir: Path | None = ctx.find_root().params.get("data_dir")
    return Settings.load(**({"data_dir": data_dir} if data_dir else {}))


@contextmanager
def open_runtime(ctx: click.Context) -> Iterator[Runtime]:
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
def ingest_progress(enabled: bool) -> Iterator[Callable[[str, float, float], None]]:
    """A Rich progress bar per ingest step (transcode, package); silent when disabled."""
    if not enabled:
        yield lambda _step, _done, _total: None
        return
    columns = (TextColumn("{task.description:<10}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def update(step: str, done: float, total: float) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total or 1)
            progress.update(tasks[step], completed=done, total=total or 1)

        yield update
