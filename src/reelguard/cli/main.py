"""The ``reelguard`` command: groups from one module each, errors mapped to exit codes.

    reelguard titles add ep01.mp4 --name ep01 --json
    reelguard tokens issue --account a1 --title ep01 --device tv1
    reelguard policy explain --account a1 --device tv1 --title ep01 --ip 203.0.113.7
    reelguard identify suspect.mkv --json
    reelguard serve

Each command's module is imported only when that command runs (``LazyGroup``): the
recognition stack alone (FAISS, OpenCV, PyAV) costs seconds to import, and ``--help``,
``tokens issue`` or a server worker should not pay for it.
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from reelguard import __version__
from reelguard.cli._shared import console
from reelguard.errors import ReelguardError

__all__ = ["cli", "main"]

# name → (module, attribute, one-line help shown by --help without importing the module)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "titles": ("reelguard.cli.titles", "titles", "Ingest, inspect and remove catalog titles."),
    "accounts": ("reelguard.cli.accounts", "accounts", "Subscriber accounts: plans, suspension, grants."),
    "devices": ("reelguard.cli.accounts", "devices", "Devices of an account: registration, revocation, reinstatement."),
    "rights": ("reelguard.cli.rights", "rights", "Title rights: plans, territories, availability windows, downloads."),
    "policy": ("reelguard.cli.policy", "policy", "The licence policy: validate it and explain its decisions."),
    "decisions": ("reelguard.cli.decisions", "decisions", "The licence decision log: who got keys, and why."),
    "keyserver": ("reelguard.cli.keyserver", "keyserver", "Clients of the key server (SPEKE v2, CPIX 2.3)."),
    "api-clients": ("reelguard.cli.api_clients", "api_clients", "Clients of the integration API (/api/v1)."),
    "tokens": ("reelguard.cli.tokens", "tokens", "Entitlement tokens: issue, and verify as the server would."),
    "serve": ("reelguard.cli.serve", "serve", "Start the server (licences, keys, origin, player, API)."),
    "sessions": ("reelguard.cli.sessions", "sessions", "Playback sessions: streams, and watermarked A/B sessions."),
    "trace": ("reelguard.cli.trace", "trace", "Name the session a leaked copy came from."),
    "identify": ("reelguard.cli.identify", "identify", "Find catalog content in a suspect file, and where."),
    "fingerprints": ("reelguard.cli.identify", "fingerprints", "The content-recognition index."),
    "watch": ("reelguard.cli.monitor", "watch", "The watchlist: catalog titles searched for on piracy sources."),
    "monitor": ("reelguard.cli.monitor", "monitor", "Watch piracy sources: one round, or the worker."),
    "sightings": ("reelguard.cli.monitor", "sightings", "Torrents seen on piracy sources, and what they match."),
    "evidence": ("reelguard.cli.evidence", "evidence", "Evidence: export a case's bundle, verify one offline, purge."),
    "cases": ("reelguard.cli.cases", "cases", "Cases: open, act, send notices, check removal, close."),
    "demo": ("reelguard.cli.demo", "demo", "Ingest the sample, mint a demo token, print the player URLs and serve."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they run, listed from ``COMMANDS`` for --help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command = getattr(importlib.import_module(entry[0]), entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, envvar="REELGUARD_DATA_DIR",
              help="Folder for the database, blobs, secrets and its reelguard.toml (default .reelguard).")
@click.version_option(__version__, prog_name="reelguard")
def cli(data_dir: Path | None) -> None:
    """reelguard: protect, trace, find and act on pirated content."""


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so running jobs stop their child processes and clean up."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a ReelguardError becomes one clear line and its class's exit code."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        status = cli.main(args=argv, prog_name="reelguard", standalone_mode=False)
    except ReelguardError as exc:
        _json_error(argv, type(exc).__name__, exc.title, str(exc))
        console.print(f"error: {exc}", style="red", markup=False, highlight=False)
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        _json_error(argv, "Interrupted", "Interrupted", "stopped by a signal or the user before it finished")
        console.print("aborted")
        return 130
    except OSError as exc:  # an OS refusal no layer below translated: still one clear line, never a traceback
        _json_error(argv, "StorageError", "Storage failed", f"{exc.strerror or exc} ({exc.filename or '-'})")
        console.print(f"error: {exc.strerror or exc} ({exc.filename or '-'})", style="red", markup=False)
        return 74
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return status if isinstance(status, int) else 0  # ctx.exit(n) returns n here

def _json_error(argv: list[str] | None, error: str, title: str, detail: str) -> None:
    """With --json, the error as a JSON object on stdout too (a script reads stdout, not stderr)."""
    if "--json" in (argv if argv is not None else sys.argv):
        click.echo(json.dumps({"error": error, "title": title, "detail": detail}))


if __name__ == "__main__":
    sys.exit(main())
