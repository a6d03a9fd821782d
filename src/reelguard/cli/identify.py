"""``reelguard identify``: which catalog titles a suspect file holds, and where; ``fingerprints``: the index.

    reelguard identify suspect.mkv --json
    reelguard fingerprints list
    reelguard fingerprints rebuild
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, open_runtime, read_note, work_progress

__all__ = ["fingerprints", "identify"]

_SENSES = {"video": "pictures", "audio": "sound"}
_LOOKS = {"video": "looks (runs of alike pictures)", "audio": "landmark anchors"}


def _render_report(data: dict[str, Any]) -> None:
    searched = " and ".join(data["modalities"])
    if note := read_note(data["read"]):
        console.print(f"{data['suspect']}: {note}", markup=False)
    if not data["matched"]:
        best = ", ".join(f"{k} {v:.2g}" for k, v in data["best"].items())
        console.print(f"{data['suspect']}: no match ({searched} searched; smallest false-match probability seen: "
                      f"{best}; a match needs {data['max_false_match_probability']:g} or less)")
        for modality, reach in data["reach"].items():
            if reach["looks"] < reach["needed"]:
                console.print(f"  {_SENSES[modality]}: {reach['looks']} distinct {_LOOKS[modality]}; a match needs at "
                              f"least {reach['needed']} here, so no copy in this file can be reported by its "
                              f"{_SENSES[modality]} alone (too short or too still: a longer piece may be)")
        return
    table = Table("title", "suspect from", "to", "title from", "to", "speed", "false match", "modality")
    for s in data["segments"]:
        title_from = f"{s['title_start']:.2f}" + "".join(f" or {a:.2f}" for a, _ in s["title_alternatives"])
        table.add_row(s["title"], f"{s['suspect_start']:.2f}", f"{s['suspect_end']:.2f}", title_from,
                      f"{s['title_end']:.2f}", f"{s['speed']:.2f}", f"{s['false_match_probability']:.1e}",
                      s["modality"])
    console.print(f"{data['suspect']} ({data['duration']:.1f} s, {searched} searched):")
    console.print(table)
    console.print("false match: the chance that content not in the catalog lines up with a title this well "
                  "(docs/fingerprinting.md)")
    if any(s["title_alternatives"] for s in data["segments"]):
        console.print("A title time given as 'A or B': the title repeats itself there (a loop, a still shot), and "
                      "the copy fits each placement as well.")


@click.command("identify")
@click.argument("suspect", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def identify(ctx: click.Context, suspect: Path, as_json: bool) -> None:
    """Find catalog content in SUSPECT: matched segments (title, where in each), or "no match"."""
    with open_runtime(ctx) as runtime, work_progress(not as_json) as progress:
        report = runtime.fingerprint_service().identify(suspect, on_progress=progress)
    emit(report.to_json(), as_json, _render_report)


@click.group("fingerprints")
def fingerprints() -> None:
    """The content-recognition index (reference signatures of every ingested title)."""


@fingerprints.command("list")
@json_option
@click.pass_context
def list_indexed(ctx: click.Context, as_json: bool) -> None:
    """Titles in the index."""
    with open_runtime(ctx) as runtime:
        titles = [{"name": t.name, "id": t.title_id, "seconds": t.seconds}
                  for t in runtime.fingerprint_service().index.titles()]
    emit(titles, as_json, _render_titles)


def _render_titles(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        console.print(f"{row['name']}  {row['id']}  {row['seconds']:.1f} s")


@fingerprints.command("rebuild")
@json_option
@click.pass_context
def rebuild(ctx: click.Context, as_json: bool) -> None:
    """Make the index again from the signatures stored at ingest (ready titles only).

    Names every ready title it could not index, and exits 70 if there is one.
    """
    with open_runtime(ctx) as runtime, work_progress(not as_json) as progress:
        report = runtime.fingerprint_service().rebuild(on_progress=progress)
    data = {"indexed": [{"name": t.name, "id": t.title_id} for t in report.indexed], "unindexed": report.unindexed}

    def render(d: dict[str, Any]) -> None:
        console.print(f"{len(d['indexed'])} titles indexed")
        for title in d["unindexed"]:
            console.print(f"NOT indexed: {title['name']} ({title['id']}): {title['reason']}", style="red",
                          markup=False)

    emit(data, as_json, render)
    if report.unindexed:
        ctx.exit(70)
