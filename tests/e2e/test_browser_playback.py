"""Real Chromium plays the encrypted sample through EME Clear Key — and only with a valid token.

Debian's Chromium, driven by Playwright, loads the demo page from a real uvicorn server on
loopback. With a valid entitlement token, DASH/cenc and HLS/cbcs both decode frames and
move past 2 s with a picture that is not black; with no token, an expired token, or a
token for another title, the player reports a licence refusal and decodes no frame.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from browser_harness import ServerLog, server_log, serving
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.conftest import OTHER_TITLE, SAMPLE_TITLE, PackagedCatalog, subscribe

pytestmark = pytest.mark.browser

PLAYER_STATE = """() => {
  const v = document.getElementById('video');
  return { state: window.reelguard && window.reelguard.state, error: window.reelguard && window.reelguard.error,
           currentTime: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames };
}"""


@pytest.fixture(scope="module")
def playback_log() -> Iterator[ServerLog]:
    """Everything the server logs while this module's playbacks run (read by the last test)."""
    with server_log() as log:
        yield log


@pytest.fixture(scope="module")
def base_url(catalog: PackagedCatalog, playback_log: ServerLog) -> Iterator[str]:
    with serving(catalog.runtime) as url:
        yield url


def _open(browser: Browser, base_url: str, fmt: str, token: str, extra: str = "") -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    fragment = f"format={fmt}" + (f"&token={token}" if token else "") + extra
    page.goto(f"{base_url}/play/{SAMPLE_TITLE}#{fragment}")
    return page


def _state(page: Page) -> dict[str, Any]:
    return page.evaluate(PLAYER_STATE)  # type: ignore[no-any-return]


@pytest.mark.parametrize("fmt", ["dash", "hls"])
def test_valid_token_plays(browser: Browser, base_url: str, catalog: PackagedCatalog, fmt: str) -> None:
    page = _open(browser, base_url, fmt, catalog.token())
    try:
        page.wait_for_function("() => document.getElementById('video').currentTime > 2.0 || "
                               "(window.reelguard && window.reelguard.state === 'error')", timeout=30_000)
        state = _state(page)
        assert state["error"] is None and state["currentTime"] > 2.0 and state["frames"] > 0, state
        pixels = np.asarray(Image.open(io.BytesIO(page.locator("#video").screenshot())).convert("L"), dtype=float)
        assert pixels.mean() > 30 and pixels.std() > 10, (pixels.mean(), pixels.std())
    finally:
        page.close()


REFUSALS = {
    "no-token": lambda c: "",
    "expired-token": lambda c: c.token(ttl=60, now=datetime.now(UTC) - timedelta(hours=2)),
    "other-title-token": lambda c: c.token(OTHER_TITLE),
}


@pytest.mark.parametrize("fmt", ["dash", "hls"])
@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_refused_token_gets_no_keys_and_no_picture(browser: Browser, base_url: str, catalog: PackagedCatalog,
                                                   fmt: str, refusal: str) -> None:
    page = _open(browser, base_url, fmt, REFUSALS[refusal](catalog))
    try:
        page.wait_for_function("() => window.reelguard && window.reelguard.state === 'error'", timeout=30_000)
        page.wait_for_timeout(1000)  # give a (wrongly) playing video a chance to decode
        state = _state(page)
        assert state["error"]["licence"] is True, state
        assert state["frames"] == 0, state
        assert "licence refused" in page.locator("#status").inner_text()
    finally:
        page.close()


@pytest.mark.parametrize("fmt", ["dash", "hls"])
def test_renewals_keep_playing_until_the_device_is_revoked(browser: Browser, base_url: str,
                                                            catalog: PackagedCatalog, fmt: str) -> None:
    """Short licences plus heartbeat: the player renews every second; revoking its device stops it."""
    account = f"browser-{fmt}-{uuid.uuid4().hex[:6]}"
    accounts = subscribe(catalog.runtime, account, ["tab"], titles=[])
    page = _open(browser, base_url, fmt, catalog.token(account=account, device="tab"), "&renew=1")
    try:
        page.wait_for_function("() => document.getElementById('video').currentTime > 2.0 && "
                               "window.reelguard.renewals >= 2", timeout=30_000)
        assert _state(page)["error"] is None
        accounts.revoke_device(account, "tab")  # another service: the server learns it from the change feed
        page.wait_for_function("() => window.reelguard.state === 'stopped'", timeout=15_000)
        state = _state(page)
        assert state["error"]["licence"] is True and "device_registered" in state["error"]["detail"], state
        assert "licence renewal refused" in page.locator("#status").inner_text()
    finally:
        page.close()


def test_the_servers_log_of_every_playback_above_holds_no_token_and_no_key(
        base_url: str, catalog: PackagedCatalog, playback_log: ServerLog) -> None:
    """Every request of the module's DASH and HLS playbacks (licences, keys, renewals, refusals) was logged."""
    with catalog.runtime.db.session() as session:
        keys = [k.key for k in catalog.runtime.keystore.keys_of_title(session, catalog.sample.id)]
    log = playback_log.text
    assert '"path": "/license/clearkey"' in log and f"/content/{SAMPLE_TITLE}/hls/" in log, log[:2000]
    assert playback_log.secrets(keys) == []
