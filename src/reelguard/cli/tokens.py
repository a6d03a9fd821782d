"""``reelguard tokens``: mint entitlement tokens (what the platform's backend would do)."""

from __future__ import annotations

import click

from reelguard.cli._shared import emit, json_option, open_runtime

__all__ = ["tokens"]


@click.group()
def tokens() -> None:
    """Entitlement tokens for the licence server."""


@tokens.command("issue")
@click.option("--account", required=True, help="Account id (the token's sub).")
@click.option("--title", required=True, help="Title name the token entitles.")
@click.option("--device", required=True, help="Device id.")
@click.option("--ttl", default=300, show_default=True, type=click.IntRange(min=1), help="Lifetime in seconds.")
@json_option
@click.pass_context
def issue(ctx: click.Context, account: str, title: str, device: str, ttl: int, as_json: bool) -> None:
    """Mint a token with the configured backend signing key and print it."""
    with open_runtime(ctx) as runtime:
        now = runtime.clock()
        token = runtime.signer.issue(account=account, title=title, device=device, ttl_seconds=ttl, now=now)
        data = {"token": token, "account": account, "title": title, "device": device,
                "expires_at": int(now.timestamp()) + ttl, "kid": runtime.signer.kid}
    emit(data, as_json, lambda d: click.echo(d["token"]))
