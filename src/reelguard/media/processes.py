"""Child processes (ffmpeg, Shaka Packager) that die with reelguard.

A CLI killed mid-ingest used to leave ffmpeg running as an orphan, which went on writing
renditions that a later ``titles resume`` then took as its own. Every media child is
started here: on Linux with ``PR_SET_PDEATHSIG`` = SIGKILL, so the kernel kills it when
the thread that started it ends — however reelguard ends, SIGKILL included — and killed
outright when the caller unwinds with an exception (Ctrl-C, SIGTERM, a failure)::

    result = run_tied([tools.ffmpeg, "-version"], capture_output=True, timeout=30)
    with popen_tied(command, stdout=subprocess.PIPE) as process: ...
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["DIE_WITH_PARENT", "popen_tied", "run_tied"]

_PR_SET_PDEATHSIG = 1


def _pdeathsig() -> Callable[[], None] | None:
    """A pre-exec hook setting the parent-death signal, resolved here so the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    kill = int(signal.SIGKILL)

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)

    return die_with_parent


DIE_WITH_PARENT = _pdeathsig()


def run_tied(command: Sequence[str], *, timeout: float | None = None,
             **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` whose child dies with this process (``subprocess.run`` kills it on an exception)."""
    return subprocess.run(list(command), timeout=timeout, check=False, preexec_fn=DIE_WITH_PARENT, **kwargs)


@contextmanager
def popen_tied(command: Sequence[str], **kwargs: Any) -> Iterator[subprocess.Popen[Any]]:
    """A ``Popen`` whose child dies with this process, and is killed if the ``with`` block raises."""
    process = subprocess.Popen(list(command), preexec_fn=DIE_WITH_PARENT, **kwargs)
    try:
        with process:
            yield process
    except BaseException:
        process.kill()
        process.wait()
        raise
