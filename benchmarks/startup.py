"""Start-up: how long ``reelguard --help`` and ``reelguard serve`` take to be useful, against the stack's floor.

A server worker that takes longer than its supervisor's health check to import is killed
and replaced, over and over (issue 16); every CLI command paid for FAISS, OpenCV and PyAV.
Measured here, same run, median of ``--runs`` (each a fresh process, caches warm):

- ``python -c pass`` — the interpreter alone (comparator for the CLI);
- the import of the server's libraries (uvicorn, FastAPI, SQLAlchemy's ORM, pydantic-settings,
  PyJWT, cryptography) and nothing else — the floor under any server built on them;
- ``reelguard --help`` and ``reelguard tokens issue`` (a command that opens the store);
- a minimal FastAPI app under uvicorn, from exec to its first answer (comparator for serve);
- ``reelguard serve`` (1 worker) on a data folder with a ready title, from exec to its first
  ``/healthz`` answer.

Target: serve ready in under a second on an idle machine.

    python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import median_high

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _report import report
from _servers import free_port
from fetch_test_media import fetch

from reelguard.ingest.service import IngestService
from reelguard.runtime import Runtime
from reelguard.settings import Settings

SERVER_LIBRARIES = "uvicorn, fastapi, sqlalchemy.orm, pydantic_settings, jwt, cryptography.hazmat.primitives.keywrap"
MINIMAL_APP = "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/healthz')\ndef healthz():\n    return {}\n"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}


def _command_seconds(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, check=True)
    return time.perf_counter() - started


def _ready_seconds(command: list[str], port: int, cwd: Path) -> float:
    """Seconds from exec until the server answers /healthz."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.005)
            if time.perf_counter() - started > 120:
                raise SystemExit(f"{command} did not answer within 120 s")
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    fetch(root / "media")
    work = Path(tempfile.mkdtemp(prefix="rg-bench-startup-"))
    try:
        data = work / "data"
        runtime = Runtime.open(Settings.load(config_file=data / "none.toml", data_dir=data, database_url=""))
        IngestService(runtime).add_title(root / "media" / "lavfi_testsrc.mp4", name="clip")
        runtime.close()
        (work / "minimal_app.py").write_text(MINIMAL_APP)
        cli = [sys.executable, "-m", "reelguard.cli.main", "--data-dir", str(data)]
        timings: dict[str, list[float]] = {}
        for _ in range(args.runs):
            timings.setdefault("python -c pass", []).append(_command_seconds([sys.executable, "-c", "pass"], work))
            timings.setdefault("import of serve's libraries alone", []).append(_command_seconds(
                [sys.executable, "-c", f"import {SERVER_LIBRARIES}"], work))
            timings.setdefault("reelguard --help", []).append(_command_seconds([*cli, "--help"], work))
            timings.setdefault("reelguard tokens issue", []).append(_command_seconds(
                [*cli, "tokens", "issue", "--account", "a", "--title", "clip", "--device", "d"], work))
            port = free_port()
            timings.setdefault("minimal FastAPI app, uvicorn", []).append(_ready_seconds(
                [sys.executable, "-m", "uvicorn", "minimal_app:app", "--port", str(port), "--log-level", "warning"],
                port, work))
            port = free_port()
            timings.setdefault("reelguard serve", []).append(_ready_seconds(
                [*cli, "serve", "--port", str(port), "--log-level", "warning"], port, work))
        rows = [[name, f"{median_high(values) * 1000:.0f}", f"{min(values) * 1000:.0f}", f"{max(values) * 1000:.0f}",
                 _ratio(name, timings)] for name, values in timings.items()]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report("Start-up: CLI and server, against the interpreter and a minimal FastAPI app",
           ["what", "median ms", "min ms", "max ms", "÷ its comparator (medians)"], rows,
           [f"{args.runs} runs each, interleaved, a fresh process every time; serve: from exec to the first "
            "/healthz answer, on a data folder with one ready title (migrations already at head)",
            "comparators: the interpreter alone for CLI commands, a minimal FastAPI app under uvicorn for serve; "
            f"'import of serve's libraries alone' imports {SERVER_LIBRARIES} and does nothing else — what any "
            "server built on them pays before its first line runs",
            "target: serve ready in under 1 s on an idle machine"])


def _ratio(name: str, timings: dict[str, list[float]]) -> str:
    comparator = {"reelguard --help": "python -c pass", "reelguard tokens issue": "python -c pass",
                  "import of serve's libraries alone": "python -c pass",
                  "reelguard serve": "minimal FastAPI app, uvicorn"}.get(name)
    return f"{median_high(timings[name]) / median_high(timings[comparator]):.1f}" if comparator else ""


if __name__ == "__main__":
    main()
