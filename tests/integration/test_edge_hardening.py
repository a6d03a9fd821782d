"""Faults a probe of the servers found, each refused now with a 4xx problem and nothing in the log.

Nested and oversized JSON in every parser at the edge (licence, downloads, proxy, tokens,
watermarking tokens, the integration API), ``nbf``, SPEKE replays across workers and
restarts, the database's file mode, and an OpenAPI document that describes every route
and renders offline.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import stat
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.routing import Route

from reelguard.composition import Runtime
from reelguard.drm.api_clients import SPEKE_PATH, add_client, sign_request
from reelguard.drm.keys import KeyId
from reelguard.store.database import Database
from reelguard.web.app import create_app
from tests.conftest import SAMPLE_TITLE, PackagedCatalog

PROBLEM = "application/problem+json"
NESTED = b'{"kids": ' + b"[" * 1000 + b"]" * 1000 + b"}"
HUGE_NUMBER = b'{"kids": ["AAECAwQFBgcICQoLDA0ODw"], "type": ' + b"9" * 4400 + b"}"


@pytest.fixture(scope="module")
def client(catalog: PackagedCatalog) -> Iterator[TestClient]:
    with TestClient(create_app(catalog.runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def _segment(document: bytes) -> str:
    return base64.urlsafe_b64encode(document).rstrip(b"=").decode()


def _nested_token() -> str:
    header = b'{"alg": "ES256", "kid": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    return f"{_segment(header)}.{_segment(b'{}')}.{_segment(b'x' * 64)}"


def _bad_input(response: object, contains: str) -> None:
    assert response.status_code == 400, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    assert contains in response.json()["detail"]  # type: ignore[attr-defined]


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert "Traceback" not in caplog.text


@pytest.mark.usefixtures("no_errors_logged")
@pytest.mark.parametrize(("body", "contains"), [(NESTED, "nested at most"), (HUGE_NUMBER, "numbers of at most")],
                         ids=["nested-1000", "number-4400-digits"])
def test_licence_and_download_bodies_out_of_bounds_are_400(client: TestClient, catalog: PackagedCatalog,
                                                            body: bytes, contains: str) -> None:
    """A 2 KB body nested 1,000 deep (or a 4,400-digit number) answered 500 with two tracebacks."""
    auth = {"Authorization": f"Bearer {catalog.token()}"}
    _bad_input(client.post("/license/clearkey", content=body, headers=auth), contains)
    _bad_input(client.post(f"/license/downloads/{uuid.uuid4()}/renew", content=body, headers=auth), contains)


@pytest.mark.usefixtures("no_errors_logged")
def test_a_nested_token_header_is_400_before_any_authentication(client: TestClient, catalog: PackagedCatalog) -> None:
    auth = {"Authorization": f"Bearer {_nested_token()}"}
    kids = sorted({KeyId.from_hex(s["kid"]).b64url for s in catalog.sample.streams})
    _bad_input(client.post("/license/clearkey", content=json.dumps({"kids": kids}), headers=auth), "nested at most")
    _bad_input(client.get(f"/content/{SAMPLE_TITLE}/hls/video_720p/key", headers=auth), "nested at most")
    _bad_input(client.delete("/license/stream", headers=auth), "nested at most")
    proxied = replace(catalog.runtime, settings=catalog.runtime.settings.replaced(
        license_proxy={"upstreams": {"widevine": "http://127.0.0.1:9/never-reached"}}))
    with TestClient(create_app(proxied), raise_server_exceptions=False) as proxy_client:
        _bad_input(proxy_client.post("/license/proxy/widevine", content=b"challenge", headers=auth),
                   "nested at most")


@pytest.mark.usefixtures("no_errors_logged")
def test_a_nested_watermarking_token_in_a_stream_path_is_refused(client: TestClient) -> None:
    response = client.get(f"/stream/{_nested_token()}/dash/manifest.mpd")
    assert response.status_code in (400, 401) and response.headers["content-type"] == PROBLEM, response.text


@pytest.mark.usefixtures("no_errors_logged")
def test_an_integration_api_body_out_of_bounds_is_400(client: TestClient) -> None:
    from reelguard.integration.clients import ApiClientRegistry

    registry = ApiClientRegistry(client.app.state.runtime.db, client.app.state.runtime.clock)  # type: ignore[attr-defined]
    key = registry.create(f"edge-{uuid.uuid4().hex[:6]}", scopes=["accounts:write"])
    _bad_input(client.post("/api/v1/accounts", content=NESTED, headers={"Authorization": f"Bearer {key}"}),
               "nested at most")


def test_a_token_before_its_nbf_gets_no_key(client: TestClient, catalog: PackagedCatalog) -> None:
    """A token valid only from an hour later got a licence with every key."""
    now = datetime.now(UTC)
    token = catalog.runtime.signer.issue(account="acct-1", title=SAMPLE_TITLE, device="dev-1", ttl_seconds=7200,
                                         now=now, extra={"nbf": int((now + timedelta(hours=1)).timestamp())})
    kids = sorted({KeyId.from_hex(s["kid"]).b64url for s in catalog.sample.streams})
    response = client.post("/license/clearkey", content=json.dumps({"kids": kids}),
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "not valid until" in response.json()["detail"], response.text
    assert '"k"' not in response.text


def test_a_speke_request_is_refused_again_after_a_restart_and_by_another_worker(runtime: Runtime) -> None:
    """The seen signatures lived in one process's memory: a restart, or a second worker, accepted a replay."""
    secret = add_client(runtime.settings.resolved_api_clients_file, "packager")
    body = b'<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" contentId="no-such-title" version="2.3"/>'
    headers = {**sign_request("packager", secret, "POST", SPEKE_PATH, body, datetime.now(UTC)),
               "X-Speke-Version": "2.0", "Content-Type": "application/xml"}
    with TestClient(create_app(runtime), raise_server_exceptions=False) as first:
        accepted = first.post(SPEKE_PATH, content=body, headers=headers)
    assert accepted.status_code == 422, accepted.text  # authenticated; the document itself is refused
    for _ in range(2):  # the restarted server, and a second worker beside it
        with TestClient(create_app(runtime), raise_server_exceptions=False) as again:
            replayed = again.post(SPEKE_PATH, content=body, headers=headers)
        assert replayed.status_code == 401 and "replay" in replayed.json()["detail"], replayed.text


def test_a_revoked_speke_client_is_refused_without_a_restart(runtime: Runtime) -> None:
    from reelguard.drm.api_clients import revoke_client

    path = runtime.settings.resolved_api_clients_file
    secret = add_client(path, "packager")
    body = b'<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" contentId="no-such-title" version="2.3"/>'
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        def post(offset: int) -> object:
            headers = sign_request("packager", secret, "POST", SPEKE_PATH, body,
                                   datetime.now(UTC) + timedelta(seconds=offset))
            return client.post(SPEKE_PATH, content=body, headers={**headers, "X-Speke-Version": "2.0"})

        assert post(0).status_code == 422  # type: ignore[attr-defined]
        revoke_client(path, "packager")
        refused = post(1)
    assert refused.status_code == 401 and "unknown key-server client" in refused.json()["detail"]  # type: ignore[attr-defined]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    """The SQLite file holds wrapped keys, decisions and client IPs; it was created 0644."""
    db = Database.connect(f"sqlite:///{tmp_path / 'data' / 'reelguard.db'}")
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        files = sorted(p.name for p in (tmp_path / "data").iterdir())
        assert {"reelguard.db", "reelguard.db-wal", "reelguard.db-shm"} <= set(files), files
        for name in files:
            assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name
    finally:
        db.dispose()


def test_an_existing_world_readable_database_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Database.connect(f"sqlite:///{path}").dispose()
    path.chmod(0o644)
    Database.connect(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_openapi_document_describes_every_route(client: TestClient) -> None:
    """The licence, download, proxy, SPEKE and health routes were missing from it."""
    paths = client.get("/openapi.json").json()["paths"]
    infrastructure = {"/openapi.json", "/api/docs", "/favicon.ico", "/docs/oauth2-redirect"}
    missing = []
    api = client.app.state.api.built()  # type: ignore[attr-defined]
    for route in [*client.app.routes, *api.routes]:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or route.path in infrastructure:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if method.lower() not in paths.get(route.path_format, {}):
                missing.append(f"{method} {route.path_format}")
    assert len([path for path in paths if path.startswith("/api/v1/")]) >= 10
    assert not missing, missing
    licence = paths["/license/clearkey"]["post"]
    assert licence["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ClearKeyRequest")
    assert "401" in licence["responses"] and paths["/api/v1/accounts"]["post"]["security"]


def test_the_api_docs_render_from_local_assets_only(client: TestClient) -> None:
    """/api/docs loaded Swagger UI from a CDN: a blank page offline."""
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code in (200, 204), source
    assert client.get("/static/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
