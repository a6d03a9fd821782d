"""Every blob store passes one contract (reelguard.testing.BlobStoreContract); the local store's own details."""

from __future__ import annotations

import os
from pathlib import Path

from reelguard.store.blobs import BlobStore, LocalBlobStore
from reelguard.testing import BlobStoreContract, MemoryBlobStore


class TestLocalBlobStore(BlobStoreContract):
    def make_store(self, tmp_path: Path) -> BlobStore:
        return LocalBlobStore(tmp_path / "blobs")


class TestMemoryBlobStore(BlobStoreContract):
    def make_store(self, tmp_path: Path) -> BlobStore:
        return MemoryBlobStore()


def _tree(root: Path, manifest: bytes) -> Path:
    (root / "dash").mkdir(parents=True)
    (root / "dash" / "manifest.mpd").write_bytes(manifest)
    return root


def test_a_published_tree_is_a_pointer_switched_in_one_rename(tmp_path: Path) -> None:
    """publish_tree had a moment between two renames when no package existed at all."""
    store = LocalBlobStore(tmp_path / "blobs")
    for n in range(5):
        store.publish_tree("packages/t1", _tree(tmp_path / f"g{n}", str(n).encode()))
    pointer = tmp_path / "blobs" / "packages" / "t1"
    assert pointer.is_symlink() and not os.path.isabs(os.readlink(pointer))  # relative: the folder may move
    generations = sorted((tmp_path / "blobs" / "packages" / ".t1.generations").iterdir())
    assert len(generations) == 3 and pointer.resolve() == generations[-1].resolve()  # current + two previous
    assert sorted(p.name for p in (tmp_path / "blobs" / "packages").iterdir()) == [".t1.generations", "t1"]
    assert store.local_path("packages/t1/dash/manifest.mpd") is not None
    store.delete_prefix("packages/t1")
    assert list((tmp_path / "blobs" / "packages").iterdir()) == []


def test_a_tree_published_before_generations_is_taken_over(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    old = tmp_path / "blobs" / "packages" / "t1" / "dash"
    old.mkdir(parents=True)
    (old / "manifest.mpd").write_bytes(b"old layout")
    store.publish_tree("packages/t1", _tree(tmp_path / "new", b"new"))
    assert store.get_bytes("packages/t1/dash/manifest.mpd") == b"new"
    assert (tmp_path / "blobs" / "packages" / "t1").is_symlink()
