"""What the licence server would say about an entitlement token — without issuing a key.

Integrators debugging their backend's tokens want the server's verdict and the reason:
``reelguard tokens verify TOKEN`` runs the server's own verifier (signature, ``kid`` and
algorithm, issuer, audience, expiry, ``nbf``, lifetime cap), then reads what a licence
request would look up: whether the ``jti`` already started a stream (single use), the
title, the account and the device. With an IP address it also runs the licence policy on
the token's own claims (``explain.py``). The header and claims are shown even for a
token that fails, read without trusting them and marked so::

    report = TokenInspector(verifier, db, clock).inspect(token)
    report.accepted, report.error, report.claims
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reelguard.clock import Clock
from reelguard.drm.keys import b64url_decode
from reelguard.errors import InvalidInput, ReelguardError
from reelguard.jsonbounds import parse_bounded_json
from reelguard.license.tokens import EntitlementClaims, TokenVerifier
from reelguard.store import licensing, repositories, subscribers
from reelguard.store.database import Database

__all__ = ["TokenInspector", "TokenReport"]


@dataclass(frozen=True)
class TokenReport:
    accepted: bool                      # the verifier accepts it (signature, claims, times)
    status: int                         # the HTTP status a licence request with it would get at this step
    error: str | None
    error_class: str | None
    header: dict[str, Any] | None       # as sent (unverified when not accepted)
    claims: dict[str, Any] | None
    checks: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "status": self.status, "error": self.error,
                "error_class": self.error_class, "header": self.header, "claims": self.claims, "checks": self.checks}


class TokenInspector:
    def __init__(self, verifier: TokenVerifier, db: Database, clock: Clock) -> None:
        self._verifier, self._db, self._clock = verifier, db, clock

    def inspect(self, token: str) -> TokenReport:
        now = self._clock()
        header, payload = _unverified(token, 0), _unverified(token, 1)
        try:
            claims = self._verifier.verify(token.strip(), now=now)
        except ReelguardError as exc:
            return TokenReport(False, exc.http_status, str(exc), type(exc).__name__, header, payload,
                               _times(payload, now))
        return TokenReport(True, 200, None, None, header, payload, {**_times(payload, now), **self._facts(claims)})

    def _facts(self, claims: EntitlementClaims) -> dict[str, Any]:
        """What a licence request would look up for this token (no keys)."""
        with self._db.session() as session:
            title = repositories.lookup_title(session, claims.title)
            account = subscribers.find_account(session, claims.account)
            devices = {d.id: d.status for d in subscribers.devices_of(session, claims.account)} if account else {}
            used = licensing.token_used(session, claims.token_id)
        return {
            "jti_already_used": used,
            "title": "missing" if title is None else title.status,
            "account": "missing" if account is None else account.status,
            "device": devices.get(claims.device, "unregistered"),
        }


def _unverified(token: str, index: int) -> dict[str, Any] | None:
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        value = parse_bounded_json(b64url_decode(parts[index]), what="a token segment")
    except InvalidInput:
        return None
    return value if isinstance(value, dict) else None


def _times(claims: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    if claims is None:
        return {}
    times: dict[str, Any] = {}
    for name in ("iat", "nbf", "exp"):
        value = claims.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            times[f"{name}_seconds_from_now"] = value - int(now.timestamp())
    return times
