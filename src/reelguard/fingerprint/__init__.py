"""Find: content recognition — which catalog title a suspect holds, and where (docs/fingerprinting.md).

One module per step: ``views`` (how a picture is looked at) → ``thumbnails``, ``pdq``,
``landmarks`` (the registered signature types, ``signatures``: their interface) →
``index`` (FAISS + memory-mapped landmark hashes) → ``matching`` (temporal verification)
→ ``service`` (reference signatures at ingest, ``identify`` for suspects).
"""

from reelguard.fingerprint import landmarks, pdq, thumbnails  # noqa: F401 — registers the signature types

__all__: list[str] = []
