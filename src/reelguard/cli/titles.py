"""``reelguard titles``: add (ingest), list, show, resume and remove titles.

    reelguard titles add ep01.mp4 --name ep01 [--watermark]
    reelguard titles list | show ep01 | resume ep01
    reelguard titles remove ep01 [--yes]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, open_runtime, work_progress
from reelguard.ingest.records import title_view
from reelguard.store import repositories

__all__ = ["titles"]


@click.group()
def titles() -> None:
    """Ingest and inspect catalog titles."""


def _render_title(data: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    for field in ("name", "id", "status", "stage", "duration_seconds", "width", "height", "has_audio", "error"):
        table.add_row(field, str(data.get(field)))
    for stream in data.get("streams", []):
        size = f" {stream['width']}x{stream['height']}" if "width" in stream else ""
        described = f"{stream['name']} ({stream['kind']}{size}, tier {stream['tier']}, kid {stream['kid']})"
        table.add_row("stream", described)
    console.print(table)


@titles.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Catalog name (letters, digits, . _ -).")
@click.option("--watermark", is_flag=True, help="Encode forensic A/B watermark variants (docs/watermarking.md).")
@json_option
@click.pass_context
def add(ctx: click.Context, path: Path, name: str, watermark: bool, as_json: bool) -> None:
    """Validate PATH, store it, create keys, transcode the ladder and package it encrypted."""

    with open_runtime(ctx) as runtime, work_progress(not as_json) as progress:
        view = runtime.ingest_service().add_title(path, name=name, watermark=watermark, on_progress=progress)
    emit(view.to_json(), as_json, _render_title)


@titles.command("resume")
@click.argument("name")
@json_option
@click.pass_context
def resume(ctx: click.Context, name: str, as_json: bool) -> None:
    """Continue an interrupted or failed ingest from its last completed stage."""

    with open_runtime(ctx) as runtime, work_progress(not as_json) as progress:
        view = runtime.ingest_service().resume_title(name, on_progress=progress)
    emit(view.to_json(), as_json, _render_title)


@titles.command("show")
@click.argument("name")
@json_option
@click.pass_context
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show one title: status, stage, streams and their (public) key IDs."""
    with open_runtime(ctx) as runtime, runtime.db.session() as session:
        view = title_view(repositories.load_title(session, name))
    emit(view.to_json(), as_json, _render_title)


@titles.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the catalog."""
    with open_runtime(ctx) as runtime, runtime.db.session() as session:
        views = [title_view(title).to_json() for title in repositories.list_titles(session)]

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table("name", "status", "stage", "duration", "size", "streams")
        for row in rows:
            table.add_row(row["name"], row["status"], row["stage"], f"{row['duration_seconds']:.1f} s",
                          f"{row['width']}x{row['height']}", str(len(row["streams"])))
        console.print(table)

    emit(views, as_json, render)


@titles.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_context
def remove(ctx: click.Context, name: str, yes: bool, as_json: bool) -> None:
    """Remove a title: keys, packages, fingerprints, watermarking sessions, rights and grants.

    Running streams of it are ended and downloads released; the licence decisions stay.
    """

    with open_runtime(ctx) as runtime:
        removal = runtime.title_removal()
        plan = removal.plan(name)
        if not yes:
            console.print(f"title {plan.title} ({plan.status}): {plan.keys} content keys, {plan.open_streams} open "
                          f"streams, {plan.watermarking_sessions} watermarking sessions, {plan.grants} purchases/"
                          f"rentals, {plan.downloads} downloads, rights {'set' if plan.has_rights else 'none'}")
            click.confirm(f"remove {plan.title} and all of the above for good?", abort=True, err=True)
        removed = removal.remove(name)
    emit(removed.to_json(), as_json, lambda d: console.print(f"title {d['title']} removed"))


@titles.command("rotate-keys")
@click.argument("name")
@click.option("--grace-hours", type=click.FloatRange(0, 720), default=None,
              help="How long the old keys stay licensed; default [keys] rotation_grace_hours.")
@json_option
@click.pass_context
def rotate_keys(ctx: click.Context, name: str, grace_hours: float | None, as_json: bool) -> None:
    """New content keys for NAME: the title packaged anew under them, the old keys retired after the grace period."""
    from datetime import timedelta

    with open_runtime(ctx) as runtime, work_progress(not as_json) as progress:
        grace = timedelta(hours=grace_hours if grace_hours is not None else runtime.settings.keys.rotation_grace_hours)
        report = runtime.key_rotation().rotate(name, grace=grace, on_progress=progress).to_json()
    emit(report, as_json, lambda r: console.print(
        f"{r['title']}: generation {r['from_generation']} → {r['to_generation']}; the old keys are licensed until "
        f"{r['retire_at']}", markup=False))
