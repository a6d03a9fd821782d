"""``reelguard evidence``: export a case's bundle, check a bundle offline (no database, no network), purge.

    reelguard evidence export 3f2a… case-3f2a.json --artifacts
    reelguard evidence verify case-3f2a.json --key "evidence.example.org/log+1a2b3c4d+AX…"
    reelguard evidence verify case-3f2a.json --json
    reelguard evidence purge              # retention: past-due records dropped, held cases kept
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reelguard.cli._shared import console, emit, json_option, open_runtime

__all__ = ["evidence"]


@click.group("evidence")
def evidence() -> None:
    """Evidence bundles (docs/enforcement.md)."""


@evidence.command("export")
@click.argument("case_id")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--artifacts", is_flag=True, help="Include the artifacts the records name (sample, torrent info).")
@json_option
@click.pass_context
def export(ctx: click.Context, case_id: str, out: Path, artifacts: bool, as_json: bool) -> None:
    """Write one self-contained bundle of everything case CASE_ID holds, checkable offline by anyone."""
    from reelguard.enforcement.bundle import verify_bundle
    from reelguard.enforcement.export import export_case

    with open_runtime(ctx) as runtime:
        data = export_case(runtime.case_service(), runtime.blobs, case_id, artifacts=artifacts,
                           tsa_roots=runtime.tsa_roots())
        vkey = runtime.evidence_log().signer.vkey
    report = verify_bundle(data, trusted_vkey=vkey).to_json()
    out.write_bytes(data)
    emit(report | {"out": str(out), "vkey": vkey}, as_json, _render_export)


def _render_export(report: dict[str, Any]) -> None:
    console.print(f"{report['records']} records ({report['artifacts']} artifacts) written to {report['out']}; "
                  f"checkpoint at {report['tree_size']} records; log key {report['vkey']}", markup=False)
    for failure in report["failures"]:  # an unstamped checkpoint (the TSA was down) is said, never hidden
        console.print(f"  note: {failure}", markup=False)


@evidence.command("purge")
@json_option
@click.pass_context
def purge(ctx: click.Context, as_json: bool) -> None:
    """Apply [retention]: delete what is past its time; records a held or open case holds are kept."""
    from reelguard.enforcement.retention import Retention

    with open_runtime(ctx) as runtime:
        report = Retention(runtime.db, runtime.evidence_log(), runtime.clock, runtime.settings.retention).purge()
    emit(report.to_json(), as_json, lambda r: console.print(
        ", ".join(f"{k}: {v}" for k, v in r["counts"].items()) + f" (evidence record {r['evidence_position']})",
        markup=False))


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
