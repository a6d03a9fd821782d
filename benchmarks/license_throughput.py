"""Licence throughput over HTTP: the full policy vs the bare Clear Key path, same run.

Starts ``reelguard serve`` twice on the same data folder — once with the built-in
default policy (12 rules, stream slots, decision log), once with
``unsafe_skip_license_policy`` (a valid token alone gets keys: the issue-2 path) — and
drives both with ``wrk`` (C, one thread, 32 connections) on the same token files:

- *renewal*: 10,000 playing streams (5,000 accounts x 2 devices) each renewing with its
  own token, round robin — the steady state of a licence server (every licence request
  of a playing stream is a renewal);
- *start*: every request a token never seen before, each starting a new stream (a
  serialized transaction per account on the policy side; a signature check on both);
- a no-op ``POST /healthz`` on the policy server as the stack's floor.

Target: policy renewal rate ≥ 0.7 x the bare rate with the same tokens.

    python benchmarks/license_throughput.py [--seconds 20] [--rounds 3] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import httpx
from _report import report
from fetch_test_media import fetch
from sqlalchemy import insert

from reelguard.accounts.service import AccountService
from reelguard.drm.keys import KeyId
from reelguard.ingest.service import IngestService
from reelguard.runtime import Runtime
from reelguard.settings import Settings
from reelguard.store.models import AccountRow, DeviceRow

WRK_SCRIPT = """
local tokens, index = {}, 0
for line in io.lines(os.getenv("RG_TOKENS")) do tokens[#tokens + 1] = line end
local body = os.getenv("RG_BODY")
request = function()
  index = index % #tokens + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = "Bearer " .. tokens[index]}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.timeout))
end
"""
PLAYING_ACCOUNTS = 5_000          # x 2 devices = 10,000 playing streams (fits the verifier's 20,000 memory)
START_TOKENS_PER_ROUND = 50_000   # more than a round can use, so every start is a first use


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _subscribers(runtime: Runtime, prefix: str, count: int) -> None:
    """``count`` accounts on plan 'standard', each with devices d1 and d2 (bulk insert)."""
    now = runtime.clock()
    accounts = [{"id": f"{prefix}{i}", "plan": "standard", "status": "active", "created_at": now, "updated_at": now}
                for i in range(count)]
    devices = [{"account_id": f"{prefix}{i}", "id": d, "type": "browser", "security_level": "software",
                "hdcp": "none", "status": "active", "registered_at": now} for i in range(count) for d in ("d1", "d2")]
    with runtime.db.transaction() as session:
        session.execute(insert(AccountRow), accounts)
        session.execute(insert(DeviceRow), devices)


class Tokens:
    """Mints token files just before they are used: tokens live 10 minutes (the policy's cap)."""

    def __init__(self, data_dir: Path) -> None:
        self.runtime = Runtime.open(Settings.load(config_file=data_dir / "none.toml", data_dir=data_dir,
                                                  database_url=""))
        self.data_dir, self._files = data_dir, 0

    def write(self, pairs: list[tuple[str, str]]) -> Path:
        now = self.runtime.clock()
        self._files += 1
        path = self.data_dir / f"{self._files}.tokens"
        path.write_text("\n".join(self.runtime.signer.issue(account=a, title="bench", device=d, ttl_seconds=600,
                                                            now=now) for a, d in pairs) + "\n")
        return path


def _prepare(data_dir: Path, media: Path, settings: int, rounds: int) -> tuple[Tokens, str]:
    """The title, its rights, and subscribers: playing accounts and fresh start accounts per round."""
    tokens = Tokens(data_dir)
    runtime = tokens.runtime
    view = IngestService(runtime).add_title(media / "bigbuckbunny.mp4", name="bench")
    AccountService(runtime.db, runtime.clock).set_title_rights("bench", plans=["standard"])
    for index in range(settings):
        _subscribers(runtime, f"play{index}-", PLAYING_ACCOUNTS)
        for r in range(rounds):
            _subscribers(runtime, f"start{index}.{r}-", START_TOKENS_PER_ROUND // 2)
    kids = sorted({KeyId.from_hex(s["kid"]).b64url for s in view.streams})
    return tokens, json.dumps({"kids": kids, "type": "temporary"})


def _pairs(prefix: str, accounts: int) -> list[tuple[str, str]]:
    return [(f"{prefix}{i}", d) for i in range(accounts) for d in ("d1", "d2")]


def _wrk(url: str, tokens: Path, body: str, seconds: int, connections: int, script: Path) -> dict[str, float]:
    env = {**os.environ, "RG_TOKENS": str(tokens), "RG_BODY": body}
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    assert match, out
    requests, duration_us, p50, p99, status_errors, timeouts = map(int, match.groups())
    return {"rps": requests / (duration_us / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "errors": status_errors + timeouts}


def _serve(data_dir: Path, workers: int, *, bare: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    if bare:
        env["REELGUARD_UNSAFE_SKIP_LICENSE_POLICY"] = "true"
    server = subprocess.Popen([sys.executable, "-m", "reelguard.cli.main", "--data-dir", str(data_dir), "serve",
                               "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("server did not start")


def _start_all(url: str, tokens: Path, body: str) -> None:
    def start(chunk: list[str]) -> None:
        with httpx.Client(timeout=60) as client:
            for token in chunk:
                response = client.post(url, content=body, headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 200:
                    raise SystemExit(f"warm-up licence refused: {response.status_code} {response.text[:200]}")

    lines = tokens.read_text().split()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start, [lines[i::8] for i in range(8)]))


def _median(results: list[dict[str, float]]) -> dict[str, float]:
    return sorted(results, key=lambda r: r["rps"])[len(results) // 2]


def _measure(data_dir: Path, workers: int, bare: bool, tokens: Tokens, index: int, body: str,
             args: argparse.Namespace, script: Path) -> dict[str, list[dict[str, float]]]:
    server, base = _serve(data_dir, workers, bare=bare)
    try:
        url = f"{base}/license/clearkey"
        playing = tokens.write(_pairs(f"play{index}-", PLAYING_ACCOUNTS))
        for _ in range(2 + 2 * workers):  # start every stream, then renew it until each worker has seen it
            _start_all(url, playing, body)
        results: dict[str, list[dict[str, float]]] = {"renewal": [], "start": [], "no-op": []}
        for r in range(args.rounds):
            results["renewal"].append(_wrk(url, playing, body, args.seconds, args.connections, script))
            starts = tokens.write(_pairs(f"start{index}.{r}-", START_TOKENS_PER_ROUND // 2))
            results["start"].append(_wrk(url, starts, body, args.seconds, args.connections, script))
            if not bare:
                results["no-op"].append(_wrk(f"{base}/healthz", playing, body, args.seconds, args.connections,
                                             script))
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does it)")
    root = Path(__file__).resolve().parents[1]
    fetch(root / "media")
    data_dir = Path(tempfile.mkdtemp(prefix="rg-bench-license-"))
    rows = []
    try:
        tokens, body = _prepare(data_dir, root / "media", len(args.workers), args.rounds)
        script = data_dir / "license.lua"
        script.write_text(WRK_SCRIPT)
        for index, workers in enumerate(args.workers):  # the bare path records nothing: both sides share accounts
            bare = _measure(data_dir, workers, True, tokens, index, body, args, script)
            full = _measure(data_dir, workers, False, tokens, index, body, args, script)
            noop = _median(full["no-op"])
            rows.append([f"{workers}w no-op POST /healthz (floor)", f"{noop['rps']:.0f}", "", f"{noop['p50_ms']:.2f}",
                         f"{noop['p99_ms']:.2f}", str(int(noop["errors"]))])
            for kind in ("renewal", "start"):
                b, f = _median(bare[kind]), _median(full[kind])
                rows.append([f"{workers}w {kind}: bare Clear Key (comparator)", f"{b['rps']:.0f}", "",
                             f"{b['p50_ms']:.2f}", f"{b['p99_ms']:.2f}", str(int(b["errors"]))])
                rows.append([f"{workers}w {kind}: full policy", f"{f['rps']:.0f}", f"{f['rps'] / b['rps']:.2f}",
                             f"{f['p50_ms']:.2f}", f"{f['p99_ms']:.2f}", str(int(f["errors"]))])
        tokens.runtime.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    report("Licence throughput: full policy vs bare Clear Key (HTTP, loopback)",
           ["scenario", "req/s", "÷ bare", "p50 ms", "p99 ms", "non-2xx"], rows,
           [f"wrk 1 thread, {args.connections} connections, {args.seconds} s per round, {args.rounds} rounds, median "
            "round shown; SQLite (WAL); 3 KIDs per request; ES256 tokens; the load generator shares the 2 cores",
            f"renewal: {PLAYING_ACCOUNTS * 2:,} playing streams renewing round robin, each started and renewed "
            "on every worker before timing (facts and slots cached, "
            "renewals and decisions written behind every 0.25 s); start: a never-seen token per request (one "
            "serialized transaction per start with the decision, the slot and the jti)",
            "full policy = the built-in default policy (token, account, entitlement, window, territory, device, "
            "device limit, security level, HDCP, concurrent streams, licence clocks, downloads); bare = "
            "unsafe_skip_license_policy (token + keys only)",
            "target: renewal under the full policy ≥ 0.7 x bare"])


if __name__ == "__main__":
    main()
