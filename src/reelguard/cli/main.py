"""The ``reelguard`` command: groups from one module each, errors mapped to exit codes.

    reelguard titles add ep01.mp4 --name ep01 --json
    reelguard tokens issue --account a1 --title ep01 --device tv1
    reelguard policy explain --account a1 --device tv1 --title ep01 --ip 203.0.113.7
    reelguard identify suspect.mkv --json
    reelguard serve
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from reelguard.cli._shared import console
from reelguard.cli.accounts import accounts, devices
from reelguard.cli.demo import demo
from reelguard.cli.identify import fingerprints, identify
from reelguard.cli.keyserver import keyserver
from reelguard.cli.policy import policy
from reelguard.cli.rights import rights
from reelguard.cli.serve import serve
from reelguard.cli.sessions import sessions
from reelguard.cli.titles import titles
from reelguard.cli.tokens import tokens
from reelguard.cli.trace import trace
from reelguard.errors import ReelguardError

__all__ = ["cli", "main"]


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, envvar="REELGUARD_DATA_DIR",
              help="Folder for the database, blobs and secrets (default .reelguard).")
@click.version_option("0.1.0", prog_name="reelguard")
def cli(data_dir: Path | None) -> None:
    """reelguard: protect, trace, find and act on pirated content."""


cli.add_command(titles)
cli.add_command(accounts)
cli.add_command(devices)
cli.add_command(rights)
cli.add_command(policy)
cli.add_command(keyserver)
cli.add_command(tokens)
cli.add_command(serve)
cli.add_command(sessions)
cli.add_command(trace)
cli.add_command(identify)
cli.add_command(fingerprints)
cli.add_command(demo)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a ReelguardError becomes one clear line and its class's exit code."""
    try:
        cli.main(args=argv, prog_name="reelguard", standalone_mode=False)
    except ReelguardError as exc:
        if "--json" in (argv if argv is not None else sys.argv):
            click.echo(json.dumps({"error": type(exc).__name__, "title": exc.title, "detail": str(exc)}))
        console.print(f"error: {exc}", style="red", markup=False, highlight=False)
        return exc.exit_code
    except click.exceptions.Abort:
        console.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
