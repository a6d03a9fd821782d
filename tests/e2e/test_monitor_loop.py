"""The whole Find loop, with no step done by hand: a session's leak, seeded and listed, is found and traced.

A watermarked title is ingested and watched; a subscriber's session plays it; the
rendered copy is re-encoded the way a pirate group would, made into a torrent, seeded
by two libtorrent peers on loopback behind Debian's opentracker (a third peer announces
and serves nothing) and listed on the loopback Torznab test server under a pirate-style
name. An unrelated video is listed beside it under a name just as close to the title
(``tests/leak_loop.py`` stages all this). Then one command, ``reelguard monitor once``,
runs in its own process: it finds both sightings, matches the title, proves the seeding
peers, fetches a sample, identifies the title and the span, and traces the leaking
session — and ends the other as "not our content", with the evidence. The same command
acts (``enforcement``): the traced leak becomes a case, the action rules suspend the
account and revoke its device, and notices go out through a real SMTP relay to the
indexer (§512(d)(3)) and to the ISP of each proven peer (ACNS). The case's bundle,
stamped by a TSA, verifies offline in a process of its own; once the indexer drops the
listing and the seeders leave, the removal check moves the case to removed, and it closes.
A copy reported by hand becomes a case too, identified and traced on the spot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree
from sqlalchemy import func, select

from reelguard.accounts.service import AccountService
from reelguard.enforcement.checkpoint import Checkpoint, NoteVerifier, open_note
from reelguard.enforcement.merkle import verify_inclusion
from reelguard.store.models import SightingJobRow
from tests.leak_loop import StagedLeak, staged_leak
from tests.watermark_fixtures import WM_TITLE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory, database_url_factory, media_dir: Path  # type: ignore[no-untyped-def]
         ) -> Iterator[StagedLeak]:
    with staged_leak(tmp_path_factory.mktemp("loop"), database_url_factory(), media_dir, seconds=60) as staged:
        staged.list_on_indexer()
        yield staged


def _by_infohash(loop: StagedLeak, infohash: str) -> dict[str, Any]:
    return loop.reelguard("sightings", "show", infohash)  # type: ignore[no-any-return]


def test_monitor_once_finds_proves_samples_identifies_and_traces_the_leak(loop: StagedLeak) -> None:
    started = datetime.now(UTC)
    report = loop.reelguard("monitor", "once")
    assert report["sources"][0]["error"] is None, report
    assert report["sources"][0]["matched"] == 2, report

    leak = _by_infohash(loop, loop.leak.infohash)
    steps = {s["step"]: s for s in leak["steps"]}
    assert [s["state"] for s in leak["steps"]] == ["done"] * 4, leak["steps"]
    peers = {p["peer_ip"]: p for p in leak["peers"]}
    assert {ip: p["verdict"] for ip, p in peers.items()} == {
        "127.0.0.2": "distributor", "127.0.0.3": "distributor", "127.0.0.4": "listed"}
    for ip in ("127.0.0.2", "127.0.0.3"):
        seen = peers[ip]
        assert seen["piece_sha1"] == loop.leak.info.hash_for_piece(seen["piece_index"]).hex()
        assert seen["found_by"] == "tracker" and seen["probe_address"] == "127.0.0.9"
        assert seen["matched_title"] == WM_TITLE and seen["match_score"] >= 0.88
        assert started <= datetime.fromisoformat(seen["started_at"]) <= datetime.fromisoformat(seen["ended_at"])
    assert steps["sample"]["result"]["complete"] is True
    identified = steps["identify"]["result"]
    assert identified["titles"] == [WM_TITLE] and identified["trace_title"] == WM_TITLE
    span = identified["evidence"]["segments"][0]
    assert span["title_start"] < 5 and span["title_end"] > 50, span  # the whole programme, placed
    traced = steps["trace"]["result"]
    assert traced["accused"] == [loop.leaker], traced["verdict"]
    accused = traced["report"]["accused"][0]
    assert (accused["account"], accused["ip"], accused["p_value"] <= 1e-6) == ("mallory", "198.51.100.7", True)

    other = _by_infohash(loop, loop.other.infohash)
    other_steps = {s["step"]: s for s in other["steps"]}
    assert sorted(other_steps) == ["identify", "probe", "sample"] and all(
        s["state"] == "done" for s in other["steps"])
    assert [p["verdict"] for p in other["peers"]] == ["distributor"]
    verdict = other_steps["identify"]["result"]
    assert verdict["verdict"] == "not our content"
    evidence = verdict["evidence"]
    assert evidence["matched"] is False and evidence["segments"] == []
    assert all(p > evidence["max_false_match_probability"] for p in evidence["best"].values()), evidence["best"]

    # every step's findings are in the evidence log: the accusation is provable from a signed checkpoint
    log = loop.runtime.evidence_log()
    size, note = log.checkpoint()
    root = Checkpoint.parse(open_note(note, [NoteVerifier(log.signer.vkey)])).root
    accusation = steps["trace"]["result"]["evidence_positions"][-1]
    record = log.store.record(accusation)
    verify_inclusion(record.leaf_hash, accusation, size, log.inclusion_proof(accusation, size), root)
    logged = json.loads(record.body or b"{}")
    assert logged["kind"] == "monitor.trace" and logged["record"]["result"]["accused"] == [loop.leaker]
    produced_by = logged["record"]["produced_by"]  # the software and the bounds the verdict rests on
    assert produced_by["software"].startswith("reelguard ") and produced_by["watermark_false_accusation"] == 1e-6
    assert produced_by["monitor"]["probe_address"] == "127.0.0.9"
    kinds = [log.store.record(p).kind for p in steps["probe"]["result"]["evidence_positions"]]
    assert kinds == ["observation"] * 3 + ["monitor.probe"]
    assert steps["sample"]["result"]["sha256"] == hashlib.sha256(loop.ripped.read_bytes()).hexdigest()

    progress = {row["infohash_v1"]: row["progress"] for row in loop.reelguard("sightings", "list")}
    assert progress == {loop.leak.infohash: f"trace done: traced to session {loop.leaker}",
                        loop.other.infohash: "identify done: not our content"}

    again = loop.reelguard("monitor", "once", "--title", WM_TITLE)  # seen again: nothing is done twice
    assert again["leaks"] == [] and again["sources"][0]["seen_again"] == 2
    with loop.runtime.db.session() as session:
        per_step = session.execute(select(SightingJobRow.sighting_id, SightingJobRow.step, func.count())
                                   .group_by(SightingJobRow.sighting_id, SightingJobRow.step)).all()
    assert len(per_step) == 7 and all(count == 1 for _, _, count in per_step)



def test_the_traced_leak_becomes_a_case_acted_on_noticed_checked_and_closed(loop: StagedLeak,
                                                                            tmp_path: Path) -> None:
    (listed,) = loop.reelguard("cases", "list")  # opened by `monitor once`; the other torrent was not ours
    case = loop.reelguard("cases", "show", listed["id"])
    assert (case["state"], case["origin"], case["title"]) == ("noticed", "monitor", WM_TITLE), case["events"]
    assert case["facts"]["trace"]["accused"][0]["session"] == loop.leaker
    actions = {e["detail"]["action"]: e for e in case["events"] if e["kind"] == "action"}
    assert sorted(actions) == ["end_streams", "revoke_device", "suspend_account"]
    assert all(e["detail"]["done"] and e["actor"] == "rule:accused@loop/1" for e in actions.values())
    account = AccountService(loop.runtime.db, loop.runtime.clock).show_account("mallory").to_json()
    assert account["status"] == "suspended" and account["devices"][0]["status"] == "revoked"

    notices = sorted((n["kind"], n["recipient"], n["status"]) for n in case["notices"])
    assert notices == [("acns", "abuse@isp.test", "sent")] * 2 + [("dmca_512d", "abuse@indexer.test", "sent")]
    received = {str(m["To"]): m for m in loop.relay.received}
    assert len(loop.relay.received) == 3 and set(received) == {"abuse@isp.test", "abuse@indexer.test"}
    acns_ips = set()
    for message in loop.relay.received:
        for part in message.iter_attachments():
            xml = ElementTree.fromstring(part.get_content() if isinstance(part.get_content(), bytes)
                                         else part.get_content().encode())
            acns_ips.add(xml.findtext("a:Source/a:IP_Address", namespaces={"a": "http://www.acns.net/ACNS"}))
    assert acns_ips == {"127.0.0.2", "127.0.0.3"}

    bundle = tmp_path / "case.json"
    exported = loop.reelguard("evidence", "export", case["id"], str(bundle), "--artifacts")
    assert exported["ok"] and exported["artifacts"] == 2, exported["failures"]
    verified = loop.reelguard("evidence", "verify", str(bundle), "--key", exported["vkey"])
    assert verified["ok"] and verified["timestamp"] and verified["records"] == len(case["evidence"])

    loop.indexer.items.clear()  # the indexer takes the listing down; the seeders leave
    loop.leak.stop_seeding()
    checked = loop.reelguard("cases", "check-removal", case["id"])
    assert checked["outcome"] == "removed", checked["places"]
    closed = loop.reelguard("cases", "close", case["id"], "--reason", "removed everywhere; account suspended")
    assert closed["state"] == "closed"
    moves = [(e["from_state"], e["to_state"]) for e in loop.reelguard("cases", "show", case["id"])["events"]
             if e["to_state"]]
    assert moves == [("open", "evidence"), ("evidence", "noticed"), ("noticed", "removed"), ("removed", "closed")]


def test_a_copy_reported_by_hand_becomes_a_case_identified_and_traced_on_the_spot(loop: StagedLeak) -> None:
    case = loop.reelguard("cases", "open", "--suspect", str(loop.ripped), "--title", WM_TITLE, "--url",
                          "https://files.example/harbour.mp4", "--note", "sent in by a subscriber", "--by", "ana")
    assert (case["origin"], case["state"]) == ("report", "evidence")
    accused = case["facts"]["trace"]["accused"]
    assert [a["session"] for a in accused] == [loop.leaker] and accused[0]["p_value"] <= 1e-6
    assert case["events"][0]["actor"] == "staff:ana" and case["facts"]["sources"] == [
        {"kind": "url", "url": "https://files.example/harbour.mp4"}]
    digest = hashlib.sha256(loop.ripped.read_bytes()).hexdigest()
    assert case["facts"]["artifacts"] == {digest: f"artifacts/sha256/{digest}"}
