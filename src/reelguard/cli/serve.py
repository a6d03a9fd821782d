"""``reelguard serve``: run the licence server, key server, origin, demo player and integration API.

    reelguard --data-dir /srv/rg serve --workers 4 --log-level info --log-format json
    reelguard --data-dir /srv/rg serve --role license --port 8701 --workers 4   # the hot path alone

``--role`` picks the app (``web/app.py``): ``license``, ``keyserver``, ``origin`` or ``all``
(the default, for the embedded set-up). Workers are separate processes; each is handed the
command's settings (an ``AppFactory``) and opens its own database, keys and caches from
them — nothing but settings crosses, and nothing goes through the environment.

uvicorn's supervisor pings each worker and replaces one that does not answer within
``[server] worker_healthcheck_seconds`` (uvicorn's own default, 5 s, killed workers that were still
importing on a busy machine, over and over); a replacement is logged as a warning. A worker
that dies while the supervisor waits for its answer is found when that wait ends, so a
replacement can take up to that long. The access log (``reelguard.access``) replaces
uvicorn's, which would print the session tokens that stream paths carry.
"""

from __future__ import annotations

import click

from reelguard.cli._shared import console, settings_from
from reelguard.settings import Settings

ROLES = ("all", "license", "keyserver", "origin")

__all__ = ["run_server", "serve"]


def run_server(settings: Settings, host: str, port: int, workers: int, role: str = "all") -> None:
    """Serve one role with uvicorn: in this process, or in ``workers`` processes under its supervisor."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from reelguard.web.app import AppFactory, Role
    from reelguard.web.logs import logging_config

    config = uvicorn.Config(AppFactory(settings, Role(role)), factory=True, host=host, port=port, workers=workers,
                            ws="none",  # no WebSocket route anywhere: skip loading a protocol for it
                            log_config=logging_config(settings.server.log_level,
                                                      json_lines=settings.server.log_format == "json"),
                            access_log=False, timeout_worker_healthcheck=settings.server.worker_healthcheck_seconds)
    if workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            raise SystemExit(3)  # uvicorn's own start-up failure status (the error is in the log)
    else:  # uvicorn.run only takes an import string here, which could carry no settings
        Multiprocess(config, sockets=[config.bind_socket()]).run()


@click.command()
@click.option("--host", default=None, help="Bind address (default from settings: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default from settings: 8700).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--role", type=click.Choice(ROLES), default="all", show_default=True,
              help="What this server runs: the licence server, the key server, the origin, or all of them.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default=None,
              help="Server log level (default from settings: info; the access log is at info).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log lines as text or JSON objects (default from settings: text).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int, role: str, log_level: str | None,
          log_format: str | None) -> None:
    """Start the ASGI server (licence, HLS key delivery, key server, origin, demo player, API)."""
    settings = settings_from(ctx)
    overrides = {k: v for k, v in (("log_level", log_level), ("log_format", log_format)) if v is not None}
    if overrides:  # logging is configured in every worker from uvicorn's log_config, not from settings
        settings = settings.replaced(server=overrides)
    host, port = host or settings.server.host, port if port is not None else settings.server.port
    docs = "  (API docs: /api/docs)" if role == "all" else ""
    console.print(f"reelguard serving on http://{host}:{port}  (role: {role}){docs}")
    run_server(settings, host, port, workers, role)
