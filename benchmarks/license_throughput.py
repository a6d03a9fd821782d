"""Licence throughput over HTTP: the full policy vs the bare Clear Key path, same run.

Starts ``reelguard serve`` twice on the same data folder, side by side — once with the
built-in default policy (12 rules, stream slots, decision log), once with
``unsafe_skip_license_policy`` (a valid token alone gets keys: the issue-2 path) — and
drives them in alternating rounds with ``wrk`` (C, one thread, 32 connections) on the
same token files:

- *renewal*: 10,000 playing streams (5,000 accounts x 2 devices) each renewing with its
  own token, round robin — the steady state of a licence server (every licence request
  of a playing stream is a renewal);
- *start*: every request a token never seen before, each starting a new stream (a
  serialized transaction per account on the policy side; a signature check on both);
- a no-op ``POST /healthz`` on the policy server as the stack's floor;
- *renewal above the old cache bound*: 25,000 playing streams, more than the 20,000 verified
  tokens the old caches held before they were emptied at once (issue 17): measured after the
  rounds above, with its own tokens, warmed and timed the same way on the bare and full servers.

Target: policy renewal rate ≥ 0.7 x the bare rate with the same tokens.

    python benchmarks/license_throughput.py [--seconds 10] [--rounds 3] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median_high

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import httpx
from _report import report
from _servers import require_wrk, serve
from fetch_test_media import fetch
from sqlalchemy import insert

from reelguard.accounts.service import AccountService
from reelguard.composition import Runtime
from reelguard.drm.keys import KeyId
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
PLAYING_ACCOUNTS = 5_000          # x 2 devices = 10,000 playing streams
ABOVE_ACCOUNTS = 12_500           # x 2 devices = 25,000: above the 20,000 tokens the old caches emptied at
START_TOKENS_PER_ROUND = 50_000   # more than a round can use, so every start is a first use
TOKEN_SECONDS = 600               # the built-in policy's token lifetime cap


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
                                                  store={"database_url": ""}))
        self.data_dir, self._files = data_dir, 0

    def write(self, pairs: list[tuple[str, str]]) -> Path:
        now = self.runtime.clock()
        self._files += 1
        path = self.data_dir / f"{self._files}.tokens"
        path.write_text("\n".join(self.runtime.signer.issue(account=a, title="bench", device=d,
                                                            ttl_seconds=TOKEN_SECONDS, now=now)
                                  for a, d in pairs) + "\n")
        return path


def _prepare(data_dir: Path, media: Path, settings: int, rounds: int) -> tuple[Tokens, str]:
    """The title, its rights, and subscribers: playing accounts and fresh start accounts per round."""
    tokens = Tokens(data_dir)
    runtime = tokens.runtime
    view = runtime.ingest_service().add_title(media / "bigbuckbunny.mp4", name="bench")
    AccountService(runtime.db, runtime.clock).set_title_rights("bench", plans=["standard"])
    for index in range(settings):
        _subscribers(runtime, f"play{index}-", PLAYING_ACCOUNTS)
        _subscribers(runtime, f"above{index}-", ABOVE_ACCOUNTS)
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


def _serve(data_dir: Path, workers: int, *, bare: bool, journal: bool = True) -> tuple[subprocess.Popen[bytes], str]:
    settings = {"license__unsafe_skip_policy": "true"} if bare else {}
    if not journal:
        settings["license__unsafe_skip_decision_journal"] = "true"
    return serve(data_dir, workers=workers, settings=settings)


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


class Server:
    """One ``reelguard serve`` on the shared data folder, warmed up: every playing stream
    started and renewed on every worker (facts and slots cached) before anything is timed."""

    def __init__(self, data_dir: Path, workers: int, *, bare: bool, journal: bool = True) -> None:
        self.bare = bare
        self.process, self.base = _serve(data_dir, workers, bare=bare, journal=journal)
        self.url = f"{self.base}/license/clearkey"

    def warm(self, playing: Path, body: str, workers: int) -> None:
        # the bare path caches only verified tokens; the policy path also slots and facts, on every worker
        for _ in range(1 + workers if self.bare else 2 + 2 * workers):
            _start_all(self.url, playing, body)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _measure(data_dir: Path, workers: int, tokens: Tokens, index: int, body: str, args: argparse.Namespace,
             script: Path) -> dict[str, list[dict[str, float]]]:
    """All servers up at once, measured in alternating rounds (the idle ones use no CPU),
    so drift in this shared machine's speed hits both sides of each ratio alike."""
    servers = {"bare": Server(data_dir, workers, bare=True), "full": Server(data_dir, workers, bare=False),
               "unjournaled": Server(data_dir, workers, bare=False, journal=False)}
    try:
        playing = tokens.write(_pairs(f"play{index}-", PLAYING_ACCOUNTS))
        minted = time.monotonic()
        for server in servers.values():
            server.warm(playing, body, workers)
        results: dict[str, list[dict[str, float]]] = {}
        for r in range(args.rounds):
            # the bare path refuses an expired token (only the policy path lets one renew its running
            # stream): every timed renewal must happen within the playing tokens' 600 s
            left = TOKEN_SECONDS - (time.monotonic() - minted)
            if left < 6 * (args.seconds + 2):
                print(f"{workers} worker(s): the playing tokens expire in {left:.0f} s; stopping after {r} rounds",
                      file=sys.stderr)
                break
            starts = tokens.write(_pairs(f"start{index}.{r}-", START_TOKENS_PER_ROUND // 2))
            for kind, token_file in (("renewal", playing), ("start", starts)):
                # a start writes its decision in its own transaction: the journal is a renewal's cost only
                sides = ["bare", "full", "unjournaled"] if kind == "renewal" else ["bare", "full"]
                for side in sides[r % len(sides):] + sides[:r % len(sides)]:  # the order turns every round
                    # the bare path records nothing, so it can share the start tokens with the full one
                    result = _wrk(servers[side].url, token_file, body, args.seconds, args.connections, script)
                    results.setdefault(f"{kind} {side}", []).append(result)
            results.setdefault("no-op", []).append(_wrk(f"{servers['full'].base}/healthz", playing, body,
                                                        args.seconds, args.connections, script))
        _measure_above(servers, tokens, index, body, args, script, workers, results)
        return results
    finally:
        for server in servers.values():
            server.stop()


def _measure_above(servers: dict[str, Server], tokens: Tokens, index: int, body: str, args: argparse.Namespace,
                   script: Path, workers: int, results: dict[str, list[dict[str, float]]]) -> None:
    """Renewals of 25,000 playing streams (above the old cache bound), bare and full, in alternating rounds."""
    above = tokens.write(_pairs(f"above{index}-", ABOVE_ACCOUNTS))
    minted = time.monotonic()
    for side in ("bare", "full"):
        servers[side].warm(above, body, workers)
    for r in range(args.rounds):
        if TOKEN_SECONDS - (time.monotonic() - minted) < 3 * (args.seconds + 2):
            print(f"{workers} worker(s): the 25,000 streams' tokens expire; stopping after {r} rounds", file=sys.stderr)
            break
        for side in ("bare", "full")[r % 2:] + ("bare", "full")[:r % 2]:
            result = _wrk(servers[side].url, above, body, args.seconds, args.connections, script)
            results.setdefault(f"above {side}", []).append(result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    require_wrk()
    root = Path(__file__).resolve().parents[1]
    fetch(root / "media")
    data_dir = Path(tempfile.mkdtemp(prefix="rg-bench-license-"))
    rows = []
    try:
        tokens, body = _prepare(data_dir, root / "media", len(args.workers), args.rounds)
        script = data_dir / "license.lua"
        script.write_text(WRK_SCRIPT)
        measured = []
        for index, workers in enumerate(args.workers):
            results = _measure(data_dir, workers, tokens, index, body, args, script)
            measured.append(f"{workers}w: {len(results['no-op'])} rounds, {len(results['above full'])} above")
            rows.append(_row(f"{workers}w no-op POST /healthz (floor)", results["no-op"], None))
            for kind in ("renewal", "start"):
                bare, full = results[f"{kind} bare"], results[f"{kind} full"]
                rows.append(_row(f"{workers}w {kind}: bare Clear Key (comparator)", bare, None))
                rows.append(_row(f"{workers}w {kind}: full policy", full, bare))
                if kind == "renewal":
                    rows.append(_row(f"{workers}w renewal: full policy, decisions not journaled",
                                     results["renewal unjournaled"], bare, versus=full))
            above = f"{ABOVE_ACCOUNTS * 2:,} streams"
            rows.append(_row(f"{workers}w renewal of {above}: bare Clear Key (comparator)", results["above bare"],
                             None))
            rows.append(_row(f"{workers}w renewal of {above}: full policy", results["above full"],
                             results["above bare"]))
        tokens.runtime.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    report("Licence throughput: full policy vs bare Clear Key (HTTP, loopback)",
           ["scenario", "req/s (median round)", "÷ bare (median of round ratios)",
            "journaled ÷ this (median of round ratios)", "p50 ms", "p99 ms", "non-2xx"],
           rows,
           [f"wrk 1 thread, {args.connections} connections, {args.seconds} s per round, up to {args.rounds} rounds "
            f"({', '.join(measured)}: a round must end before the playing tokens' {TOKEN_SECONDS} s do); the "
            "servers run side by side and are measured in turn (the order turns every round), so the machine's "
            "drift hits both sides of each ratio; SQLite (WAL); 3 KIDs per request; ES256 "
            "tokens; the load generator shares the 2 cores",
            f"renewal: {PLAYING_ACCOUNTS * 2:,} playing streams renewing round robin, each started and renewed "
            "on every worker before timing (facts and slots cached; renewals written ahead and, with the decision "
            "records, behind every 0.25 s); start: a never-seen token per request (one serialized transaction per "
            "start with the decision, the slot and the jti)",
            "full policy = the built-in default policy (token, account, entitlement, window, territory, device, "
            "device limit, security level, HDCP, concurrent streams, licence clocks, downloads); bare = "
            "unsafe_skip_license_policy (token + keys only)",
            "full policy renewals append each decision to the decision journal (one write(2) before the keys "
            "leave, docs/policy.md); the unjournaled server (unsafe_skip_decision_journal) is the journal's "
            "comparator, measured in the same rounds: 'journaled ÷ this' is the journal's cost",
            "every server logs its access log at info (the default), to /dev/null",
            f"renewal of {ABOVE_ACCOUNTS * 2:,} streams: more playing streams than the 20,000 tokens the old caches "
            "held before emptying at once (every renewal then re-verified its token); the caches now keep two "
            "generations (license/caching.py); measured after the main rounds on the same servers, own tokens",
            "target: renewal under the full policy ≥ 0.7 x bare"])


def _row(label: str, results: list[dict[str, float]], comparator: list[dict[str, float]] | None,
         versus: list[dict[str, float]] | None = None) -> list[str]:
    """A table row; ``versus``: the journaled full policy, whose rate over this one is the journal's cost."""
    ratio = journaled = ""
    if comparator is not None:
        ratio = f"{median_high([f['rps'] / b['rps'] for f, b in zip(results, comparator, strict=True)]):.2f}"
    if versus is not None:
        journaled = f"{median_high([j['rps'] / u['rps'] for j, u in zip(versus, results, strict=True)]):.2f}"
    return [label, f"{median_high([r['rps'] for r in results]):.0f}", ratio, journaled,
            f"{median_high([r['p50_ms'] for r in results]):.2f}", f"{median_high([r['p99_ms'] for r in results]):.2f}",
            str(int(sum(r["errors"] for r in results)))]


if __name__ == "__main__":
    main()
