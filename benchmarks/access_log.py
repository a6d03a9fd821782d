"""What the access log costs a request: the same server with it on (``--log-level info``, the
default) and off (``--log-level warning``), side by side, measured in alternating rounds.

Two routes: the no-op ``POST /healthz`` (the stack's floor, where a fixed cost shows most)
and ``GET /content/<title>/dash/manifest.mpd`` (an origin file). The cost per request is
the difference of the inverse rates (both servers are CPU-bound on the shared 2 cores,
with wrk on the same machine), reported beside the ratio of the rates.

    python benchmarks/access_log.py [--seconds 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median_high

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _report import report
from _servers import require_wrk, serve
from fetch_test_media import fetch

from reelguard.composition import Runtime
from reelguard.settings import Settings

POST_SCRIPT = 'wrk.method = "POST"\nwrk.body = "{}"\n'


def _wrk(url: str, seconds: int, script: Path | None) -> float:
    command = ["wrk", "-t1", "-c32", f"-d{seconds}s", *(["-s", str(script)] if script else []), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    require_wrk()
    root = Path(__file__).resolve().parents[1]
    fetch(root / "media")
    work = Path(tempfile.mkdtemp(prefix="rg-bench-access-"))
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        data = work / "data"
        runtime = Runtime.open(Settings.load(config_file=data / "none.toml", data_dir=data, store={"database_url": ""}))
        runtime.ingest_service().add_title(root / "media" / "lavfi_testsrc.mp4", name="clip")
        runtime.close()
        script = work / "post.lua"
        script.write_text(POST_SCRIPT)
        servers = {"on": serve(data, log_level="info"), "off": serve(data, log_level="warning")}
        routes = {"POST /healthz (no-op)": ("/healthz", script),
                  "GET manifest (origin)": ("/content/clip/dash/manifest.mpd", None)}
        rates: dict[tuple[str, str], list[float]] = {}
        for r in range(args.rounds):
            for route, (path, lua) in routes.items():
                for side in (["on", "off"] if r % 2 == 0 else ["off", "on"]):
                    rates.setdefault((route, side), []).append(_wrk(servers[side][1] + path, args.seconds, lua))
        rows = []
        for route in routes:
            on, off = rates[(route, "on")], rates[(route, "off")]
            cost = median_high([(1 / a - 1 / b) * 1e6 for a, b in zip(on, off, strict=True)])
            rows.append([route, f"{median_high(off):.0f}", f"{median_high(on):.0f}",
                         f"{median_high([a / b for a, b in zip(on, off, strict=True)]):.2f}", f"{cost:.0f}"])
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    report("Access log: the same server with it on (info) and off (warning)",
           ["route", "req/s, access log off (comparator)", "req/s, access log on", "on ÷ off (median of rounds)",
            "µs per request (1/on - 1/off)"], rows,
           [f"wrk 1 thread, 32 connections, {args.seconds} s per run, {args.rounds} rounds, the two servers "
            "measured in alternating order; one worker each, SQLite; logs to /dev/null as text lines",
            "the access line: method, path (session tokens taken out), status, bytes, ms, client — through "
            "Python logging (a record built directly, no caller lookup)"])


if __name__ == "__main__":
    main()
