"""Watermark keys: one master secret, and per-title keys derived from it (HKDF-like HMAC).

The master secret (32 bytes, 0600, ``watermark.key``) is what an edge server shares with
the origin: with it an edge verifies session tokens and computes each session's A/B bits
without asking anyone. Each title derives its own keys, so a title's keys reveal nothing
about another's::

    keys = WatermarkSecret.load_or_create(path).title_keys(title_id)
    keys.embed   # the spread-spectrum pattern key
    keys.code    # the session code's PRF key
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path

from reelguard.drm.keywrap import load_or_create_secret

__all__ = ["TitleWatermarkKeys", "WatermarkSecret"]

SECRET_BYTES = 32


@dataclass(frozen=True)
class TitleWatermarkKeys:
    embed: bytes = field(repr=False)
    code: bytes = field(repr=False)


@dataclass(frozen=True)
class WatermarkSecret:
    material: bytes = field(repr=False)

    @classmethod
    def load_or_create(cls, path: Path) -> WatermarkSecret:
        return cls(load_or_create_secret(path, SECRET_BYTES))

    def derive(self, label: str) -> bytes:
        return hmac.new(self.material, b"reelguard-wm/" + label.encode(), hashlib.sha256).digest()

    def title_keys(self, title_id: str) -> TitleWatermarkKeys:
        return TitleWatermarkKeys(embed=self.derive(f"embed/{title_id}"), code=self.derive(f"code/{title_id}"))

    @property
    def token_key(self) -> bytes:
        """HS256 key of session watermarking tokens (origin and edges hold it)."""
        return self.derive("token")
