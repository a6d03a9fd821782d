"""Persistence: the SQL store (SQLAlchemy + Alembic) and the blob store."""

from reelguard.store.blobs import BlobStore, LocalBlobStore
from reelguard.store.database import Database

__all__ = ["BlobStore", "Database", "LocalBlobStore"]
