"""``reelguard demo``: the ``make run`` job — ingest the sample title, mint a token, serve.

It ingests the sample programme once (resuming it if an earlier run was interrupted),
mints a 12-hour token for a demo account and prints the player URLs before serving.
"""

from __future__ import annotations

from pathlib import Path

import click

from reelguard.cli._shared import console, ingest_progress, open_runtime, settings_from
from reelguard.cli.serve import run_server
from reelguard.ingest.service import IngestService
from reelguard.store import repositories

__all__ = ["demo"]

DEMO_TTL_SECONDS = 12 * 3600


@click.command()
@click.option("--source", type=click.Path(path_type=Path), default=Path("media/bbb_loop3.mp4"),
              show_default=True, help="Master file to ingest.")
@click.option("--name", default="big-buck-bunny", show_default=True, help="Catalog name.")
@click.option("--port", default=None, type=int, help="Port (default from settings).")
@click.option("--no-serve", is_flag=True, help="Prepare and print the URLs, do not serve.")
@click.pass_context
def demo(ctx: click.Context, source: Path, name: str, port: int | None, no_serve: bool) -> None:
    """Ingest the sample, mint a demo token, print the player URLs and serve."""
    settings = settings_from(ctx)
    port = port if port is not None else settings.port
    with open_runtime(ctx) as runtime:
        service = IngestService(runtime)
        with runtime.db.session() as session:
            existing = repositories.find_title(session, name)
        with ingest_progress(True) as progress:
            if existing is None:
                console.print(f"ingesting {source} as {name!r} …")
                service.add_title(source, name=name, on_progress=progress)
            elif existing.status != "ready":
                console.print(f"resuming {name!r} from stage {existing.stage} …")
                service.resume_title(name, on_progress=progress)
        token = runtime.signer.issue(account="demo-account", title=name, device="demo-browser",
                                     ttl_seconds=DEMO_TTL_SECONDS, now=runtime.clock())
    base = f"http://{settings.host}:{port}"
    lines = [
        "",
        "[bold]Look here:[/bold]",
        f"  DASH/cenc: {base}/play/{name}#format=dash&token={token}",
        f"  HLS/cbcs:  {base}/play/{name}#format=hls&token={token}",
        f"  without a token (no keys, no picture): {base}/play/{name}",
        f"  API docs: {base}/api/docs   data folder: {settings.data_dir.resolve()}",
        "",
    ]
    console.print("\n".join(lines), soft_wrap=True, highlight=False)
    if not no_serve:
        run_server(settings.host, port, 1, str(settings.data_dir.resolve()))
