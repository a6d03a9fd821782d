"""The rules a policy is built from, each named by the ``type`` it has in a policy file.

Every rule is a frozen dataclass of its parameters and a pure ``_do_evaluate`` that
answers a ``Verdict`` saying what was expected and what arrived. ``RULE_TYPES`` maps the
stable names to the classes; docs/policy.md documents each with an example.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reelguard.drm.keys import TrackTier
from reelguard.license.policy import TIER_ORDER, Action, PolicyContext, Rule, Verdict, in_networks, tier_rank

__all__ = ["HDCP_LEVELS", "RULE_TYPES", "SECURITY_LEVELS"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
STREAMING = frozenset({Action.PLAY, Action.RENEW})
STARTS = frozenset({Action.PLAY, Action.DOWNLOAD})
DOWNLOADS = frozenset({Action.DOWNLOAD, Action.DOWNLOAD_RENEW})
SECURITY_LEVELS = ("software", "hardware")
HDCP_LEVELS = ("none", "1.4", "2.2")


_UP_TO = {tier: frozenset(TIER_ORDER[: tier_rank(tier) + 1]) for tier in TIER_ORDER}


def _up_to(tier: TrackTier) -> frozenset[TrackTier]:
    return _UP_TO[tier]


def _names(values: frozenset[str]) -> str:
    return ", ".join(sorted(values)) or "(none)"


@dataclass(frozen=True)
class AccountActive(Rule):
    """The account exists and is not suspended."""

    type_name = "account_active"

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        if ctx.account.status != "active":
            return Verdict.deny(self.name, expected="an active account", actual=f"account {ctx.account.status}")
        return Verdict.ok(self.name, "account active")


@dataclass(frozen=True)
class Entitled(Rule):
    """The account's plan includes the title, or the account bought or rented it."""

    type_name = "entitled"

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        plans = ctx.title.plans or frozenset()
        if ctx.account.plan in plans:
            return Verdict.ok(self.name, f"plan {ctx.account.plan!r} includes the title")
        if ctx.grant is not None:
            return Verdict.ok(self.name, f"{ctx.grant.kind} of the title")
        return Verdict.deny(self.name, expected=f"a plan among [{_names(plans)}] or a purchase/rental",
                            actual=f"plan {ctx.account.plan!r} and no purchase or rental")


@dataclass(frozen=True)
class AvailabilityWindow(Rule):
    """The title is inside its availability window (licensing start and end)."""

    type_name = "availability_window"

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        start, end = ctx.title.available_from, ctx.title.available_until
        if start is not None and ctx.now < start:
            return Verdict.deny(self.name, expected=f"on or after {start.isoformat()}", actual=ctx.now.isoformat())
        if end is not None and ctx.now >= end:
            return Verdict.deny(self.name, expected=f"before {end.isoformat()}", actual=ctx.now.isoformat())
        return Verdict.ok(self.name, "inside the window", expires_at=end)


@dataclass(frozen=True)
class Territory(Rule):
    """The client's country is one of the title's licensed territories."""

    type_name = "territory"
    allow_unknown_country: bool = False

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        territories, country = ctx.title.territories, ctx.request.country
        if territories is None:
            return Verdict.ok(self.name, "title licensed everywhere")
        if country is None:
            if self.allow_unknown_country:
                return Verdict.ok(self.name, f"country of {ctx.request.ip} unknown; allowed by configuration")
            return Verdict.deny(self.name, expected=f"a client in [{_names(territories)}]",
                                actual=f"{ctx.request.ip} not in the geo database")
        if country not in territories:
            return Verdict.deny(self.name, expected=f"a client in [{_names(territories)}]", actual=country)
        return Verdict.ok(self.name, f"{country} is licensed")


@dataclass(frozen=True)
class Countries(Rule):
    """Service-wide geo: countries allowed (empty: all) and countries denied."""

    type_name = "countries"
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()
    allow_unknown_country: bool = False

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        country = ctx.request.country
        if country is None:
            if self.allow_unknown_country:
                return Verdict.ok(self.name, "country unknown; allowed by configuration")
            return Verdict.deny(self.name, expected="a client IP in the geo database", actual=ctx.request.ip)
        if country in self.deny:
            return Verdict.deny(self.name, expected=f"a country not in [{_names(self.deny)}]", actual=country)
        if self.allow and country not in self.allow:
            return Verdict.deny(self.name, expected=f"a country in [{_names(self.allow)}]", actual=country)
        return Verdict.ok(self.name, f"{country} allowed")


@dataclass(frozen=True)
class IpLists(Rule):
    """Client IP allow list (empty: all) and deny list, as CIDR networks."""

    type_name = "ip_lists"
    allow: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = ()

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        ip = ctx.request.ip
        if in_networks(ip, self.deny):
            return Verdict.deny(self.name, expected="an IP outside the deny list", actual=f"{ip} is listed")
        if self.allow and not in_networks(ip, self.allow):
            return Verdict.deny(self.name, expected=f"an IP in {', '.join(map(str, self.allow))}", actual=ip)
        return Verdict.ok(self.name, f"{ip} allowed")


@dataclass(frozen=True)
class DeviceRegistered(Rule):
    """The device is registered to the account, not revoked, and of an allowed type."""

    type_name = "device_registered"
    types: frozenset[str] | None = None

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        device = ctx.device
        if device.status != "active":
            return Verdict.deny(self.name, expected="a registered, unrevoked device",
                                actual=f"device {device.id!r} {device.status}")
        if self.types is not None and device.type not in self.types:
            return Verdict.deny(self.name, expected=f"a device type in [{_names(self.types)}]", actual=device.type)
        return Verdict.ok(self.name, f"{device.type} device registered")


@dataclass(frozen=True)
class DeviceLimit(Rule):
    """At most ``max_devices`` per account: the oldest registrations keep playing."""

    type_name = "device_limit"
    max_devices: int = 5

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        rank = ctx.device.registration_rank
        if rank < 1 or rank > self.max_devices:
            return Verdict.deny(self.name, expected=f"one of the account's first {self.max_devices} devices",
                                actual=f"device number {rank} of {ctx.account.device_count}")
        return Verdict.ok(self.name, f"device {rank} of at most {self.max_devices}")


@dataclass(frozen=True)
class SecurityLevelTiers(Rule):
    """Tiers per security level; the reported level is trusted only up to ``trust_up_to``."""

    type_name = "security_level"
    trust_up_to: str = "hardware"
    max_tier: dict[str, TrackTier] = field(default_factory=lambda: {"software": TrackTier.SD,
                                                                    "hardware": TrackTier.UHD})
    _by_level: dict[str, Verdict] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.trust_up_to not in SECURITY_LEVELS:
            raise ValueError(f"trust_up_to must be one of {SECURITY_LEVELS}, got {self.trust_up_to!r}")
        # the verdict depends on the reported level alone: one per level, built once
        object.__setattr__(self, "_by_level", {level: self._verdict(level) for level in SECURITY_LEVELS})

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        return self._by_level.get(ctx.device.security_level) or self._by_level["software"]

    def _verdict(self, reported: str) -> Verdict:
        level = min(reported, self.trust_up_to, key=SECURITY_LEVELS.index)
        tier = self.max_tier.get(level, TrackTier.SD)
        trust = "" if level == reported else f" (reported {reported}, trusted up to {self.trust_up_to})"
        return Verdict.ok(self.name, f"{level}{trust}: up to {tier}", tiers=_up_to(tier))


@dataclass(frozen=True)
class HdcpTiers(Rule):
    """Tiers per HDCP level of the output the app reported."""

    type_name = "hdcp"
    max_tier: dict[str, TrackTier] = field(default_factory=lambda: {"none": TrackTier.SD, "1.4": TrackTier.HD,
                                                                    "2.2": TrackTier.UHD})
    _by_level: dict[str, Verdict] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_level", {level: self._verdict(level) for level in HDCP_LEVELS})

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        return self._by_level.get(ctx.device.hdcp) or self._by_level["none"]

    def _verdict(self, level: str) -> Verdict:
        tier = self.max_tier.get(level, TrackTier.SD)
        return Verdict.ok(self.name, f"HDCP {level}: up to {tier}", tiers=_up_to(tier))


@dataclass(frozen=True)
class ConcurrentStreams(Rule):
    """At most ``max_streams`` streams per account; a renewal needs the stream it renews."""

    type_name = "concurrent_streams"
    actions = STREAMING
    max_streams: int = 2

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        usage = ctx.usage
        if usage.holds_stream:
            return Verdict.ok(self.name, "renews a running stream")
        if ctx.action is Action.RENEW:
            return Verdict.deny(self.name, expected="a running stream to renew",
                                actual="its renewals lapsed or it ended")
        if usage.active_streams >= self.max_streams:
            return Verdict.deny(self.name, expected=f"fewer than {self.max_streams} streams",
                                actual=f"{usage.active_streams} running")
        return Verdict.ok(self.name, f"stream {usage.active_streams + 1} of {self.max_streams}")


@dataclass(frozen=True)
class LicenseClocks(Rule):
    """Licence duration for streams, a rental's window, and its playback window after first play."""

    type_name = "license_clocks"
    actions = STREAMING
    license_seconds: int = 300
    rental_hours: float = 720.0
    playback_hours: float = 48.0
    _licence: timedelta = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_licence", timedelta(seconds=self.license_seconds))

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        cap = ctx.now + self._licence
        grant = ctx.grant
        if grant is None or grant.kind != "rental" or ctx.account.plan in (ctx.title.plans or ()):
            return Verdict.ok(self.name, f"licence for {self.license_seconds} s", expires_at=cap)
        ends = [grant.expires_at or grant.granted_at + timedelta(hours=self.rental_hours)]
        if grant.first_played_at is not None:
            ends.append(grant.first_played_at + timedelta(hours=self.playback_hours))
        end = min(ends)
        if ctx.now >= end:
            return Verdict.deny(self.name, expected=f"a rental still running (ended {end.isoformat()})",
                                actual=ctx.now.isoformat())
        return Verdict.ok(self.name, f"rental until {end.isoformat()}", expires_at=min(cap, end))


@dataclass(frozen=True)
class TokenRules(Rule):
    """Entitlement-token rules: lifetime cap, audience, single use, clock skew (on starts)."""

    type_name = "token"
    actions = STARTS
    max_lifetime_seconds: int = 600
    audiences: frozenset[str] | None = None
    single_use: bool = True
    max_clock_skew_seconds: int = 60

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        request = ctx.request
        lifetime = (request.token_expires_at - request.token_issued_at).total_seconds()
        if lifetime > self.max_lifetime_seconds:
            return Verdict.deny(self.name, expected=f"a token living at most {self.max_lifetime_seconds} s",
                                actual=f"{lifetime:.0f} s")
        if self.audiences is not None and not self.audiences.intersection(request.token_audience):
            return Verdict.deny(self.name, expected=f"audience in [{_names(self.audiences)}]",
                                actual=", ".join(request.token_audience))
        skew = (request.token_issued_at - ctx.now).total_seconds()
        if skew > self.max_clock_skew_seconds:
            return Verdict.deny(self.name, expected=f"issued at most {self.max_clock_skew_seconds} s in the future",
                                actual=f"{skew:.0f} s ahead")
        if self.single_use and request.token_replayed:
            return Verdict.deny(self.name, expected="a token not used before", actual="a replayed token (jti seen)")
        return Verdict.ok(self.name, "token acceptable")


@dataclass(frozen=True)
class Downloads(Rule):
    """Offline downloads: eligibility, per-device, per-account and per-year limits, clocks."""

    type_name = "downloads"
    actions = DOWNLOADS
    max_per_device: int = 25
    max_devices: int = 2
    max_per_title_per_year: int = 5
    license_days: float = 30.0
    playback_hours: float = 48.0

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        usage = ctx.usage
        if not ctx.title.downloadable:
            return Verdict.deny(self.name, expected="a title eligible for download", actual="not downloadable")
        if ctx.action is Action.DOWNLOAD_RENEW:
            if not usage.holds_download:
                return Verdict.deny(self.name, expected="an active download to renew", actual="none on this device")
        else:
            problem = self._limit_reached(ctx)
            if problem is not None:
                return problem
        expiry = self._expiry(ctx.now, usage.download_first_played_at)
        if expiry <= ctx.now:
            return Verdict.deny(self.name, expected=f"inside {self.playback_hours} h of the first play",
                                actual=f"ended {expiry.isoformat()}")
        return Verdict.ok(self.name, f"download licence until {expiry.isoformat()}", expires_at=expiry)

    def _limit_reached(self, ctx: PolicyContext) -> Verdict | None:
        usage = ctx.usage
        if usage.device_downloads >= self.max_per_device:
            return Verdict.deny(self.name, expected=f"fewer than {self.max_per_device} downloads on the device",
                                actual=str(usage.device_downloads))
        if not usage.device_holds_downloads and usage.download_devices >= self.max_devices:
            return Verdict.deny(self.name, expected=f"fewer than {self.max_devices} devices holding downloads",
                                actual=str(usage.download_devices))
        if usage.title_downloads_this_year >= self.max_per_title_per_year:
            return Verdict.deny(self.name, expected=f"fewer than {self.max_per_title_per_year} downloads of the "
                                "title in the last 365 days", actual=str(usage.title_downloads_this_year))
        return None

    def _expiry(self, now: datetime, first_played_at: datetime | None) -> datetime:
        end = now + timedelta(days=self.license_days)
        if first_played_at is not None:
            end = min(end, first_played_at + timedelta(hours=self.playback_hours))
        return end


RULE_TYPES: dict[str, type[Rule]] = {
    rule.type_name: rule
    for rule in (AccountActive, Entitled, AvailabilityWindow, Territory, Countries, IpLists, DeviceRegistered,
                 DeviceLimit, SecurityLevelTiers, HdcpTiers, ConcurrentStreams, LicenseClocks, TokenRules, Downloads)
}
