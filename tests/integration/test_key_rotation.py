"""Rotating a title's keys: packaged anew under new keys, the old package and keys kept for the grace period only.

Real parts: ffmpeg and Shaka Packager (the title is encoded and packaged again), the
origin, licence and session-stream routes of the app, the store. Run on SQLite and on
PostgreSQL by the two passes of the suite.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelguard.composition import Runtime
from reelguard.drm.keys import KeyId
from reelguard.store import repositories
from reelguard.testing.clock import FixedClock
from reelguard.web.app import create_app
from tests.case_fixtures import stage_sighting
from tests.conftest import PROTOCOL_POLICY, make_settings, subscribe
from tests.watermark_fixtures import WM_TITLE, ingest_watermarked

pytestmark = pytest.mark.slow

TITLE = "rotating"


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory, database_url_factory: Callable[[], str],
            media_dir: Path) -> Iterator[Runtime]:
    work = tmp_path_factory.mktemp("rotation")
    settings = make_settings(work / "data", database_url_factory(), license={"policy_file": PROTOCOL_POLICY,
                                                                            "cache_seconds": 0.0},
                             media={"ladder": [360], "segment_seconds": 2})
    runtime = Runtime.open(settings, clock=FixedClock(datetime.now(UTC).replace(microsecond=0)))
    runtime.ingest_service().add_title(media_dir / "lavfi_testsrc.mp4", name=TITLE)
    ingest_watermarked(runtime, media_dir, work, seconds=6)
    subscribe(runtime, "acct-1", ["dev-1"], titles=[TITLE, WM_TITLE])
    yield runtime
    runtime.close()


def _kids(runtime: Runtime, title: str, generation: int) -> dict[str, str]:
    """KID (hex) → key (hex) of the title's keys of ``generation``."""
    with runtime.db.session() as session:
        title_id = repositories.load_title(session, title).id
        return {k.kid.hex: k.key.hex() for k in runtime.keystore.keys_of_title(session, title_id, generation)}


def _video_stream(runtime: Runtime, title: str) -> str:
    with runtime.db.session() as session:
        package = repositories.load_title(session, title).package
    assert package is not None
    return next(s.name for s in package.streams if s.kind == "video")


def _tenc_kid(init_segment: bytes) -> str:
    """The default KID of an fMP4 init segment's ``tenc`` box (ISO/IEC 23001-7 §8.2)."""
    at = init_segment.index(b"tenc")
    return init_segment[at + 12:at + 28].hex()


def _licence(client: TestClient, runtime: Runtime, kids: list[str], title: str = TITLE) -> tuple[int, str]:
    token = runtime.signer.issue(account="acct-1", title=title, device="dev-1", ttl_seconds=300, now=runtime.clock())
    body = {"kids": [KeyId.from_hex(k).b64url for k in kids], "type": "temporary"}
    response = client.post("/license/clearkey", json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.text


def test_a_rotated_title_plays_under_new_keys_and_the_old_ones_end_with_the_grace_period(rotated: Runtime) -> None:
    runtime, clock = rotated, rotated.clock
    assert isinstance(clock, FixedClock)
    old = _kids(runtime, TITLE, 1)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        first = client.get(f"/content/{TITLE}/dash/manifest.mpd")
        assert first.status_code == 200 and all(KeyId.from_hex(k).uuid in first.text for k in old)
        stream = _video_stream(runtime, TITLE)
        report = runtime.key_rotation().rotate(TITLE, grace=timedelta(hours=1))
        new = _kids(runtime, TITLE, 2)
        assert (report.from_generation, report.to_generation) == (1, 2)
        assert set(report.new_kids) == set(new) and set(report.retired_kids) == set(old) and not set(old) & set(new)

        moved = client.get(f"/content/{TITLE}/dash/manifest.mpd", follow_redirects=False)
        assert moved.status_code == 302 and moved.headers["location"] == f"/content/{TITLE}/k2/dash/manifest.mpd"
        manifest = client.get(f"/content/{TITLE}/dash/manifest.mpd").text  # a player follows it
        assert all(KeyId.from_hex(k).uuid in manifest for k in new)
        assert not any(KeyId.from_hex(k).uuid in manifest for k in old)
        hls = client.get(f"/content/{TITLE}/hls/master.m3u8", follow_redirects=False)
        assert hls.headers["location"] == f"/content/{TITLE}/k2/hls/master.m3u8"
        new_init = client.get(f"/content/{TITLE}/k2/dash/{stream}/init.mp4").content
        old_init = client.get(f"/content/{TITLE}/dash/{stream}/init.mp4").content  # the old package stays
        assert _tenc_kid(new_init) in new and _tenc_kid(old_init) in old
        assert client.get(f"/content/{TITLE}/k2/dash/{stream}/1.m4s").status_code == 200

        assert _licence(client, runtime, list(new))[0] == 200
        assert _licence(client, runtime, list(old))[0] == 200  # within the grace period
        token = runtime.signer.issue(account="acct-1", title=TITLE, device="dev-1", ttl_seconds=300, now=clock())
        auth = {"Authorization": f"Bearer {token}"}
        old_key = client.get(f"/content/{TITLE}/hls/{stream}/key", headers=auth)
        new_key = client.get(f"/content/{TITLE}/k2/hls/{stream}/key", headers=auth)
        assert old_key.content.hex() in old.values() and new_key.content.hex() in new.values()

        clock.advance(hours=1)
        status, text = _licence(client, runtime, list(old))
        assert status == 403 and "was retired at" in text and "reload the title" in text
        assert _licence(client, runtime, list(new))[0] == 200
        token = runtime.signer.issue(account="acct-1", title=TITLE, device="dev-1", ttl_seconds=300, now=clock())
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get(f"/content/{TITLE}/hls/{stream}/key", headers=auth).status_code == 403
        assert client.get(f"/content/{TITLE}/k2/hls/{stream}/key", headers=auth).status_code == 200
        for key in (*old.values(), *new.values()):
            assert key not in text and base64.urlsafe_b64encode(bytes.fromhex(key)).decode().rstrip("=") not in text


def test_a_session_keeps_the_package_it_started_on_and_new_sessions_get_the_new_one(rotated: Runtime) -> None:
    runtime = rotated
    sessions = runtime.session_service()
    before = sessions.start(account="acct-1", device="dev-1", title=WM_TITLE)
    old = _kids(runtime, WM_TITLE, 1)
    runtime.key_rotation().rotate(WM_TITLE, grace=timedelta(hours=6))
    after = sessions.start(account="acct-1", device="dev-1", title=WM_TITLE)
    new = _kids(runtime, WM_TITLE, 2)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        stream = _video_stream(runtime, WM_TITLE)
        for started, keys in ((before, old), (after, new)):
            init = client.get(f"/stream/{started.token}/dash/{stream}/init.mp4")
            segment = client.get(f"/stream/{started.token}/dash/{stream}/2.m4s")
            assert init.status_code == 200 and segment.status_code == 200
            assert _tenc_kid(init.content) in keys
            manifest = client.get(started.stream_path).text
            assert all(KeyId.from_hex(k).uuid in manifest for k in keys)


def test_a_case_rotates_its_titles_keys_as_an_action_on_record(rotated: Runtime) -> None:
    runtime = rotated
    stage_sighting(runtime.db, runtime.evidence_log(), runtime.clock(), title=TITLE, account="acct-1",
                   device="dev-1")
    enforcer = runtime.enforcer()
    case = enforcer.cases.open_settled_sightings()[0]
    (outcome,) = enforcer.actions.take(case.id, "rotate_keys", actor="staff:ana", reason="keys dumped from a CDM")
    assert outcome.done and outcome.target == f"title {TITLE}" and "generation 3" in outcome.detail
    event = enforcer.cases.store.events(case.id)[-1]
    assert event.detail["rotation"]["to_generation"] == 3 and event.actor == "staff:ana"
    assert set(event.detail["rotation"]["new_kids"]) == set(_kids(runtime, TITLE, 3))
