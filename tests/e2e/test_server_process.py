"""The server as an operator runs it: ``reelguard --data-dir D serve --workers 2``, logs on stderr.

Everything comes from the data folder's ``reelguard.toml`` (no REELGUARD_* variable is
set). Clients that stop sending, a body that never arrives, the access log and JSON
lines, a worker killed under it, and a SIGKILL of the whole server in the middle of a
burst of renewals — after which every renewal that got keys still has its decision row.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browser_harness import free_port
from sqlalchemy import func, select

from reelguard.accounts.service import AccountService
from reelguard.drm.keys import KeyId
from reelguard.settings import ServerSettings
from reelguard.store.models import DecisionRow
from tests.conftest import ROOT, SAMPLE_TITLE, PackagedCatalog

POLICY = """format = 1
name = "server-process"
version = "1"
[[all_of]]
type = "account_active"
[[all_of]]
type = "entitled"
[[all_of]]
type = "device_registered"
[[all_of]]
type = "license_clocks"
license_seconds = 300
"""


@dataclass
class Server:
    url: str
    port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def json_log(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.log_lines() if line.startswith("{")]

    def kill_everything(self) -> None:
        """SIGKILL the supervisor and its workers at once (no shutdown, no flush)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill_everything()


def start_server(data_dir: Path, log: Path, *, workers: int = 2) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "reelguard.cli.main", "--data-dir", str(data_dir), "serve", "--port", str(port),
         "--workers", str(workers), "--log-level", "debug"],
        env=env, cwd=ROOT, stdout=handle, stderr=handle, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", port, data_dir, log, process)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"server did not start: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def operator_folder(catalog: PackagedCatalog, folder: Path) -> Path:
    """A data folder whose reelguard.toml points at the catalog's database, blobs and secrets."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.toml").write_text(POLICY)
    settings = catalog.runtime.settings
    sections: dict[str, dict[str, object]] = {
        "store": {"database_url": settings.resolved_database_url, "blob_dir": str(settings.resolved_blob_dir)},
        "keys": {"kek_file": str(settings.resolved_kek_file)},
        "tokens": {"signing_key_file": str(settings.resolved_token_signing_key_file)},
        "watermark": {"secret_file": str(settings.resolved_watermark_secret_file)},
        "license": {"policy_file": str(folder / "policy.toml"), "renewal_flush_seconds": 10.0},
        "server": {"log_format": "json", "body_read_timeout_seconds": 1.0},
    }
    (folder / "reelguard.toml").write_text("".join(
        f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
        for name, values in sections.items()))
    return folder


@pytest.fixture(scope="module")
def server(catalog: PackagedCatalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = operator_folder(catalog, tmp_path_factory.mktemp("operator") / "data")
    running = start_server(folder, folder.parent / "server.log")
    yield running
    running.stop()


def _partial_post(port: int, path: str, *, declared: int, sent: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {declared}\r\n\r\n".encode() + sent)
    return sock


def _read_until_closed(sock: socket.socket) -> str:
    """The whole answer: headers and body may arrive in separate segments; the server then closes."""
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_clients_that_stop_sending_cost_one_debug_line_each(server: Server) -> None:
    """An aborted POST logged about 6 KB of tracebacks; 400 of them made 2.5 MB."""
    before = server.log.stat().st_size
    for _ in range(40):
        _partial_post(server.port, "/license/clearkey", declared=1000, sent=b'{"kids": [').close()
    time.sleep(1.0)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    written = server.log.read_bytes()[before:].decode(errors="replace")
    assert "Traceback" not in written and "ClientDisconnect" not in written, written[:3000]
    went_away = [line for line in written.splitlines() if "went away" in line]
    assert len(went_away) <= 40 and all(len(line) < 400 for line in went_away), went_away[:3]
    assert json.loads(went_away[0])["level"] == "debug"
    assert len(written) < 40 * 600, len(written)


def test_a_body_that_never_arrives_gets_408(server: Server) -> None:
    sock = _partial_post(server.port, "/license/clearkey", declared=500, sent=b'{"kids"')
    try:
        answer = _read_until_closed(sock)
    finally:
        sock.close()
    assert answer.startswith("HTTP/1.1 408"), answer
    assert "application/problem+json" in answer and "did not arrive" in answer


def test_the_access_log_is_json_and_holds_no_token(server: Server, catalog: PackagedCatalog) -> None:
    token = catalog.token()
    kids = sorted({KeyId.from_hex(s["kid"]).b64url for s in catalog.sample.streams})
    licence = httpx.post(f"{server.url}/license/clearkey", content=json.dumps({"kids": kids}),
                         headers={"Authorization": f"Bearer {token}"})
    stream_token = "eyJhbGciOiJIUzI1NiJ9.eyJ3bWlkIjoieCJ9.c2lnbmF0dXJl"
    httpx.get(f"{server.url}/stream/{stream_token}/dash/manifest.mpd")
    time.sleep(0.5)
    access = [entry for entry in server.json_log() if entry["logger"] == "reelguard.access"]
    assert any(e["path"] == "/license/clearkey" and e["status"] == licence.status_code and e["method"] == "POST"
               for e in access), access[-5:]
    assert any(e["path"] == "/stream/<token>/dash/manifest.mpd" for e in access), access[-5:]
    text = server.log.read_text(errors="replace")
    assert token not in text and stream_token not in text and token.split(".")[2] not in text


def test_a_killed_worker_is_replaced_and_the_replacement_is_a_warning(server: Server) -> None:
    workers = _children(server.process.pid)
    assert len(workers) == 2, workers
    os.kill(workers[0], signal.SIGKILL)
    # A worker killed while the supervisor waits for its answer to a ping is found dead only
    # when that wait ends (the supervisor holds the pipe's other end, so no EOF arrives):
    # up to worker_healthcheck_seconds (60 s here) after the kill, then replaced at once.
    deadline = time.monotonic() + ServerSettings().worker_healthcheck_seconds + 30
    while time.monotonic() < deadline:
        restarts = [e for e in server.json_log() if "died" in str(e["message"])]
        if restarts and len(_children(server.process.pid)) == 2:
            break
        time.sleep(0.5)
    assert restarts and restarts[-1]["level"] == "warning", restarts
    assert f"[{workers[0]}]" in str(restarts[-1]["message"])
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def _children(pid: int) -> list[int]:
    """The server's worker processes (multiprocessing's resource tracker is a child too, not a worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid and b"spawn_main" in command:
                found.append(int(entry.name))
    return sorted(found)


def test_a_sigkill_loses_no_decision_of_a_renewal_that_got_keys(catalog: PackagedCatalog, tmp_path: Path) -> None:
    """12 % of the granted renewals in a burst had no decision row after a SIGKILL."""
    folder = operator_folder(catalog, tmp_path / "data")
    server = start_server(folder, tmp_path / "server.log")
    account = f"burst-{uuid.uuid4().hex[:8]}"
    accounts = AccountService(catalog.runtime.db, catalog.runtime.clock)
    accounts.create_account(account, plan="standard")
    accounts.register_device(account, "tv", type="tv", security_level="software")
    token = catalog.token(account=account, device="tv")
    body = json.dumps({"kids": sorted({KeyId.from_hex(s["kid"]).b64url for s in catalog.sample.streams})})
    granted = 0
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            for _ in range(60):  # a start, then renewals spread over both workers
                granted += client.post("/license/clearkey", content=body).status_code == 200
    finally:
        server.kill_everything()  # renewal decisions flush every 10 s here: none was flushed
    assert granted == 60
    restarted = start_server(folder, tmp_path / "server.log")  # replays the journals of the killed workers
    try:
        with catalog.runtime.db.session() as session:
            rows = session.scalar(select(func.count()).select_from(DecisionRow).where(
                DecisionRow.account_id == account, DecisionRow.granted.is_(True)))
        assert rows == granted, f"{rows} decision rows for {granted} granted licences"
        assert any("replayed" in str(e["message"]) for e in restarted.json_log())
    finally:
        restarted.stop()
    assert not list((folder / "journal").glob("*.journal"))  # replayed and retired; the clean stop left none


def test_the_server_reads_the_data_folders_settings(server: Server) -> None:
    """Nothing but --data-dir named the database, blobs, keys and policy: the title plays from them."""
    mpd = httpx.get(f"{server.url}/content/{SAMPLE_TITLE}/dash/manifest.mpd")
    assert mpd.status_code == 200
    assert all(line.startswith("{") for line in server.log_lines() if line.strip() and "serving on" not in line)
