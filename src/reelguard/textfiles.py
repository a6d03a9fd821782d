"""Reading an operator's text file (a policy, action rules): bounded, UTF-8, every failure a clear error.

    text = read_config_text(Path("/srv/rg/rules.toml"), what="action rules file", max_bytes=256 * 1024)
"""

from __future__ import annotations

from pathlib import Path

from reelguard.errors import ConfigurationError

__all__ = ["read_config_text"]


def read_config_text(path: Path, *, what: str, max_bytes: int) -> str:
    """The text of ``path``; ``ConfigurationError`` naming ``what`` and the file when it is too large, unreadable
    or not UTF-8."""
    try:
        if path.stat().st_size > max_bytes:
            raise ConfigurationError(f"{what} {path} is over {max_bytes} bytes")
        return path.read_text("utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{what} {path} is not UTF-8 text") from None
