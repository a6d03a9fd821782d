"""Shared by the benchmark scripts: ``reelguard serve`` as a separate process on a free port.

    process, base_url = serve(data_dir, workers=2, settings={"unsafe_skip_license_policy": "true"})
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(data_dir: Path, *, workers: int = 1, log_level: str = "info",
          settings: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A server on ``data_dir`` (plus ``settings`` as REELGUARD_* variables), once it answers /healthz."""
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
