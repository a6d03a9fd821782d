"""One app per role: each serves its routes only, the hot roles load no FastAPI, the API is built behind them."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from reelguard.drm.keys import KeyId
from reelguard.license.service import UnsafeNoPolicy
from reelguard.license.tokens import EntitlementClaims
from reelguard.testing import FixedClock
from reelguard.web.app import Role, create_app
from reelguard.web.deferred import DeferredApp
from tests.conftest import SAMPLE_TITLE, PackagedCatalog

ROUTES = {  # a request that each role answers (any status but 404) and the others do not know
    "license": ("POST", "/license/clearkey"),
    "keyserver": ("POST", "/speke/v2/copyProtection"),
    "origin": ("GET", f"/content/{SAMPLE_TITLE}/dash/manifest.mpd"),
    "api": ("GET", "/api/v1/accounts"),
}
SERVED = {Role.LICENSE: {"license"}, Role.KEYSERVER: {"keyserver"}, Role.ORIGIN: {"origin"},
          Role.ALL: {"license", "keyserver", "origin", "api"}}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_serves_its_routes_and_no_others(catalog: PackagedCatalog, role: Role) -> None:
    with TestClient(create_app(catalog.runtime, role), raise_server_exceptions=False) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        for name, (method, path) in ROUTES.items():
            response = client.request(method, path)
            if name in SERVED[role]:
                assert response.status_code != 404, (name, response.text)
            else:
                assert response.status_code == 404, (name, response.status_code)
                assert response.headers["content-type"] == "application/problem+json"


def test_the_hot_roles_load_no_fastapi(catalog: PackagedCatalog) -> None:
    """The licence, key-server and origin processes never import FastAPI (0.3 s of start-up, a second event loop's worth
    of routes); ``all`` builds the integration API only after it is serving."""
    script = (
        "import sys\n"
        "from reelguard.composition import Runtime\n"
        "from reelguard.settings import Settings\n"
        "from reelguard.web.app import Role, create_app\n"
        f"runtime = Runtime.open(Settings.model_validate_json({catalog.runtime.settings.model_dump_json()!r}))\n"
        "for role in (Role.LICENSE, Role.KEYSERVER, Role.ORIGIN, Role.ALL):\n"
        "    create_app(runtime, role)\n"
        "    assert 'fastapi' not in sys.modules, role\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_an_api_request_during_the_build_waits_for_it() -> None:
    release = threading.Event()

    def build() -> ASGIApp:
        release.wait(timeout=30)
        return PlainTextResponse("built")

    api = DeferredApp(build)
    api.start()
    answers: list[str] = []
    client = TestClient(api)  # no lifespan: the deferred app is mounted under the role app, which has it
    waiting = threading.Thread(target=lambda: answers.append(client.get("/api/v1/x").text))
    waiting.start()
    waiting.join(timeout=0.5)
    assert waiting.is_alive() and not answers  # still waiting on the build
    release.set()
    waiting.join(timeout=30)
    assert answers == ["built"]


def test_an_api_that_fails_to_build_answers_503_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def build() -> ASGIApp:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="reelguard.web"):
        response = TestClient(DeferredApp(build)).get("/api/v1/accounts")
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert "failed to start" in response.json()["detail"]
    assert any("integration API failed to build" in r.getMessage() for r in caplog.records)


def test_the_unsafe_mode_is_explicit_and_warns_about_every_grant(catalog: PackagedCatalog,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """``entitlements=None`` was the bare path: now an ``UnsafeNoPolicy`` that counts and warns."""
    settings = catalog.runtime.settings.replaced(license={"unsafe_skip_policy": True})
    runtime = replace(catalog.runtime, settings=settings)
    kids = sorted({KeyId.from_hex(s["kid"]).b64url for s in catalog.sample.streams})
    body = json.dumps({"kids": kids}).encode()
    stranger = catalog.token(account="nobody", device="unregistered")  # no account, no device: policy would refuse
    with caplog.at_level(logging.WARNING), TestClient(create_app(runtime, Role.LICENSE)) as client:
        answers = [client.post("/license/clearkey", content=body, headers={"Authorization": f"Bearer {stranger}"})
                   for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    warnings = [r.getMessage() for r in caplog.records if "granted without the licence policy" in r.getMessage()]
    assert warnings == ["UNSAFE: 1 licence(s) granted without the licence policy (last: account nobody, title "
                        f"{SAMPLE_TITLE}); [license] unsafe_skip_policy is on"]


def test_the_unsafe_warning_counts_the_grants_since_the_last_one(caplog: pytest.LogCaptureFixture) -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    unsafe = UnsafeNoPolicy(clock, warn_every=timedelta(seconds=10))
    claims = EntitlementClaims(account="a", title="t", device="d", token_id="j", issued_at=0, expires_at=60)
    with caplog.at_level(logging.WARNING, logger="reelguard.license.service"):
        for _ in range(25):
            unsafe.grant(claims)
            clock.advance(seconds=1)
    counts = [r.getMessage().split(" ")[1] for r in caplog.records]
    assert counts == ["1", "10", "10"]  # at 0 s, 10 s (grants 1-10) and 20 s (grants 11-20); 4 wait for 30 s
