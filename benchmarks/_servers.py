"""Shared by the benchmark scripts: ``reelguard serve`` as a separate process on a free port,
and the load generator they drive it with.

    require_wrk()
    process, base_url = serve(data_dir, workers=2, settings={"license__unsafe_skip_policy": "true"})

(Each script puts ``scripts/`` on ``sys.path`` first: the free port comes from the browser harness.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from browser_harness import free_port

__all__ = ["free_port", "require_wrk", "serve"]


def require_wrk() -> None:
    """Stop with what to install when ``wrk`` (the HTTP load generator) is missing."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does it)")


def serve(data_dir: Path, *, workers: int = 1, log_level: str = "info",
          settings: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A server on ``data_dir`` (plus ``settings``, ``section__field``, as REELGUARD_* variables) once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update({f"REELGUARD_{name.upper()}": value for name, value in (settings or {}).items()})
    process = subprocess.Popen([sys.executable, "-m", "reelguard.cli.main", "--data-dir", str(data_dir), "serve",
                                "--port", str(port), "--workers", str(workers), "--log-level", log_level], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("server did not start")
