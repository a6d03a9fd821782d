"""Blob storage for masters, packaged output and (later) evidence.

``BlobStore`` is the interface; ``LocalBlobStore`` keeps blobs as files under one
folder. Trees (a packaged title) are published atomically: written to a staging
folder, then renamed into place, so a reader never sees half a package::

    blobs = LocalBlobStore(Path(".reelguard/blobs"))
    blobs.put_file("masters/ep01.mp4", Path("ep01.mp4"))
    blobs.publish_tree("packages/ep01", Path("/tmp/out"))
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reelguard.errors import InvalidInput, NotFound, StorageError

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
            try:
                staged.write_bytes(data)
            except OSError as exc:
                raise StorageError(f"could not stage {key} in {folder}: {exc.strerror}") from exc
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
    """Blobs as files under ``root``; writes go through a temp name and ``os.replace``.

    A write that fails (disk full, read-only, permissions) removes what it staged and
    raises ``StorageError`` with the OS's reason, so nothing half-written is left behind.
    """

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        with self._os_errors("create the blob folder", self.root):
            self.root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _os_errors(self, doing: str, where: Path, *, staged: Path | None = None) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            if staged is not None:
                _remove(staged)
            reason, number = _os_reason(exc)
            raise StorageError(f"could not {doing} in the local blob store at {self.root} ({where.name}): "
                               f"{reason}{_STORAGE_HINTS.get(number, '')}") from exc

    def local_path(self, key: str) -> Path | None:
        path = self._path(validate_blob_key(key))
        return path if path.is_file() else None

    def _path(self, key: str) -> Path:
        return self.root / key

    def _do_put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        with self._os_errors(f"store {key}", target, staged=staging):
            target.parent.mkdir(parents=True, exist_ok=True)
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
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.staging")
        with self._os_errors(f"publish {prefix}", target, staged=staging):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source_dir, staging)
            retired = target.with_name(f".{target.name}.{uuid.uuid4().hex}.retired")
            if target.exists():
                os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)

    def _do_delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        with self._os_errors(f"delete {prefix}", path):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


_STORAGE_HINTS = {errno.ENOSPC: " (the disk is full: free space, then 'reelguard titles resume')",
                  errno.EROFS: " (the file system is read-only)",
                  errno.EACCES: " (permission denied: check the folder's owner and mode)",
                  errno.EDQUOT: " (the disk quota is exhausted)",
                  errno.EFBIG: " (the file is over the size this process may write)"}


def _os_reason(exc: OSError) -> tuple[str, int]:
    """The OS's words and errno; ``shutil.copytree`` gathers its errors into one ``shutil.Error`` list."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        first = str(exc.args[0][0][-1])
        match = re.match(r"\[Errno (\d+)\] ([^:]+)", first)
        return (match.group(2), int(match.group(1))) if match else (first, 0)
    return exc.strerror or type(exc).__name__, exc.errno or 0


def _remove(path: Path) -> None:
    """Remove what a failed write staged, file or folder, as far as the OS lets it."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink(missing_ok=True)
