"""A licence server with a chosen policy, a controllable clock and a geo database, over HTTP.

Each test builds its own lab on the shared packaged catalog: its own policy file, its
own accounts (unique names), and a clock it moves by hand, so rules with clocks (stream
grace, rentals, download windows) are tested without sleeping.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from reelguard.accounts.service import AccountService
from reelguard.drm.keys import KeyId
from reelguard.testing import FixedClock
from reelguard.web.app import create_app
from tests.conftest import SAMPLE_TITLE, PackagedCatalog
from tests.geo_fixtures import GB_IP, write_country_db


def policy_text(*rules: str, name: str = "lab") -> str:
    """A policy file whose all_of holds ``rules`` (each the body of one [[all_of]] table)."""
    tables = "\n".join(f"[[all_of]]\n{rule}\n" for rule in rules)
    return f'format = 1\nname = "{name}"\nversion = "1"\n\n{tables}'


class PolicyLab:
    def __init__(self, catalog: PackagedCatalog, tmp_path: Path, *rules: str,
                 license_proxy: dict[str, Any] | None = None, **license_settings: Any) -> None:
        self.catalog, self.clock = catalog, FixedClock(datetime.now(UTC).replace(microsecond=0))
        policy_file = tmp_path / "policy.toml"
        policy_file.write_text(policy_text(*rules))
        license = {"policy_file": policy_file, "geoip_database": write_country_db(tmp_path / "geo.mmdb"),
                   "policy_feed_seconds": 0.05, **license_settings}
        runtime = replace(catalog.runtime, settings=catalog.runtime.settings.replaced(license=license,
                                                                               license_proxy=license_proxy or {}),
                          clock=self.clock)
        self.app = create_app(runtime)
        self._client = TestClient(self.app, raise_server_exceptions=False, client=(GB_IP, 50000))
        self._client.__enter__()
        facts = self.app.state.licensing.facts
        self.accounts = AccountService(runtime.db, runtime.clock,
                                       on_change=lambda a, t: facts.forget(account_id=a, title=t))
        self.prefix = uuid.uuid4().hex[:8]

    @property
    def now(self) -> datetime:
        return self.clock.now

    def close(self) -> None:
        self._client.__exit__(None, None, None)

    # -- subscribers ------------------------------------------------------------------
    def account(self, name: str = "a", *, plan: str = "standard", devices: tuple[str, ...] = ("d1",),
                security_level: str = "software", hdcp: str = "none", device_type: str = "browser") -> str:
        account = f"{self.prefix}-{name}"
        self.accounts.create_account(account, plan=plan)
        for device in devices:
            self.accounts.register_device(account, device, type=device_type, security_level=security_level,
                                          hdcp=hdcp)
        return account

    def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)

    # -- requests ---------------------------------------------------------------------
    def token(self, account: str, device: str = "d1", title: str = SAMPLE_TITLE, *, ttl: int = 300,
              issued: datetime | None = None, **extra: Any) -> str:
        return self.catalog.runtime.signer.issue(account=account, title=title, device=device, ttl_seconds=ttl,
                                                 now=issued or self.now, extra=extra or None)

    def kids(self, title: str = SAMPLE_TITLE) -> list[str]:
        view = self.catalog.sample if title == SAMPLE_TITLE else self.catalog.other
        return sorted({KeyId.from_hex(s["kid"]).b64url for s in view.streams})

    def tier_of_kid(self) -> dict[str, str]:
        return {KeyId.from_hex(s["kid"]).b64url: s["tier"] for s in self.catalog.sample.streams}

    def license(self, token: str, *, ip: str = GB_IP, kids: list[str] | None = None,
                session_type: str = "temporary") -> Any:
        body = json.dumps({"kids": kids or self.kids(), "type": session_type})
        client = self._client if ip == GB_IP else TestClient(self.app, raise_server_exceptions=False, client=(ip, 1))
        return client.post("/license/clearkey", content=body, headers={"Authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        return self._client.request(method, path, headers={"Authorization": f"Bearer {token}"},
                                    content=json.dumps(body).encode() if body is not None else None)


def granted_tiers(lab: PolicyLab, response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    tiers = lab.tier_of_kid()
    return {tiers[key["kid"]] for key in response.json()["keys"]}


def refused_by(response: Any, rule: str, status: int = 403) -> str:
    assert response.status_code == status, response.text
    detail: str = response.json()["detail"]
    assert rule in detail, detail
    assert '"k"' not in response.text
    return detail
