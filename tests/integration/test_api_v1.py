"""The integration API as the platform's backend uses it: keys and scopes, idempotent writes,
pages, the CLI's validation, and changes that reach the licence path at once.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from reelguard.drm.keys import KeyId
from reelguard.integration.clients import SCOPES, ApiClientRegistry
from reelguard.web.app import create_app
from tests.conftest import SAMPLE_TITLE, PackagedCatalog

PROBLEM = "application/problem+json"


class Backend:
    def __init__(self, client: TestClient, catalog: PackagedCatalog) -> None:
        self.http, self.catalog = client, catalog
        registry = ApiClientRegistry(catalog.runtime.db, catalog.runtime.clock)
        self.name = f"backend-{uuid.uuid4().hex[:6]}"
        self.key = registry.create(self.name, scopes=sorted(SCOPES))
        self.registry = registry

    def call(self, method: str, path: str, body: object = None, *, key: str | None = None,
             idempotency: str | None = None) -> object:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        if idempotency is not None:
            headers["Idempotency-Key"] = idempotency
        content = json.dumps(body) if body is not None else None
        return self.http.request(method, f"/api/v1{path}", content=content, headers=headers)


@pytest.fixture(scope="module")
def http(catalog: PackagedCatalog) -> Iterator[TestClient]:
    with TestClient(create_app(catalog.runtime), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def backend(http: TestClient, catalog: PackagedCatalog) -> Backend:
    return Backend(http, catalog)


def _problem(response: object, status: int, contains: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert contains in str(body["detail"]), body
    return body


def test_keys_and_scopes(backend: Backend) -> None:
    _problem(backend.http.get("/api/v1/accounts"), 401, "expected 'Authorization: Bearer rgk.")
    _problem(backend.call("GET", "/accounts", key="rgk.nobody.secret"), 401, "does not verify")
    _problem(backend.call("GET", "/accounts", key=backend.key[:-2] + "xx"), 401, "does not verify")
    reader = backend.registry.create(f"reader-{uuid.uuid4().hex[:6]}", scopes=["accounts:read"])
    assert backend.call("GET", "/accounts", key=reader).status_code == 200  # type: ignore[attr-defined]
    _problem(backend.call("POST", "/accounts", {"id": "x", "plan": "p"}, key=reader), 403, "lacks the scope")
    backend.registry.revoke(reader.split(".")[1])
    _problem(backend.call("GET", "/accounts", key=reader), 401, "was revoked")


def test_a_subscriber_lifecycle(backend: Backend) -> None:
    account = f"api-{uuid.uuid4().hex[:8]}"
    created = backend.call("POST", "/accounts", {"id": account, "plan": "standard"})
    assert created.status_code == 201 and created.json()["status"] == "active"  # type: ignore[attr-defined]
    device = backend.call("PUT", f"/accounts/{account}/devices/tv", {"type": "tv", "security_level": "hardware",
                                                                     "hdcp": "2.2"})
    assert device.json()["status"] == "active"  # type: ignore[attr-defined]
    rental_end = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    granted = backend.call("PUT", f"/accounts/{account}/grants/{SAMPLE_TITLE}",
                           {"kind": "rental", "expires_at": rental_end})
    assert granted.json()["grants"][0]["kind"] == "rental"  # type: ignore[attr-defined]
    changed = backend.call("PATCH", f"/accounts/{account}", {"plan": "premium", "status": "suspended"})
    assert (changed.json()["plan"], changed.json()["status"]) == ("premium", "suspended")  # type: ignore[attr-defined]
    assert backend.call("POST", f"/accounts/{account}/devices/tv/revoke").json()["status"] == "revoked"  # type: ignore[attr-defined]
    assert backend.call("POST", f"/accounts/{account}/devices/tv/reinstate").json()["status"] == "active"  # type: ignore[attr-defined]
    assert backend.call("DELETE", f"/accounts/{account}/grants/{SAMPLE_TITLE}").status_code == 204  # type: ignore[attr-defined]
    shown = backend.call("GET", f"/accounts/{account}").json()  # type: ignore[attr-defined]
    assert shown["grants"] == [] and [d["id"] for d in shown["devices"]] == ["tv"]


@pytest.mark.parametrize(("method", "path", "body", "status", "says"), [
    ("PUT", "/titles/{title}/rights", {"plans": ["standard"], "territories": ["UK"]}, 400, "did you mean GB?"),
    ("PUT", "/titles/no-such-title/rights", {"plans": ["standard"]}, 404, "no title named"),
    ("PUT", "/accounts/{account}/grants/{title}", {"kind": "rental", "expires_at": "2020-06-01T00:00:00Z"}, 400,
     "must end in the future"),
    ("PUT", "/accounts/{account}/grants/{title}", {"kind": "rental", "expires_at": "2030-06-01T00:00:00"}, 400,
     "naive"),
    ("PUT", "/accounts/{account}/devices/tv", {"type": "tv", "security_level": "quantum"}, 400,
     "security level must be one of"),
    ("POST", "/accounts", {"id": "{account}", "plan": "standard"}, 409, "already exists"),
    ("POST", "/accounts", {"id": "x", "plan": "standard", "admin": True}, 400, "admin: Extra inputs"),
    ("POST", "/accounts", "not an object", 400, "does not validate"),
    ("PATCH", "/accounts/{account}", {"status": "deleted"}, 400, "status"),
    ("GET", "/accounts?cursor=%%%", None, 400, "expected a cursor"),
    ("GET", "/accounts?limit=5000", None, 400, "request does not match the API"),
    ("GET", "/decisions?outcome=maybe", None, 400, "request does not match the API"),
], ids=["territory-UK", "rights-unknown-title", "rental-ended", "naive-time", "bad-security-level", "duplicate",
        "unknown-field", "not-an-object", "bad-status", "bad-cursor", "page-too-large", "bad-outcome"])
def test_the_same_validation_as_the_cli(backend: Backend, method: str, path: str, body: object, status: int,
                                        says: str) -> None:
    account = f"v-{uuid.uuid4().hex[:8]}"
    assert backend.call("POST", "/accounts", {"id": account, "plan": "standard"}).status_code == 201  # type: ignore[attr-defined]
    fill = {"account": account, "title": SAMPLE_TITLE}
    filled = json.loads(json.dumps(body).replace("{account}", account)) if body is not None else None
    _problem(backend.call(method, path.format(**fill), filled), status, says)


def test_a_retried_write_happens_once(backend: Backend) -> None:
    account = f"idem-{uuid.uuid4().hex[:8]}"
    key = str(uuid.uuid4())
    first = backend.call("POST", "/accounts", {"id": account, "plan": "standard"}, idempotency=key)
    again = backend.call("POST", "/accounts", {"id": account, "plan": "standard"}, idempotency=key)
    assert first.status_code == again.status_code == 201  # type: ignore[attr-defined]
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"  # type: ignore[attr-defined]
    _problem(backend.call("POST", "/accounts", {"id": account, "plan": "premium"}, idempotency=key), 422,
             "different request")
    other = backend.registry.create(f"other-{uuid.uuid4().hex[:6]}", scopes=["accounts:write"])
    _problem(backend.call("POST", "/accounts", {"id": account, "plan": "standard"}, key=other, idempotency=key),
             409, "already exists")  # keys are per client: another client's retry is its own request
    refused = backend.call("POST", "/accounts", {"id": account, "plan": "standard"}, idempotency="k2")
    replayed = backend.call("POST", "/accounts", {"id": account, "plan": "standard"}, idempotency="k2")
    assert refused.status_code == replayed.status_code == 409 and refused.json() == replayed.json()  # type: ignore[attr-defined]


def test_concurrent_retries_run_the_write_once(backend: Backend) -> None:
    account = f"race-{uuid.uuid4().hex[:8]}"
    key, statuses = str(uuid.uuid4()), []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        barrier.wait()
        statuses.append(backend.call("POST", "/accounts", {"id": account, "plan": "standard"},
                                     idempotency=key).status_code)  # type: ignore[attr-defined]

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    conflicts = [s for s in statuses if s == 409]
    assert len(conflicts) == len(statuses) - statuses.count(201)


def test_pages_of_accounts_and_decisions(backend: Backend) -> None:
    prefix = f"page-{uuid.uuid4().hex[:6]}"
    for n in range(5):
        backend.call("POST", "/accounts", {"id": f"{prefix}-{n}", "plan": "paged"})
    seen, cursor = [], None
    while True:
        query = "/accounts?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = backend.call("GET", query).json()  # type: ignore[attr-defined]
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [a for a in seen if a.startswith(prefix)] == [f"{prefix}-{n}" for n in range(5)]
    assert len(seen) == len(set(seen))
    plan_only = backend.call("GET", "/accounts?plan=paged&limit=1000").json()["items"]  # type: ignore[attr-defined]
    assert {a["plan"] for a in plan_only} == {"paged"}


def test_ending_a_stream_and_suspending_reach_the_licence_path(backend: Backend, catalog: PackagedCatalog) -> None:
    account = f"live-{uuid.uuid4().hex[:8]}"
    backend.call("POST", "/accounts", {"id": account, "plan": "standard"})
    backend.call("PUT", f"/accounts/{account}/devices/tv", {"type": "tv"})
    kids = json.dumps({"kids": sorted({KeyId.from_hex(s["kid"]).b64url for s in catalog.sample.streams})})
    auth = {"Authorization": f"Bearer {catalog.token(account=account, device='tv')}"}
    assert backend.http.post("/license/clearkey", content=kids, headers=auth).status_code == 200
    [stream] = backend.call("GET", f"/streams?account={account}&running=true").json()  # type: ignore[attr-defined]
    ended = backend.call("POST", f"/streams/{stream['id']}/end")
    assert ended.json()["running"] is False  # type: ignore[attr-defined]
    renewal = backend.http.post("/license/clearkey", content=kids, headers=auth)
    assert renewal.status_code == 403 and "replayed" in renewal.json()["detail"]
    second = {"Authorization": f"Bearer {catalog.token(account=account, device='tv')}"}
    assert backend.http.post("/license/clearkey", content=kids, headers=second).status_code == 200
    backend.call("PATCH", f"/accounts/{account}", {"status": "suspended"})
    refused = backend.http.post("/license/clearkey", content=kids, headers=second)
    assert refused.status_code == 403 and "account_active" in refused.text
    rules: set[str] = set()
    deadline = time.monotonic() + 10  # a renewal's decision is written within one flush (renewal_flush_seconds)
    while rules != {"token", "account_active"} and time.monotonic() < deadline:
        time.sleep(0.1)
        denied = backend.call("GET", f"/decisions?account={account}&outcome=denied").json()  # type: ignore[attr-defined]
        rules = {d["rule"] for d in denied["items"]}
    assert rules == {"token", "account_active"}
    older = backend.call("GET", f"/decisions?account={account}&limit=1").json()  # type: ignore[attr-defined]
    rest = backend.call("GET", f"/decisions?account={account}&cursor={older['next_cursor']}").json()  # type: ignore[attr-defined]
    assert all(d["id"] < older["items"][0]["id"] for d in rest["items"]) and len(rest["items"]) >= 3
