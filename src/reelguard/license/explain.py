"""``policy explain``: the licence server's own engine, run on the stored facts, explained.

No second implementation: the context is built by the same ``build_context`` from the
same store, with the usage counted as a start would count it, and the token assumed
fresh (issued now, the configured audience, not replayed). A what-if runs it for every
registered device of the account::

    explainer = PolicyExplainer(policy, db, geo, audience="reelguard-license")
    explanation = explainer.explain(account="a1", device="tv", title="ep01", ip="203.0.113.7", at=now)
    explanation.decision.granted, explanation.as_dict()
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reelguard.clock import system_clock
from reelguard.drm.keys import TrackTier
from reelguard.errors import InvalidInput, NotFound
from reelguard.license.downloads import usage_of
from reelguard.license.entitlements import build_context
from reelguard.license.facts import FactsCache
from reelguard.license.geo import GeoLocator
from reelguard.license.policy import Action, Decision, Policy, PolicyContext, Usage, Verdict
from reelguard.license.tokens import EntitlementClaims
from reelguard.store import repositories
from reelguard.store.database import Database

__all__ = ["Explanation", "PolicyExplainer"]

_ASSUMED_FRESH_TOKEN = "explain-assumes-a-fresh-token"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class Explanation:
    device: str
    context: PolicyContext
    decision: Decision

    def as_dict(self) -> dict[str, Any]:
        decision = self.decision
        return {
            "account": self.context.account.id, "device": self.device, "title": self.context.title.name,
            "action": str(self.context.action), "at": self.context.now.isoformat(), "ip": self.context.request.ip,
            "country": self.context.request.country, "granted": decision.granted,
            "tiers": sorted(decision.tiers), "reason": decision.reason, "policy": decision.policy_version,
            "expires_at": decision.expires_at.isoformat() if decision.expires_at else None,
            "per_tier": {str(t): why for t, why in decision.tier_reasons(self.context.title.tiers).items()},
            "rules": _verdict_dict(decision.verdict),
        }


def _verdict_dict(verdict: Verdict) -> dict[str, Any]:
    node: dict[str, Any] = {"rule": verdict.rule, "passed": verdict.passed, "detail": verdict.detail}
    if verdict.tiers is not None:
        node["tiers"] = sorted(verdict.tiers)
    if verdict.expires_at is not None:
        node["expires_at"] = verdict.expires_at.isoformat()
    if verdict.children:
        node["children"] = [_verdict_dict(child) for child in verdict.children]
    return node


class PolicyExplainer:
    def __init__(self, policy: Policy, db: Database, geo: GeoLocator, *, audience: str) -> None:
        self._policy, self._db, self._geo, self._audience = policy, db, geo, audience
        self._facts = FactsCache(db, system_clock, enabled=False)

    def explain(self, *, account: str, device: str, title: str, ip: str, at: datetime,
                action: Action = Action.PLAY) -> Explanation:
        issued = int(at.timestamp())
        claims = EntitlementClaims(account=account, title=title, device=device, token_id=_ASSUMED_FRESH_TOKEN,
                                   issued_at=issued, expires_at=issued + 300, audience=(self._audience,))
        return self.explain_token(claims, ip=ip, at=at, action=action, replayed=False)

    def explain_token(self, claims: EntitlementClaims, *, ip: str, at: datetime, action: Action = Action.PLAY,
                      replayed: bool) -> Explanation:
        """The decision for a start with this token's own claims (``tokens verify --ip``)."""
        if action not in (Action.PLAY, Action.DOWNLOAD):
            raise InvalidInput(f"explain answers for a new play or download, not {action}")
        _require_ip(ip)
        tiers = self._title_tiers(claims.title)
        context = build_context(now=at, action=action, claims=claims,
                                state=self._facts.load_account(claims.account),
                                rights=self._facts.rights(claims.title, cached_only=False), title_tiers=tiers, ip=ip,
                                country=self._geo.country(ip),
                                usage=self._usage(claims.account, claims.device, claims.title, at), replayed=replayed)
        return Explanation(claims.device, context, self._policy.decide(context))

    def what_if(self, *, account: str, title: str, ip: str, at: datetime,
                action: Action = Action.PLAY) -> list[Explanation]:
        """The decision for each device registered to the account (revoked ones included)."""
        _require_ip(ip)
        state = self._facts.load_account(account)
        if not state.devices:
            raise NotFound(f"account {account!r} has no registered devices")
        return [self.explain(account=account, device=device, title=title, ip=ip, at=at, action=action)
                for device in state.devices]

    def _title_tiers(self, title: str) -> frozenset[TrackTier]:
        with self._db.session() as session:
            record = repositories.load_title(session, title)
        return frozenset(TrackTier(s.tier) for s in (record.package.streams if record.package else ()))

    def _usage(self, account: str, device: str, title: str, at: datetime) -> Usage:
        with self._db.session() as session:
            return usage_of(session, account=account, device=device, title=title, now=at)


def _require_ip(ip: str) -> None:
    """The client's address as the licence server sees it: an IP address, never a host name."""
    try:
        ipaddress.ip_address(ip)
    except ValueError as exc:
        raise InvalidInput(f"expected the client's IPv4 or IPv6 address (like 203.0.113.7), got {ip[:60]!r}; "
                           "the licence server sees addresses, not host names") from exc
