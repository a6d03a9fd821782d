"""``reelguard serve``: run the licence server, origin and demo player."""

from __future__ import annotations

import os

import click
import uvicorn

from reelguard.cli._shared import console, settings_from

__all__ = ["run_server", "serve"]


def run_server(host: str, port: int, workers: int, data_dir: str) -> None:
    """Serve with uvicorn; workers build their app from the environment (same settings)."""
    os.environ["REELGUARD_DATA_DIR"] = data_dir
    uvicorn.run("reelguard.web.app:create_app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning", access_log=False)


@click.command()
@click.option("--host", default=None, help="Bind address (default from settings: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default from settings: 8700).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Start the ASGI server (licence, HLS key delivery, origin, demo player)."""
    settings = settings_from(ctx)
    host, port = host or settings.host, port if port is not None else settings.port
    console.print(f"reelguard serving on http://{host}:{port}  (API docs: /api/docs)")
    run_server(host, port, workers, str(settings.data_dir.resolve()))
