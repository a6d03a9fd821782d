"""``reelguard sessions``: playback sessions — licence streams and watermarked A/B sessions.

    reelguard sessions list [--account a1] [--title ep01] [--running] [--watermarked] [--json]
    reelguard sessions end 9f2c…                     # a stream: its slot frees now
    reelguard sessions start --account a1 --device tv --title ep01 [--ip 203.0.113.9]
    reelguard sessions render <session> leak.mp4
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, open_runtime, work_progress

__all__ = ["sessions"]


@click.group()
def sessions() -> None:
    """Playback sessions: licence streams, and per-session forensic watermarking (A/B streams)."""


@sessions.command("list")
@click.option("--account", default=None, help="Only this account's sessions.")
@click.option("--title", default=None, help="Only sessions of this title.")
@click.option("--running", is_flag=True, help="Only streams holding a slot now.")
@click.option("--watermarked", is_flag=True, help="List watermarking sessions (whom a leak points to) instead.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def list_(ctx: click.Context, account: str | None, title: str | None, running: bool, watermarked: bool,
          limit: int, as_json: bool) -> None:
    """Streams (one per playback, newest first), or watermarking sessions with --watermarked."""
    with open_runtime(ctx) as runtime:
        if watermarked:

            rows = runtime.session_service().list_sessions(account=account, title=title, limit=limit)
            rows = [r for r in rows if r["running"]] if running else rows
        else:
            from reelguard.license.streams import StreamAdmin

            rows = [s.to_json() for s in StreamAdmin(runtime.db, runtime.clock).list_streams(
                account=account, title=title, running_only=running, limit=limit)]
    emit(rows, as_json, _render_watermarked if watermarked else _render_streams)


def _render_streams(rows: list[dict[str, Any]]) -> None:
    table = Table("stream", "account", "device", "title", "started", "renewed", "slot until", "state")
    for row in rows:
        state = "running" if row["running"] else ("ended" if row["ended_at"] else "lapsed")
        table.add_row(row["id"], row["account"], row["device"], row["title"], row["started_at"][:19],
                      row["renewed_at"][:19], row["expires_at"][:19], state)
    console.print(table if rows else "no streams")


def _render_watermarked(rows: list[dict[str, Any]]) -> None:
    table = Table("session", "title", "account", "device", "ip", "started", "token until")
    for row in rows:
        table.add_row(row["session"], row["title"], row["account"], row["device"], str(row["ip"] or "-"),
                      row["started_at"][:19], row["expires_at"][:19])
    console.print(table if rows else "no watermarking sessions")


@sessions.command("end")
@click.argument("stream_id")
@json_option
@click.pass_context
def end(ctx: click.Context, stream_id: str, as_json: bool) -> None:
    """End a stream now: its slot frees, and the player's next renewal is decided as a new start."""
    from reelguard.license.streams import StreamAdmin

    with open_runtime(ctx) as runtime:
        ended = StreamAdmin(runtime.db, runtime.clock).end(stream_id)
    emit(ended.to_json(), as_json, lambda d: console.print(f"stream {d['id']} of {d['account']} ended"))


def _render_started(data: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    for field in ("session", "title", "account", "device", "ip", "started_at", "expires_at", "dash", "hls"):
        table.add_row(field, str(data[field]))
    console.print(table)


@sessions.command("start")
@click.option("--account", required=True)
@click.option("--device", required=True)
@click.option("--title", required=True)
@click.option("--ip", default=None, help="The viewer's IP address, kept as evidence.")
@json_option
@click.pass_context
def start(ctx: click.Context, account: str, device: str, title: str, ip: str | None, as_json: bool) -> None:
    """Start a watermarking session: its id, watermarking token and per-session stream URLs."""

    with open_runtime(ctx) as runtime:
        started = runtime.session_service().start(account=account, device=device, title=title, ip=ip)
    emit(started.to_json(), as_json, _render_started)


@sessions.command("render")
@click.argument("session_id")
@click.argument("out", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def render(ctx: click.Context, session_id: str, out: Path, as_json: bool) -> None:
    """Write the programme SESSION_ID was served (its A/B sequence), decrypted, to OUT.mp4."""

    with open_runtime(ctx) as runtime, work_progress(not as_json) as progress:
        service = runtime.session_service()
        path = service.render(session_id, out, on_progress=progress)
        bits = service.bits(session_id)
    data = {"session": session_id, "out": str(path), "segments": len(bits),
            "variants": "".join("B" if b else "A" for b in bits)}
    emit(data, as_json, lambda d: console.print(f"wrote {d['out']} ({d['segments']} segments: {d['variants']})"))
