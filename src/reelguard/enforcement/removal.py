"""Verify removal: a noticed case re-checks where its copy was, and moves to removed — or escalates.

Each place the case names is checked by the checker for its kind (an indexer listing,
a swarm, a URL); a checker answers still there (True), gone (False) or could not tell
(None, with why). When every place is gone the case moves to ``removed``; when a place
is still up past the deadline (``[cases] removal_deadline_days`` after the first notice
went out) it moves to ``escalated``. Every check is an evidence record, whatever it found::

    checker = RemovalChecker(cases, {"url": url_gone, "indexer": …, "swarm": …}, clock,
                             every=timedelta(hours=24), deadline=timedelta(days=14))
    checker.check_due()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from reelguard.enforcement.cases import CaseService
from reelguard.store.cases import CaseSummary

__all__ = ["PlaceCheck", "RemovalChecker", "RemovalReport", "url_gone"]

PlaceCheck = Callable[[dict[str, Any]], tuple[bool | None, str]]
_CHECKED_STATES = ("noticed", "escalated")


@dataclass(frozen=True)
class RemovalReport:
    case_id: str
    places: list[dict[str, Any]]
    outcome: str  # removed, escalated, still up, unknown

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case_id, "places": self.places, "outcome": self.outcome}


def url_gone(place: dict[str, Any], *, timeout_seconds: float = 20.0) -> tuple[bool | None, str]:
    """A hosted copy: HTTP 404 or 410 means removed; 2xx means still there; anything else cannot tell."""
    url = str(place["url"])
    if not url.startswith(("http://", "https://")):
        return None, f"{url[:80]} is not an http(s) URL: cannot check"
    try:
        with httpx.Client(timeout=timeout_seconds, follow_redirects=True) as client:
            status = client.get(url, headers={"Range": "bytes=0-0"}).status_code
    except httpx.HTTPError as exc:
        return None, f"{url} could not be fetched: {type(exc).__name__}"
    if status in (404, 410):
        return False, f"{url} answers HTTP {status}"
    if 200 <= status < 300:
        return True, f"{url} still answers HTTP {status}"
    return None, f"{url} answers HTTP {status}: cannot tell"


class RemovalChecker:
    def __init__(self, cases: CaseService, checks: Mapping[str, PlaceCheck], clock: Callable[[], datetime], *,
                 every: timedelta, deadline: timedelta) -> None:
        self.cases, self.checks, self.clock, self.every, self.deadline = cases, checks, clock, every, deadline

    def check_due(self) -> list[RemovalReport]:
        """Check every noticed or escalated case whose last check (or notice) is ``every`` old."""
        now = self.clock()
        due = [case for state in _CHECKED_STATES for case in self.cases.store.find(state=state, limit=1000)
               if (self._last_check(case.id) or self._noticed_at(case.id) or case.updated_at) + self.every <= now]
        return [self.check(case.id) for case in due]

    def check(self, case_id: str) -> RemovalReport:
        case = self.cases.get(case_id)
        places = []
        for place in case.facts.get("sources", []):
            check = self.checks.get(str(place.get("kind")))
            present, seen = check(place) if check is not None else (None, f"no check for {place.get('kind')} places")
            places.append({"place": _describe(place), "present": present, "seen": seen})
        outcome = self._outcome(case, places)
        self.cases.record(case.id, kind="removal_check", actor="removal-check", reason=outcome,
                          detail={"places": places})
        if outcome == "removed":
            self.cases.transition(case.id, "removed", actor="removal-check",
                                  reason=f"all {len(places)} places checked gone", detail={"places": places})
        elif outcome == "escalated":
            self.cases.transition(case.id, "escalated", actor="removal-check",
                                  reason=f"still up past the removal deadline ({self.deadline.days} days after "
                                         "the first notice)", detail={"places": places})
        return RemovalReport(case.id, places, outcome)

    def _outcome(self, case: CaseSummary, places: list[dict[str, Any]]) -> str:
        if places and all(p["present"] is False for p in places):
            return "removed"
        if any(p["present"] for p in places):
            deadline = self._deadline(case)
            if case.state == "noticed" and deadline is not None and deadline <= self.clock():
                return "escalated"
            return "still up"
        return "unknown"

    def _deadline(self, case: CaseSummary) -> datetime | None:
        """When a copy still up escalates the case: set (and kept on the case) from its first notice."""
        if case.removal_deadline is not None:
            return case.removal_deadline
        noticed_at = self._noticed_at(case.id)
        if noticed_at is None:
            return None
        self.cases.set_removal_deadline(case.id, noticed_at + self.deadline)
        return noticed_at + self.deadline

    def _last_check(self, case_id: str) -> datetime | None:
        return next((e.at for e in reversed(self.cases.store.events(case_id)) if e.kind == "removal_check"), None)

    def _noticed_at(self, case_id: str) -> datetime | None:
        return next((e.at for e in self.cases.store.events(case_id) if e.to_state == "noticed"), None)


def _describe(place: dict[str, Any]) -> str:
    kind = place.get("kind")
    if kind == "indexer":
        return f"indexer {place.get('source')} item {place.get('item_id')}"
    if kind == "swarm":
        return f"swarm {place.get('infohash')}"
    return f"{kind} {place.get('url')}"
