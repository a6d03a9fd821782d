"""The licence proxy against a real upstream HTTP server on loopback (a stand-in DRM service)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import PackagedCatalog
from tests.integration.policy_lab import PolicyLab, refused_by

CREDENTIAL = "upstream-service-credential-7f3a"
RULES = ('type = "account_active"', 'type = "entitled"', 'type = "device_registered"',
         'type = "concurrent_streams"\nmax_streams = 1')


class FakeDrmService(BaseHTTPRequestHandler):
    """A stand-in commercial licence service (named a fake: the real ones are contracts, not code)."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        FakeDrmService.seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/broken":
            self.send_response(500)
            self.end_headers()
            return
        if self.headers.get("authorization") != f"Bearer {CREDENTIAL}":
            self.send_response(401)
            self.end_headers()
            return
        answer = b"LICENSE-FOR:" + body
        self.send_response(200)
        self.send_header("Content-Type", "application/x-widevine-license")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the slow handler writes after the proxy gave up: a broken pipe is expected


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), FakeDrmService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def lab(catalog: PackagedCatalog, tmp_path: Path, upstream: str) -> Iterator[PolicyLab]:
    credential = tmp_path / "upstream.credential"
    credential.write_text(CREDENTIAL)
    credential.chmod(0o600)
    lab = PolicyLab(catalog, tmp_path, *RULES, license_proxy={
        "credential_file": credential, "timeout_seconds": 1.0,
        "upstreams": {"widevine": f"{upstream}/wv", "playready": f"{upstream}/broken", "fairplay": f"{upstream}/slow",
                      "gone": "http://127.0.0.1:9/"}})
    yield lab
    lab.close()


def _proxy(lab: PolicyLab, system: str, token: str, challenge: bytes = b"\x08\x01CDM-CHALLENGE") -> object:
    return lab._client.post(f"/license/proxy/{system}", content=challenge, headers={"Authorization": f"Bearer {token}"})


def test_authorised_challenge_is_forwarded_with_server_credentials(lab: PolicyLab) -> None:
    account = lab.account(devices=("d1", "d2"))
    token = lab.token(account, "d1")
    FakeDrmService.seen.clear()
    response = _proxy(lab, "widevine", token)
    assert response.status_code == 200 and response.content == b"LICENSE-FOR:\x08\x01CDM-CHALLENGE"
    assert response.headers["content-type"] == "application/x-widevine-license"
    sent = FakeDrmService.seen[-1]
    assert sent["authorization"] == f"Bearer {CREDENTIAL}" and token not in str(sent)
    assert (sent["x-reelguard-account"], sent["x-reelguard-device"], sent["x-reelguard-tiers"]) == (
        account, "d1", "AUDIO,HD,SD")
    refused_by(_proxy(lab, "widevine", lab.token(account, "d2")), "concurrent_streams")  # the same policy
    assert len(FakeDrmService.seen) == 1  # a refused request never reaches the upstream


def test_unauthorised_requests_never_reach_the_upstream(lab: PolicyLab) -> None:
    FakeDrmService.seen.clear()
    refused_by(_proxy(lab, "widevine", lab.token("no-such-account")), "account_active")
    assert _proxy(lab, "widevine", "not-a-token").status_code == 401
    assert _proxy(lab, "clearplay", lab.token(lab.account())).status_code == 404
    assert FakeDrmService.seen == []


def test_upstream_errors_and_timeouts_become_502_and_504(lab: PolicyLab) -> None:
    account = lab.account(devices=("d1",))
    token = lab.token(account)
    broken = _proxy(lab, "playready", token)
    assert broken.status_code == 502 and "answered HTTP 500" in broken.json()["detail"]
    started = time.monotonic()
    slow = _proxy(lab, "fairplay", token)
    assert slow.status_code == 504 and "did not answer in time" in slow.json()["detail"]
    assert time.monotonic() - started < 2.5
    gone = _proxy(lab, "gone", token)
    assert gone.status_code == 502 and "unreachable" in gone.json()["detail"]
    assert CREDENTIAL not in broken.text + slow.text
