"""``reelguard api-clients``: clients of the integration API (``/api/v1``) and their scopes.

    reelguard api-clients add backend --scope accounts:write --scope decisions:read   # prints the key once
    reelguard api-clients list [--json]
    reelguard api-clients revoke backend                                            # refused at once
    reelguard api-clients scopes
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, open_runtime
from reelguard.integration.clients import SCOPES, ApiClientRegistry

__all__ = ["api_clients"]


@click.group("api-clients")
def api_clients() -> None:
    """Clients of the integration API (/api/v1): API keys with scopes."""


@api_clients.command("add")
@click.argument("client_id")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(sorted(SCOPES)),
              help="What the client may do (repeatable; see 'api-clients scopes').")
@json_option
@click.pass_context
def add(ctx: click.Context, client_id: str, scopes: tuple[str, ...], as_json: bool) -> None:
    """Create a client and print its API key (shown once; only its hash is stored)."""
    with open_runtime(ctx) as runtime:
        key = ApiClientRegistry(runtime.db, runtime.clock).create(client_id, scopes=list(scopes))
    data = {"client": client_id, "scopes": sorted(scopes), "key": key,
            "use": "Authorization: Bearer <key> on /api/v1/... (API docs: /api/docs)"}

    def render(d: dict[str, Any]) -> None:
        console.print(f"API client {client_id} added with scopes {', '.join(d['scopes'])}; its key (shown once):")
        click.echo(d["key"])

    emit(data, as_json, render)


@api_clients.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """The clients, their scopes and when each was last used (never their keys)."""
    with open_runtime(ctx) as runtime:
        rows = [c.to_json() for c in ApiClientRegistry(runtime.db, runtime.clock).list_clients()]

    def render(data: list[dict[str, Any]]) -> None:
        table = Table("client", "scopes", "created", "last used", "revoked")
        for row in data:
            table.add_row(row["id"], ", ".join(row["scopes"]), row["created_at"][:19],
                          (row["last_used_at"] or "never")[:19], (row["revoked_at"] or "-")[:19])
        console.print(table if data else "no API clients")

    emit(rows, as_json, render)


@api_clients.command("revoke")
@click.argument("client_id")
@click.pass_context
def revoke(ctx: click.Context, client_id: str) -> None:
    """Revoke a client: its key is refused from its next request on."""
    with open_runtime(ctx) as runtime:
        ApiClientRegistry(runtime.db, runtime.clock).revoke(client_id)
    console.print(f"API client {client_id} revoked")


@api_clients.command("scopes")
def scopes() -> None:
    """The scopes a client may hold."""
    for name, what in SCOPES.items():
        click.echo(f"{name:<16} {what}")
