"""Real concurrency: parallel licence requests against a two-process uvicorn server.

An account whose limit is two streams gets exactly two, however many of its devices ask
at the same instant, on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (advisory lock) — and
more starts at once than the connection pool holds must not deadlock it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from browser_harness import free_port
from sqlalchemy import func, select

from reelguard.accounts.service import AccountService
from reelguard.drm.keys import KeyId
from reelguard.store.models import DecisionRow, StreamRow
from tests.conftest import ROOT, PackagedCatalog

DEVICES = 40  # more parallel starts than the server's connection pool holds (5 + 10 overflow)
POLICY = """format = 1
name = "two-streams"
version = "1"
[[all_of]]
type = "account_active"
[[all_of]]
type = "entitled"
[[all_of]]
type = "device_registered"
[[all_of]]
type = "concurrent_streams"
max_streams = 2
"""


@pytest.fixture(scope="module")
def server(catalog: PackagedCatalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    policy = tmp_path_factory.mktemp("policy") / "two-streams.toml"
    policy.write_text(POLICY)
    settings = catalog.runtime.settings
    port = free_port()
    env = {**os.environ, "REELGUARD_DATA_DIR": str(settings.data_dir), "REELGUARD_LICENSE__POLICY_FILE": str(policy),
           "REELGUARD_STORE__DATABASE_URL": settings.resolved_database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "reelguard.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"server did not start: {process.stderr.read() if process.stderr else ''}")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)


def _fire(url: str, tokens: list[str], body: bytes) -> list[int]:
    statuses: list[int] = [0] * len(tokens)
    barrier = threading.Barrier(len(tokens))

    def one(index: int) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            statuses[index] = client.post(f"{url}/license/clearkey", content=body,
                                          headers={"Authorization": f"Bearer {tokens[index]}"}).status_code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.parametrize("round_", range(3))
def test_parallel_starts_grant_exactly_the_limit(server: str, catalog: PackagedCatalog, round_: int) -> None:
    account = f"race-{round_}-{os.getpid()}"
    accounts = AccountService(catalog.runtime.db, catalog.runtime.clock)
    accounts.create_account(account, plan="standard")
    devices = [f"dev-{i}" for i in range(DEVICES)]
    for device in devices:
        accounts.register_device(account, device, type="browser", security_level="software")
    tokens = [catalog.token(account=account, device=device) for device in devices]
    kids = sorted({KeyId.from_hex(s["kid"]).b64url for s in catalog.sample.streams})
    statuses = _fire(server, tokens, json.dumps({"kids": kids}).encode())
    assert sorted(statuses) == [200, 200] + [403] * (DEVICES - 2), statuses
    with catalog.runtime.db.session() as session:
        streams = session.scalar(select(func.count()).select_from(StreamRow).where(StreamRow.account_id == account))
        refusals = session.scalar(select(func.count()).select_from(DecisionRow).where(
            DecisionRow.account_id == account, DecisionRow.rule == "concurrent_streams"))
    assert streams == 2 and refusals == DEVICES - 2
