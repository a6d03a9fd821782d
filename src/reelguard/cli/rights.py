"""``reelguard rights``: which plans, territories and windows a title is licensed for.

    reelguard rights set ep01 --plan premium --plan standard --territory GB --territory IE \
        --from 2026-12-01 --until 2027-12-01 --downloadable
"""

from __future__ import annotations

from datetime import datetime

import click

from reelguard.accounts.service import AccountService
from reelguard.cli._shared import console, open_runtime

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
    console.print(f"rights of {title}: plans {', '.join(plans) or '(none)'}; "
                  f"territories {', '.join(territories) or 'all'}; downloadable {downloadable}")


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
