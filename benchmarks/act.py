"""Acting on leaks: what a case's evidence trail and a notice's delivery guarantees cost (issue 20).

1. Case transitions: each one an evidence record appended in the transaction that moves
   the case, then a signed checkpoint (no TSA here) — against, in the same run, a plain
   UPDATE of a case row's state in its own transaction (no log, no checkpoint).
2. Notice delivery: drafting and keeping a notice (its evidence record), then sending it
   through a real SMTP relay on loopback (aiosmtpd) with its attempt and delivery recorded
   — against ``smtplib`` sending the same message to the same relay, nothing recorded.
3. The sweep: cases opened from staged monitored leaks, the action rules applied (suspend,
   revoke, end streams), notices queued and sent — per case.

    python benchmarks/act.py [--cases 40]
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]

from _report import report  # noqa: E402
from sqlalchemy import text  # noqa: E402

from reelguard.accounts.service import AccountService  # noqa: E402
from reelguard.composition import Runtime  # noqa: E402
from reelguard.settings import Settings  # noqa: E402
from tests.case_fixtures import SmtpRelayServer, stage_sighting  # noqa: E402

NOTICES = {"rights_holder": "Bench Films", "sender_name": "Ana Ortiz", "sender_email": "legal@bench.test",
           "sender_address": "1 Quay Street", "sender_phone": "+44 0",
           "recipients": [{"match": "indexer:idx", "email": "abuse@indexer.test"},
                          {"match": "ip:203.0.113.0/24", "email": "abuse@isp.test"}]}


def _runtime(folder: Path, relay: SmtpRelayServer) -> Runtime:
    settings = Settings.load(config_file=folder / "none.toml", data_dir=folder / "data").replaced(
        notices=NOTICES | {"smtp_host": relay.host, "smtp_port": relay.port, "smtp_tls": "off"})
    return Runtime.open(settings)


def _transitions(runtime: Runtime, count: int, trial: int) -> tuple[float, float]:
    """(seconds per logged, checkpointed transition; seconds per plain UPDATE)."""
    cases = runtime.case_service()
    for n in range(count):
        stage_sighting(runtime.db, runtime.evidence_log(), datetime.now(UTC), name=f"Harbour.T{trial}.{n}.1080p")
    opened = cases.open_settled_sightings()
    started = time.perf_counter()
    for case in opened:
        cases.transition(case.id, "noticed", actor="staff:bench", reason="notice sent by hand")
    logged = (time.perf_counter() - started) / len(opened)
    started = time.perf_counter()
    for n, case in enumerate(opened):
        with runtime.db.transaction() as session:
            session.execute(text("UPDATE cases SET state = :s, version = version + 1 WHERE id = :i"),
                            {"s": "closed" if n % 2 else "noticed", "i": case.id})
    plain = (time.perf_counter() - started) / len(opened)
    return logged, plain


def _deliveries(runtime: Runtime, relay: SmtpRelayServer, count: int) -> tuple[float, float]:
    """(seconds per notice drafted, kept and delivered with its records; seconds per bare smtplib send)."""
    enforcer = runtime.enforcer()
    for n in range(count):
        stage_sighting(runtime.db, runtime.evidence_log(), datetime.now(UTC), name=f"Harbour.D{n}.1080p")
    opened = enforcer.cases.open_settled_sightings()
    started = time.perf_counter()
    for case in opened:
        enforcer.desk.queue(case.id, "dmca_512d", actor="staff:bench")
        enforcer.desk.deliver_due()
    desk = (time.perf_counter() - started) / len(opened)
    body = enforcer.cases.store.notices(opened[0].id)[0].body
    started = time.perf_counter()
    for n in range(len(opened)):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "legal@bench.test", "abuse@indexer.test", f"n{n}"
        message.set_content(body)
        with smtplib.SMTP(relay.host, relay.port, timeout=10) as smtp:
            smtp.send_message(message)
    bare = (time.perf_counter() - started) / len(opened)
    return desk, bare


def _sweep(runtime: Runtime, count: int) -> float:
    accounts = AccountService(runtime.db, runtime.clock)
    for n in range(count):
        accounts.create_account(f"acct-s{n}", plan="standard")
        accounts.register_device(f"acct-s{n}", "tv-1", type="browser", security_level="software", hdcp="none")
        stage_sighting(runtime.db, runtime.evidence_log(), datetime.now(UTC), name=f"Harbour.S{n}.1080p",
                       account=f"acct-s{n}")
    started = time.perf_counter()
    report_ = runtime.enforcer().sweep(check_removal=False)
    elapsed = time.perf_counter() - started
    assert len(report_.opened) == count and len(report_.deliveries) == 2 * count, report_.to_json()
    return elapsed / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40)
    args = parser.parse_args()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as folder, SmtpRelayServer() as relay:
        runtime = _runtime(Path(folder), relay)
        try:
            trials = [_transitions(runtime, args.cases, trial) for trial in range(3)]
            logged, plain = (statistics.median(t[i] for t in trials) for i in (0, 1))
            rows.append(["case transition (record + signed checkpoint)", f"{logged * 1000:.1f} ms",
                         f"plain UPDATE {plain * 1000:.2f} ms", f"{logged / plain:.1f}×"])
            desk, bare = _deliveries(runtime, relay, args.cases)
            rows.append(["notice drafted, kept and delivered (3 records)", f"{desk * 1000:.1f} ms",
                         f"bare smtplib send {bare * 1000:.2f} ms", f"{desk / bare:.1f}×"])
            per_case = _sweep(runtime, args.cases)
            rows.append([f"sweep of {args.cases} new cases (open, rules, 2 notices sent)",
                         f"{per_case * 1000:.0f} ms per case", "—", "—"])
        finally:
            runtime.close()
    report("Act: case transitions, notice delivery, the sweep", ["what", "reelguard", "comparator, same run",
                                                                  "ratio"], rows,
           ["SQLite on local disk; the SMTP relay is aiosmtpd on loopback; no TSA (stamping is measured in "
            "'The evidence log').",
            "A transition is one transaction holding the log's append lock (the case row, its event, its "
            "record and the subtree nodes) and then an Ed25519-signed checkpoint of the log's new head.",
            "A delivered notice writes three evidence records (drafted, delivered, the case's move to noticed on "
            "the first) and a checkpoint for the notice's citation."])


if __name__ == "__main__":
    main()
