"""Offline downloads over HTTP: persistent-license requests and the download API for native apps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import OTHER_TITLE, SAMPLE_TITLE, PackagedCatalog
from tests.integration.policy_lab import PolicyLab, refused_by

RULES = ('type = "account_active"', 'type = "entitled"', 'type = "device_registered"',
         'type = "downloads"\nmax_per_device = 2\nmax_devices = 2\nmax_per_title_per_year = 3\n'
         'license_days = 30\nplayback_hours = 48')


@pytest.fixture
def lab(catalog: PackagedCatalog, tmp_path: Path) -> Iterator[PolicyLab]:
    lab = PolicyLab(catalog, tmp_path, *RULES)
    yield lab
    lab.accounts.set_title_rights(SAMPLE_TITLE, plans=["standard"], downloadable=True)
    lab.accounts.set_title_rights(OTHER_TITLE, plans=["standard"], downloadable=True)
    lab.close()


def _download(lab: PolicyLab, account: str, device: str = "d1", title: str = SAMPLE_TITLE) -> object:
    return lab.license(lab.token(account, device, title), kids=lab.kids(title), session_type="persistent-license")


def _id(response: object) -> str:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.json()["type"] == "persistent-license"  # type: ignore[attr-defined]
    return str(response.headers["x-reelguard-download"])  # type: ignore[attr-defined]


def test_download_licence_expiry_and_eligibility(lab: PolicyLab) -> None:
    account = lab.account()
    response = _download(lab, account)
    _id(response)
    assert datetime.fromisoformat(response.headers["x-reelguard-license-expires"]) == lab.now + timedelta(days=30)
    lab.accounts.set_title_rights(OTHER_TITLE, plans=["standard"], downloadable=False)
    assert "not downloadable" in refused_by(_download(lab, account, title=OTHER_TITLE), "downloads")


def test_per_device_and_per_account_device_limits_and_release(lab: PolicyLab) -> None:
    account = lab.account(devices=("d1", "d2", "d3"))
    first = _id(_download(lab, account, "d1"))
    _id(_download(lab, account, "d1", OTHER_TITLE))
    refused_by(_download(lab, account, "d1"), "fewer than 2 downloads on the device")
    _id(_download(lab, account, "d2"))
    refused_by(_download(lab, account, "d3"), "fewer than 2 devices holding downloads")
    release = lab.call("DELETE", f"/license/downloads/{first}", lab.token(account, "d1"))
    assert release.status_code == 204
    _id(_download(lab, account, "d1"))  # returning a download frees its slot


def test_downloads_of_a_title_per_year(lab: PolicyLab) -> None:
    account = lab.account()
    for _ in range(3):
        download = _id(_download(lab, account))
        assert lab.call("DELETE", f"/license/downloads/{download}", lab.token(account)).status_code == 204
    refused_by(_download(lab, account), "in the last 365 days")
    lab.advance(days=366)
    _id(_download(lab, account))


def test_renewal_while_entitled_playback_window_and_expiry(lab: PolicyLab) -> None:
    account = lab.account()
    download = _id(_download(lab, account))
    lab.advance(days=20)
    body = {"kids": lab.kids(), "type": "persistent-license"}
    renewed = lab.call("POST", f"/license/downloads/{download}/renew", lab.token(account), body)
    assert renewed.status_code == 200 and renewed.json()["keys"]
    assert datetime.fromisoformat(renewed.headers["x-reelguard-license-expires"]) == lab.now + timedelta(days=30)
    played = lab.call("POST", f"/license/downloads/{download}/play", lab.token(account))
    assert datetime.fromisoformat(played.json()["expires_at"]) == lab.now + timedelta(hours=48)
    lab.advance(hours=47)
    renewed = lab.call("POST", f"/license/downloads/{download}/renew", lab.token(account), body)
    assert datetime.fromisoformat(renewed.headers["x-reelguard-license-expires"]) == lab.now + timedelta(hours=1)
    lab.advance(hours=2)
    assert "expired" in refused_by(lab.call("POST", f"/license/downloads/{download}/renew", lab.token(account),
                                            body), "")


def test_renewal_refused_when_no_longer_entitled_or_released(lab: PolicyLab) -> None:
    account = lab.account(devices=("d1", "d2"))
    download = _id(_download(lab, account))
    body = {"kids": lab.kids(), "type": "persistent-license"}
    refused_by(lab.call("POST", f"/license/downloads/{download}/renew", lab.token(account, "d2"), body),
               "another device")
    lab.accounts.set_plan(account, "basic")
    refused_by(lab.call("POST", f"/license/downloads/{download}/renew", lab.token(account), body), "entitled")
    lab.accounts.set_plan(account, "standard")
    assert lab.call("DELETE", f"/license/downloads/{download}", lab.token(account)).status_code == 204
    assert "released" in refused_by(lab.call("POST", f"/license/downloads/{download}/renew", lab.token(account),
                                             body), "")
    assert lab.call("DELETE", "/license/downloads/no-such-id", lab.token(account)).status_code == 404


def test_download_needs_a_fresh_single_use_token(lab: PolicyLab, catalog: PackagedCatalog, tmp_path: Path) -> None:
    account = lab.account()
    token = lab.token(account)
    lab.advance(seconds=400)
    assert lab.license(token, kids=lab.kids(), session_type="persistent-license").status_code == 401
    (tmp_path / "strict").mkdir()
    strict = PolicyLab(catalog, tmp_path / "strict", *RULES, 'type = "token"\nsingle_use = true')
    try:
        owner = strict.account()
        token = strict.token(owner)
        _id(strict.license(token, kids=strict.kids(), session_type="persistent-license"))
        refused_by(strict.license(token, kids=strict.kids(), session_type="persistent-license"), "replayed")
    finally:
        strict.close()


