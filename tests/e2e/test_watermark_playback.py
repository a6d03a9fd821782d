"""Real Chromium plays a session's A/B stream: segments switch between A and B without a glitch.

A watermarked title (1-second segments) is served by a real uvicorn server; a session
whose first segments mix A and B is played through EME Clear Key in Debian's Chromium,
DASH and HLS. Playback must pass 6 s — across at least one A→B and one B→A switch — with
no error and a picture, and the segments the player fetched must be exactly those the
session's bits choose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from browser_harness import server_log, serving
from playwright.sync_api import Browser
from sqlalchemy import select

from reelguard.composition import Runtime
from reelguard.store.models import TitleRow
from reelguard.watermark.sessions import StartedSession
from tests.conftest import make_settings, subscribe
from tests.e2e.test_browser_playback import PLAYER_STATE
from tests.watermark_fixtures import WM_TITLE, ingest_watermarked, watermark_settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
_SEGMENT = re.compile(r"/stream/[^/]+/(?:dash|hls)/video_360p/(\d+)\.m4s$")


@pytest.fixture(scope="module")
def wm_server(tmp_path_factory: pytest.TempPathFactory, database_url_factory,  # type: ignore[no-untyped-def]
              media_dir: Path) -> Iterator[tuple[Runtime, str]]:
    work = tmp_path_factory.mktemp("wm-browser")
    runtime = Runtime.open(watermark_settings(make_settings(work / "data", database_url_factory())))
    ingest_watermarked(runtime, media_dir, work, seconds=12)
    subscribe(runtime, "viewer", ["tab"], titles=[WM_TITLE])
    with serving(runtime) as url, server_log() as log:
        yield runtime, url
    with runtime.db.session() as session:
        title = session.scalar(select(TitleRow).where(TitleRow.name == WM_TITLE))
        keys = [k.key for k in runtime.keystore.keys_of_title(session, title.id)] if title else []
    assert "/stream/<token>/" in log.text and log.secrets(keys) == []  # session tokens ride in the stream paths
    runtime.close()


def _mixed_session(runtime: Runtime) -> tuple[StartedSession, list[int]]:
    """A session whose first 6 segments switch A→B and B→A (a fair code gives one quickly)."""
    service = runtime.session_service()
    for _attempt in range(200):
        started = service.start(account="viewer", device="tab", title=WM_TITLE)
        bits = service.bits(started.session_id)
        switches = {(a, b) for a, b in pairwise(bits[:6]) if a != b}
        if switches == {(0, 1), (1, 0)}:
            return started, bits
    raise AssertionError("no session with both switches in 200 tries")


@pytest.mark.parametrize("fmt", ["dash", "hls"])
def test_a_session_stream_plays_across_a_and_b_segments(browser: Browser, wm_server: tuple[Runtime, str],
                                                        fmt: str, tmp_path: Path) -> None:
    runtime, base_url = wm_server
    started, bits = _mixed_session(runtime)
    entitlement = runtime.signer.issue(account="viewer", title=WM_TITLE, device="tab", ttl_seconds=600,
                                       now=datetime.now(UTC))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    fetched: list[int] = []
    page.on("requestfinished", lambda request: fetched.extend(
        int(m.group(1)) for m in [_SEGMENT.search(request.url)] if m))
    try:
        page.goto(f"{base_url}/play/{WM_TITLE}#format={fmt}&token={entitlement}&stream={started.token}")
        page.wait_for_function("() => document.getElementById('video').currentTime > 6.0 || "
                               "(window.reelguard && window.reelguard.state === 'error')", timeout=45_000)
        state = page.evaluate(PLAYER_STATE)
        assert state["error"] is None and state["currentTime"] > 6.0 and state["frames"] > 100, state
        played = sorted(set(fetched))
        assert played[:6] == [1, 2, 3, 4, 5, 6], played
        variants = [bits[n - 1] for n in played[:6]]
        assert 0 in variants and 1 in variants
    finally:
        page.close()
