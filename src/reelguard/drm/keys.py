"""Content-key identities: track tiers, key IDs and content keys (pure values).

One content key protects one *tier* of a title (``AUDIO``, ``SD``, ``HD``, ``UHD``), so
that a licence can later grant a weak device the SD key without the HD one::

    key = ContentKey.generate(TrackTier.HD)
    key.kid.hex                       # '9eb4050d…' (a UUID, 16 bytes)
    repr(key)                         # never shows the key bytes
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from reelguard.errors import InvalidInput

__all__ = ["ContentKey", "KeyId", "TrackTier", "b64url_decode", "b64url_encode", "tier_for_height"]

KEY_BYTES = 16
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")
SD_MAX_HEIGHT = 576
HD_MAX_HEIGHT = 1080


class TrackTier(StrEnum):
    """Shaka Packager's DRM labels, one content key each."""

    AUDIO = "AUDIO"
    SD = "SD"
    HD = "HD"
    UHD = "UHD"


def tier_for_height(height: int) -> TrackTier:
    """The tier of a video rendition: SD up to 576 lines, HD up to 1080, UHD above."""
    if height <= SD_MAX_HEIGHT:
        return TrackTier.SD
    if height <= HD_MAX_HEIGHT:
        return TrackTier.HD
    return TrackTier.UHD


def b64url_encode(raw: bytes) -> str:
    """Base64url without padding, as EME Clear Key and JWK use."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url decoding (padding optional); raises InvalidInput on anything else.

    ``base64.urlsafe_b64decode`` silently skips characters outside the alphabet, so this
    maps the URL-safe alphabet to the standard one and lets binascii's strict mode judge.
    It runs ~10 times per licence request, hence no regex.
    """
    if not isinstance(text, str) or not text or "+" in text or "/" in text:
        raise InvalidInput(f"expected a base64url string, got {_describe(text)}")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1 or len(text) - len(stripped) > 2:
        raise InvalidInput(f"expected a base64url string, got {_describe(text)}")
    try:
        padded = (stripped + "=" * (-len(stripped) % 4)).translate(_URLSAFE_TO_STANDARD)
        return binascii.a2b_base64(padded, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"expected a base64url string, got {_describe(text)}") from exc


def _describe(value: object) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"{shown!r} ({len(value)} characters)"
    return f"a {type(value).__name__}"


@dataclass(frozen=True, slots=True)
class KeyId:
    """A 16-byte key ID (a UUID), as written in ``tenc.default_KID`` and PSSH boxes."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != KEY_BYTES:
            raise InvalidInput(f"a KID is {KEY_BYTES} bytes, got {len(self.raw)}")

    @classmethod
    def generate(cls) -> KeyId:
        return cls(uuid.uuid4().bytes)

    @classmethod
    def from_hex(cls, text: str) -> KeyId:
        try:
            return cls(bytes.fromhex(text.replace("-", "")))
        except ValueError as exc:
            raise InvalidInput(f"expected a 32-digit hex KID, got {_describe(text)}") from exc

    @classmethod
    def from_b64url(cls, text: str) -> KeyId:
        return cls(b64url_decode(text))

    @property
    def hex(self) -> str:
        return self.raw.hex()

    @property
    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self.raw))

    @property
    def b64url(self) -> str:
        return b64url_encode(self.raw)

    def __str__(self) -> str:
        return self.uuid


@dataclass(frozen=True, slots=True)
class ContentKey:
    """A tier's KID and its 128-bit AES key. The key bytes never appear in repr or str."""

    kid: KeyId
    tier: TrackTier
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES:
            raise InvalidInput(f"a content key is {KEY_BYTES} bytes, got {len(self.key)}")

    @classmethod
    def generate(cls, tier: TrackTier) -> ContentKey:
        return cls(KeyId.generate(), tier, secrets.token_bytes(KEY_BYTES))

    def __str__(self) -> str:
        return f"ContentKey({self.tier}, kid={self.kid})"
