"""Wrapping content keys at rest with a key-encryption key (RFC 3394 AES Key Wrap).

The KEK is 32 random bytes in a file that only its owner may read; the first run
creates it. A stored key is ``AES-KW(KEK, key)`` (24 bytes) and its KEK id, so a KEK can
later be rotated or come from a KMS without changing the records' shape::

    kek = KeyEncryptionKey.load_or_create(Path(".reelguard/kek.bin"))
    wrapped = kek.wrap(content_key_bytes)
    kek.unwrap(wrapped) == content_key_bytes
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from reelguard.errors import ConfigurationError

__all__ = ["KeyEncryptionKey", "load_or_create_secret"]

KEK_BYTES = 32
_OWNER_ONLY = 0o600


@dataclass(frozen=True)
class KeyEncryptionKey:
    """An AES-256 key-encryption key and its stable id (first bytes of its SHA-256)."""

    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEK_BYTES:
            raise ConfigurationError(
                f"the key-encryption key must be {KEK_BYTES} bytes, got {len(self.material)}"
            )

    @property
    def kek_id(self) -> str:
        return hashlib.sha256(b"reelguard-kek-id" + self.material).hexdigest()[:16]

    def wrap(self, key: bytes) -> bytes:
        return aes_key_wrap(self.material, key)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self.material, wrapped)
        except InvalidUnwrap as exc:
            raise ConfigurationError(
                f"a stored content key does not unwrap with KEK {self.kek_id}: "
                "the data folder and the key-encryption key do not belong together"
            ) from exc

    @classmethod
    def load_or_create(cls, path: Path) -> KeyEncryptionKey:
        """Read the KEK file, creating it (0600) on first use; refuse group/world access."""
        return cls(load_or_create_secret(path, KEK_BYTES))


def load_or_create_secret(path: Path, size: int) -> bytes:
    """Read a raw secret file, creating it (0600, ``size`` random bytes) on first use.

    Refuses a file that group or others may read, or one of the wrong size.
    """
    if not path.exists():
        _create_secret_file(path, secrets.token_bytes(size))
    _require_owner_only(path)
    material = path.read_bytes()
    if len(material) != size:
        raise ConfigurationError(f"secret file {path} holds {len(material)} bytes; expected {size}")
    return material


def _create_secret_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _OWNER_ONLY)
    except FileExistsError:
        return  # another process created it first; use theirs
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def _require_owner_only(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"secret file {path} has mode {oct(mode)}; expected 0o600 (chmod 600 {path})"
        )
