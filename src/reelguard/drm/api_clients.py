"""Key-server clients (packagers, encoders) and their signed requests.

Each client has an id and a 256-bit secret, kept in a 0600 TOML file the server reads
(``reelguard keyserver add-client`` writes it and prints the secret once). A request is
signed with HMAC-SHA256 over::

    METHOD \\n PATH \\n UNIX-SECONDS \\n hex(SHA-256(body))

and carries ``X-Reelguard-Client``, ``X-Reelguard-Date`` and ``X-Reelguard-Signature``.
The server accepts a date within ``max_skew`` of its clock, compares in constant time,
and refuses a signature it has already seen inside that window (replay) — seen by any
worker, before or after a restart: the signatures live in the store
(``store.signatures``). Clients may be limited to some titles. The server re-reads the
file when it changes, so ``reelguard keyserver revoke`` takes effect without a restart::

    headers = sign_request("packager-1", secret, "POST", "/speke/v2/copyProtection", body, now)
    clients = ApiClients(path, seen=SeenSignatures(db))
    client = clients.authenticate(headers, "POST", "/speke/v2/copyProtection", body, now)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from reelguard.errors import (
    AuthenticationError,
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

__all__ = ["SPEKE_PATH", "ApiClient", "ApiClients", "SignatureLedger", "add_client", "read_clients", "revoke_client",
           "sign_request"]

MAX_SKEW_SECONDS = 300
SPEKE_PATH = "/speke/v2/copyProtection"  # the key server's one route (AWS SPEKE v2)
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


class SignatureLedger(Protocol):
    """Where accepted signatures are remembered for their window (``store.signatures.SeenSignatures``)."""

    def first_use(self, signature: str, *, client_id: str, expires_at: datetime, now: datetime) -> bool: ...


def read_clients(path: Path) -> dict[str, ApiClient]:
    """The clients of the 0600 TOML file; no file means no client."""
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(f"{path} holds client secrets and must be 0600, is {oct(mode)}")
    try:
        document = tomllib.loads(path.read_text("utf-8"))
        return {name: ApiClient(name, bytes.fromhex(entry["secret"]),
                                frozenset(entry["titles"]) if "titles" in entry else None)
                for name, entry in document.get("clients", {}).items()}
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"{path} is not a valid clients file ([clients.NAME] secret = hex)") from exc


class ApiClients:
    """The key server's view of its clients file, re-read whenever the file changes."""

    def __init__(self, path: Path, *, seen: SignatureLedger) -> None:
        self._path, self._seen = path, seen
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._clients: dict[str, ApiClient] = {}
        self._current()  # a broken file fails the server's start, not its first request

    def _current(self) -> dict[str, ApiClient]:
        try:
            status = self._path.stat()
            version: tuple[int, int] | None = (status.st_mtime_ns, status.st_size)
        except FileNotFoundError:
            version = None
        with self._lock:
            if version != self._version or version is None:
                self._clients, self._version = read_clients(self._path), version
            return self._clients

    def authenticate(self, headers: Mapping[str, str], method: str, path: str, body: bytes,
                     now: datetime) -> ApiClient:
        client_id, date, signature = (headers.get(name) for name in _HEADERS)
        if not client_id or not date or not signature:
            raise AuthenticationError("expected X-Reelguard-Client, X-Reelguard-Date and X-Reelguard-Signature "
                                      "headers (an HMAC-SHA256 request signature)")
        client = self._current().get(client_id)
        if client is None:
            raise AuthenticationError(f"unknown key-server client {client_id[:60]!r}")
        if not date.isdigit() or abs(int(now.timestamp()) - int(date)) > MAX_SKEW_SECONDS:
            raise AuthenticationError(f"X-Reelguard-Date must be Unix seconds within {MAX_SKEW_SECONDS} s of the "
                                      "server's clock")
        expected = hmac.new(client.secret, _string_to_sign(method, path, date, body), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise AuthenticationError("request signature does not verify")
        # the signature could be accepted again until its date leaves the window on either side
        window_end = datetime.fromtimestamp(int(date) + MAX_SKEW_SECONDS + 1, UTC)
        if not self._seen.first_use(expected, client_id=client.id, expires_at=window_end, now=now):
            raise AuthenticationError("this signed request was already used (replay); sign each request anew")
        return client


def add_client(path: Path, client_id: str, titles: list[str] | None = None) -> bytes:
    """Append a client with a fresh secret to the 0600 file (created if missing); the secret."""
    if not client_id.replace("-", "").replace("_", "").isalnum() or len(client_id) > 64:
        raise InvalidInput(f"client id must be 1-64 letters, digits, - or _; got {client_id[:80]!r}")
    if client_id in read_clients(path):
        raise Conflict(f"key-server client {client_id!r} already exists in {path}")
    secret = secrets.token_bytes(32)
    entry = _toml_entry(ApiClient(client_id, secret, frozenset(titles) if titles else None))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(entry)
    return secret


def revoke_client(path: Path, client_id: str) -> None:
    """Remove a client from the file (rewritten whole, 0600, by atomic rename); its requests fail at once."""
    clients = read_clients(path)
    if client_id not in clients:
        known = ", ".join(sorted(clients)) or "none"
        raise NotFound(f"no key-server client {client_id[:64]!r} in {path} (clients: {known})")
    kept = [client for name, client in clients.items() if name != client_id]
    text = "".join(_toml_entry(client) for client in kept)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(staging, path)


def _toml_entry(client: ApiClient) -> str:
    """One ``[clients.ID]`` table (titles as JSON strings, which TOML reads the same)."""
    entry = f'\n[clients.{client.id}]\nsecret = "{client.secret.hex()}"\n'
    if client.titles:
        entry += f"titles = [{', '.join(json.dumps(t) for t in sorted(client.titles))}]\n"
    return entry
