"""The SPEKE v2 / CPIX 2.3 key server over real HTTP (uvicorn on loopback, httpx client)."""

from __future__ import annotations

import base64
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from reelguard.drm.api_clients import add_client, sign_request
from reelguard.drm.cpix import read_cpix_keys
from reelguard.drm.keys import KeyId
from reelguard.drm.pssh import COMMON_SYSTEM_ID, FAIRPLAY_SYSTEM_ID, PLAYREADY_SYSTEM_ID, WIDEVINE_SYSTEM_ID
from reelguard.web.app import create_app
from reelguard.web.key_routes import SPEKE_PATH
from tests.conftest import OTHER_TITLE, SAMPLE_TITLE, PackagedCatalog

MAX = 256 * 1024


def cpix(content_id: str, keys: list[tuple[str, str]], systems: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
         scheme: str = "cenc") -> bytes:
    """A SPEKE v2 request: keys are (kid uuid, intendedTrackType); systems are (systemId, kid, element)."""
    content = "".join(f'<cpix:ContentKey kid="{kid}" commonEncryptionScheme="{scheme}"/>' for kid, _ in keys)
    usage = "".join(f'<cpix:ContentKeyUsageRule kid="{kid}" intendedTrackType="{track}"/>' for kid, track in keys)
    drm = "".join(f'<cpix:DRMSystem kid="{kid}" systemId="{system}"><cpix:{element}/></cpix:DRMSystem>'
                  for system, kid, element in systems)
    return (f'<?xml version="1.0" encoding="UTF-8"?><cpix:CPIX contentId="{content_id}" version="2.3" '
            'xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">'
            f"<cpix:ContentKeyList>{content}</cpix:ContentKeyList><cpix:DRMSystemList>{drm}</cpix:DRMSystemList>"
            f"<cpix:ContentKeyUsageRuleList>{usage}</cpix:ContentKeyUsageRuleList></cpix:CPIX>").encode()


class KeyServerPeer:
    def __init__(self, url: str, secret: bytes, limited_secret: bytes) -> None:
        self.url, self.secret, self.limited_secret = url, secret, limited_secret
        self._sent = 0

    def _distinct_time(self) -> datetime:
        """Identical bodies in one second sign identically (a replay); tests space them out."""
        self._sent += 1
        return datetime.now(UTC) + timedelta(seconds=self._sent % 240)

    def post(self, body: bytes, *, client: str = "packager", secret: bytes | None = None,
             when: datetime | None = None, version: str | None = "2.0", headers: dict[str, str] | None = None,
             signed_body: bytes | None = None) -> httpx.Response:
        signed = sign_request(client, secret or self.secret, "POST", SPEKE_PATH,
                              body if signed_body is None else signed_body, when or self._distinct_time())
        extra = {"Content-Type": "application/xml", **({"X-Speke-Version": version} if version else {})}
        return httpx.post(self.url + SPEKE_PATH, content=body, headers={**signed, **extra, **(headers or {})},
                          timeout=30)


@pytest.fixture(scope="module")
def peer(catalog: PackagedCatalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyServerPeer]:
    clients_file = tmp_path_factory.mktemp("keyserver") / "api-clients.toml"
    secret = add_client(clients_file, "packager")
    limited = add_client(clients_file, "other-studio", titles=[OTHER_TITLE])
    settings = catalog.runtime.settings.replaced(keys={"api_clients_file": clients_file})
    app = create_app(replace(catalog.runtime, settings=settings))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield KeyServerPeer(f"http://127.0.0.1:{port}", secret, limited)
    server.should_exit = True
    thread.join(timeout=10)


def _own_keys(catalog: PackagedCatalog) -> dict[str, tuple[str, bytes]]:
    with catalog.runtime.db.session() as session:
        keys = catalog.runtime.keystore.keys_of_title(session, catalog.sample.id)
    return {key.kid.uuid: (key.tier.value, key.key) for key in keys}


def _no_key(response: httpx.Response, status: int, contains: str) -> None:
    assert response.status_code == status, response.text
    assert "PlainValue" not in response.text and contains in response.json()["detail"], response.text


def _pssh_kids(box: bytes) -> tuple[str, list[str]]:
    size, kind, _version = struct.unpack(">I4sI", box[:12])
    assert size == len(box) and kind == b"pssh"
    count = struct.unpack(">I", box[28:32])[0]
    return str(uuid.UUID(bytes=box[12:28])), [str(uuid.UUID(bytes=box[32 + 16 * i:48 + 16 * i])) for i in range(count)]


def test_packager_fetches_the_titles_own_keys_with_signaling(peer: KeyServerPeer, catalog: PackagedCatalog) -> None:
    own = _own_keys(catalog)
    kid = next(k for k, (tier, _) in own.items() if tier == "HD")
    body = cpix(SAMPLE_TITLE, [(kid, "HD")], [(COMMON_SYSTEM_ID, kid, "PSSH"), (WIDEVINE_SYSTEM_ID, kid, "PSSH"),
                                              (COMMON_SYSTEM_ID, kid, "ContentProtectionData"),
                                              (FAIRPLAY_SYSTEM_ID, kid, "HLSSignalingData")])
    response = peer.post(body)
    assert response.status_code == 200, response.text
    assert response.headers["x-speke-version"] == "2.0" and response.headers["content-type"] == "application/xml"
    assert read_cpix_keys(response.content, max_bytes=MAX) == {KeyId(uuid.UUID(kid).bytes): own[kid][1]}
    text = response.text
    import defusedxml.ElementTree as SafeET

    root = SafeET.fromstring(response.content)
    values = [e.text for e in root.iter() if e.tag.endswith(("PSSH", "ContentProtectionData", "HLSSignalingData"))]
    common, widevine, dash, fairplay = (base64.b64decode(v or "") for v in values)
    assert _pssh_kids(common) == (COMMON_SYSTEM_ID, [kid]) and _pssh_kids(widevine) == (WIDEVINE_SYSTEM_ID, [kid])
    assert b"<cenc:pssh" in dash and fairplay.startswith(b"#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://")
    assert "contentId=\"bbb\"" in text


def test_kids_chosen_by_the_packager_become_licensable_keys(peer: KeyServerPeer, catalog: PackagedCatalog) -> None:
    wanted = [(str(uuid.uuid4()), "AUDIO"), (str(uuid.uuid4()), "SD"), (str(uuid.uuid4()), "UHD1")]
    first = read_cpix_keys(peer.post(cpix(SAMPLE_TITLE, wanted, scheme="cbcs")).content, max_bytes=MAX)
    again = read_cpix_keys(peer.post(cpix(SAMPLE_TITLE, wanted, scheme="cbcs")).content, max_bytes=MAX)
    assert first == again and len(first) == 3
    assert len(set(first.values())) == 3
    assert set(_own_keys(catalog)) & {kid for kid, _ in wanted} == set()  # the title's own keys are unchanged
    # the licence server grants those KIDs like any other key of the title
    from fastapi.testclient import TestClient

    with TestClient(create_app(catalog.runtime)) as client:
        sd = KeyId(uuid.UUID(wanted[1][0]).bytes)
        licence = client.post("/license/clearkey", content=json.dumps({"kids": [sd.b64url]}),
                              headers={"Authorization": f"Bearer {catalog.token()}"})
    assert licence.status_code == 200, licence.text
    assert base64.urlsafe_b64decode(licence.json()["keys"][0]["k"] + "==") == first[sd]


@pytest.mark.parametrize("case", ["unsigned", "bad_signature", "unknown_client", "stale_date", "body_swapped",
                                  "replayed"])
def test_unauthenticated_requests_get_401_and_no_key(peer: KeyServerPeer, catalog: PackagedCatalog,
                                                     case: str) -> None:
    kid = next(iter(_own_keys(catalog)))
    body = cpix(SAMPLE_TITLE, [(kid, "HD")])
    if case == "unsigned":
        response = httpx.post(peer.url + SPEKE_PATH, content=body, headers={"X-Speke-Version": "2.0"})
    elif case == "bad_signature":
        response = peer.post(body, secret=b"\x00" * 32)
    elif case == "unknown_client":
        response = peer.post(body, client="mallory")
    elif case == "stale_date":
        response = peer.post(body, when=datetime.now(UTC) - timedelta(minutes=10))
    elif case == "body_swapped":
        response = peer.post(body, signed_body=cpix(OTHER_TITLE, [(kid, "HD")]))
    else:
        when = datetime.now(UTC)
        assert peer.post(body, when=when).status_code == 200
        response = peer.post(body, when=when)
    _no_key(response, 401, "")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("body", "status", "contains"), [
    (b"not xml at all", 422, "unparseable XML"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>', 422,
     "unparseable XML"),
    (b'<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" version="2.3"/>', 422, "contentId"),
    (b'<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" contentId="bbb" version="2.0"/>', 422, "version"),
    (b'<other contentId="bbb" version="2.3"/>', 422, "root element"),
    (cpix(SAMPLE_TITLE, []), 422, "at least one"),
    (cpix(SAMPLE_TITLE, [("not-a-uuid", "HD")]), 422, "must be a UUID"),
    (cpix(SAMPLE_TITLE, [(str(uuid.UUID(int=7)), "HD")], scheme="rot13"), 422, "commonEncryptionScheme"),
    (cpix("no-such-title", [(str(uuid.uuid4()), "HD")]), 404, "no title named 'no-such-title'"),
    (b"<x>" + b"a" * (MAX + 10) + b"</x>", 413, "at most"),
])
def test_malformed_requests_get_a_clear_4xx_and_no_key(peer: KeyServerPeer, body: bytes, status: int,
                                                       contains: str) -> None:
    _no_key(peer.post(body), status, contains)


def test_refusals_that_need_the_catalog(peer: KeyServerPeer, catalog: PackagedCatalog) -> None:
    with catalog.runtime.db.session() as session:
        foreign = catalog.runtime.keystore.keys_of_title(session, catalog.other.id)[0].kid.uuid
    _no_key(peer.post(cpix(SAMPLE_TITLE, [(foreign, "HD")])), 403, "belongs to another title")
    mine = next(iter(_own_keys(catalog)))
    _no_key(peer.post(cpix(SAMPLE_TITLE, [(mine, "HD")]), client="other-studio", secret=peer.limited_secret), 403,
            "may not fetch keys of title 'bbb'")
    _no_key(peer.post(cpix(SAMPLE_TITLE, [(mine, "HD")], [(PLAYREADY_SYSTEM_ID, mine, "PSSH")])), 422,
            "PlayReady")
    _no_key(peer.post(cpix(SAMPLE_TITLE, [(mine, "HD")]), version=None), 400, "X-Speke-Version")


def test_clients_file_must_be_private(tmp_path: Path) -> None:
    from reelguard.drm.api_clients import read_clients
    from reelguard.errors import ConfigurationError

    path = tmp_path / "clients.toml"
    add_client(path, "p1")
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="must be 0600"):
        read_clients(path)
