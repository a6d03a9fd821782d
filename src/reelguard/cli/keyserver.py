"""``reelguard keyserver``: clients of the SPEKE v2 / CPIX key server.

    reelguard keyserver add-client packager-1 [--title ep01 ...]   # prints the secret once
    reelguard keyserver list [--json]
    reelguard keyserver revoke packager-1                        # refused at once, no restart
    reelguard keyserver clients-file
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, settings_from
from reelguard.drm.api_clients import SPEKE_PATH, add_client, read_clients, revoke_client

__all__ = ["keyserver"]


@click.group()
def keyserver() -> None:
    """The key server for third-party packagers (SPEKE v2, CPIX 2.3)."""


@keyserver.command("add-client")
@click.argument("client_id")
@click.option("--title", "titles", multiple=True, help="Limit the client to these titles (repeatable).")
@json_option
@click.pass_context
def add(ctx: click.Context, client_id: str, titles: tuple[str, ...], as_json: bool) -> None:
    """Create a client and print its signing secret (shown once; stored 0600 for the server)."""
    path = settings_from(ctx).resolved_api_clients_file
    secret = add_client(path, client_id, list(titles) or None)
    data = {"client": client_id, "secret": secret.hex(), "titles": list(titles) or "all",
            "endpoint": SPEKE_PATH, "clients_file": str(path)}

    def render(d: dict[str, object]) -> None:
        console.print(f"client {client_id} added to {path}; a running server picks it up at its next request")
        click.echo(d["secret"])

    emit(data, as_json, render)


@keyserver.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """The clients and the titles each may fetch keys of (never their secrets)."""
    clients = read_clients(settings_from(ctx).resolved_api_clients_file)
    rows = [{"client": c.id, "titles": sorted(c.titles) if c.titles is not None else "all"}
            for c in sorted(clients.values(), key=lambda c: c.id)]

    def render(data: list[dict[str, Any]]) -> None:
        table = Table("client", "titles")
        for row in data:
            table.add_row(row["client"], row["titles"] if isinstance(row["titles"], str) else ", ".join(row["titles"]))
        console.print(table if data else "no key-server clients")

    emit(rows, as_json, render)


@keyserver.command("revoke")
@click.argument("client_id")
@click.pass_context
def revoke(ctx: click.Context, client_id: str) -> None:
    """Remove a client: its next request is refused (the server re-reads the file when it changes)."""
    revoke_client(settings_from(ctx).resolved_api_clients_file, client_id)
    console.print(f"key-server client {client_id} revoked")


@keyserver.command("clients-file")
@click.pass_context
def clients_file(ctx: click.Context) -> None:
    """Print where the server reads its clients from."""
    click.echo(str(settings_from(ctx).resolved_api_clients_file))
