"""``reelguard trace``: name the session a leaked copy came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, open_runtime, read_note, work_progress

__all__ = ["trace"]


def _render_report(data: dict[str, Any]) -> None:
    console.print(f"title {data['title']}: {data['reason']}")
    if note := read_note(data["read"]):
        console.print(note, markup=False)
    shown = "" if data["orientation"] == "as shown" else f" (the copy is {data['orientation']})"
    if data["speed"] != 1.0:
        shown += f", played at {data['speed']:g}× the master's speed"
    console.print(f"aligned at {data['offset_seconds']} s of the master{shown}, {len(data['segments'])} segments "
                  f"read, {data['sessions_scored']} sessions scored")
    if data["accused"]:
        console.print(_sessions_table("accused", data["accused"]))
    if data["suspected"]:
        console.print(_sessions_table("suspected — not accused: look for more copies of these; nothing is done "
                                      "to them on this evidence", data["suspected"]))


def _sessions_table(title: str, sessions: list[dict[str, Any]]) -> Table:
    table = Table("session", "account", "device", "ip", "started", "score", "p-value", "segments", title=title)
    for a in sessions:
        table.add_row(a["session"], a["account"], a["device"], str(a["ip"]), a["started_at"],
                      f"{a['score']:.1f}", f"{a['p_value']:.2g}", str(a["segments_used"]))
    return table


@click.command("trace")
@click.argument("suspect", type=click.Path(path_type=Path))
@click.option("--title", required=True, help="The watermarked title the suspect copies.")
@json_option
@click.pass_context
def trace(ctx: click.Context, suspect: Path, title: str, as_json: bool) -> None:
    """Align SUSPECT to TITLE's master, read its A/B sequence and accuse the sessions it names."""

    with open_runtime(ctx) as runtime, work_progress(not as_json) as progress:
        report = runtime.trace_service().trace(suspect, title=title, on_progress=progress)
    emit(report.to_json(), as_json, _render_report)
