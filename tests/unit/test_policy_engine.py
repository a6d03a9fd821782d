"""The pure policy engine: composition, tiers, clocks, explanations, policy files, determinism."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelguard.drm.keys import TrackTier
from reelguard.errors import ConfigurationError
from reelguard.license.policy import (
    AccountFacts,
    Action,
    AllOf,
    AnyOf,
    DeviceFacts,
    GrantFacts,
    Policy,
    PolicyContext,
    RequestFacts,
    TitleFacts,
    Usage,
)
from reelguard.license.policy_file import (
    default_policy_document,
    load_policy,
    parse_policy,
    policy_text,
    with_rule_parameters,
)
from reelguard.license.rules import (
    RULE_TYPES,
    ConcurrentStreams,
    Countries,
    Entitled,
    HdcpTiers,
    SecurityLevelTiers,
    TokenRules,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ALL_TIERS = frozenset({TrackTier.AUDIO, TrackTier.SD, TrackTier.HD, TrackTier.UHD})


def context(**changes: object) -> PolicyContext:
    base = PolicyContext(
        now=NOW, action=Action.PLAY,
        account=AccountFacts("acct", "premium", "active", 1),
        device=DeviceFacts("tv", "active", "tv", "hardware", "2.2", 1),
        title=TitleFacts("ep01", frozenset({"premium"}), None, None, None, True, ALL_TIERS),
        grant=None,
        request=RequestFacts("203.0.113.7", "GB", NOW, NOW + timedelta(minutes=5), ("reelguard-license",), False),
        usage=Usage(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_empty_compositions_deny() -> None:
    for empty in (AllOf(()), AnyOf(())):
        decision = Policy("p", "1", empty).decide(context())
        assert not decision.granted and decision.tiers == frozenset() and "empty" in decision.reason


def test_all_of_needs_every_rule_any_of_needs_one() -> None:
    deny_us = Countries(deny=frozenset({"GB"}))
    assert not Policy("p", "1", AllOf((Entitled(), deny_us))).decide(context()).granted
    decision = Policy("p", "1", AnyOf((deny_us, Entitled()))).decide(context())
    assert decision.granted and decision.verdict.detail == "passed: entitled"


def test_tiers_narrow_to_the_weakest_rule_and_weak_devices_still_play() -> None:
    policy = Policy("p", "1", AllOf((SecurityLevelTiers(), HdcpTiers())))
    weak = context(device=DeviceFacts("pc", "active", "browser", "software", "2.2", 1))
    decision = policy.decide(weak)
    assert decision.granted and decision.tiers == {TrackTier.AUDIO, TrackTier.SD}
    reasons = decision.tier_reasons(ALL_TIERS)
    assert reasons[TrackTier.SD] == "granted" and "security_level" in reasons[TrackTier.HD]
    assert "hdcp" not in reasons[TrackTier.HD]


def test_audio_alone_is_not_a_licence_for_a_video_title() -> None:
    audio_only = SecurityLevelTiers(max_tier={"software": TrackTier.AUDIO, "hardware": TrackTier.AUDIO})
    decision = Policy("p", "1", AllOf((audio_only,))).decide(context())
    assert not decision.granted and decision.reason == "no tier of the title is allowed for this device"


def test_renewal_needs_the_held_stream() -> None:
    policy = Policy("p", "1", AllOf((ConcurrentStreams(max_streams=1),)))
    assert policy.decide(context(usage=Usage(active_streams=0))).granted
    assert not policy.decide(context(usage=Usage(active_streams=1))).granted
    assert policy.decide(context(action=Action.RENEW, usage=Usage(active_streams=1, holds_stream=True))).granted
    assert not policy.decide(context(action=Action.RENEW, usage=Usage(active_streams=1))).granted
    assert policy.decide(context(action=Action.DOWNLOAD, usage=Usage(active_streams=9))).granted  # n/a


def test_rental_clocks_cap_the_licence() -> None:
    rental = GrantFacts("rental", NOW - timedelta(hours=10), None, NOW - timedelta(hours=47, minutes=59))
    policy = load_policy(None)
    basic = context(account=AccountFacts("acct", "basic", "active", 1), grant=rental)
    decision = policy.decide(basic)
    assert decision.granted and decision.expires_at == NOW + timedelta(minutes=1)
    late = policy.decide(replace(basic, now=NOW + timedelta(minutes=2)))
    assert not late.granted and late.denied_by is not None and late.denied_by.rule == "license_clocks"


def test_default_policy_grants_a_plain_subscriber_everything() -> None:
    decision = load_policy(None).decide(context())
    assert decision.granted and decision.tiers == ALL_TIERS and decision.policy_version == "default@2026-11-22"


@pytest.mark.parametrize(("text", "message"), [
    ('format = 1\nname = "p"\nversion = "1"\n', "non-empty list"),
    ('format = 1\nname = "p"\nversion = "1"\nall_of = []\n', "empty all_of would deny"),
    ('format = 2\nname = "p"\nversion = "1"\n', "format must be 1"),
    ('format = 1\nversion = "1"\n[[all_of]]\ntype = "entitled"\n', "'name'"),
    ('format = 1\nname = "p"\nversion = "1"\n[[all_of]]\ntype = "entitld"\n', "unknown rule type 'entitld'"),
    ('format = 1\nname = "p"\nversion = "1"\n[[all_of]]\ntype = "device_limit"\nmax_device = 2\n',
     "has no parameter ['max_device']"),
    ('format = 1\nname = "p"\nversion = "1"\n[[all_of]]\ntype = "device_limit"\nmax_devices = "two"\n',
     "bad parameters"),
    ('format = 1\nname = "p"\nversion = "1"\n[[all_of]]\ntype = "ip_lists"\ndeny = ["10.0.0.300/8"]\n',
     "bad parameters"),
    ('format = 1\nname = "p"\nversion = "1"\n[[all_of]]\ntype = "security_level"\ntrust_up_to = "tee"\n',
     "trust_up_to"),
    ('format = 1\nname = "p"\nversion = "1"\n[[all_of]]\ntype = "concurrent_streams"\nmax_streams = -1\n',
     "must not be negative"),
    ('format = 1\nname = "p"\nversion = "1"\n[[all_of]]\nany_of = []\n', "empty any_of"),
    ("name = [", "not valid TOML"),
])
def test_bad_policy_files_are_refused_with_the_position(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=None) as caught:
        parse_policy(text, source="p.toml")
    assert message in str(caught.value) and "p.toml" in str(caught.value)


def test_nested_composition_from_a_file() -> None:
    policy = parse_policy('format = 1\nname = "p"\nversion = "7"\n[[all_of]]\ntype = "entitled"\n'
                          '[[all_of]]\nlabel = "home-or-office"\n'
                          'any_of = [{ type = "countries", allow = ["GB"] }, '
                          '{ type = "ip_lists", allow = ["10.0.0.0/8"] }]\n')
    assert policy.decide(context()).granted
    abroad = context(request=replace(context().request, country="US", ip="198.51.100.1"))
    decision = policy.decide(abroad)
    assert not decision.granted and decision.denied_by is not None
    assert decision.denied_by.rule == "countries" and decision.verdict.children[1].rule == "home-or-office"


def test_every_rule_type_is_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text()
    missing = [name for name in RULE_TYPES if f"`{name}`" not in doc]
    assert not missing, f"docs/policy.md does not document {missing}"


facts = st.builds(
    context,
    action=st.sampled_from(list(Action)),
    device=st.builds(DeviceFacts, st.just("d"), st.sampled_from(["active", "revoked", "unregistered"]),
                     st.sampled_from(["tv", "browser"]), st.sampled_from(["software", "hardware", "tee"]),
                     st.sampled_from(["none", "1.4", "2.2", "9"]), st.integers(0, 9)),
    usage=st.builds(Usage, active_streams=st.integers(0, 5), holds_stream=st.booleans(),
                    device_downloads=st.integers(0, 30), download_devices=st.integers(0, 3),
                    title_downloads_this_year=st.integers(0, 9), holds_download=st.booleans()),
)


@given(facts)
def test_decisions_are_deterministic_and_tiers_are_a_subset(ctx: PolicyContext) -> None:
    policy = load_policy(None)
    first, second = policy.decide(ctx), policy.decide(ctx)
    assert first == second
    assert first.tiers <= ctx.title.tiers
    assert first.granted == (first.verdict.passed and bool(first.tiers))


def test_a_derived_policy_changes_the_named_rule_structurally() -> None:
    """The demo relaxed the default policy by str.replace on its text: a changed default would silently
    keep a 600 s, single-use token rule. Now the rule is changed in the document, or it is an error."""
    base = default_policy_document()
    relaxed = with_rule_parameters(base, "token", max_lifetime_seconds=43_200, single_use=False)
    policy = parse_policy(policy_text(relaxed | {"name": "demo"}))
    token_rules = [r for r in relaxed["all_of"] if r["type"] == "token"]
    assert token_rules == [{"type": "token", "max_lifetime_seconds": 43_200, "single_use": False,
                            "max_clock_skew_seconds": 60}]
    parsed = [r for r in policy.mandatory_rules() if isinstance(r, TokenRules)]
    assert policy.label.startswith("demo@") and [(r.max_lifetime_seconds, r.single_use) for r in parsed] == [
        (43_200, False)]
    assert base == default_policy_document()  # a copy was changed, not the caller's document
    untouched = base
    with pytest.raises(ConfigurationError, match="no top-level 'geo_fence' rule"):
        with_rule_parameters(untouched, "geo_fence", allow=["GB"])
    with pytest.raises(ConfigurationError, match="max_lifetime_seconds"):
        policy_text(with_rule_parameters(untouched, "token", max_lifetime_seconds="forever"))
