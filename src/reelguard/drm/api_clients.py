"""Key-server clients (packagers, encoders) and their signed requests.

Each client has an id and a 256-bit secret, kept in a 0600 TOML file the server reads
(``reelguard keyserver add-client`` writes it and prints the secret once). A request is
signed with HMAC-SHA256 over::

    METHOD \\n PATH \\n UNIX-SECONDS \\n hex(SHA-256(body))

and carries ``X-Reelguard-Client``, ``X-Reelguard-Date`` and ``X-Reelguard-Signature``.
The server accepts a date within ``max_skew`` of its clock, compares in constant time,
and refuses a signature it has already seen inside that window (replay). Clients may
be limited to some titles::

    headers = sign_request("packager-1", secret, "POST", "/speke/v2/copyProtection", body, now)
    client = clients.authenticate(headers, "POST", "/speke/v2/copyProtection", body, now)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reelguard.errors import AuthenticationError, ConfigurationError, Conflict, InvalidInput, PermissionDenied

__all__ = ["ApiClient", "ApiClients", "add_client", "sign_request"]

MAX_SKEW_SECONDS = 300
_HEADERS = ("x-reelguard-client", "x-reelguard-date", "x-reelguard-signature")


@dataclass(frozen=True)
class ApiClient:
    id: str
    secret: bytes
    titles: frozenset[str] | None  # None: every title

    def __repr__(self) -> str:
        return f"ApiClient(id={self.id!r}, titles={self.titles!r})"

    def may_use(self, title: str) -> None:
        if self.titles is not None and title not in self.titles:
            raise PermissionDenied(f"key-server client {self.id!r} may not fetch keys of title {title[:200]!r}")


def _string_to_sign(method: str, path: str, date: str, body: bytes) -> bytes:
    return f"{method.upper()}\n{path}\n{date}\n{hashlib.sha256(body).hexdigest()}".encode()


def sign_request(client_id: str, secret: bytes, method: str, path: str, body: bytes, now: datetime) -> dict[str, str]:
    """The headers that authenticate one request (what a packager integration sends)."""
    date = str(int(now.timestamp()))
    signature = hmac.new(secret, _string_to_sign(method, path, date, body), hashlib.sha256).hexdigest()
    return {"X-Reelguard-Client": client_id, "X-Reelguard-Date": date, "X-Reelguard-Signature": signature}


class ApiClients:
    def __init__(self, clients: Mapping[str, ApiClient]) -> None:
        self._clients = dict(clients)
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> ApiClients:
        """Clients from the 0600 TOML file; no file means no client can authenticate."""
        if not path.exists():
            return cls({})
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise ConfigurationError(f"{path} holds client secrets and must be 0600, "
                                     f"is {oct(stat.S_IMODE(path.stat().st_mode))}")
        try:
            document = tomllib.loads(path.read_text("utf-8"))
            clients = {name: ApiClient(name, bytes.fromhex(entry["secret"]),
                                       frozenset(entry["titles"]) if "titles" in entry else None)
                       for name, entry in document.get("clients", {}).items()}
        except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"{path} is not a valid clients file ([clients.NAME] secret = hex)") from exc
        return cls(clients)

    def authenticate(self, headers: Mapping[str, str], method: str, path: str, body: bytes,
                     now: datetime) -> ApiClient:
        client_id, date, signature = (headers.get(name) for name in _HEADERS)
        if not client_id or not date or not signature:
            raise AuthenticationError("expected X-Reelguard-Client, X-Reelguard-Date and X-Reelguard-Signature "
                                      "headers (an HMAC-SHA256 request signature)")
        client = self._clients.get(client_id)
        if client is None:
            raise AuthenticationError(f"unknown key-server client {client_id[:60]!r}")
        if not date.isdigit() or abs(int(now.timestamp()) - int(date)) > MAX_SKEW_SECONDS:
            raise AuthenticationError(f"X-Reelguard-Date must be Unix seconds within {MAX_SKEW_SECONDS} s of the "
                                      "server's clock")
        expected = hmac.new(client.secret, _string_to_sign(method, path, date, body), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise AuthenticationError("request signature does not verify")
        self._remember(signature.lower(), int(now.timestamp()))
        return client

    def _remember(self, signature: str, now: int) -> None:
        with self._lock:
            if signature in self._seen:
                raise AuthenticationError("this signed request was already used (replay)")
            for old in [s for s, at in self._seen.items() if at < now - 2 * MAX_SKEW_SECONDS]:
                del self._seen[old]
            self._seen[signature] = now


def add_client(path: Path, client_id: str, titles: list[str] | None = None) -> bytes:
    """Append a client with a fresh secret to the 0600 file (created if missing); the secret."""
    if not client_id.replace("-", "").replace("_", "").isalnum() or len(client_id) > 64:
        raise InvalidInput(f"client id must be 1-64 letters, digits, - or _; got {client_id[:80]!r}")
    existing = ApiClients.load(path)
    if client_id in existing._clients:
        raise Conflict(f"key-server client {client_id!r} already exists in {path}")
    secret = secrets.token_bytes(32)
    entry = f'\n[clients.{client_id}]\nsecret = "{secret.hex()}"\n'
    if titles:
        entry += "titles = [" + ", ".join(f'"{t}"' for t in titles) + "]\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(entry)
    return secret
