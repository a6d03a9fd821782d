"""``reelguard tokens``: mint entitlement tokens (what the platform's backend would do), and
check one as the licence server would.

    reelguard tokens issue --account a1 --title ep01 --device tv1 --ttl 300
    reelguard tokens verify eyJhbGciOi… [--ip 203.0.113.7] [--json]
"""

from __future__ import annotations

from typing import Any

import click

from reelguard.cli._shared import console, emit, json_option, open_runtime
from reelguard.errors import InvalidInput

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
    from reelguard.license.policy_file import load_policy
    from reelguard.license.rules import TokenRules

    with open_runtime(ctx) as runtime:
        settings = runtime.settings
        policy = load_policy(settings.license.policy_file)
        caps = [(settings.tokens.max_ttl_seconds, "the server's [tokens] max_ttl_seconds")] + [
            (rule.max_lifetime_seconds, f"policy {policy.label}'s token rule")
            for rule in policy.mandatory_rules() if isinstance(rule, TokenRules)]
        cap, source = min(caps)
        if ttl > cap:
            raise InvalidInput(f"--ttl {ttl} is longer than {source} allows ({cap} s); the licence server would "
                               f"refuse the token. Use --ttl {cap} or less")
        if runtime.trusted_keys.get(runtime.signer.kid) is None:
            raise InvalidInput(f"this data folder's licence server trusts the backend's keys "
                               f"({', '.join(runtime.trusted_keys.kids)}), not the local demo signing key: a token "
                               "from 'tokens issue' would be refused. Have the backend mint the token")
        now = runtime.clock()
        token = runtime.signer.issue(account=account, title=title, device=device, ttl_seconds=ttl, now=now)
        data = {"token": token, "account": account, "title": title, "device": device,
                "expires_at": int(now.timestamp()) + ttl, "kid": runtime.signer.kid}
    emit(data, as_json, lambda d: click.echo(d["token"]))


@tokens.command("verify")
@click.argument("token")
@click.option("--ip", default=None, help="Also run the licence policy for a start from this client address.")
@json_option
@click.pass_context
def verify(ctx: click.Context, token: str, ip: str | None, as_json: bool) -> None:
    """What the licence server would say about TOKEN (signature, claims, times, single use, facts); no keys.

    Exits 0 when the server accepts the token (and, with --ip, the policy grants a start).
    """
    from reelguard.license.explain import PolicyExplainer
    from reelguard.license.geo import GeoLocator
    from reelguard.license.policy_file import load_policy
    from reelguard.license.token_report import TokenInspector

    with open_runtime(ctx) as runtime:
        report = TokenInspector(runtime.verifier, runtime.db, runtime.clock).inspect(token)
        data = report.to_json()
        if report.accepted and ip is not None:
            settings = runtime.settings
            claims = runtime.verifier.verify(token.strip(), now=runtime.clock())
            explainer = PolicyExplainer(load_policy(settings.license.policy_file), runtime.db,
                                        GeoLocator.open(settings.license.geoip_database),
                                        audience=settings.tokens.audience)
            data["policy"] = explainer.explain_token(claims, ip=ip, at=runtime.clock(),
                                                     replayed=data["checks"]["jti_already_used"]).as_dict()
    emit(data, as_json, _render)
    granted = data.get("policy", {}).get("granted", True)
    if not report.accepted or not granted:
        ctx.exit(77)


def _render(data: dict[str, Any]) -> None:
    if data["accepted"]:
        console.print("token ACCEPTED by the verifier (signature, issuer, audience, times, lifetime)")
    else:
        console.print(f"token REFUSED: HTTP {data['status']} {data['error_class']}: {data['error']}")
    if data["header"] is not None:
        console.print(f"header{'' if data['accepted'] else ' (unverified)'}: {data['header']}")
    if data["claims"] is not None:
        console.print(f"claims{'' if data['accepted'] else ' (unverified)'}: {data['claims']}")
    for name, value in data["checks"].items():
        console.print(f"  {name}: {value}")
    if "policy" in data:
        policy = data["policy"]
        console.print(f"policy {policy['policy']}: {'GRANTED' if policy['granted'] else 'DENIED'} "
                      f"({policy['reason']}); tiers {', '.join(policy['tiers']) or 'none'}")
