"""The evidence log's signing key: an Ed25519 signer key in a 0600 file, made on first use.

The file holds the key as Go's ``sumdb/note`` writes it (``PRIVATE+KEY+name+keyid+key``),
so the same file works with Go's tools. The key's name is the log's origin; a file whose
key has another name is refused, since every checkpoint would then name the wrong log::

    signer = load_or_create_signer(Path("/srv/rg/evidence-signing.key"), "evidence.example.org/log")
"""

from __future__ import annotations

import os
from pathlib import Path

from reelguard.enforcement.checkpoint import NoteSigner
from reelguard.errors import ConfigurationError, EvidenceInvalid
from reelguard.secretfiles import read_secret_text

__all__ = ["load_or_create_signer"]


def load_or_create_signer(path: Path, origin: str) -> NoteSigner:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(NoteSigner.generate(origin).skey + "\n")
        except FileExistsError:
            pass  # another process made it first: read theirs
    try:
        signer = NoteSigner.from_skey(read_secret_text(path, "evidence signing key"))
    except EvidenceInvalid as exc:
        raise ConfigurationError(f"evidence signing key file {path}: {exc}") from None
    if signer.name != origin:
        raise ConfigurationError(f"evidence signing key file {path} holds the key of log {signer.name!r}, but "
                                 f"[evidence] origin is {origin!r}: set origin to the key's name, or use another file")
    return signer
