"""The real browser and the real server on loopback, as the browser tests and benchmarks use them.

Debian's Chromium (never Playwright's own download) with the flags this machine needs,
and the reelguard app served by uvicorn from a thread for as long as a ``with`` lasts.
``server_log`` captures everything the server logs meanwhile (debug level, JSON lines),
so a test can read a whole real playback's log — for secrets that must never be in it::

    with serving(runtime) as base_url, server_log() as log, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        ...
    assert not log.secrets(keys)
"""

from __future__ import annotations

import base64
import io
import logging
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import uvicorn

from reelguard.composition import Runtime
from reelguard.web.app import create_app
from reelguard.web.logs import JsonFormatter

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(runtime: Runtime, start_timeout: float = 30.0) -> Iterator[str]:
    """The app on 127.0.0.1 (a free port) in a thread; yields its base URL, stops it after."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))  # as `serve`: reelguard.access logs, tokens taken out
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port} within {start_timeout:.0f} s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")


class ServerLog:
    """What the server logged, as text, and the secrets found in it."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    @property
    def text(self) -> str:
        return self._buffer.getvalue()

    def secrets(self, keys: Iterable[bytes]) -> list[str]:
        """Tokens (any JWT) and content keys (hex, base64url or base64) found in the log."""
        found = [f"token {m.group()[:20]}…" for m in _JWT.finditer(self.text)]
        for key in keys:
            for form in (key.hex(), key.hex().upper(), base64.urlsafe_b64encode(key).decode().rstrip("="),
                         base64.b64encode(key).decode().rstrip("=")):
                if form in self.text:
                    found.append(f"content key {form[:6]}…")
        return found


@contextmanager
def server_log() -> Iterator[ServerLog]:
    """Every record of the reelguard and uvicorn loggers at debug level, while the ``with`` lasts."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    # not uvicorn.access: uvicorn writes its access log only when that logger has a handler (serve gives it none)
    loggers = [logging.getLogger(name) for name in ("reelguard", "uvicorn", "uvicorn.error")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield ServerLog(buffer)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
