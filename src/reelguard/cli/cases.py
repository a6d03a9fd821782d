"""``reelguard cases``: leaks being acted on — open, inspect, move on, act, notify, close.

    reelguard cases open --suspect leak.mp4 --title ep01 --url https://host.example/leak.mp4
    reelguard cases list --state noticed
    reelguard cases show 3f2a… --json
    reelguard cases act 3f2a… suspend_account --reason "confirmed by the trace"
    reelguard cases close 3f2a… --reason "removed and account closed"
    reelguard cases sweep                 # open what monitoring found, apply the rules, send, re-check
    reelguard cases what-if --rules draft-rules.toml
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import click

from reelguard.cli._shared import console, emit, json_option, open_runtime

__all__ = ["cases"]

_by = click.option("--by", "by", default=None, help="Who is acting (staff name); default: the login name.")


def _staff(by: str | None) -> str:
    return f"staff:{by or getpass.getuser()}"


@click.group("cases")
def cases() -> None:
    """Cases: one leak each, from its evidence to its close (docs/enforcement.md)."""


@cases.command("open")
@click.option("--suspect", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="A copy someone reported: identify and trace run on it.")
@click.option("--title", default=None, help="The catalog title the reported copy is of (with --suspect).")
@click.option("--url", default=None, help="Where the reported copy is (http(s) URL or magnet), for notices.")
@click.option("--sighting", default=None, help="Open the case of a sighting instead (its id or infohash).")
@click.option("--note", default="", help="Why the case is opened.")
@_by
@json_option
@click.pass_context
def open_case(ctx: click.Context, suspect: Path | None, title: str | None, url: str | None, sighting: str | None,
              note: str, by: str | None, as_json: bool) -> None:
    """Open a case from a reported file (--suspect and --title) or from a sighting (--sighting)."""
    if (suspect is None) == (sighting is None) or (suspect is not None and not title):
        raise click.UsageError("expected either --suspect FILE --title TITLE, or --sighting ID")
    with open_runtime(ctx) as runtime:
        service = runtime.case_service()
        if suspect is not None:
            assert title is not None
            case = service.open_reported(suspect, title=title, actor=_staff(by), url=url, note=note)
        else:
            assert sighting is not None
            case = service.open_from_sighting(sighting, actor=_staff(by))
        decisions = runtime.enforcer(cases=service).apply_rules(case.id)
        shown = service.show(case.id) | {"decisions": decisions}
    emit(shown, as_json, _render_case)


@cases.command("list")
@click.option("--state", default=None, help="Only cases in this state.")
@click.option("--review", is_flag=True, help="Only cases waiting for staff review.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def list_cases(ctx: click.Context, state: str | None, review: bool, limit: int, as_json: bool) -> None:
    """Cases, most recently changed first."""
    with open_runtime(ctx) as runtime:
        rows = [c.to_json() for c in runtime.case_service().store.find(state=state, review=True if review else None,
                                                                        limit=limit)]
    emit(rows, as_json, _render_list)


@cases.command("show")
@click.argument("case_id")
@json_option
@click.pass_context
def show(ctx: click.Context, case_id: str, as_json: bool) -> None:
    """One case whole: its findings, every event with who and why, its notices and evidence records."""
    with open_runtime(ctx) as runtime:
        shown = runtime.case_service().show(case_id)
    emit(shown, as_json, _render_case)


@cases.command("move")
@click.argument("case_id")
@click.argument("state")
@click.option("--reason", required=True, help="Why (kept as evidence).")
@_by
@json_option
@click.pass_context
def move(ctx: click.Context, case_id: str, state: str, reason: str, by: str | None, as_json: bool) -> None:
    """Move a case to STATE (noticed, removed, escalated, closed …), with who and why."""
    _transition(ctx, case_id, state, reason, by, as_json)


@cases.command("close")
@click.argument("case_id")
@click.option("--reason", required=True, help="Why the case is closed (kept as evidence).")
@_by
@json_option
@click.pass_context
def close(ctx: click.Context, case_id: str, reason: str, by: str | None, as_json: bool) -> None:
    """Close a case; refused (exit 73, saying who closed it and why) when it is already closed."""
    _transition(ctx, case_id, "closed", reason, by, as_json)


def _transition(ctx: click.Context, case_id: str, state: str, reason: str, by: str | None, as_json: bool) -> None:
    with open_runtime(ctx) as runtime:
        case = runtime.case_service().transition(case_id, state, actor=_staff(by), reason=reason)
    emit(case.to_json(), as_json, lambda c: console.print(f"case {c['id']} is now [bold]{c['state']}[/bold]"))


@cases.command("note")
@click.argument("case_id")
@click.argument("text")
@_by
@click.pass_context
def note(ctx: click.Context, case_id: str, text: str, by: str | None) -> None:
    """Add a note to a case (kept as evidence)."""
    with open_runtime(ctx) as runtime:
        position = runtime.case_service().note(case_id, text, actor=_staff(by))
    console.print(f"noted (evidence record {position})")


@cases.command("act")
@click.argument("case_id")
@click.argument("action", type=click.Choice(["suspend_account", "revoke_device", "end_streams", "rotate_keys"]))
@click.option("--reason", required=True, help="Why (kept as evidence).")
@_by
@json_option
@click.pass_context
def act(ctx: click.Context, case_id: str, action: str, reason: str, by: str | None, as_json: bool) -> None:
    """Act on the account(s) the case's trace accused, or rotate its title's keys; exits 1 when an action could not
    be done."""
    with open_runtime(ctx) as runtime:
        outcomes = [o.to_json() for o in runtime.enforcer().actions.take(case_id, action, actor=_staff(by),
                                                                          reason=reason)]
    emit(outcomes, as_json, _render_outcomes)
    if not all(o["done"] for o in outcomes):
        ctx.exit(1)


@cases.command("notice")
@click.argument("case_id")
@click.argument("kind", type=click.Choice(["dmca_512c", "dmca_512d", "dsa_16", "acns"]))
@_by
@json_option
@click.pass_context
def notice(ctx: click.Context, case_id: str, kind: str, by: str | None, as_json: bool) -> None:
    """Draft and queue the case's notices of KIND (sent by the next sweep; queueing twice adds nothing)."""
    with open_runtime(ctx) as runtime:
        enforcer = runtime.enforcer()
        ids, unreachable = enforcer.desk.queue(case_id, kind, actor=_staff(by))
        deliveries = [d.to_json() for d in enforcer.desk.deliver_due()]
    emit({"notices": ids, "unaddressed": unreachable, "deliveries": deliveries}, as_json, _render_queued)


@cases.command("review")
@click.argument("case_id")
@click.option("--why", default=None, help="Put the case in the review queue, saying why.")
@click.option("--done", is_flag=True, help="Take the case out of the review queue.")
@_by
@click.pass_context
def review(ctx: click.Context, case_id: str, why: str | None, done: bool, by: str | None) -> None:
    """Put a case in the review queue (--why) or take it out (--done)."""
    if (why is None) == (not done):
        raise click.UsageError("expected --why TEXT or --done")
    with open_runtime(ctx) as runtime:
        runtime.case_service().set_review(case_id, None if done else why, actor=_staff(by))
    console.print("review queue updated")


@cases.command("hold")
@click.argument("case_id")
@click.option("--release", is_flag=True, help="Lift the legal hold.")
@click.option("--reason", required=True, help="Why (kept as evidence).")
@_by
@click.pass_context
def hold(ctx: click.Context, case_id: str, release: bool, reason: str, by: str | None) -> None:
    """Put a case on legal hold (retention keeps everything it holds), or lift the hold."""
    with open_runtime(ctx) as runtime:
        runtime.case_service().set_legal_hold(case_id, not release, actor=_staff(by), reason=reason)
    console.print("legal hold lifted" if release else "case on legal hold")


@cases.command("sweep")
@click.option("--no-removal-check", is_flag=True, help="Skip re-checking noticed cases' sources.")
@json_option
@click.pass_context
def sweep(ctx: click.Context, no_removal_check: bool, as_json: bool) -> None:
    """Open the cases monitoring found, apply the action rules, send due notices, re-check removal."""
    with open_runtime(ctx) as runtime:
        report = runtime.enforcer().sweep(check_removal=not no_removal_check).to_json()
    emit(report, as_json, _render_sweep)


@cases.command("check-removal")
@click.argument("case_id")
@json_option
@click.pass_context
def check_removal(ctx: click.Context, case_id: str, as_json: bool) -> None:
    """Re-check now whether a case's copies are gone (moves it to removed, or escalates it past the deadline)."""
    with open_runtime(ctx) as runtime:
        enforcer = runtime.enforcer()
        assert enforcer.removal is not None
        report = enforcer.removal.check(case_id).to_json()
    emit(report, as_json, lambda r: console.print(f"case {r['case']}: {r['outcome']}", markup=False))


@cases.command("what-if")
@click.option("--rules", "rules_file", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help="A draft action rules file (validated first).")
@click.option("--case", "case_ids", multiple=True, help="Only these cases (default: every case not closed).")
@json_option
@click.pass_context
def what_if(ctx: click.Context, rules_file: Path, case_ids: tuple[str, ...], as_json: bool) -> None:
    """What a draft rules file would decide for existing cases — nothing is done."""
    from reelguard.enforcement.rules import load_rules

    rules = load_rules(rules_file)
    with open_runtime(ctx) as runtime:
        rows = runtime.enforcer().what_if(rules, list(case_ids) or None)
    emit(rows, as_json, _render_what_if)


@cases.command("lumen")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write here instead of stdout.")
@click.pass_context
def lumen(ctx: click.Context, out: Path | None) -> None:
    """Every sent notice in Lumen's JSON format (transparency reporting; no subscriber IPs)."""
    from sqlalchemy import select

    from reelguard.enforcement.notices import lumen_json
    from reelguard.store.models import NoticeRow

    with open_runtime(ctx) as runtime, runtime.db.session() as session:
        rows = list(session.scalars(select(NoticeRow).where(NoticeRow.status == "sent")
                                    .order_by(NoticeRow.sent_at)))
        text = json.dumps(lumen_json(rows), indent=2, sort_keys=True)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n")
        console.print(f"{len(rows)} notices written to {out}")


# -- rendering ---------------------------------------------------------------------------------
def _render_list(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("no cases")
    for c in rows:
        accused = ", ".join(a["account"] for a in ((c["facts"].get("trace") or {}).get("accused") or [])) or "-"
        review = f"  REVIEW: {c['review']}" if c["review"] else ""
        console.print(f"{c['id']}  {c['state']:<9}  {c['title']:<24}  accused: {accused}  "
                      f"updated {c['updated_at']}{review}", markup=False)


def _render_case(case: dict[str, Any]) -> None:
    facts = case["facts"]
    console.print(f"case {case['id']} — [bold]{case['state']}[/bold] — {case['title']} ({case['origin']})")
    identify = facts.get("identify") or {}
    console.print(f"  identified: false-match probability {identify.get('false_match_probability', 1.0):.3g}",
                  markup=False)
    for accused in (facts.get("trace") or {}).get("accused") or []:
        console.print(f"  accused: session {accused['session']}, account {accused['account']}, device "
                      f"{accused['device']}, p = {accused['p_value']:.3g}", markup=False)
    for lead in (facts.get("trace") or {}).get("suspected") or []:
        console.print(f"  suspected, not accused: session {lead['session']}, account {lead['account']}, p = "
                      f"{lead['p_value']:.3g} (look for more copies; nothing is done on this)", markup=False)
    for source in facts.get("sources", []):
        console.print(f"  found: {source['kind']} {source.get('url') or source.get('source') or ''} "
                      f"{source.get('infohash') or ''}", markup=False)
    if case.get("removal_deadline"):
        console.print(f"  escalates if still up at {case['removal_deadline']}", markup=False)
    if case.get("review"):
        console.print(f"  [yellow]waiting for review[/yellow]: {case['review']}")
    for event in case.get("events", []):
        move = f" {event['from_state']} → {event['to_state']}" if event["to_state"] else ""
        console.print(f"  {event['at']}  {event['actor']:<28} {event['kind']}{move}: {event['reason']}",
                      markup=False)
    for n in case.get("notices", []):
        console.print(f"  notice {n['id'][:12]} {n['kind']} → {n['recipient']}: {n['status']} "
                      f"({n['attempts']} attempts) {n['relay_answer'] or ''}", markup=False)
    console.print(f"  evidence records: {len(case.get('evidence', []))} "
                  f"(`reelguard evidence export {case['id']} OUT`)", markup=False)


def _render_outcomes(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        console.print(f"{'done' if row['done'] else '[red]NOT done[/red]'}: ", end="")
        console.print(row["detail"], markup=False)


def _render_queued(result: dict[str, Any]) -> None:
    console.print(f"{len(result['notices'])} notices queued")
    for place in result["unaddressed"]:
        console.print(f"  [yellow]no recipient[/yellow]: {place}", markup=False)
    for d in result["deliveries"]:
        console.print(f"  {d['notice'][:12]}: {d['status']} ({d['answer']})", markup=False)


def _render_sweep(report: dict[str, Any]) -> None:
    console.print(f"{len(report['opened'])} cases opened; rules applied to {len(report['decisions'])}; "
                  f"{len(report['deliveries'])} notices sent or tried; {len(report['removal_checks'])} removal checks")
    for case_id, decisions in report["decisions"].items():
        for d in decisions:
            console.print(f"  {case_id[:12]} {d['action']} ({d['rule']}): {d['result']}", markup=False)


def _render_what_if(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        actions = ", ".join(d["action"] for d in row["decisions"]) or "nothing"
        changed = "  (differs from the rules in force)" if row["differs_from_current"] else ""
        console.print(f"{row['case'][:12]} {row['title']:<24} {row['state']:<9} → {actions}{changed}", markup=False)
