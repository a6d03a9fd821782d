"""The key store: content keys per title and tier, wrapped with the KEK at rest.

Keys are unwrapped only in memory, only for the packager and the licence server::

    store = KeyStore(kek)
    with db.transaction() as session:
        keys = store.create_title_keys(session, title_id, [TrackTier.AUDIO, TrackTier.HD])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from reelguard.drm.keys import ContentKey, KeyId, TrackTier
from reelguard.drm.keywrap import KeyEncryptionKey
from reelguard.store import repositories
from reelguard.store.models import ContentKeyRow

__all__ = ["KeyStore", "StoredKey"]


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A content key together with the title it belongs to, its generation, and when it is retired (if ever)."""

    title_id: str
    key: ContentKey
    generation: int = 1
    retire_at: datetime | None = None


class KeyStore:
    """Creates and reads content keys; the only code that sees the KEK."""

    def __init__(self, kek: KeyEncryptionKey) -> None:
        self._kek = kek

    def create_title_keys(
        self, session: Session, title_id: str, tiers: Iterable[TrackTier], now: datetime, *, generation: int = 1
    ) -> list[ContentKey]:
        """One fresh random key per tier, recorded (wrapped) in the caller's transaction."""
        keys = [ContentKey.generate(tier) for tier in tiers]
        for key in keys:
            session.add(
                ContentKeyRow(
                    kid=key.kid.hex,
                    title_id=title_id,
                    tier=key.tier.value,
                    wrapped_key=self._kek.wrap(key.key),
                    kek_id=self._kek.kek_id,
                    created_at=now,
                    generation=generation,
                )
            )
        return keys

    def import_key(self, session: Session, title_id: str, key: ContentKey, now: datetime, *, origin: str) -> None:
        """Record a key whose KID someone else chose (a SPEKE encryptor), wrapped like the rest."""
        session.add(ContentKeyRow(kid=key.kid.hex, title_id=title_id, tier=key.tier.value,
                                  wrapped_key=self._kek.wrap(key.key), kek_id=self._kek.kek_id, created_at=now,
                                  origin=origin))

    def keys_of_title(self, session: Session, title_id: str, generation: int | None = None) -> list[ContentKey]:
        """The title's keys of ``generation`` (the newest when None)."""
        return [self._unwrap(row) for row in repositories.keys_of_title(session, title_id, generation)]

    def lookup(self, session: Session, kids: Sequence[KeyId]) -> list[StoredKey]:
        """The stored keys among ``kids`` (unknown KIDs are simply absent)."""
        rows = repositories.keys_by_kids(session, [kid.hex for kid in kids])
        return [StoredKey(row.title_id, self._unwrap(row), row.generation or 1, row.retire_at) for row in rows]

    def _unwrap(self, row: ContentKeyRow) -> ContentKey:
        return ContentKey(KeyId.from_hex(row.kid), TrackTier(row.tier), self._kek.unwrap(row.wrapped_key))
