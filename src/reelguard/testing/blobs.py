"""A blob store in memory, and the contract every blob store passes.

``MemoryBlobStore`` has no files: ``local_path`` is None, so code that needs a file must
ask for one with ``open_local`` — exactly the path an S3 store will take. Its trees are
published by swapping the prefix's whole mapping under a lock.

``BlobStoreContract`` is a mixin of pytest tests; a store's test module subclasses it and
provides ``make_store(tmp_path)``. It checks what callers rely on: round trips by bytes,
file and stream; NotFound and InvalidInput; writes that fail leave nothing; ``open_local``
gives a file and cleans up a copy; a published tree replaces the old one whole, and a
reader racing a publish never sees a missing or partial tree.
"""

from __future__ import annotations

import io
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from reelguard.errors import InvalidInput, NotFound
from reelguard.store.blobs import BlobStore

__all__ = ["BlobStoreContract", "MemoryBlobStore"]


class MemoryBlobStore(BlobStore):
    name = "memory"

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _do_put_stream(self, key: str, stream: BinaryIO) -> None:
        data = b"".join(iter(lambda: stream.read(1 << 20), b""))  # whole before storing: a failure stores nothing
        with self._lock:
            self._blobs[key] = data

    def _do_open_read(self, key: str) -> AbstractContextManager[BinaryIO]:
        with self._lock:
            data = self._blobs.get(key)
        if data is None:
            raise NotFound(f"blob {key!r} does not exist in the memory blob store")
        return io.BytesIO(data)

    def _do_exists(self, key: str) -> bool:
        with self._lock:
            return key in self._blobs

    def _do_publish_tree(self, prefix: str, source_dir: Path) -> None:
        tree = {f"{prefix}/{path.relative_to(source_dir).as_posix()}": path.read_bytes()
                for path in sorted(source_dir.rglob("*")) if path.is_file()}
        with self._lock:  # one step for readers: the old tree until here, the new one after
            for key in [k for k in self._blobs if k.startswith(prefix + "/")]:
                del self._blobs[key]
            self._blobs.update(tree)

    def _do_delete_prefix(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self._blobs if k == prefix or k.startswith(prefix + "/")]:
                del self._blobs[key]


class _FailingStream(io.BytesIO):
    """Yields some bytes, then fails like a dropped upload."""

    def __init__(self) -> None:
        super().__init__(b"half")
        self._reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self._reads += 1
        if self._reads > 1:
            raise ConnectionResetError("the upload was cut off")
        return super().read(size)


class BlobStoreContract:
    """Tests every ``BlobStore`` passes; subclass as ``Test…`` and provide ``make_store``."""

    def make_store(self, tmp_path: Path) -> BlobStore:
        raise NotImplementedError

    def test_round_trips_bytes_files_and_streams(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        source = tmp_path / "source.bin"
        source.write_bytes(b"from a file")
        store.put_bytes("a/bytes.bin", b"from bytes")
        store.put_file("a/file.bin", source)
        store.put_stream("a/stream.bin", io.BytesIO(b"x" * 3_000_000))
        assert store.get_bytes("a/bytes.bin") == b"from bytes"
        assert store.get_bytes("a/file.bin") == b"from a file"
        with store.open_read("a/stream.bin") as stream:
            assert stream.read(5) == b"xxxxx" and len(stream.read()) == 3_000_000 - 5
        assert store.exists("a/bytes.bin") and not store.exists("a/none.bin")

    def test_a_write_replaces_the_blob(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.put_bytes("k/v", b"one")
        store.put_bytes("k/v", b"two")
        assert store.get_bytes("k/v") == b"two"

    def test_a_missing_blob_is_not_found(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        for read in (store.get_bytes, lambda key: store.open_read(key).__enter__(),
                     lambda key: store.open_local(key).__enter__()):
            try:
                read("no/such/blob")
            except NotFound as exc:
                assert "no/such/blob" in str(exc)
            else:
                raise AssertionError("expected NotFound")

    def test_unsafe_keys_are_refused(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        for key in ("../escape", "/absolute", "a/../b", ".hidden/x", "a//b", ""):
            for call in (lambda k: store.put_bytes(k, b"x"), store.get_bytes, store.exists, store.delete_prefix):
                try:
                    call(key)
                except InvalidInput as exc:
                    assert "expected a blob key" in str(exc)
                else:
                    raise AssertionError(f"{key!r} was accepted")

    def test_a_failed_upload_leaves_no_blob(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        try:
            store.put_stream("up/loaded.bin", _FailingStream())
        except ConnectionResetError:
            pass
        else:
            raise AssertionError("the failing stream was stored")
        assert not store.exists("up/loaded.bin")
        store.put_bytes("up/kept.bin", b"old")
        try:
            store.put_stream("up/kept.bin", _FailingStream())
        except ConnectionResetError:
            pass
        assert store.get_bytes("up/kept.bin") == b"old"

    def test_open_local_gives_a_file_with_the_bytes(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.put_bytes("media/clip.mp4", b"\x00\x01mp4")
        with store.open_local("media/clip.mp4") as path:
            assert path.is_file() and path.read_bytes() == b"\x00\x01mp4" and path.suffix == ".mp4"
        if store.local_path("media/clip.mp4") is None:  # a lent copy is gone after the block
            assert not path.exists()

    def test_publish_replaces_the_whole_tree(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        first, second = _tree(tmp_path / "first", {"dash/manifest.mpd": b"1", "dash/old.m4s": b"old"}), \
            _tree(tmp_path / "second", {"dash/manifest.mpd": b"2", "hls/main.m3u8": b"new"})
        store.publish_tree("packages/t1", first)
        assert store.get_bytes("packages/t1/dash/manifest.mpd") == b"1"
        store.publish_tree("packages/t1", second)
        assert store.get_bytes("packages/t1/dash/manifest.mpd") == b"2"
        assert store.get_bytes("packages/t1/hls/main.m3u8") == b"new"
        assert not store.exists("packages/t1/dash/old.m4s")
        store.publish_tree("packages/t10", first)  # a sibling whose name starts the same is its own tree
        store.delete_prefix("packages/t1")
        assert not store.exists("packages/t1/dash/manifest.mpd")
        assert store.get_bytes("packages/t10/dash/manifest.mpd") == b"1"

    def test_a_reader_racing_a_publish_sees_one_whole_tree(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        trees = [_tree(tmp_path / f"g{n}", {"dash/manifest.mpd": str(n).encode(),
                                            "dash/seg.m4s": str(n).encode() * 1000}) for n in range(2)]
        store.publish_tree("packages/live", trees[0])
        stop, seen, errors = threading.Event(), set(), []

        def read() -> None:
            while not stop.is_set():
                try:
                    manifest = store.get_bytes("packages/live/dash/manifest.mpd")
                    seen.add(manifest)
                    segment = store.get_bytes("packages/live/dash/seg.m4s")
                    if len(segment) != 1000 or len(set(segment)) != 1:
                        errors.append(f"a partial segment of {len(segment)} bytes")
                except NotFound as exc:
                    errors.append(str(exc))

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for n in range(30):
                store.publish_tree("packages/live", trees[n % 2])
        finally:
            stop.set()
            reader.join(timeout=30)
        assert not errors, errors[:3]
        assert seen <= {b"0", b"1"}


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root
