"""Clients of the integration API: the platform's backend, holding an API key with scopes.

A key is shown once when the client is made and stored only as its SHA-256; it reads
``rgk.<client>.<secret>`` and is sent as ``Authorization: Bearer rgk.…``. Each client has
scopes (``SCOPES``) and a revoked client is refused at its next request — on every worker,
since clients live in the database::

    registry = ApiClientRegistry(db, clock)
    key = registry.create("backend", scopes=["accounts:write", "decisions:read"])   # printed once
    client = registry.authenticate("Bearer " + key)
    client.require("accounts:write")
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from reelguard.clock import Clock
from reelguard.errors import AuthenticationError, Conflict, InvalidInput, NotFound, PermissionDenied
from reelguard.store.database import Database
from reelguard.store.models import ApiClientRow

__all__ = ["SCOPES", "ApiClient", "ApiClientRegistry", "ApiClientView"]

SCOPES = {
    "accounts:read": "read accounts, their devices and grants",
    "accounts:write": "create and change accounts, plans, suspension, devices, purchases and rentals",
    "rights:read": "read title rights",
    "rights:write": "set title rights",
    "streams:read": "list streams",
    "streams:write": "end streams",
    "decisions:read": "read the licence decision log",
}
_KEY_PREFIX = "rgk"
_LAST_USED_RESOLUTION = timedelta(minutes=1)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class ApiClient:
    """An authenticated caller."""

    id: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"API client {self.id!r} lacks the scope {scope!r} "
                                   f"(it has {', '.join(sorted(self.scopes)) or 'none'}); "
                                   f"'reelguard api-clients add' grants scopes to a new client")


@dataclass(frozen=True)
class ApiClientView:
    id: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None
    last_used_at: str | None

    @classmethod
    def of(cls, row: ApiClientRow) -> ApiClientView:
        return cls(row.id, sorted(row.scopes), row.created_at.isoformat(),
                   row.revoked_at.isoformat() if row.revoked_at else None,
                   row.last_used_at.isoformat() if row.last_used_at else None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiClientRegistry:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db, self._clock = db, clock

    def create(self, client_id: str, *, scopes: Sequence[str]) -> str:
        """A new client; its API key, which is not stored and cannot be shown again."""
        if not _CLIENT_ID.match(client_id):
            raise InvalidInput(f"expected a client id of 1-64 letters, digits, - or _, got {client_id[:80]!r}")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise InvalidInput(f"expected scopes among {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}")
        secret = secrets.token_urlsafe(32)
        now = self._clock()
        try:
            with self._db.transaction() as session:
                session.add(ApiClientRow(id=client_id, key_hash=_digest(secret), scopes=sorted(set(scopes)),
                                         created_at=now, revoked_at=None, last_used_at=None))
        except IntegrityError as exc:
            raise Conflict(f"API client {client_id!r} already exists") from exc
        return f"{_KEY_PREFIX}.{client_id}.{secret}"

    def list_clients(self) -> list[ApiClientView]:
        with self._db.session() as session:
            return [ApiClientView.of(row) for row in session.scalars(select(ApiClientRow).order_by(ApiClientRow.id))]

    def revoke(self, client_id: str) -> ApiClientView:
        with self._db.transaction() as session:
            row = session.get(ApiClientRow, client_id)
            if row is None:
                raise NotFound(f"no API client {client_id[:64]!r} (see 'reelguard api-clients list')")
            if row.revoked_at is None:
                row.revoked_at = self._clock()
            return ApiClientView.of(row)

    def authenticate(self, authorization: str | None) -> ApiClient:
        """The client an ``Authorization: Bearer rgk.<client>.<secret>`` header names, or 401."""
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise AuthenticationError("expected 'Authorization: Bearer rgk.<client>.<secret>' (an API key from "
                                      "'reelguard api-clients add'), got none")
        prefix, _, rest = key.strip().partition(".")
        client_id, _, secret = rest.partition(".")
        if prefix != _KEY_PREFIX or not client_id or not secret or len(key) > 300:
            raise AuthenticationError("expected an API key of the form rgk.<client>.<secret>")
        with self._db.session() as session:
            row = session.get(ApiClientRow, client_id)
        if row is None or not hmac.compare_digest(row.key_hash, _digest(secret)):
            raise AuthenticationError("the API key does not verify")
        if row.revoked_at is not None:
            raise AuthenticationError(f"API client {client_id!r} was revoked at {row.revoked_at.isoformat()}")
        now = self._clock()
        if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
            with self._db.transaction() as session:  # a write per minute, not per request
                session.execute(update(ApiClientRow).where(ApiClientRow.id == client_id).values(last_used_at=now))
        return ApiClient(row.id, frozenset(row.scopes))
