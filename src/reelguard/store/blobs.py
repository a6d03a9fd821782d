"""Blob storage for masters, packaged output and (later) evidence.

``BlobStore`` is the interface, written so that a store need not be a local disk: blobs are
written and read as streams, a tool that needs a file asks for one with ``open_local``
(a store without files lends a temporary copy), and a tree (a packaged title) is published
as a new generation behind a pointer that is switched in one step, so a reader sees the
old package or the new one — never a missing or half-written one::

    blobs = LocalBlobStore(Path(".reelguard/blobs"))
    blobs.put_file("masters/ep01.mp4", Path("ep01.mp4"))
    blobs.publish_tree("packages/ep01", Path("/tmp/out"))
    with blobs.open_read("packages/ep01/dash/manifest.mpd") as stream:
        head = stream.read(512)
    with blobs.open_local("masters/ep01.mp4") as path:    # a file, for ffmpeg or OpenCV
        probe(path)

``LocalBlobStore`` keeps blobs as files under one folder; ``MemoryBlobStore``
(``reelguard.testing``) keeps them in memory. Both pass the same contract tests
(``reelguard.testing.BlobStoreContract``), as every later store (S3) must.
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from reelguard.errors import InvalidInput, NotFound, StorageError

__all__ = ["BlobStore", "LocalBlobStore", "validate_blob_key"]

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")
_CHUNK = 1024 * 1024


def validate_blob_key(key: str) -> str:
    """Blob keys are relative slash paths of safe names: no '..', no leading '/' or '.'."""
    if not _KEY_PATTERN.match(key) or ".." in key.split("/"):
        raise InvalidInput(f"expected a blob key like 'packages/t1/dash/manifest.mpd', got {key!r}")
    return key


class BlobStore(ABC):
    """Where bytes live. Public methods validate keys, then call the ``_do_*`` hooks."""

    name: str = "abstract"

    # -- writing ---------------------------------------------------------------------------
    def put_stream(self, key: str, stream: BinaryIO) -> None:
        """Store everything ``stream`` yields under ``key``, atomically: a failed write leaves no blob."""
        self._do_put_stream(validate_blob_key(key), stream)

    def put_file(self, key: str, source: Path) -> None:
        with _opened(source) as stream:
            self.put_stream(key, stream)

    def put_bytes(self, key: str, data: bytes) -> None:
        self.put_stream(key, io.BytesIO(data))

    def publish_tree(self, prefix: str, source_dir: Path) -> None:
        """Replace everything under ``prefix`` with ``source_dir``'s files, as one new generation.

        Readers of ``prefix/...`` see the previous generation until the pointer switches,
        then the new one; they never see a missing or partial tree.
        """
        if not source_dir.is_dir():
            raise StorageError(f"expected a folder to publish as {prefix}, got {source_dir} (not a folder)")
        self._do_publish_tree(validate_blob_key(prefix), source_dir)

    def delete_prefix(self, prefix: str) -> None:
        self._do_delete_prefix(validate_blob_key(prefix))

    # -- reading ---------------------------------------------------------------------------
    @contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        """The blob as a readable stream (NotFound if there is none)."""
        with self._do_open_read(validate_blob_key(key)) as stream:
            yield stream

    def get_bytes(self, key: str) -> bytes:
        """The whole blob in memory: for small blobs (signatures, manifests, segments)."""
        with self.open_read(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        return self._do_exists(validate_blob_key(key))

    @contextmanager
    def open_local(self, key: str) -> Iterator[Path]:
        """A file with the blob's bytes, for tools that only read files (ffmpeg, OpenCV, NumPy).

        The store's own file where it has one; otherwise a temporary copy, streamed in and
        removed when the block ends.
        """
        local = self.local_path(key)
        if local is not None:
            yield local
            return
        suffix = Path(key).suffix
        with tempfile.TemporaryDirectory(prefix="reelguard-blob-") as folder:
            copy = Path(folder) / f"blob{suffix}"
            with self.open_read(key) as stream, _os_errors_writing(copy):
                with copy.open("wb") as out:
                    shutil.copyfileobj(stream, out, _CHUNK)
            yield copy

    def local_path(self, key: str) -> Path | None:
        """A filesystem path for the blob if this store has one (lets servers sendfile); else None."""
        return None

    # -- hooks -----------------------------------------------------------------------------
    @abstractmethod
    def _do_put_stream(self, key: str, stream: BinaryIO) -> None: ...

    @abstractmethod
    def _do_open_read(self, key: str) -> AbstractContextManager[BinaryIO]: ...

    @abstractmethod
    def _do_exists(self, key: str) -> bool: ...

    @abstractmethod
    def _do_publish_tree(self, prefix: str, source_dir: Path) -> None: ...

    @abstractmethod
    def _do_delete_prefix(self, prefix: str) -> None: ...


@contextmanager
def _opened(source: Path) -> Iterator[BinaryIO]:
    try:
        stream = source.open("rb")
    except OSError as exc:
        raise StorageError(f"could not read {source}: {exc.strerror or type(exc).__name__}") from exc
    with stream:
        yield stream


@contextmanager
def _os_errors_writing(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StorageError(f"could not write a temporary copy at {path}: {exc.strerror}") from exc


class LocalBlobStore(BlobStore):
    """Blobs as files under ``root``; writes go through a temp name and ``os.replace``.

    A published tree is a symbolic link, ``prefix`` → ``.<name>.generations/<id>``, replaced
    by a new link in one ``rename`` (the pointer); the two previous generations stay, so a
    reader that resolved one a moment ago still finds its files. A write
    that fails (disk full, read-only, permissions) removes what it staged and raises
    ``StorageError`` with the OS's reason, so nothing half-written is left behind.
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

    def _do_put_stream(self, key: str, stream: BinaryIO) -> None:
        """The stream's own errors pass through as they are; the disk's become ``StorageError``."""
        target = self._path(key)
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            with self._os_errors(f"store {key}", target, staged=staging):
                target.parent.mkdir(parents=True, exist_ok=True)
                with staging.open("wb") as out:
                    shutil.copyfileobj(_Source(stream), out, _CHUNK)
                os.replace(staging, target)
        except BaseException as exc:  # the disk's errors arrive here as StorageError, with staging removed
            _remove(staging)
            if isinstance(exc, _SourceFailed):
                raise exc.error from None
            raise

    def _do_open_read(self, key: str) -> AbstractContextManager[BinaryIO]:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"blob {key!r} does not exist in the local blob store at {self.root}") from None
        except OSError as exc:
            raise StorageError(f"could not read {key} in the local blob store at {self.root}: "
                               f"{exc.strerror}") from exc

    def _do_exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _do_publish_tree(self, prefix: str, source_dir: Path) -> None:
        target = self._path(prefix)
        generations = target.with_name(f".{target.name}.generations")
        generation = generations / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"  # names sort by age
        link = target.with_name(f".{target.name}.{uuid.uuid4().hex}.link")
        with _drop_if_empty(generations), self._os_errors(f"publish {prefix}", target, staged=generation):
            generations.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source_dir, generation)
            link.symlink_to(generation.relative_to(target.parent))
            if target.exists() and not target.is_symlink():  # a tree from before generations: once
                retired = target.with_name(f".{target.name}.{uuid.uuid4().hex}.retired")
                os.replace(target, retired)
                shutil.rmtree(retired, ignore_errors=True)
            os.replace(link, target)  # the switch: one rename of the pointer
        newest_first = sorted(generations.iterdir(), key=lambda folder: folder.name, reverse=True)
        for old in [folder for folder in newest_first if folder != generation][2:]:
            shutil.rmtree(old, ignore_errors=True)

    def _do_delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        with self._os_errors(f"delete {prefix}", path):
            if path.is_symlink():
                path.unlink()
                shutil.rmtree(path.with_name(f".{path.name}.generations"), ignore_errors=True)
            elif path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


class _SourceFailed(Exception):
    """The stream being stored failed (not the disk): carried past the disk-error handling."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _Source:
    """A stream whose read errors are told apart from the disk's."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except Exception as exc:
            raise _SourceFailed(exc) from exc


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


@contextmanager
def _drop_if_empty(folder: Path) -> Iterator[None]:
    """A failed first publish leaves no empty generations folder behind."""
    try:
        yield
    except BaseException:
        with suppress(OSError):
            folder.rmdir()
        raise


def _remove(path: Path) -> None:
    """Remove what a failed write staged, file or folder, as far as the OS lets it."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink(missing_ok=True)
