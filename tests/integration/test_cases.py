"""Cases: opened only on identified evidence, moved on with who and why, acted on, noticed, checked, exported.

Run on SQLite and on PostgreSQL by the two passes of the suite. Real parts: the store,
the evidence log, the accounts and streams services, an aiosmtpd SMTP relay and an HTTP
host on loopback; the monitoring pipeline's results are staged (``tests/case_fixtures``).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree

from reelguard.accounts.service import AccountService
from reelguard.composition import Runtime
from reelguard.enforcement.bundle import verify_bundle
from reelguard.enforcement.export import export_case
from reelguard.enforcement.notices import lumen_json
from reelguard.enforcement.retention import Retention
from reelguard.enforcement.rules import load_rules, parse_rules
from reelguard.errors import ConfigurationError, Conflict, InvalidInput
from reelguard.store.cases import CaseStore, settled_sightings
from reelguard.testing.clock import FixedClock
from tests.case_fixtures import SmtpRelayServer, make_tls_files, stage_sighting
from tests.conftest import make_settings
from tests.source_servers import LoopbackServer

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SENDER = {"rights_holder": "Quiet Harbour Films Ltd", "sender_name": "Ana Ortiz", "sender_email": "legal@qhf.test",
          "sender_address": "1 Quay Street, Portsmouth PO1 1AA, United Kingdom", "sender_phone": "+44 23 0000 0000"}
RECIPIENTS = [{"match": "indexer:idx", "email": "abuse@indexer.test", "name": "Indexer Ltd"},
              {"match": "ip:203.0.113.0/24", "email": "abuse@isp.test", "name": "Example ISP"},
              {"match": "host:files.test", "email": "dmca@files.test", "name": "Files Host"}]


@pytest.fixture
def make_runtime(tmp_path: Path, database_url_factory: Callable[[], str]) -> Iterator[Callable[..., Runtime]]:
    opened: list[Runtime] = []
    url = database_url_factory()

    def make(*, smtp: SmtpRelayServer | None = None, **sections: dict[str, object]) -> Runtime:
        notices: dict[str, object] = {**SENDER, "recipients": RECIPIENTS, "retry_minutes": 1.0, "max_attempts": 3}
        if smtp is not None:
            notices |= {"smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_tls": "auto",
                        "smtp_timeout_seconds": 5.0}
        settings = make_settings(tmp_path / "data", url, notices=notices | sections.pop("notices", {}), **sections)
        runtime = Runtime.open(settings, clock=FixedClock(NOW))
        opened.append(runtime)
        return runtime

    yield make
    for runtime in opened:
        runtime.close()


def _clock(runtime: Runtime) -> FixedClock:
    assert isinstance(runtime.clock, FixedClock)
    return runtime.clock


def _leaker(runtime: Runtime, account: str = "acct-leaker") -> AccountService:
    accounts = AccountService(runtime.db, runtime.clock)
    accounts.create_account(account, plan="standard")
    accounts.register_device(account, "tv-1", type="browser", security_level="software", hdcp="none")
    return accounts


# -- opening -----------------------------------------------------------------------------------
def test_a_case_opens_only_for_a_sample_identified_below_the_bound(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(cases={"max_false_match": 1e-6})
    cases, log = runtime.case_service(), runtime.evidence_log()
    strong = stage_sighting(runtime.db, log, NOW, name="The.Quiet.Harbour.2025.1080p")
    weak = stage_sighting(runtime.db, log, NOW, name="The.Quiet.Harbour.2025.720p", false_match=1e-3)
    name_only = stage_sighting(runtime.db, log, NOW, name="The.Quiet.Harbour.2025.480p", identified=False)
    opened = cases.open_settled_sightings()
    assert [c.sighting_id for c in opened] == [strong]
    assert cases.open_settled_sightings() == []  # once per sighting
    with runtime.db.session() as session:  # "not our content" is not looked at again
        assert settled_sightings(session) == [weak]
    case = opened[0]
    assert (case.state, case.origin, case.title) == ("evidence", "monitor", "harbour")
    assert case.facts["trace"]["accused"][0]["account"] == "acct-leaker"
    assert {s["kind"] for s in case.facts["sources"]} == {"indexer", "swarm"}
    events = cases.store.events(case.id)
    assert [(e.kind, e.to_state, e.actor) for e in events] == [("opened", None, "monitor"),
                                                               ("transition", "evidence", "monitor")]
    held = cases.store.evidence(case.id)
    assert len(held) == 4 + 1 + 2  # the pipeline's 1 observation and 4 step results, opened, transition
    assert all(e.evidence_position in held for e in events)
    assert log.store.checkpoint() == (log.size(), log.store.checkpoint(log.size())[1])  # type: ignore[index]
    for sighting, why in ((weak, "at or below 1e-06"), (name_only, "a name match alone")):
        with pytest.raises(InvalidInput, match=why):
            cases.open_from_sighting(sighting, actor="staff:ana")
    with pytest.raises(Conflict, match="already has case"):
        cases.open_from_sighting(strong, actor="staff:ana")


def test_moves_are_recorded_with_who_and_why_and_an_impossible_move_is_refused(
        make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    cases, log = runtime.case_service(), runtime.evidence_log()
    stage_sighting(runtime.db, log, NOW)
    case = cases.open_settled_sightings()[0]
    with pytest.raises(Conflict, match=r"cannot move to removed .*may move to noticed, closed"):
        cases.transition(case.id, "removed", actor="staff:ana", reason="gone")
    for bad_actor in ("ana", "staff:", "robot:x"):
        with pytest.raises(InvalidInput, match="expected an actor"):
            cases.transition(case.id, "closed", actor=bad_actor, reason="x")
    with pytest.raises(InvalidInput, match="expected a reason"):
        cases.transition(case.id, "closed", actor="staff:ana", reason="  ")
    size = log.size()
    cases.transition(case.id, "noticed", actor="staff:ana", reason="notice sent by hand on 2026-12-03")
    assert log.size() == size + 1 and log.store.checkpoint() is not None
    assert log.store.checkpoint()[0] == size + 1  # type: ignore[index]  # published at the transition
    last = cases.store.events(case.id)[-1]
    assert (last.actor, last.from_state, last.to_state, last.reason) == (
        "staff:ana", "evidence", "noticed", "notice sent by hand on 2026-12-03")
    body = json.loads(log.store.record(last.evidence_position or 0).body or b"")
    assert body["kind"] == "case.transition" and body["record"]["actor"] == "staff:ana"


def test_two_staff_closing_one_case_at_once_close_it_once(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    stage_sighting(runtime.db, runtime.evidence_log(), NOW)
    case = runtime.case_service().open_settled_sightings()[0]
    results: dict[str, str] = {}
    start = threading.Barrier(4)

    def close(name: str) -> None:
        service = runtime.case_service()
        start.wait()
        try:
            service.transition(case.id, "closed", actor=f"staff:{name}", reason=f"{name} closes it")
            results[name] = "closed"
        except Conflict as exc:
            results[name] = str(exc)

    threads = [threading.Thread(target=close, args=(n,)) for n in ("ana", "ben", "cho", "dev")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, r in results.items() if r == "closed"]
    assert len(winners) == 1, results
    for name, said in results.items():
        if name != winners[0]:
            assert f"is closed (by staff:{winners[0]}" in said
    closings = [e for e in CaseStore(runtime.db).events(case.id) if e.to_state == "closed"]
    assert len(closings) == 1


# -- rules -------------------------------------------------------------------------------------
RULES = """format = 1
name = "test"
version = "1"
[[rule]]
name = "strong"
when = { trace_p_at_most = 1e-9 }
then = ["suspend_account", "revoke_device", "end_streams"]
[[rule]]
name = "weaker"
when = { trace_p_above = 1e-9 }
then = ["review"]
[[rule]]
name = "links"
when = { source = "indexer" }
then = ["notice:dmca_512d"]
"""


@pytest.mark.parametrize(("change", "said"), [
    (lambda t: t.replace("format = 1", "format = 2"), "expected format = 1"),
    (lambda t: t.replace("trace_p_at_most", "trace_p_at_mots"), "unknown condition 'trace_p_at_mots'"),
    (lambda t: t.replace("1e-9 }\nthen = [\"suspend", "\"tiny\" }\nthen = [\"suspend"), "expects a probability"),
    (lambda t: t.replace('"review"', '"reveiw"'), "unknown action 'reveiw'"),
    (lambda t: t.replace('name = "weaker"', 'name = "strong"'), "repeated: \\['strong'\\]"),
    (lambda t: t.replace('source = "indexer"', 'source = "ftp"'), "source expects one of"),
    (lambda t: t + "[[rule]]\nname = \"x\"\nthen = []\n", "non-empty list of actions"),
    (lambda t: t.replace('version = "1"', ""), "expected a name and a version"),
    (lambda t: "stray = 1\n" + t, "unknown top-level keys"),
    (lambda t: t.replace("[[rule]]", "[[rule", 1), "not valid TOML"),
])
def test_a_broken_rules_file_is_refused_naming_what_is_wrong(change: Callable[[str], str], said: str) -> None:
    parse_rules(RULES)
    with pytest.raises(ConfigurationError, match=said):
        parse_rules(change(RULES))


def test_the_shipped_rules_load() -> None:
    rules = load_rules(None)
    assert rules.name == "default" and [r.name for r in rules.rules][:2] == ["strong-trace", "weaker-trace"]


def test_rules_act_on_a_strong_trace_and_queue_a_weaker_one_for_review(make_runtime: Callable[..., Runtime],
                                                                       tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text(RULES)
    runtime = make_runtime(cases={"rules_file": str(tmp_path / "rules.toml")})
    accounts = _leaker(runtime)
    _leaker(runtime, "acct-maybe")
    log = runtime.evidence_log()
    stage_sighting(runtime.db, log, NOW, name="Harbour.A.1080p", p_value=1e-12)
    stage_sighting(runtime.db, log, NOW, name="Harbour.B.1080p", p_value=1e-7, account="acct-maybe")
    enforcer = runtime.enforcer()
    draft = parse_rules(RULES.replace("1e-9", "1e-6"))
    report = enforcer.sweep(check_removal=False)
    assert len(report.opened) == 2
    by_account = {enforcer.cases.get(c).facts["trace"]["accused"][0]["account"]: c for c in report.opened}
    strong, weaker = by_account["acct-leaker"], by_account["acct-maybe"]
    assert [d["action"] for d in report.decisions[strong]] == ["suspend_account", "revoke_device", "end_streams",
                                                               "notice:dmca_512d"]
    assert [d["action"] for d in report.decisions[weaker]] == ["review", "notice:dmca_512d"]
    assert accounts.show_account("acct-leaker").status == "suspended"
    assert accounts.show_account("acct-maybe").status == "active"
    assert enforcer.cases.get(weaker).review is not None and enforcer.cases.get(strong).review is None
    assert [c.id for c in enforcer.cases.store.find(review=True)] == [weaker]
    actions = [e for e in enforcer.cases.store.events(strong) if e.kind == "action"]
    assert [(e.detail["action"], e.detail["done"], e.actor) for e in actions] == [
        ("suspend_account", True, "rule:strong@test/1"), ("revoke_device", True, "rule:strong@test/1"),
        ("end_streams", True, "rule:strong@test/1")]
    assert enforcer.sweep(check_removal=False).decisions == {}  # once per rules version
    size = log.size()
    what_if = {row["case"]: row for row in enforcer.what_if(draft)}
    assert [d["action"] for d in what_if[weaker]["decisions"]][:3] == ["suspend_account", "revoke_device",
                                                                       "end_streams"]
    assert what_if[weaker]["differs_from_current"] and not what_if[strong]["differs_from_current"]
    assert log.size() == size and accounts.show_account("acct-maybe").status == "active"  # nothing done


def test_a_session_only_suspected_by_the_trace_is_shown_to_staff_and_never_acted_on(
        make_runtime: Callable[..., Runtime], tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text(RULES)
    runtime = make_runtime(cases={"rules_file": str(tmp_path / "rules.toml")})
    accounts = _leaker(runtime, "acct-maybe")
    stage_sighting(runtime.db, runtime.evidence_log(), NOW, p_value=None, suspected=("acct-maybe",))
    enforcer = runtime.enforcer()
    report = enforcer.sweep(check_removal=False)
    [case_id] = report.opened
    trace = enforcer.cases.get(case_id).facts["trace"]
    assert trace["accused"] == [] and [s["account"] for s in trace["suspected"]] == ["acct-maybe"]
    assert [d["action"] for d in report.decisions[case_id]] == ["notice:dmca_512d"]  # the listing, not the account
    assert accounts.show_account("acct-maybe").status == "active"
    assert not [e for e in enforcer.cases.store.events(case_id) if e.kind == "action"]
    shown = _cli(runtime, "cases", "show", case_id).stderr  # the human view is written to stderr
    assert "suspected, not accused: session wm-lead-0, account acct-maybe" in shown
    assert "accused: session" not in shown.replace("not accused: session", "")


def test_an_action_on_an_account_that_is_gone_is_recorded_as_not_done(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    stage_sighting(runtime.db, runtime.evidence_log(), NOW, account="acct-deleted")
    enforcer = runtime.enforcer()
    case = enforcer.cases.open_settled_sightings()[0]
    outcomes = enforcer.actions.take(case.id, "suspend_account", actor="staff:ana", reason="confirmed")
    assert [(o.done, o.target) for o in outcomes] == [(False, "account acct-deleted")]
    assert "not done: " in outcomes[0].detail and "acct-deleted" in outcomes[0].detail
    event = enforcer.cases.store.events(case.id)[-1]
    assert event.kind == "action" and event.detail["done"] is False


# -- notices -----------------------------------------------------------------------------------
def test_each_notice_kind_carries_every_element_its_law_names(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    stage_sighting(runtime.db, runtime.evidence_log(), NOW)
    enforcer = runtime.enforcer()
    case = enforcer.cases.open_settled_sightings()[0]
    from reelguard.store.models import CaseRow

    with runtime.db.transaction() as session:  # a hosted copy too, as a reported case would have
        row = session.get(CaseRow, case.id)
        assert row is not None
        row.facts = {**row.facts, "sources": [*row.facts["sources"], {"kind": "url",
                                                                       "url": "https://cdn.files.test/leak.mkv"}]}
    for kind, recipients in (("dmca_512c", 1), ("dmca_512d", 1), ("dsa_16", 2), ("acns", 1)):
        ids, unreachable = enforcer.desk.queue(case.id, kind, actor="staff:ana")
        assert len(ids) == recipients and unreachable == [], kind  # one notice per recipient
    notices = {n.kind: n for n in enforcer.cases.store.notices(case.id) if n.recipient != "abuse@indexer.test"
               or n.kind == "dmca_512d"}
    for kind in ("dmca_512c", "dmca_512d"):
        body = notices[kind].body
        for element in ("(i) Signature: /Ana Ortiz/", "(ii) The copyrighted work", "(iii) The ", "(iv) Contact",
                        "good faith belief", "under penalty of perjury", "Quiet Harbour Films Ltd", "PO1 1AA",
                        "+44 23 0000 0000", "legal@qhf.test"):
            assert element in body, (kind, element)
    assert "https://cdn.files.test/leak.mkv" in notices["dmca_512c"].body
    assert "http://indexer.example/details/" in notices["dmca_512d"].body
    assert notices["dmca_512c"].recipient == "dmca@files.test"
    assert notices["dmca_512d"].recipient == "abuse@indexer.test"
    dsa = notices["dsa_16"].body
    for element in ("(a) Why we consider the content illegal", "(b) The exact electronic location",
                    "https://cdn.files.test/leak.mkv", "(c) Name and email address", "Ana Ortiz",
                    "legal@qhf.test", "(d) I confirm my bona fide belief"):
        assert element in dsa, element
    acns = notices["acns"]
    assert acns.recipient == "abuse@isp.test"
    xml = ElementTree.fromstring(acns.data["acns_xml"].encode())
    ns = {"a": "http://www.acns.net/ACNS"}
    assert xml.findtext("a:Source/a:IP_Address", namespaces=ns) == "203.0.113.5"
    assert xml.findtext("a:Source/a:Port", namespaces=ns) == "51413"
    assert xml.findtext("a:Source/a:TimeStamp", namespaces=ns) == "2026-12-04T12:00:00Z"
    assert xml.find("a:Source/a:SubType", namespaces=ns).get("Protocol") == "BITTORRENT"  # type: ignore[union-attr]
    assert xml.findtext("a:Content/a:Item/a:FileName", namespaces=ns) == "The.Quiet.Harbour.2025.1080p"
    assert xml.findtext("a:Content/a:Item/a:FileSize", namespaces=ns) == "1234567"
    assert len(xml.findtext("a:Content/a:Item/a:Hash", namespaces=ns) or "") == 40
    assert xml.findtext("a:Complainant/a:Entity", namespaces=ns) == "Quiet Harbour Films Ltd"
    size = runtime.evidence_log().size()
    assert enforcer.desk.queue(case.id, "dmca_512d", actor="staff:ben")[0] == [notices["dmca_512d"].id]
    assert runtime.evidence_log().size() == size  # the same notice: no second one, no new record


def test_a_notice_without_a_recipient_or_a_complete_sender_is_said_not_sent(
        make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(notices={"recipients": [], "sender_phone": ""})
    stage_sighting(runtime.db, runtime.evidence_log(), NOW)
    enforcer = runtime.enforcer()
    case = enforcer.cases.open_settled_sightings()[0]
    with pytest.raises(ConfigurationError, match="needs the sender's phone \\(set \\[notices\\] sender_phone\\)"):
        enforcer.desk.queue(case.id, "dmca_512d", actor="staff:ana")
    ids, unreachable = enforcer.desk.queue(case.id, "dsa_16", actor="staff:ana")
    assert ids == [] and "indexer:idx" in unreachable[0] and "no [notices] recipient" in unreachable[0]
    assert enforcer.cases.store.events(case.id)[-1].kind == "notice_unaddressed"


def test_a_notice_is_delivered_once_through_a_relay_that_fails_then_recovers(
        make_runtime: Callable[..., Runtime]) -> None:
    with SmtpRelayServer(refuse=[(421, "4.3.0 try again later"), (451, "4.7.1 greylisted")]) as relay:
        runtime = make_runtime(smtp=relay)
        stage_sighting(runtime.db, runtime.evidence_log(), NOW)
        enforcer = runtime.enforcer()
        case = enforcer.cases.open_settled_sightings()[0]
        (notice_id,), _ = enforcer.desk.queue(case.id, "dmca_512d", actor="staff:ana")
        first = enforcer.desk.deliver_due()
        assert [(d.status, d.answer) for d in first] == [("will retry", "421 4.3.0 try again later")]
        assert enforcer.desk.deliver_due() == []  # not due yet: it rests first
        _clock(runtime).advance(minutes=1)
        assert [d.status for d in enforcer.desk.deliver_due()] == ["will retry"]
        _clock(runtime).advance(minutes=1)
        assert enforcer.desk.deliver_due() == []  # the second rest is twice as long
        _clock(runtime).advance(minutes=1)
        sent = enforcer.desk.deliver_due()
        assert [d.status for d in sent] == ["sent"] and "queued as Q1" in sent[0].answer
        _clock(runtime).advance(days=1)
        assert enforcer.desk.deliver_due() == []
        enforcer.desk.queue(case.id, "dmca_512d", actor="staff:ben")  # queued again: the same notice
        assert enforcer.desk.deliver_due() == []
    assert len(relay.received) == 1 and relay.relay.attempts == 3
    message = relay.received[0]
    assert message["To"] == "abuse@indexer.test" and "512(d)(3)" in message["Subject"]
    notice = enforcer.cases.store.notices(case.id)[0]
    assert str(message["Message-ID"]).strip() == notice.message_id and notice.message_id.endswith("@qhf.test>")
    assert (notice.id, notice.status, notice.attempts) == (notice_id, "sent", 3)
    assert enforcer.cases.get(case.id).state == "noticed"
    kinds = [e.kind for e in enforcer.cases.store.events(case.id)]
    assert kinds.count("notice_attempt") == 2 and kinds.count("notice_delivered") == 1
    lumen = lumen_json([notice])["notices"][0]["notice"]
    assert lumen["type"] == "DMCA" and lumen["works_attributes"][0]["infringing_urls_attributes"]
    assert {r["name"] for r in lumen["entity_notice_roles_attributes"]} == {"recipient", "sender", "principal"}


def test_a_relay_that_refuses_for_good_or_is_not_there_is_recorded(make_runtime: Callable[..., Runtime]) -> None:
    with SmtpRelayServer(refuse=[(550, "5.7.1 relaying denied")]) as relay:
        runtime = make_runtime(smtp=relay)
        stage_sighting(runtime.db, runtime.evidence_log(), NOW)
        enforcer = runtime.enforcer()
        case = enforcer.cases.open_settled_sightings()[0]
        enforcer.desk.queue(case.id, "dmca_512d", actor="staff:ana")
        assert [(d.status, d.answer) for d in enforcer.desk.deliver_due()] == [("failed",
                                                                                "550 5.7.1 relaying denied")]
    assert enforcer.cases.store.notices(case.id)[0].status == "failed"
    assert enforcer.cases.get(case.id).state == "evidence"
    gone = make_runtime(smtp=relay)  # the relay has stopped: nothing listens on its port
    enforcer = gone.enforcer()
    enforcer.desk.queue(case.id, "acns", actor="staff:ana")
    (delivery,) = enforcer.desk.deliver_due()
    assert delivery.status == "will retry" and "did not take the message: ConnectionRefusedError" in delivery.answer


# -- removal, export, retention ----------------------------------------------------------------
class _Host(LoopbackServer):
    def __init__(self) -> None:
        super().__init__("127.0.0.1", "/leak.mkv")
        self.status = 200

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        return self.status, b"x"


def test_a_noticed_case_escalates_past_its_deadline_and_closes_as_removed_when_gone(
        make_runtime: Callable[..., Runtime]) -> None:
    with _Host() as host:
        runtime = make_runtime(cases={"removal_check_hours": 24.0, "removal_deadline_days": 14.0})
        stage_sighting(runtime.db, runtime.evidence_log(), NOW)
        enforcer = runtime.enforcer()
        assert enforcer.removal is not None
        enforcer.removal.checks = {"url": enforcer.removal.checks["url"]}  # only the hosted copy is re-checked
        case = enforcer.cases.open_settled_sightings()[0]
        from reelguard.store.models import CaseRow

        with runtime.db.transaction() as session:
            row = session.get(CaseRow, case.id)
            assert row is not None
            row.facts = {**row.facts, "sources": [{"kind": "url", "url": host.url}]}
        enforcer.cases.transition(case.id, "noticed", actor="staff:ana", reason="notice sent")
        assert enforcer.removal.check_due() == []  # the first check is a day after the notice
        _clock(runtime).advance(days=1)
        assert [r.outcome for r in enforcer.removal.check_due()] == ["still up"]
        assert enforcer.cases.get(case.id).removal_deadline == NOW + timedelta(days=14)
        assert enforcer.removal.check_due() == []  # checked once a day
        _clock(runtime).advance(days=14)
        assert [r.outcome for r in enforcer.removal.check_due()] == ["escalated"]
        assert enforcer.cases.get(case.id).state == "escalated"
        host.status = 410
        _clock(runtime).advance(days=1)
        (report,) = enforcer.removal.check_due()
        assert report.outcome == "removed" and "HTTP 410" in report.places[0]["seen"]
        assert enforcer.cases.get(case.id).state == "removed"
        checks = [e for e in enforcer.cases.store.events(case.id) if e.kind == "removal_check"]
        assert [e.reason for e in checks] == ["still up", "escalated", "removed"]


def test_a_case_exports_to_a_bundle_that_verifies_offline_and_survives_a_purge(
        make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(retention={"observations_days": 30, "ip_addresses_days": 7})
    log = runtime.evidence_log()
    stage_sighting(runtime.db, log, NOW, name="Harbour.Kept.1080p")
    stage_sighting(runtime.db, log, NOW, name="Harbour.Purged.1080p", account="acct-2")
    cases = runtime.case_service()
    kept, purged = sorted(cases.open_settled_sightings(), key=lambda c: c.facts["sources"][0]["name"])
    assert kept.facts["sources"][0]["name"] == "Harbour.Kept.1080p"
    sample_key, torrent_key = sorted(kept.facts["artifacts"].values(), key=lambda k: not k.endswith(".mkv"))
    runtime.blobs.put_bytes(sample_key, b"sampleHarbour.Kept.1080p")  # the staged hashes are of these bytes
    runtime.blobs.put_bytes(torrent_key, b"Harbour.Kept.1080p")
    cases.set_legal_hold(kept.id, True, actor="staff:ana", reason="litigation")
    cases.transition(purged.id, "closed", actor="staff:ana", reason="duplicate")
    with_artifacts = export_case(cases, runtime.blobs, kept.id, artifacts=True)
    report = verify_bundle(with_artifacts, trusted_vkey=log.signer.vkey)
    assert report.artifacts == 2 and [f for f in report.failures if "RFC 3161" not in f] == []
    document = json.loads(with_artifacts)
    document["artifacts"][0]["data"] = base64.b64encode(b"sampleHarbour.Kept.1080P").decode()
    tampered = verify_bundle(json.dumps(document).encode(), trusted_vkey=log.signer.vkey)
    assert any("artifact 0" in f and "do not hash" in f for f in tampered.failures)
    before = {c.id: export_case(cases, runtime.blobs, c.id) for c in (kept, purged)}
    for data in before.values():
        report = verify_bundle(data, trusted_vkey=log.signer.vkey)
        assert report.failures == ["checkpoint: no RFC 3161 timestamp (the TSA had not stamped it when exported)"]
        assert json.loads(data)["previous_checkpoint"]  # consistency from the checkpoint at the case's opening
    _clock(runtime).advance(days=31)
    result = Retention(runtime.db, log, runtime.clock, runtime.settings.retention).purge()
    assert result.counts["peer_observations"] == 1 and result.counts["evidence_bodies"] > 0
    bodies = {p: log.store.record(p).body for p in cases.store.evidence(kept.id)}
    assert all(body is not None for body in bodies.values())  # the held case keeps every record
    assert all(log.store.record(p).body is None for p in cases.store.evidence(purged.id))
    for data in [*before.values(), export_case(cases, runtime.blobs, purged.id)]:
        report = verify_bundle(data, trusted_vkey=log.signer.vkey)
        assert [f for f in report.failures if "RFC 3161" not in f] == []


class _SilentRelay:
    """Accepts TCP connections and never says a word (a relay that hangs)."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self.host, self.port = "127.0.0.1", int(self._socket.getsockname()[1])

    def close(self) -> None:
        self._socket.close()


def test_a_relay_that_times_out_is_tried_again_later(make_runtime: Callable[..., Runtime]) -> None:
    silent = _SilentRelay()
    try:
        runtime = make_runtime(smtp=silent, notices={"smtp_timeout_seconds": 1.0})  # type: ignore[arg-type]
        stage_sighting(runtime.db, runtime.evidence_log(), NOW)
        enforcer = runtime.enforcer()
        case = enforcer.cases.open_settled_sightings()[0]
        enforcer.desk.queue(case.id, "dmca_512d", actor="staff:ana")
        (delivery,) = enforcer.desk.deliver_due()
    finally:
        silent.close()
    assert delivery.status == "will retry" and "timed out" in delivery.answer, delivery
    notice = enforcer.cases.store.notices(case.id)[0]
    assert (notice.status, notice.attempts, notice.sent_at) == ("queued", 1, None)


def _cli(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_DATA_DIR=str(runtime.settings.data_dir),
               REELGUARD_STORE__DATABASE_URL=runtime.settings.resolved_database_url)
    return subprocess.run([sys.executable, "-m", "reelguard.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_the_cases_commands(make_runtime: Callable[..., Runtime], tmp_path: Path) -> None:
    runtime = make_runtime()
    stage_sighting(runtime.db, runtime.evidence_log(), NOW)
    swept = _cli(runtime, "cases", "sweep", "--no-removal-check", "--json")
    assert swept.returncode == 0, swept.stderr
    (case_id,) = json.loads(swept.stdout)["opened"]
    listed = json.loads(_cli(runtime, "cases", "list", "--json").stdout)
    assert [c["id"] for c in listed] == [case_id]
    (tmp_path / "draft.toml").write_text(RULES.replace('then = ["review"]', 'then = ["review", "end_streams"]'))
    what_if = json.loads(_cli(runtime, "cases", "what-if", "--rules", str(tmp_path / "draft.toml"), "--json").stdout)
    assert what_if[0]["case"] == case_id and what_if[0]["decisions"][0]["action"] == "suspend_account"
    (tmp_path / "broken.toml").write_text(RULES.replace("trace_p_at_most", "p"))
    broken = _cli(runtime, "cases", "what-if", "--rules", str(tmp_path / "broken.toml"))
    assert broken.returncode == 78 and "unknown condition 'p'" in broken.stderr
    noted = _cli(runtime, "cases", "note", case_id, "called the indexer", "--by", "ana")
    assert noted.returncode == 0, noted.stderr
    first = _cli(runtime, "cases", "close", case_id, "--reason", "done", "--by", "ana", "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["state"] == "closed"
    again = _cli(runtime, "cases", "close", case_id, "--reason", "done too", "--by", "ben")
    assert again.returncode == 73 and "is closed (by staff:ana" in again.stderr and "Traceback" not in again.stderr
    shown = json.loads(_cli(runtime, "cases", "show", case_id, "--json").stdout)
    assert [e["kind"] for e in shown["events"]][-2:] == ["note", "transition"]
    bundle = tmp_path / "case.json"
    exported = _cli(runtime, "evidence", "export", case_id, str(bundle), "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["records"] == len(shown["evidence"])
    verified = _cli(runtime, "evidence", "verify", str(bundle))
    assert verified.returncode == 65 and "no RFC 3161 timestamp" in verified.stderr  # no TSA configured: said
    missing = _cli(runtime, "cases", "show", "nope")
    assert missing.returncode == 66 and "no case 'nope'" in missing.stderr
    bad = _cli(runtime, "cases", "open", "--title", "x")
    assert bad.returncode == 2 and "expected either --suspect FILE --title TITLE, or --sighting ID" in bad.stderr


def test_notices_go_over_tls_when_the_relay_offers_it_and_its_certificate_is_checked(
        make_runtime: Callable[..., Runtime], tmp_path: Path) -> None:
    ca_file, context = make_tls_files(tmp_path / "tls")
    with SmtpRelayServer(tls=context) as relay:
        trusted = make_runtime(smtp=relay, notices={"smtp_ca_file": str(ca_file)})
        stage_sighting(trusted.db, trusted.evidence_log(), NOW)
        enforcer = trusted.enforcer()
        case = enforcer.cases.open_settled_sightings()[0]
        enforcer.desk.queue(case.id, "dmca_512d", actor="staff:ana")
        assert [d.status for d in enforcer.desk.deliver_due()] == ["sent"]
        enforcer.desk.queue(case.id, "acns", actor="staff:ana")
        untrusted = make_runtime(smtp=relay)  # the system's CAs do not know the relay's
        (refused,) = untrusted.enforcer().desk.deliver_due()
        assert refused.status == "will retry" and "CERTIFICATE_VERIFY_FAILED" in refused.answer, refused
        plain = make_runtime(smtp=relay, notices={"smtp_tls": "off"})
        _clock(plain).advance(minutes=2)  # past the retry's rest
        (plain_answer,) = plain.enforcer().desk.deliver_due()
        assert plain_answer.status == "failed" and plain_answer.answer.startswith("MAIL FROM: 530"), plain_answer
    assert relay.relay.over_tls == [True]  # the one message taken came over TLS
