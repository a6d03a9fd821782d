"""Test doubles and contract tests, shipped with the package so that every adapter is held to one contract.

- ``MemoryBlobStore`` — a ``BlobStore`` in memory (named for what it is: no disk, no S3);
- ``FixedClock`` — a clock that says what the test says, and moves when told;
- ``BlobStoreContract`` — the tests every ``BlobStore`` must pass; a store's own test module
  subclasses it and provides ``make_store``::

    class TestMemoryBlobStore(BlobStoreContract):
        def make_store(self, tmp_path: Path) -> BlobStore:
            return MemoryBlobStore()

Used by the test suite; never wired into a running server.
"""

from reelguard.testing.blobs import BlobStoreContract, MemoryBlobStore
from reelguard.testing.clock import FixedClock

__all__ = ["BlobStoreContract", "FixedClock", "MemoryBlobStore"]
