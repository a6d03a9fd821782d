"""Ingest that is killed, stopped or runs out of disk: no orphan, no half-finished stage taken as
done, nothing left behind, and a failed title in no index.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from reelguard.composition import Runtime
from reelguard.errors import PackagingError, StorageError
from reelguard.fingerprint.service import FingerprintService
from reelguard.store.models import TitleRow
from tests.conftest import ROOT


def _cli(runtime: Runtime, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_DATA_DIR=str(runtime.settings.data_dir),
               REELGUARD_STORE__DATABASE_URL=runtime.settings.resolved_database_url)
    return subprocess.Popen([sys.executable, "-m", "reelguard.cli.main", *args], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _title(runtime: Runtime, name: str) -> TitleRow | None:
    with runtime.db.session() as session:
        return session.scalar(select(TitleRow).where(TitleRow.name == name))


def _wait_for_partial_renditions(runtime: Runtime, name: str, process: subprocess.Popen[str]) -> Path:
    """The ingest's transcode folder once ffmpeg has written into it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        title = _title(runtime, name)
        if title is not None:
            partial = runtime.work_dir / title.id / "transcode.partial"
            if partial.is_dir() and any(f.stat().st_size > 1000 for f in partial.glob("*.mp4")):
                return partial
        time.sleep(0.1)
    raise AssertionError(f"the ingest never wrote renditions: {process.communicate()[1][-2000:]}")


def _processes_writing_into(folder: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(folder) in command:
            found.append(f"{entry.name}: {command[:120]}")
    return found


def _no_orphans_within(folder: Path, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while _processes_writing_into(folder) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_writing_into(folder), _processes_writing_into(folder)


@pytest.mark.slow
def test_a_sigkilled_ingest_leaves_no_orphan_and_resumes_to_a_fingerprinted_title(runtime: Runtime,
                                                                                media_dir: Path) -> None:
    """ffmpeg ran on as an orphan; resume took its truncated renditions, or packaged without fingerprints."""
    process = _cli(runtime, "titles", "add", str(media_dir / "bbb_loop3.mp4"), "--name", "killed")
    partial = _wait_for_partial_renditions(runtime, "killed", process)
    process.kill()
    process.wait()
    _no_orphans_within(partial)
    title = _title(runtime, "killed")
    assert title is not None and title.stage == "keys"  # the transcode was not recorded as done
    resumed = _cli(runtime, "titles", "resume", "killed", "--json")
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    view = json.loads(out)
    assert (view["status"], view["stage"]) == ("ready", "packaged")
    assert view["id"] in {t.title_id for t in runtime.fingerprint_service().index.titles()}
    assert runtime.fingerprint_service().has_signatures(view["id"])
    assert not (runtime.work_dir / view["id"]).exists()


@pytest.mark.slow
def test_a_sigterm_stops_the_ingest_and_its_encoder(runtime: Runtime, media_dir: Path) -> None:
    process = _cli(runtime, "titles", "add", str(media_dir / "bbb_loop3.mp4"), "--name", "stopped", "--json")
    partial = _wait_for_partial_renditions(runtime, "stopped", process)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130 and json.loads(out)["error"] == "Interrupted"
    _no_orphans_within(partial, seconds=2.0)
    title = _title(runtime, "stopped")
    assert title is not None and (title.status, title.error) == ("failed", "interrupted")
    assert not partial.exists()
    assert title.id not in {t.title_id for t in runtime.fingerprint_service().index.titles()}


class _FaultyShutil(SimpleNamespace):
    """``shutil`` as the blob store sees it, where a write fails after some bytes (a fake: the disk)."""

    def __init__(self, error: int, *, fail_copytree: bool = False, fail_copyfile: bool = False) -> None:
        super().__init__(rmtree=shutil.rmtree, Error=shutil.Error)
        self.error, self.fail_copytree, self.fail_copyfile = error, fail_copytree, fail_copyfile

    def copyfileobj(self, source: BinaryIO, target: BinaryIO, length: int = 0) -> None:
        if self.fail_copyfile:
            target.write(source.read(1000))
            raise OSError(self.error, os.strerror(self.error))
        shutil.copyfileobj(source, target, length)

    def copytree(self, source: Path, target: Path) -> None:
        if not self.fail_copytree:
            shutil.copytree(source, target)
            return
        copied: list[int] = []

        def copy_some(src: str, dst: str) -> None:
            if len(copied) >= 5:
                raise OSError(self.error, os.strerror(self.error), dst)
            copied.append(1)
            shutil.copy2(src, dst)

        shutil.copytree(source, target, copy_function=copy_some)


def _leftovers(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.name.startswith(".")]


def test_a_disk_that_fills_while_publishing_leaves_nothing_and_no_index_entry(
        runtime: Runtime, media_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk left a staging folder behind and the failed title in the fingerprint index."""
    import reelguard.store.blobs as blobs_module

    monkeypatch.setattr(blobs_module, "shutil", _FaultyShutil(errno.ENOSPC, fail_copytree=True))
    with pytest.raises(StorageError, match="the disk is full"):
        runtime.ingest_service().add_title(media_dir / "lavfi_testsrc.mp4", name="full")
    title = _title(runtime, "full")
    assert title is not None and title.status == "failed" and "No space left on device" in (title.error or "")
    assert _leftovers(runtime.settings.resolved_blob_dir) == []
    assert title.id not in {t.title_id for t in runtime.fingerprint_service().index.titles()}
    monkeypatch.undo()
    view = runtime.ingest_service().resume_title("full")
    assert view.status == "ready" and view.id in {t.title_id for t in runtime.fingerprint_service().index.titles()}


@pytest.mark.parametrize("error", [errno.EROFS, errno.ENOSPC], ids=["read-only", "full"])
def test_a_blob_store_that_refuses_the_master_stores_nothing(runtime: Runtime, media_dir: Path,
                                                             monkeypatch: pytest.MonkeyPatch, error: int) -> None:
    import reelguard.store.blobs as blobs_module

    monkeypatch.setattr(blobs_module, "shutil", _FaultyShutil(error, fail_copyfile=True))
    with pytest.raises(StorageError, match=os.strerror(error)):
        runtime.ingest_service().add_title(media_dir / "lavfi_testsrc.mp4", name="refused")
    assert _title(runtime, "refused") is None
    assert _leftovers(runtime.settings.resolved_blob_dir) == []


def test_the_cli_says_why_when_the_os_refuses_a_write(runtime: Runtime, media_dir: Path) -> None:
    """A raw traceback, exit 1 and nothing on stdout with --json: now the error, its exit code, no leftovers.

    The process may write no file over 400 kB (RLIMIT_FSIZE: the kernel refuses, EFBIG), and
    the master is 558 kB: the first blob write fails as a full or read-only disk would.
    """
    limit = 400_000

    def small_files_only() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    process = _cli(runtime, "titles", "add", str(media_dir / "lavfi_testsrc.mp4"), "--name", "big", "--json",
                   preexec_fn=small_files_only)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 74, err
    assert "Traceback" not in err and "File too large" in err
    assert json.loads(out)["error"] == "StorageError"
    assert _title(runtime, "big") is None and _leftovers(runtime.settings.resolved_blob_dir) == []


def test_a_ready_title_is_always_indexed(runtime: Runtime, media_dir: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An ingest whose transcode finished without being recorded (its CLI killed) still gets its fingerprints."""
    service = runtime.ingest_service()
    calls: list[str] = []
    original: Callable[..., None] = FingerprintService.store_signatures

    def counting(self: FingerprintService, *args: Any, **kwargs: Any) -> None:
        calls.append("fingerprint")
        original(self, *args, **kwargs)

    monkeypatch.setattr(FingerprintService, "store_signatures", counting)
    crashing_packager = tmp_path / "crashing-packager"  # a stand-in that dies mid-run
    crashing_packager.write_text('#!/bin/sh\n[ "$1" = "--version" ] && exit 0\nexit 137\n')
    crashing_packager.chmod(0o755)
    crashed = replace(runtime, tools=replace(runtime.tools, packager=str(crashing_packager)))
    with pytest.raises(PackagingError):
        crashed.ingest_service().add_title(media_dir / "lavfi_testsrc.mp4", name="partial")
    title = _title(runtime, "partial")
    assert title is not None
    with runtime.db.transaction() as session:  # as if the CLI died between the rename and its record
        session.get(TitleRow, title.id).stage = "keys"  # type: ignore[union-attr]
    view = service.resume_title("partial")
    assert view.status == "ready" and calls.count("fingerprint") == 2
    assert view.id in {t.title_id for t in runtime.fingerprint_service().index.titles()}


@pytest.mark.parametrize("error", [
    OperationalError("UPDATE titles SET package=?", {"package": "wrapped-key-bytes"}, Exception("database is locked")),
    RuntimeError("PyAV could not decode frame 812"),
], ids=["database", "decoder"])
def test_any_failure_of_a_stage_marks_the_title_failed(runtime: Runtime, media_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Only our own errors and OSError were recorded: a database or PyAV error left the title "ingesting"."""
    def failing(*_args: Any, **_kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(FingerprintService, "store_signatures", failing)
    name = f"broken-{type(error).__name__.lower()}"
    with pytest.raises(type(error)):
        runtime.ingest_service().add_title(media_dir / "lavfi_testsrc.mp4", name=name)
    title = _title(runtime, name)
    assert title is not None and title.status == "failed", title
    assert (title.error or "").startswith(f"unexpected {type(error).__name__}: "), title.error
    assert "wrapped-key-bytes" not in (title.error or "")  # a statement's parameters never reach the record
    assert title.id not in {t.title_id for t in runtime.fingerprint_service().index.titles()}
    monkeypatch.undo()
    assert runtime.ingest_service().resume_title(name).status == "ready"
