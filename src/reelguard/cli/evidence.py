"""``reelguard evidence verify BUNDLE``: check an evidence bundle offline — no database, no network.

    reelguard evidence verify case-17.json --key "evidence.example.org/log+1a2b3c4d+AX…"
    reelguard evidence verify case-17.json --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reelguard.cli._shared import console, emit, json_option

__all__ = ["evidence"]


@click.group("evidence")
def evidence() -> None:
    """Evidence bundles (docs/enforcement.md)."""


@evidence.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--key", "vkey", default=None,
              help="The log's verifier key (name+keyid+key) to trust; without it, the bundle's own key, said so.")
@json_option
@click.pass_context
def verify(ctx: click.Context, bundle: Path, vkey: str | None, as_json: bool) -> None:
    """Check every signature, proof and timestamp in BUNDLE; exits 65 and says what failed when one does not."""
    from reelguard.enforcement.bundle import verify_bundle

    report = verify_bundle(bundle.read_bytes(), trusted_vkey=vkey).to_json()
    report["trusted_key"] = "given" if vkey else "the bundle's own (pass --key to check it is the log's)"
    emit(report, as_json, _render)
    if not report["ok"]:
        ctx.exit(65)


def _render(report: dict[str, Any]) -> None:
    if report["ok"]:
        console.print(f"[green]verified[/green]: {report['records']} records of log {report['origin']} "
                      f"(checkpoint at {report['tree_size']} records, timestamped {report['timestamp']}); "
                      f"key: {report['trusted_key']}")
        return
    console.print(f"[red]NOT verified[/red]: {len(report['failures'])} checks failed", markup=True)
    for failure in report["failures"]:
        console.print(f"  {failure}", markup=False)
