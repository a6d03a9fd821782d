"""``reelguard decisions``: the licence decision log — who got keys, who was refused, and why.

    reelguard decisions list --account a1 --outcome denied --since 2026-12-01 --json
    reelguard decisions list --title ep01 --rule concurrent_streams --limit 20
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, open_runtime

__all__ = ["decisions"]

_WHEN = click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"])


@click.group()
def decisions() -> None:
    """The licence decision log (every licence request, granted or refused)."""


@decisions.command("list")
@click.option("--account", default=None)
@click.option("--device", default=None)
@click.option("--title", default=None)
@click.option("--rule", default=None, help="The rule that refused (e.g. concurrent_streams, device_registered).")
@click.option("--outcome", type=click.Choice(["granted", "denied"]), default=None)
@click.option("--since", type=_WHEN, default=None, help="From this time on (UTC if no offset).")
@click.option("--until", type=_WHEN, default=None, help="Before this time (UTC if no offset).")
@click.option("--before", type=int, default=None, help="Only decisions older than this id (the next page).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def list_(ctx: click.Context, account: str | None, device: str | None, title: str | None, rule: str | None,
          outcome: str | None, since: datetime | None, until: datetime | None, before: int | None, limit: int,
          as_json: bool) -> None:
    """Decisions matching every filter, newest first."""
    from reelguard.license.decisions import DecisionLog

    with open_runtime(ctx) as runtime:
        rows = DecisionLog(runtime.db).find(account=account, device=device, title=title, rule=rule, outcome=outcome,
                                            since=_utc(since), until=_utc(until), before=before, limit=limit)
    emit([r.to_json() for r in rows], as_json, _render)


def _render(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("no decisions match")
        return
    table = Table("id", "at", "action", "account", "device", "title", "ip", "outcome", "tiers", "rule / reason")
    for row in rows:
        outcome = "granted" if row["granted"] else "DENIED"
        why = row["reason"] if row["granted"] else f"{row['rule']}: {row['reason']}"
        table.add_row(str(row["id"]), row["at"][:19], row["action"], row["account"], row["device"], row["title"],
                      row["ip"], outcome, ",".join(row["tiers"]) or "-", why[:80])
    console.print(table)
    console.print(f"next page: --before {rows[-1]['id']}")


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
