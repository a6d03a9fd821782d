"""The server's logging: level, text or JSON lines, and worker restarts made visible.

``serve`` hands ``logging_config(...)`` to uvicorn, which applies it in the supervisor and
in every worker process. JSON lines carry ``time``, ``level``, ``logger``, ``message`` and
the access log's fields (``method``, ``path``, ``status``, ``bytes``, ``ms``, ``client``),
one object per line for a log shipper::

    uvicorn.run(..., log_config=logging_config("info", json_lines=True))

uvicorn's supervisor reports a worker it killed and replaced at *info* ("Child process
[123] died"); a worker that keeps dying is an incident, so that line is raised to
*warning* here and shows at every level an operator would run.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

__all__ = ["LOG_LEVELS", "JsonFormatter", "WorkerRestartsAreWarnings", "logging_config"]

LOG_LEVELS = ("debug", "info", "warning", "error")
_ACCESS_FIELDS = ("client", "method", "path", "status", "bytes", "ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the access fields if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in _ACCESS_FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class WorkerRestartsAreWarnings(logging.Filter):
    """uvicorn's server log at ``level``, with "Child process [n] died" raised to WARNING.

    It sits on the ``uvicorn.error`` logger, which is kept at INFO so the restart line
    reaches this filter; everything else below ``level`` is dropped here.
    """

    def __init__(self, level: str) -> None:
        super().__init__()
        self.level = logging.getLevelNamesMapping()[level.upper()]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Child process") and message.endswith("died"):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = f"{message}; a new worker replaces it", None
        return record.levelno >= self.level


def logging_config(level: str, *, json_lines: bool) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and reelguard at ``level``."""
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    formatter = {"()": f"{__name__}.JsonFormatter"} if json_lines else \
        {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"server": {"()": f"{__name__}.WorkerRestartsAreWarnings", "level": level}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default",
                                 "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": "DEBUG" if upper == "DEBUG" else "INFO", "filters": ["server"]},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},  # ours instead
            "reelguard": {"handlers": ["default"], "level": upper, "propagate": False},
        },
    }
