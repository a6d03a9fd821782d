"""Blob storage for masters, packaged output and (later) evidence.

``BlobStore`` is the interface; ``LocalBlobStore`` keeps blobs as files under one
folder. Trees (a packaged title) are published atomically: written to a staging
folder, then renamed into place, so a reader never sees half a package::

    blobs = LocalBlobStore(Path(".reelguard/blobs"))
    blobs.put_file("masters/ep01.mp4", Path("ep01.mp4"))
    blobs.publish_tree("packages/ep01", Path("/tmp/out"))
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from pathlib import Path

from reelguard.errors import InvalidInput, NotFound

__all__ = ["BlobStore", "LocalBlobStore", "validate_blob_key"]

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")


def validate_blob_key(key: str) -> str:
    """Blob keys are relative slash paths of safe names: no '..', no leading '/'."""
    if not _KEY_PATTERN.match(key) or ".." in key.split("/"):
        raise InvalidInput(f"expected a blob key like 'packages/t1/dash/manifest.mpd', got {key!r}")
    return key


class BlobStore(ABC):
    """Where bytes live. Public methods validate keys, then call the ``_do_*`` hooks."""

    name: str = "abstract"

    def put_file(self, key: str, source: Path) -> None:
        self._do_put_file(validate_blob_key(key), source)

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (through a temporary file, so every store gets it atomically)."""
        with tempfile.TemporaryDirectory(prefix="reelguard-blob-") as folder:
            staged = Path(folder) / "blob"
            staged.write_bytes(data)
            self.put_file(key, staged)

    def get_bytes(self, key: str) -> bytes:
        return self._do_get_bytes(validate_blob_key(key))

    def exists(self, key: str) -> bool:
        return self._do_exists(validate_blob_key(key))

    def publish_tree(self, prefix: str, source_dir: Path) -> None:
        """Replace everything under ``prefix`` with ``source_dir``'s files, atomically."""
        self._do_publish_tree(validate_blob_key(prefix), source_dir)

    def delete_prefix(self, prefix: str) -> None:
        self._do_delete_prefix(validate_blob_key(prefix))

    def local_path(self, key: str) -> Path | None:
        """A filesystem path for the blob if this store has one (lets servers sendfile)."""
        return None

    @abstractmethod
    def _do_put_file(self, key: str, source: Path) -> None: ...

    @abstractmethod
    def _do_get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def _do_exists(self, key: str) -> bool: ...

    @abstractmethod
    def _do_publish_tree(self, prefix: str, source_dir: Path) -> None: ...

    @abstractmethod
    def _do_delete_prefix(self, prefix: str) -> None: ...


class LocalBlobStore(BlobStore):
    """Blobs as files under ``root``; writes go through a temp name and ``os.replace``."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def local_path(self, key: str) -> Path | None:
        path = self._path(validate_blob_key(key))
        return path if path.is_file() else None

    def _path(self, key: str) -> Path:
        return self.root / key

    def _do_put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        shutil.copyfile(source, staging)
        os.replace(staging, target)

    def _do_get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"blob {key!r} does not exist in the local blob store at {self.root}")
        return path.read_bytes()

    def _do_exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _do_publish_tree(self, prefix: str, source_dir: Path) -> None:
        target = self._path(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.staging")
        shutil.copytree(source_dir, staging)
        retired = target.with_name(f".{target.name}.{uuid.uuid4().hex}.retired")
        if target.exists():
            os.replace(target, retired)
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)

    def _do_delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
