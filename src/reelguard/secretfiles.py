"""A secret kept in a file of its own, readable by its owner only (0600) — an API key, a bearer credential.

Secrets are never settings values: a setting names the file, and the file is read here,
refused when others could read it too. Errors name the file, never its content::

    key = read_secret_text(Path("/srv/rg/prowlarr.key"), "Torznab API key")
"""

from __future__ import annotations

import stat
from pathlib import Path

from reelguard.errors import ConfigurationError

__all__ = ["read_secret_text"]


def read_secret_text(path: Path, what: str) -> str:
    """The stripped text of ``path``; ``ConfigurationError`` if it is missing, readable by others, or empty."""
    if not path.exists():
        raise ConfigurationError(f"{what} file {path} does not exist")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigurationError(f"{what} file {path} must be 0600 (it is readable by others: chmod 600 {path})")
    text = path.read_text("utf-8").strip()
    if not text:
        raise ConfigurationError(f"{what} file {path} is empty")
    return text
