"""``reelguard rights``: which plans, territories and windows a title is licensed for.

    reelguard rights set ep01 --plan premium --plan standard --territory GB --territory IE \
        --from 2026-12-01 --until 2027-12-01 --downloadable
    reelguard rights show ep01 [--json]
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from reelguard.accounts.service import AccountService
from reelguard.cli._shared import console, emit, json_option, open_runtime
from reelguard.license.geo import territories_unenforced

__all__ = ["rights"]

_DATES = click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"])


@click.group()
def rights() -> None:
    """Title rights: plans, territories, availability windows, downloads."""


@rights.command("set")
@click.argument("title")
@click.option("--plan", "plans", multiple=True, help="A plan that includes the title (repeatable).")
@click.option("--territory", "territories", multiple=True, help="ISO 3166 country code (repeatable; none: all).")
@click.option("--from", "available_from", type=_DATES, default=None, help="Start of availability (UTC if naive).")
@click.option("--until", "available_until", type=_DATES, default=None, help="End of availability.")
@click.option("--downloadable/--not-downloadable", default=False, show_default=True)
@click.pass_context
def set_rights(ctx: click.Context, title: str, plans: tuple[str, ...], territories: tuple[str, ...],
               available_from: datetime | None, available_until: datetime | None, downloadable: bool) -> None:
    """Replace a title's rights."""
    with open_runtime(ctx) as runtime:
        AccountService(runtime.db, runtime.clock).set_title_rights(
            title, plans=list(plans), territories=list(territories) or None,
            available_from=_utc(available_from), available_until=_utc(available_until), downloadable=downloadable)
        geo_configured = runtime.settings.license.geoip_database is not None
    console.print(f"rights of {title}: plans {', '.join(plans) or '(none)'}; "
                  f"territories {', '.join(territories) or 'all'}; downloadable {downloadable}")
    if territories and not geo_configured:
        console.print(f"warning: {territories_unenforced([title])}", style="yellow", markup=False, highlight=False)


@rights.command("show")
@click.argument("title")
@json_option
@click.pass_context
def show(ctx: click.Context, title: str, as_json: bool) -> None:
    """A title's rights: plans, territories, window, downloads."""
    with open_runtime(ctx) as runtime:
        view = AccountService(runtime.db, runtime.clock).title_rights(title)

    def render(data: dict[str, Any]) -> None:
        click.echo(f"{data['title']}: plans {', '.join(data['plans'] or []) or '(none: purchases/rentals only)'}; "
                   f"territories {', '.join(data['territories'] or []) or 'all'}; "
                   f"from {data['available_from'] or 'always'} until {data['available_until'] or 'forever'}; "
                   f"downloadable {data['downloadable']}")

    emit(view.to_json(), as_json, render)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
