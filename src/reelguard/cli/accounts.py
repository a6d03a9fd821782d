"""``reelguard accounts`` and ``reelguard devices``: subscribers, their devices and grants.

    reelguard accounts add acct-1 --plan premium
    reelguard accounts list [--status suspended] [--plan premium] [--json]
    reelguard accounts grant acct-1 ep01 --kind rental
    reelguard devices register acct-1 tv-1 --type tv --security-level hardware --hdcp 2.2
    reelguard devices list [acct-1] [--status revoked]
    reelguard devices revoke acct-1 tv-1
    reelguard devices reinstate acct-1 tv-1
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from reelguard.accounts.service import ACCOUNT_STATUSES, DEVICE_STATUSES, GRANT_KINDS, AccountService
from reelguard.cli._shared import console, emit, json_option, open_runtime
from reelguard.license.rules import HDCP_LEVELS, SECURITY_LEVELS

if TYPE_CHECKING:
    from reelguard.composition import Runtime

__all__ = ["accounts", "devices"]


def _service(runtime: Runtime) -> AccountService:
    return AccountService(runtime.db, runtime.clock)


@click.group()
def accounts() -> None:
    """Subscriber accounts: plans, suspension, purchases and rentals."""


@accounts.command("add")
@click.argument("account")
@click.option("--plan", required=True, help="The account's plan (title rights name plans).")
@click.pass_context
def add(ctx: click.Context, account: str, plan: str) -> None:
    """Create an active account."""
    with open_runtime(ctx) as runtime:
        _service(runtime).create_account(account, plan=plan)
    console.print(f"account {account} added on plan {plan}")


@accounts.command("set-plan")
@click.argument("account")
@click.argument("plan")
@click.pass_context
def set_plan(ctx: click.Context, account: str, plan: str) -> None:
    """Move an account to another plan."""
    with open_runtime(ctx) as runtime:
        _service(runtime).set_plan(account, plan)
    console.print(f"account {account} is on plan {plan}")


@accounts.command("suspend")
@click.argument("account")
@click.pass_context
def suspend(ctx: click.Context, account: str) -> None:
    """Suspend an account: its streams are refused at their next renewal."""
    with open_runtime(ctx) as runtime:
        _service(runtime).suspend_account(account)
    console.print(f"account {account} suspended")


@accounts.command("reinstate")
@click.argument("account")
@click.pass_context
def reinstate(ctx: click.Context, account: str) -> None:
    """Make a suspended account active again."""
    with open_runtime(ctx) as runtime:
        _service(runtime).reinstate_account(account)
    console.print(f"account {account} active")


@accounts.command("grant")
@click.argument("account")
@click.argument("title")
@click.option("--kind", type=click.Choice(GRANT_KINDS), required=True)
@click.option("--expires", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]), default=None,
              help="End of a rental's window (default: the policy's rental_hours).")
@click.pass_context
def grant(ctx: click.Context, account: str, title: str, kind: str, expires: datetime | None) -> None:
    """Record a purchase or a rental of one title."""
    with open_runtime(ctx) as runtime:
        _service(runtime).grant_title(account, title, kind=kind, expires_at=_aware(expires))
    console.print(f"{kind} of {title} recorded for {account}")


@accounts.command("list")
@click.option("--status", type=click.Choice(ACCOUNT_STATUSES), default=None)
@click.option("--plan", default=None)
@click.option("--after", default=None, help="Only accounts whose id sorts after this (the next page).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def list_(ctx: click.Context, status: str | None, plan: str | None, after: str | None, limit: int,
          as_json: bool) -> None:
    """Accounts in id order."""
    with open_runtime(ctx) as runtime:
        rows = [a.to_json() for a in _service(runtime).list_accounts(after=after, limit=limit, status=status,
                                                                       plan=plan)]

    def render(data: list[dict[str, Any]]) -> None:
        table = Table("account", "plan", "status", "created", "updated")
        for row in data:
            table.add_row(row["id"], row["plan"], row["status"], row["created_at"][:19], row["updated_at"][:19])
        console.print(table if data else "no accounts")
        if len(data) == limit:
            console.print(f"next page: --after {data[-1]['id']}")

    emit(rows, as_json, render)


@accounts.command("remove-grant")
@click.argument("account")
@click.argument("title")
@click.pass_context
def remove_grant(ctx: click.Context, account: str, title: str) -> None:
    """Take back a purchase or rental (a refund, a chargeback)."""
    with open_runtime(ctx) as runtime:
        _service(runtime).remove_grant(account, title)
    console.print(f"grant of {title} taken back from {account}")


@accounts.command("show")
@click.argument("account")
@json_option
@click.pass_context
def show(ctx: click.Context, account: str, as_json: bool) -> None:
    """An account with its devices and grants."""
    with open_runtime(ctx) as runtime:
        view = _service(runtime).show_account(account)

    def render(data: dict[str, object]) -> None:
        click.echo(f"{view.id}  plan={view.plan}  status={view.status}")
        for device in view.devices:
            click.echo(f"  device {device['id']}: {device['type']}, {device['security_level']}, "
                       f"HDCP {device['hdcp']}, {device['status']}")
        for item in view.grants:
            click.echo(f"  {item['kind']} of {item['title']} (expires {item['expires_at'] or 'never'})")

    emit(view.to_json(), as_json, render)


@click.group()
def devices() -> None:
    """Devices of an account: registration and revocation."""


@devices.command("register")
@click.argument("account")
@click.argument("device")
@click.option("--type", "device_type", required=True, help="browser, tv, mobile, desktop, …")
@click.option("--security-level", type=click.Choice(SECURITY_LEVELS), default="software", show_default=True,
              help="As the app reports it; the policy trusts it only up to its trust_up_to.")
@click.option("--hdcp", type=click.Choice(HDCP_LEVELS), default="none", show_default=True)
@click.pass_context
def register(ctx: click.Context, account: str, device: str, device_type: str, security_level: str,
             hdcp: str) -> None:
    """Register (or update) a device of an account."""
    with open_runtime(ctx) as runtime:
        _service(runtime).register_device(account, device, type=device_type, security_level=security_level,
                                          hdcp=hdcp)
    console.print(f"device {device} registered to {account}")


@devices.command("revoke")
@click.argument("account")
@click.argument("device")
@click.pass_context
def revoke(ctx: click.Context, account: str, device: str) -> None:
    """Revoke a device: its stream is refused at its next renewal."""
    with open_runtime(ctx) as runtime:
        _service(runtime).revoke_device(account, device)
    console.print(f"device {device} of {account} revoked")


@devices.command("list")
@click.argument("account", required=False)
@click.option("--status", type=click.Choice(DEVICE_STATUSES), default=None)
@json_option
@click.pass_context
def list_devices(ctx: click.Context, account: str | None, status: str | None, as_json: bool) -> None:
    """Devices of ACCOUNT (of every account if none is named)."""
    with open_runtime(ctx) as runtime:
        rows = [d.to_json() for d in _service(runtime).list_devices(account, status=status)]

    def render(data: list[dict[str, Any]]) -> None:
        table = Table("account", "device", "type", "security", "HDCP", "status", "registered")
        for row in data:
            table.add_row(row["account"], row["id"], row["type"], row["security_level"], row["hdcp"], row["status"],
                          row["registered_at"][:19])
        console.print(table if data else "no devices")

    emit(rows, as_json, render)


@devices.command("reinstate")
@click.argument("account")
@click.argument("device")
@click.pass_context
def reinstate_device(ctx: click.Context, account: str, device: str) -> None:
    """Make a revoked device active again (it may play and renew at once)."""
    with open_runtime(ctx) as runtime:
        _service(runtime).reinstate_device(account, device)
    console.print(f"device {device} of {account} reinstated")


def _aware(value: datetime | None) -> datetime | None:
    return value.astimezone() if value is not None and value.tzinfo is None else value
