"""The policy engine: facts about one licence request in, an explained decision out.

Pure: no I/O, no clock, no global state but a memo of the "not applicable" verdicts.
The same ``PolicyContext`` (which carries the clock value) always gives the same
``Decision``, which is what lets ``policy explain`` and its what-if over an account's
devices run the very engine the licence server runs.

A policy is a tree of rules. ``AllOf`` passes when every child passes, ``AnyOf`` when one
does; an empty composition denies. A rule may also *narrow the tiers* (a software-only
device gets SD and AUDIO keys but not HD) and *cap the licence's lifetime* (a rental's
window); a request is granted when the tree passes and at least one tier survives::

    decision = policy.decide(context)
    decision.granted, decision.tiers, decision.expires_at, decision.denied_by
"""

from __future__ import annotations

import functools
import ipaddress
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from reelguard.drm.keys import TrackTier

__all__ = [
    "AccountFacts",
    "Action",
    "AllOf",
    "AnyOf",
    "Decision",
    "DeviceFacts",
    "GrantFacts",
    "Policy",
    "PolicyContext",
    "RequestFacts",
    "Rule",
    "TitleFacts",
    "Usage",
    "Verdict",
    "in_networks",
    "tier_rank",
]

TIER_ORDER = (TrackTier.AUDIO, TrackTier.SD, TrackTier.HD, TrackTier.UHD)


def tier_rank(tier: TrackTier) -> int:
    return TIER_ORDER.index(tier)


class Action(StrEnum):
    """What the request asks for."""

    PLAY = "play"                      # start a stream (first licence of a playback)
    RENEW = "renew"                    # renew the licence of a running stream (heartbeat)
    DOWNLOAD = "download"              # a persistent licence for offline playback
    DOWNLOAD_RENEW = "download-renew"  # extend a download's licence while still entitled

    @property
    def is_download(self) -> bool:
        return self in (Action.DOWNLOAD, Action.DOWNLOAD_RENEW)


@dataclass(frozen=True, slots=True)
class AccountFacts:
    id: str
    plan: str
    status: str                      # "active" | "suspended" | "unknown"
    device_count: int                # registered, not revoked


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    id: str
    status: str                      # "active" | "revoked" | "unregistered"
    type: str                        # "browser" | "tv" | "mobile" | "desktop" | … (as registered)
    security_level: str              # "software" | "hardware" (as the app reported it)
    hdcp: str                        # "none" | "1.4" | "2.2" (as the app reported it)
    registration_rank: int = 0       # 1 for the account's oldest active device, 2 the next …


@dataclass(frozen=True, slots=True)
class TitleFacts:
    name: str
    plans: frozenset[str] | None     # plans that include the title; None: no plan does
    territories: frozenset[str] | None  # ISO 3166 alpha-2; None: everywhere
    available_from: datetime | None
    available_until: datetime | None
    downloadable: bool
    tiers: frozenset[TrackTier]      # tiers the title has keys for


@dataclass(frozen=True, slots=True)
class GrantFacts:
    """A per-account right to one title: a purchase, or a rental with a window."""

    kind: str                        # "purchase" | "rental"
    granted_at: datetime
    expires_at: datetime | None
    first_played_at: datetime | None


@dataclass(frozen=True, slots=True)
class RequestFacts:
    ip: str
    country: str | None              # from the geo database; None when unknown
    token_issued_at: datetime
    token_expires_at: datetime
    token_audience: tuple[str, ...]
    token_replayed: bool             # the jti was already used to start a stream


@dataclass(frozen=True, slots=True)
class Usage:
    """What the account already uses, read in the same transaction that would add to it."""

    active_streams: int = 0          # streams whose renewals have not lapsed
    holds_stream: bool = False       # this request renews a stream the device holds
    device_downloads: int = 0        # active downloads on this device
    download_devices: int = 0        # devices of the account holding at least one download
    device_holds_downloads: bool = False
    title_downloads_this_year: int = 0  # downloads of this title by the account, last 365 days
    holds_download: bool = False     # this request renews a download the device holds
    download_first_played_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PolicyContext:
    now: datetime
    action: Action
    account: AccountFacts
    device: DeviceFacts
    title: TitleFacts
    grant: GrantFacts | None
    request: RequestFacts
    usage: Usage = field(default_factory=Usage)


class Verdict(NamedTuple):
    """One rule's answer: pass or fail with what was expected and what arrived.

    A NamedTuple rather than a frozen dataclass: a decision builds one per rule, on the
    licence hot path, and a frozen dataclass's construction costs several times more.
    """

    rule: str
    passed: bool
    detail: str
    tiers: frozenset[TrackTier] | None = None   # the tiers this rule allows; None: no restriction
    expires_at: datetime | None = None          # a cap on the licence's lifetime
    children: tuple[Verdict, ...] = ()

    @staticmethod
    def ok(rule: str, detail: str, tiers: frozenset[TrackTier] | None = None,
           expires_at: datetime | None = None) -> Verdict:
        return _new_verdict(Verdict, (rule, True, detail, tiers, expires_at, ()))

    @staticmethod
    def deny(rule: str, *, expected: str, actual: str) -> Verdict:
        return _new_verdict(Verdict, (rule, False, f"expected {expected}; got {actual}", None, None, ()))


# tuple.__new__ skips the generated __new__'s argument handling: half the cost, same tuple
_new_verdict = tuple.__new__


@functools.cache
def _not_applicable(rule: str, action: Action) -> Verdict:
    return Verdict.ok(rule, f"not applicable to {action}")


class Rule(ABC):
    """One condition of a policy, named by the ``type`` it has in a policy file."""

    type_name: str = ""
    actions: frozenset[Action] | None = None  # None: the rule applies to every action

    def evaluate(self, ctx: PolicyContext) -> Verdict:
        """Validate applicability, then ask the rule (template method)."""
        if self.actions is not None and ctx.action not in self.actions:
            return _not_applicable(self.name, ctx.action)
        return self._do_evaluate(ctx)

    @property
    def name(self) -> str:
        return self.type_name

    @abstractmethod
    def _do_evaluate(self, ctx: PolicyContext) -> Verdict: ...


@dataclass(frozen=True)
class AllOf(Rule):
    rules: tuple[Rule, ...]
    label: str = "all_of"

    @property
    def name(self) -> str:
        return self.label

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        verdicts = tuple([rule.evaluate(ctx) for rule in self.rules])
        if not verdicts:
            return Verdict(self.name, False, "an empty all_of denies")
        failed = [v.rule for v in verdicts if not v.passed]
        detail = f"failed: {', '.join(failed)}" if failed else f"all {len(verdicts)} passed"
        return _new_verdict(Verdict, (self.name, not failed, detail, _narrow(verdicts), _earliest(verdicts),
                                      verdicts))


@dataclass(frozen=True)
class AnyOf(Rule):
    rules: tuple[Rule, ...]
    label: str = "any_of"

    @property
    def name(self) -> str:
        return self.label

    def _do_evaluate(self, ctx: PolicyContext) -> Verdict:
        verdicts = tuple(rule.evaluate(ctx) for rule in self.rules)
        passing = tuple(v for v in verdicts if v.passed)
        if not verdicts:
            return Verdict(self.name, False, "an empty any_of denies")
        if not passing:
            return Verdict(self.name, False, "none passed", children=verdicts)
        # the most generous passing branch decides the tiers and the lifetime
        tiers = None if any(v.tiers is None for v in passing) else frozenset().union(*(v.tiers or () for v in passing))
        caps = [v.expires_at for v in passing]
        expires = None if any(c is None for c in caps) else max(c for c in caps if c is not None)
        return Verdict(self.name, True, f"passed: {', '.join(v.rule for v in passing)}", tiers, expires, verdicts)


def _narrow(verdicts: Sequence[Verdict]) -> frozenset[TrackTier] | None:
    allowed: frozenset[TrackTier] | None = None
    for verdict in verdicts:
        if verdict.tiers is not None:
            allowed = verdict.tiers if allowed is None else allowed & verdict.tiers
    return allowed


def _earliest(verdicts: Sequence[Verdict]) -> datetime | None:
    earliest: datetime | None = None
    for verdict in verdicts:
        cap = verdict.expires_at
        if cap is not None and (earliest is None or cap < earliest):
            earliest = cap
    return earliest


@dataclass(frozen=True, slots=True)
class Decision:
    granted: bool
    tiers: frozenset[TrackTier]      # keys the licence may carry (empty when denied)
    expires_at: datetime | None      # when the licence (or download) stops playing
    verdict: Verdict                 # the whole explained tree
    policy_version: str

    @property
    def denied_by(self) -> Verdict | None:
        """The first failing leaf rule, or, when every rule passed, None."""
        return _first_failure(self.verdict)

    @property
    def reason(self) -> str:
        if self.granted:
            return "granted"
        failure = self.denied_by
        if failure is None:
            return "no tier of the title is allowed for this device"
        return f"{failure.rule}: {failure.detail}"

    def tier_reasons(self, title_tiers: frozenset[TrackTier]) -> dict[TrackTier, str]:
        """Per tier of the title: 'granted' or the rules that withheld it."""
        reasons: dict[TrackTier, str] = {}
        for tier in sorted(title_tiers, key=tier_rank):
            if not self.verdict.passed:
                reasons[tier] = f"denied: {self.reason}"
            elif tier in self.tiers:
                reasons[tier] = "granted"
            else:
                withheld = [v for v in _leaves(self.verdict) if v.tiers is not None and tier not in v.tiers]
                reasons[tier] = "withheld by " + "; ".join(f"{v.rule} ({v.detail})" for v in withheld)
        return reasons


def _first_failure(verdict: Verdict) -> Verdict | None:
    if verdict.passed:
        return None
    for child in verdict.children:
        found = _first_failure(child)
        if found is not None:
            return found
    return verdict


def _leaves(verdict: Verdict) -> list[Verdict]:
    if not verdict.children:
        return [verdict]
    return [leaf for child in verdict.children for leaf in _leaves(child)]


@dataclass(frozen=True)
class Policy:
    """A named, versioned rule tree; ``decide`` is the whole engine."""

    name: str
    version: str
    root: Rule

    @functools.cached_property
    def label(self) -> str:
        """``name@version``, as decision records cite it."""
        return f"{self.name}@{self.version}"

    def mandatory_rules(self) -> Iterator[Rule]:
        """The rules every request must pass: the root and what ``all_of`` nests (not ``any_of`` branches)."""
        pending: list[Rule] = [self.root]
        while pending:
            rule = pending.pop()
            if isinstance(rule, AllOf):
                pending.extend(rule.rules)
            else:
                yield rule

    def decide(self, ctx: PolicyContext) -> Decision:
        verdict = self.root.evaluate(ctx)
        title_tiers = ctx.title.tiers
        allowed = title_tiers if verdict.tiers is None else title_tiers & verdict.tiers
        granted = verdict.passed and bool(allowed - _AUDIO_ONLY or allowed == title_tiers)
        return Decision(granted, allowed if granted else _NO_TIERS, verdict.expires_at if granted else None,
                        verdict, self.label)


_AUDIO_ONLY = frozenset({TrackTier.AUDIO})
_NO_TIERS: frozenset[TrackTier] = frozenset()


def in_networks(ip: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Whether ``ip`` lies in any of ``networks`` (a malformed address lies in none)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)
