"""Every policy rule grants and denies through the licence HTTP API (Clear Key licences)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import OTHER_TITLE, SAMPLE_TITLE, PackagedCatalog
from tests.geo_fixtures import GB_IP, IE_IP6, OFFICE_IP, UNKNOWN_IP, US_IP
from tests.integration.policy_lab import PolicyLab, granted_tiers, refused_by

BASE = ['type = "account_active"', 'type = "entitled"', 'type = "device_registered"']


@pytest.fixture
def lab_factory(catalog: PackagedCatalog, tmp_path: Path) -> Iterator[object]:
    labs: list[PolicyLab] = []

    def make(*rules: str, **settings: object) -> PolicyLab:
        folder = tmp_path / f"lab{len(labs)}"
        folder.mkdir()
        lab = PolicyLab(catalog, folder, *rules, **settings)
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.accounts.set_title_rights(SAMPLE_TITLE, plans=["standard"], downloadable=True)  # restore
        lab.close()


# -- entitlements -----------------------------------------------------------------------
def test_account_active_and_suspension(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE)
    account = lab.account()
    assert granted_tiers(lab, lab.license(lab.token(account))) == {"AUDIO", "SD", "HD"}
    lab.accounts.suspend_account(account)
    refused_by(lab.license(lab.token(account)), "account_active")
    refused_by(lab.license(lab.token("nobody-" + account)), "account_active")


def test_plans_and_per_title_rights(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE)
    basic = lab.account("basic", plan="basic")
    refused_by(lab.license(lab.token(basic)), "entitled")
    lab.accounts.grant_title(basic, SAMPLE_TITLE, kind="purchase")
    assert lab.license(lab.token(basic)).status_code == 200
    renter = lab.account("renter", plan="basic")
    lab.accounts.grant_title(renter, SAMPLE_TITLE, kind="rental")
    assert lab.license(lab.token(renter)).status_code == 200
    refused_by(lab.license(lab.token(renter, title=OTHER_TITLE), kids=lab.kids(OTHER_TITLE)), "entitled")


def test_availability_window(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "availability_window"')
    account = lab.account()
    lab.accounts.set_title_rights(SAMPLE_TITLE, plans=["standard"], available_from=lab.now + timedelta(days=1))
    refused_by(lab.license(lab.token(account)), "availability_window")
    lab.accounts.set_title_rights(SAMPLE_TITLE, plans=["standard"], available_from=lab.now - timedelta(days=1),
                                  available_until=lab.now + timedelta(hours=1))
    response = lab.license(lab.token(account))
    assert response.status_code == 200
    assert datetime.fromisoformat(response.headers["x-reelguard-license-expires"]) <= lab.now + timedelta(hours=1)
    lab.advance(hours=2)
    refused_by(lab.license(lab.token(account)), "availability_window")


# -- geo ----------------------------------------------------------------------------------
def test_territories_from_the_geo_database(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "territory"')
    account = lab.account()
    lab.accounts.set_title_rights(SAMPLE_TITLE, plans=["standard"], territories=["GB", "IE"])
    assert lab.license(lab.token(account), ip=GB_IP).status_code == 200
    assert lab.license(lab.token(account), ip=IE_IP6).status_code == 200
    assert "got US" in refused_by(lab.license(lab.token(account), ip=US_IP), "territory")
    refused_by(lab.license(lab.token(account), ip=UNKNOWN_IP), "territory")


def test_service_countries_and_ip_lists(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "countries"\ndeny = ["US"]',
                      'type = "ip_lists"\nallow = ["203.0.113.0/24", "10.0.0.0/8"]\ndeny = ["10.1.2.0/24"]')
    account = lab.account()
    assert lab.license(lab.token(account), ip=GB_IP).status_code == 200
    refused_by(lab.license(lab.token(account), ip=US_IP), "countries")
    assert "is listed" in refused_by(lab.license(lab.token(account), ip=OFFICE_IP), "ip_lists")
    assert lab.license(lab.token(account), ip="10.9.9.9").status_code == 200


# -- devices ------------------------------------------------------------------------------
def test_device_registration_revocation_and_type(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE[:2], 'type = "device_registered"\ntypes = ["browser", "tv"]')
    account = lab.account(devices=("d1", "d2"))
    assert lab.license(lab.token(account, "d1")).status_code == 200
    assert "unregistered" in refused_by(lab.license(lab.token(account, "phone-9")), "device_registered")
    lab.accounts.revoke_device(account, "d2")
    assert "revoked" in refused_by(lab.license(lab.token(account, "d2")), "device_registered")
    lab.accounts.register_device(account, "console", type="console", security_level="hardware")
    refused_by(lab.license(lab.token(account, "console")), "device_registered")


def test_device_limit_keeps_the_oldest_devices(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "device_limit"\nmax_devices = 2')
    account = lab.account(devices=("d1",))
    lab.advance(seconds=1)
    lab.accounts.register_device(account, "d2", type="browser", security_level="software")
    lab.advance(seconds=1)
    lab.accounts.register_device(account, "d3", type="browser", security_level="software")
    assert lab.license(lab.token(account, "d2")).status_code == 200
    assert "device number 3" in refused_by(lab.license(lab.token(account, "d3")), "device_limit")
    lab.accounts.revoke_device(account, "d1")
    assert lab.license(lab.token(account, "d3")).status_code == 200


# -- quality tiers ------------------------------------------------------------------------
def test_security_level_narrows_tiers_and_trust_is_capped(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "security_level"\ntrust_up_to = "hardware"\n'
                             'max_tier = { software = "SD", hardware = "UHD" }')
    weak = lab.account("weak", security_level="software")
    strong = lab.account("strong", security_level="hardware")
    response = lab.license(lab.token(weak))
    assert granted_tiers(lab, response) == {"AUDIO", "SD"} and response.headers["x-reelguard-withheld"] == "HD"
    assert granted_tiers(lab, lab.license(lab.token(strong))) == {"AUDIO", "SD", "HD"}
    hd_only = [kid for kid, tier in lab.tier_of_kid().items() if tier == "HD"]
    assert "withheld" not in refused_by(lab.license(lab.token(weak), kids=hd_only), "may have AUDIO, SD only")

    distrustful = lab_factory(*BASE, 'type = "security_level"\ntrust_up_to = "software"\n'
                                     'max_tier = { software = "SD", hardware = "UHD" }')
    claimed = distrustful.account("claims-hw", security_level="hardware")
    assert granted_tiers(distrustful, distrustful.license(distrustful.token(claimed))) == {"AUDIO", "SD"}


def test_hdcp_narrows_tiers(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "hdcp"\nmax_tier = { none = "SD", "1.4" = "HD", "2.2" = "UHD" }')
    assert granted_tiers(lab, lab.license(lab.token(lab.account("a", hdcp="none")))) == {"AUDIO", "SD"}
    assert granted_tiers(lab, lab.license(lab.token(lab.account("b", hdcp="1.4")))) == {"AUDIO", "SD", "HD"}


# -- concurrent streams ---------------------------------------------------------------------
STREAMS = ['type = "concurrent_streams"\nmax_streams = 2', 'type = "license_clocks"\nlicense_seconds = 60']


def test_stream_limit_release_and_renewal(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, *STREAMS, stream_grace_seconds=30)
    account = lab.account(devices=("d1", "d2", "d3"))
    first, second = lab.token(account, "d1"), lab.token(account, "d2")
    stream = lab.license(first).headers["x-reelguard-stream"]
    assert lab.license(second).status_code == 200
    assert "2 running" in refused_by(lab.license(lab.token(account, "d3")), "concurrent_streams")
    renewed = lab.license(first)  # the same token again: a renewal of the same stream, no new slot
    assert renewed.status_code == 200 and renewed.headers["x-reelguard-stream"] == stream
    assert lab.call("DELETE", "/license/stream", first).json() == {"released": True}
    assert lab.license(lab.token(account, "d3")).status_code == 200


def test_lapsed_stream_frees_its_slot_after_grace(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, *STREAMS, stream_grace_seconds=30)
    account = lab.account(devices=("d1", "d2", "d3"))
    watching = lab.token(account, "d1")
    assert lab.license(watching).status_code == 200
    assert lab.license(lab.token(account, "d2")).status_code == 200  # d2 never renews: its slot ends at 90 s
    lab.advance(seconds=50)
    assert lab.license(watching).status_code == 200
    refused_by(lab.license(lab.token(account, "d3")), "concurrent_streams")
    lab.advance(seconds=50)
    assert lab.license(lab.token(account, "d3")).status_code == 200  # 100 s: d2 lapsed (60 s licence + 30 s grace)
    for _ in range(5):  # d1 renews every 50 s, on past its token's expiry (300 s): the stream carries it
        lab.advance(seconds=50)
        assert lab.license(watching).status_code == 200
    lab.advance(seconds=200)  # d1 stopped renewing too: an expired token cannot start a new stream
    assert "expired" in refused_by(lab.license(watching), "", status=401)


def test_renewals_write_ahead_but_a_stopped_stream_never_frees_its_slot_early(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "concurrent_streams"\nmax_streams = 1',
                      'type = "license_clocks"\nlicense_seconds = 60', stream_grace_seconds=30,
                      renewal_write_ahead_seconds=20)
    account = lab.account(devices=("d1", "d2"))
    watching = lab.token(account, "d1")
    assert lab.license(watching).status_code == 200         # slot until 0 + 60 + 30 = 90
    lab.advance(seconds=10)
    assert lab.license(watching).status_code == 200         # true expiry 100, stored 120; then it stops
    lab.app.state.licensing.ledger.flush()
    lab.advance(seconds=95)                                 # 105: past the true expiry, before the stored one
    refused_by(lab.license(lab.token(account, "d2")), "concurrent_streams")
    lab.advance(seconds=16)                                 # 121: licence end 70 + grace 30 + write-ahead 20 passed
    assert lab.license(lab.token(account, "d2")).status_code == 200


def test_revocation_and_suspension_take_effect_at_the_next_renewal(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, *STREAMS)
    account = lab.account(devices=("d1", "d2"))
    t1, t2 = lab.token(account, "d1"), lab.token(account, "d2")
    assert lab.license(t1).status_code == 200 and lab.license(t2).status_code == 200
    lab.accounts.revoke_device(account, "d1")
    refused_by(lab.license(t1), "device_registered")
    assert lab.license(t2).status_code == 200
    lab.accounts.suspend_account(account)
    refused_by(lab.license(t2), "account_active")


def test_revocation_reaches_a_server_through_the_change_feed(lab_factory, catalog: PackagedCatalog) -> None:  # type: ignore[no-untyped-def]
    """Another process revokes (no in-process hook): the feed poll makes the renewal fail."""
    from reelguard.accounts.service import AccountService

    lab = lab_factory(*BASE, *STREAMS)
    account = lab.account()
    token = lab.token(account)
    assert lab.license(token).status_code == 200
    assert lab.license(token).status_code == 200  # renewal served from cached facts
    AccountService(catalog.runtime.db, lambda: lab.now).revoke_device(account, "d1")  # no cache hook
    import time

    deadline = time.monotonic() + 5
    while lab.license(token).status_code == 200:
        assert time.monotonic() < deadline, "the change feed never dropped the cached account"
        time.sleep(0.05)
    refused_by(lab.license(token), "device_registered")


# -- licence clocks -------------------------------------------------------------------------
def test_licence_duration_rental_window_and_playback_window(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "license_clocks"\nlicense_seconds = 120\nrental_hours = 48\n'
                             'playback_hours = 6')
    subscriber = lab.account("sub")
    response = lab.license(lab.token(subscriber))
    assert datetime.fromisoformat(response.headers["x-reelguard-license-expires"]) == lab.now + timedelta(seconds=120)
    renter = lab.account("renter", plan="basic")
    lab.accounts.grant_title(renter, SAMPLE_TITLE, kind="rental")
    lab.advance(hours=10)  # the playback window starts at the first play, not at the rental
    assert lab.license(lab.token(renter)).status_code == 200
    lab.advance(hours=5, minutes=59)
    expires = datetime.fromisoformat(lab.license(lab.token(renter)).headers["x-reelguard-license-expires"])
    assert expires == lab.now + timedelta(seconds=60)  # the playback window's end, before the 120 s licence's
    lab.advance(minutes=2)
    refused_by(lab.license(lab.token(renter)), "license_clocks")
    late = lab.account("late", plan="basic")
    lab.accounts.grant_title(late, SAMPLE_TITLE, kind="rental")
    lab.advance(hours=49)
    refused_by(lab.license(lab.token(late)), "license_clocks")


# -- token rules ------------------------------------------------------------------------------
def test_token_lifetime_audience_single_use_and_skew(lab_factory) -> None:  # type: ignore[no-untyped-def]
    lab = lab_factory(*BASE, 'type = "token"\nmax_lifetime_seconds = 600\nsingle_use = true\n'
                             'max_clock_skew_seconds = 10\naudiences = ["reelguard-license"]')
    account = lab.account()
    refused_by(lab.license(lab.token(account, ttl=900)), "token")
    assert "in the future" in refused_by(lab.license(lab.token(account, issued=lab.now + timedelta(seconds=20))),
                                         "token")
    token = lab.token(account)
    assert lab.license(token).status_code == 200
    assert lab.call("DELETE", "/license/stream", token).status_code == 200
    assert "replayed" in refused_by(lab.license(token), "token")

    other_audience = lab_factory(*BASE, 'type = "token"\naudiences = ["partner-app"]')
    refused_by(other_audience.license(other_audience.token(other_audience.account())), "token")


# -- decisions --------------------------------------------------------------------------------
def test_every_decision_is_recorded_without_keys(lab_factory, catalog: PackagedCatalog) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from reelguard.store.models import DecisionRow

    lab = lab_factory(*BASE, *STREAMS)
    account = lab.account()
    token = lab.token(account)
    lab.license(token)
    lab.license(token)
    lab.license(lab.token(account, "ghost"))
    lab.app.state.licensing.ledger.flush()
    with catalog.runtime.db.session() as session:
        rows = session.scalars(select(DecisionRow).where(DecisionRow.account_id == account)
                               .order_by(DecisionRow.id)).all()
    assert sorted((r.action, r.granted, r.rule or "") for r in rows) == [  # renewals are written behind
        ("play", False, "device_registered"), ("play", True, ""), ("renew", True, "")]
    assert rows[0].tiers == "AUDIO,HD,SD" and rows[0].ip == GB_IP and rows[0].policy == "lab@1"
    with catalog.runtime.db.session() as session:
        keys = [k.key for k in catalog.runtime.keystore.keys_of_title(session, catalog.sample.id)]
    text = " ".join(f"{r.reason} {r.tiers} {r.stream_id}" for r in rows)
    assert not any(key.hex() in text for key in keys)


# -- explain ------------------------------------------------------------------------------------
def test_explain_gives_the_servers_decision(lab_factory, catalog: PackagedCatalog) -> None:  # type: ignore[no-untyped-def]
    from reelguard.license.explain import PolicyExplainer

    lab = lab_factory(*BASE, *STREAMS, 'type = "security_level"\nmax_tier = { software = "SD", hardware = "UHD" }')
    account = lab.account(devices=("d1", "d2", "d3"))
    licensing = lab.app.state.licensing
    explainer = PolicyExplainer(licensing.policy, catalog.runtime.db, licensing.geo, audience="reelguard-license")
    for device in ("d1", "d2", "d3"):
        predicted = explainer.explain(account=account, device=device, title=SAMPLE_TITLE, ip=GB_IP, at=lab.now)
        response = lab.license(lab.token(account, device))
        assert predicted.decision.granted == (response.status_code == 200)
        if response.status_code == 200:
            assert sorted(predicted.decision.tiers) == ["AUDIO", "SD"]
            assert response.headers["x-reelguard-withheld"] == "HD"
        else:
            assert predicted.decision.reason in response.json()["detail"]
    assert not predicted.decision.granted and predicted.decision.denied_by.rule == "concurrent_streams"
