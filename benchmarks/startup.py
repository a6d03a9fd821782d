"""Start-up: how long ``reelguard --help`` and ``reelguard serve`` take to be useful, against the stack's floor.

A server worker that takes longer than its supervisor's health check to import is killed
and replaced, over and over (issue 16); every CLI command paid for FAISS, OpenCV and PyAV.
Measured here, same run, median of ``--runs`` (each a fresh process, bytecode compiled as
an install leaves it, file caches warm):

- ``python -c pass`` — the interpreter alone (comparator for the CLI);
- the import of a role server's libraries (uvicorn, Starlette, SQLAlchemy's ORM,
  pydantic-settings, PyJWT, cryptography) and nothing else — the floor under any server
  built on them; and the same with FastAPI, which only the integration API loads;
- ``reelguard --help`` and ``reelguard tokens issue`` (a command that opens the store);
- a minimal Starlette app and a minimal FastAPI app under uvicorn, from exec to their first
  answer (comparators for the role servers and for ``--role all``);
- ``reelguard serve --role …`` (1 worker) on a data folder with a ready title, from exec to
  its first ``/healthz`` answer — and, for ``all``, to the integration API's first answer
  (the API is built in a thread once the server is up).

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
import urllib.error
import urllib.request
from pathlib import Path
from statistics import median_high

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _report import report
from _servers import free_port
from fetch_test_media import fetch

from reelguard.composition import Runtime
from reelguard.settings import Settings

ROLE_LIBRARIES = ("uvicorn, starlette.applications, sqlalchemy.orm, pydantic_settings, jwt, "
                  "cryptography.hazmat.primitives.keywrap")
MINIMAL_FASTAPI = "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/healthz')\ndef healthz():\n    return {}\n"
MINIMAL_STARLETTE = ("from starlette.applications import Starlette\nfrom starlette.responses import JSONResponse\n"
                     "from starlette.routing import Route\n"
                     "async def healthz(request):\n    return JSONResponse({})\n"
                     "app = Starlette(routes=[Route('/healthz', healthz)])\n")
ROLES = ("license", "keyserver", "origin", "all")
COMPARATORS = {"reelguard --help": "python -c pass", "reelguard tokens issue": "python -c pass",
               "import of a role server's libraries alone": "python -c pass",
               "… and FastAPI": "python -c pass",
               **{f"reelguard serve --role {role}": "minimal Starlette app, uvicorn" for role in ROLES[:3]},
               "reelguard serve --role all": "minimal FastAPI app, uvicorn",
               "reelguard serve --role all: first /api/v1 answer": "minimal FastAPI app, uvicorn"}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}


def _command_seconds(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, check=True)
    return time.perf_counter() - started


def _ready_seconds(command: list[str], port: int, cwd: Path, paths: tuple[str, ...] = ("/healthz",)) -> list[float]:
    """Seconds from exec until the server first answers each of ``paths`` (in turn; any status but 404)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        return [_answered(f"http://127.0.0.1:{port}{path}", started, command) for path in paths]
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def _answered(url: str, started: float, command: list[str]) -> float:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return time.perf_counter() - started
        except urllib.error.HTTPError as error:  # an answer (the API wants credentials) — unless not yet routed
            if error.code != 404:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.005)
        if time.perf_counter() - started > 120:
            raise SystemExit(f"{command} did not answer {url} within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    fetch(root / "media")
    work = Path(tempfile.mkdtemp(prefix="rg-bench-startup-"))
    try:
        data = work / "data"
        runtime = Runtime.open(Settings.load(config_file=data / "none.toml", data_dir=data, store={"database_url": ""}))
        runtime.ingest_service().add_title(root / "media" / "lavfi_testsrc.mp4", name="clip")
        runtime.close()
        (work / "minimal_fastapi.py").write_text(MINIMAL_FASTAPI)
        (work / "minimal_starlette.py").write_text(MINIMAL_STARLETTE)
        # an install compiles the package's bytecode; this checkout's environment may forbid writing it
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "src" / "reelguard")], check=True)
        cli = [sys.executable, "-m", "reelguard.cli.main", "--data-dir", str(data)]
        timings: dict[str, list[float]] = {}
        for _ in range(args.runs):
            _one_round(timings, cli, work)
        rows = [[name, f"{median_high(values) * 1000:.0f}", f"{min(values) * 1000:.0f}", f"{max(values) * 1000:.0f}",
                 _ratio(name, timings)] for name, values in timings.items()]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report("Start-up: CLI and server, against the interpreter and a minimal FastAPI app",
           ["what", "median ms", "min ms", "max ms", "÷ its comparator (medians)"], rows,
           [f"{args.runs} runs each, interleaved, a fresh process every time, bytecode compiled; serve (1 worker): "
            "from exec to the first /healthz answer, on a data folder with one ready title (migrations already at "
            "head); for --role all also to the first answer of /api/v1/accounts (401 without credentials), which "
            "the server builds in a thread once it is up",
            "comparators: the interpreter alone for CLI commands and imports; a minimal Starlette app under uvicorn "
            "for the role servers, a minimal FastAPI app for --role all; 'import of a role server's libraries "
            f"alone' imports {ROLE_LIBRARIES} and does nothing else — what any server built on them pays before "
            "its first line runs",
            "target: serve ready in under 1 s on an idle machine"])


def _one_round(timings: dict[str, list[float]], cli: list[str], work: Path) -> None:
    def add(name: str, seconds: float) -> None:
        timings.setdefault(name, []).append(seconds)

    add("python -c pass", _command_seconds([sys.executable, "-c", "pass"], work))
    add("import of a role server's libraries alone",
        _command_seconds([sys.executable, "-c", f"import {ROLE_LIBRARIES}"], work))
    add("… and FastAPI", _command_seconds([sys.executable, "-c", f"import {ROLE_LIBRARIES}, fastapi"], work))
    add("reelguard --help", _command_seconds([*cli, "--help"], work))
    add("reelguard tokens issue",
        _command_seconds([*cli, "tokens", "issue", "--account", "a", "--title", "clip", "--device", "d"], work))
    for name, module in (("minimal Starlette app, uvicorn", "minimal_starlette"),
                         ("minimal FastAPI app, uvicorn", "minimal_fastapi")):
        port = free_port()
        add(name, _ready_seconds([sys.executable, "-m", "uvicorn", f"{module}:app", "--port", str(port),
                                  "--log-level", "warning"], port, work)[0])
    for role in ROLES:
        port = free_port()
        command = [*cli, "serve", "--role", role, "--port", str(port), "--log-level", "warning"]
        if role == "all":
            ready, api = _ready_seconds(command, port, work, ("/healthz", "/api/v1/accounts"))
            add("reelguard serve --role all", ready)
            add("reelguard serve --role all: first /api/v1 answer", api)
        else:
            add(f"reelguard serve --role {role}", _ready_seconds(command, port, work)[0])


def _ratio(name: str, timings: dict[str, list[float]]) -> str:
    comparator = COMPARATORS.get(name)
    return f"{median_high(timings[name]) / median_high(timings[comparator]):.1f}" if comparator else ""


if __name__ == "__main__":
    main()
