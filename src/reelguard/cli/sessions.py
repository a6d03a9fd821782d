"""``reelguard sessions``: start a watermarked playback session, render what it was served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, open_runtime
from reelguard.watermark.sessions import SessionService

__all__ = ["sessions"]


@click.group()
def sessions() -> None:
    """Per-session forensic watermarking (A/B streams)."""


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
    """Start a session: its id, watermarking token and per-session stream URLs."""
    with open_runtime(ctx) as runtime:
        started = SessionService(runtime).start(account=account, device=device, title=title, ip=ip)
    emit(started.to_json(), as_json, _render_started)


@sessions.command("render")
@click.argument("session_id")
@click.argument("out", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def render(ctx: click.Context, session_id: str, out: Path, as_json: bool) -> None:
    """Write the programme SESSION_ID was served (its A/B sequence), decrypted, to OUT.mp4."""
    with open_runtime(ctx) as runtime:
        service = SessionService(runtime)
        path = service.render(session_id, out)
        bits = service.bits(session_id)
    data = {"session": session_id, "out": str(path), "segments": len(bits),
            "variants": "".join("B" if b else "A" for b in bits)}
    emit(data, as_json, lambda d: console.print(f"wrote {d['out']} ({d['segments']} segments: {d['variants']})"))
