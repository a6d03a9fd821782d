"""``reelguard policy``: check a policy file, explain a decision, what-if over devices.

    reelguard policy check my-policy.toml
    reelguard policy explain --account a1 --device tv --title ep01 --ip 203.0.113.7 [--at 2026-12-24T20:00:00Z]
    reelguard policy what-if --account a1 --title ep01 --ip 203.0.113.7 --json
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from reelguard.cli._shared import console, emit, json_option, open_runtime
from reelguard.composition import Runtime
from reelguard.license.explain import Explanation, PolicyExplainer
from reelguard.license.geo import GeoLocator
from reelguard.license.policy import Action
from reelguard.license.policy_file import load_policy

__all__ = ["policy"]

_AT = click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"])
_ACTION = click.Choice([Action.PLAY.value, Action.DOWNLOAD.value])


@click.group()
def policy() -> None:
    """The licence policy: validate it and explain its decisions."""


@policy.command("check")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), required=False)
def check(path: Path | None) -> None:
    """Parse and validate a policy file (the configured or built-in one if no PATH)."""
    loaded = load_policy(path)
    console.print(f"policy {loaded.name}@{loaded.version} is valid")


def _explainer(runtime: Runtime) -> PolicyExplainer:
    settings = runtime.settings
    return PolicyExplainer(load_policy(settings.license.policy_file), runtime.db,
                           GeoLocator.open(settings.license.geoip_database), audience=settings.tokens.audience)


def _when(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


@policy.command("explain")
@click.option("--account", required=True)
@click.option("--device", required=True)
@click.option("--title", required=True)
@click.option("--ip", required=True, help="The client's IP address (for geo and IP rules).")
@click.option("--at", type=_AT, default=None, help="When (default now; UTC if no offset).")
@click.option("--action", type=_ACTION, default="play", show_default=True)
@json_option
@click.pass_context
def explain(ctx: click.Context, account: str, device: str, title: str, ip: str, at: datetime | None,
            action: str, as_json: bool) -> None:
    """The decision for a new play (or download), per tier and per rule, and why."""
    with open_runtime(ctx) as runtime:
        explanation = _explainer(runtime).explain(account=account, device=device, title=title, ip=ip,
                                                  at=_when(at), action=Action(action))
    emit(explanation.as_dict(), as_json, lambda data: _render(data))


@policy.command("what-if")
@click.option("--account", required=True)
@click.option("--title", required=True)
@click.option("--ip", required=True)
@click.option("--at", type=_AT, default=None)
@click.option("--action", type=_ACTION, default="play", show_default=True)
@json_option
@click.pass_context
def what_if(ctx: click.Context, account: str, title: str, ip: str, at: datetime | None, action: str,
            as_json: bool) -> None:
    """The decision for every registered device of the account."""
    with open_runtime(ctx) as runtime:
        explanations = _explainer(runtime).what_if(account=account, title=title, ip=ip, at=_when(at),
                                                   action=Action(action))
    data = [e.as_dict() for e in explanations]
    emit(data, as_json, lambda rows: _render_table(explanations))


def _render(data: dict[str, Any]) -> None:
    verdict = "GRANTED" if data["granted"] else "DENIED"
    click.echo(f"{verdict}: {data['account']} / {data['device']} / {data['title']} ({data['action']} at "
               f"{data['at']} from {data['ip']}, country {data['country'] or 'unknown'}) by {data['policy']}")
    click.echo(f"reason: {data['reason']}")
    if data["expires_at"]:
        click.echo(f"licence until: {data['expires_at']}")
    click.echo("tiers:")
    for tier, why in data["per_tier"].items():
        click.echo(f"  {tier:<5} {why}")
    click.echo("rules:")
    _render_rule(data["rules"], 1)


def _render_rule(node: dict[str, Any], depth: int) -> None:
    mark = "ok  " if node["passed"] else "FAIL"
    extra = f"  [tiers {','.join(node['tiers'])}]" if "tiers" in node else ""
    click.echo(f"{'  ' * depth}{mark} {node['rule']}: {node['detail']}{extra}")
    for child in node.get("children", []):
        _render_rule(child, depth + 1)


def _render_table(explanations: list[Explanation]) -> None:
    for item in explanations:
        decision = item.decision
        tiers = ",".join(sorted(decision.tiers)) or "-"
        click.echo(f"{item.device:<24} {'GRANTED' if decision.granted else 'DENIED ':<8} {tiers:<16} "
                   f"{decision.reason}")
