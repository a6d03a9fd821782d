"""``reelguard keyserver``: clients of the SPEKE v2 / CPIX key server.

    reelguard keyserver add-client packager-1 [--title ep01 ...]   # prints the secret once
    reelguard keyserver clients-file
"""

from __future__ import annotations

import click

from reelguard.cli._shared import console, emit, json_option, settings_from
from reelguard.drm.api_clients import add_client
from reelguard.web.key_routes import SPEKE_PATH

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
        console.print(f"client {client_id} added to {path}; restart the server to load it")
        click.echo(d["secret"])

    emit(data, as_json, render)


@keyserver.command("clients-file")
@click.pass_context
def clients_file(ctx: click.Context) -> None:
    """Print where the server reads its clients from."""
    click.echo(str(settings_from(ctx).resolved_api_clients_file))
