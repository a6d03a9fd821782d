"""Persistence: the SQL store (SQLAlchemy + Alembic) and the blob store."""

from typing import TYPE_CHECKING

from reelguard._lazy import lazy_exports

if TYPE_CHECKING:
    from reelguard.store.blobs import BlobStore, LocalBlobStore
    from reelguard.store.database import Database

__all__ = ["BlobStore", "Database", "LocalBlobStore"]
__getattr__ = lazy_exports(__name__, {"BlobStore": "reelguard.store.blobs", "LocalBlobStore": "reelguard.store.blobs",
                                      "Database": "reelguard.store.database"})
