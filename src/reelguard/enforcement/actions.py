"""Actions on the leaker and the title: suspend, revoke, end streams, rotate keys — each an evidence record.

The accused come from the case's trace (the session, its account and device). An action
goes through the same services staff use (``accounts``, ``license.streams``), so the
licence policy refuses the account or device at its next renewal and every licence
server hears of it through the change feed. What happened is recorded whatever it was:
an account that no longer exists is an action *not done*, with the reason, never a
silent skip and never a half-written record. Rotating the title's keys (``rotate_keys``)
packages it anew under new keys (``ingest.rotation``); the old keys stay licensed for the
grace period (``[keys] rotation_grace_hours``) and are refused after it::

    taker = ActionTaker(cases, accounts, StreamAdmin(db, clock))
    outcome = taker.take(case_id, "suspend_account", actor="staff:ana", reason="confirmed leak")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from reelguard.enforcement.cases import CaseService, check_actor
from reelguard.enforcement.rules import ACCOUNT_ACTIONS, TITLE_ACTIONS
from reelguard.errors import InvalidInput, NotFound
from reelguard.license.streams import StreamAdmin

__all__ = ["AccountActions", "ActionOutcome", "ActionTaker", "KeyRotator"]


class KeyRotator(Protocol):
    """What rotating a title's keys needs (``ingest.rotation.KeyRotation``)."""

    def rotate(self, title_name: str, *, grace: timedelta) -> Any: ...


class AccountActions(Protocol):
    """What actions need of the accounts service (``accounts.service.AccountService``)."""

    def suspend_account(self, account_id: str) -> None: ...

    def revoke_device(self, account_id: str, device_id: str) -> None: ...


@dataclass(frozen=True)
class ActionOutcome:
    action: str
    target: str
    done: bool
    detail: str
    evidence_position: int

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "target": self.target, "done": self.done, "detail": self.detail,
                "evidence_position": self.evidence_position}


class ActionTaker:
    def __init__(self, cases: CaseService, accounts: AccountActions, streams: StreamAdmin, *,
                 rotation: Callable[[], KeyRotator] | None = None, rotation_grace: timedelta = timedelta(hours=24)
                 ) -> None:
        self.cases, self.accounts, self.streams = cases, accounts, streams
        self._rotation, self.rotation_grace = rotation, rotation_grace

    def take(self, case_id: str, action: str, *, actor: str, reason: str) -> list[ActionOutcome]:
        """Do ``action`` to every session the case's trace accused (or to its title); one outcome (and record) each."""
        check_actor(actor)
        if action not in (*ACCOUNT_ACTIONS, *TITLE_ACTIONS):
            raise InvalidInput(f"expected an action ({', '.join((*ACCOUNT_ACTIONS, *TITLE_ACTIONS))}), "
                               f"got {action[:40]!r}")
        case = self.cases.get(case_id)
        if action == "rotate_keys":
            return [self._rotate(case.id, case.title, actor, reason)]
        accused = ((case.facts.get("trace") or {}).get("accused")) or []
        if not accused:
            raise InvalidInput(f"case {case.id} accuses no session (its trace named nobody), so there is no "
                               f"account to {action.replace('_', ' ')}")
        return [self._one(case.id, action, accusation, actor, reason) for accusation in accused]

    def _rotate(self, case_id: str, title: str, actor: str, reason: str) -> ActionOutcome:
        """New keys for the title, packaged anew; the old keys licensed for the grace period, then never again."""
        if self._rotation is None:
            raise InvalidInput("key rotation is not available here (no ingest tools)")
        try:
            report = self._rotation().rotate(title, grace=self.rotation_grace).to_json()
            detail, done = (f"title {title} packaged under new keys (generation {report['to_generation']}); "
                            f"the old keys are licensed until {report['retire_at']}"), True
        except NotFound as exc:
            report, detail, done = {}, f"not done: {exc}", False
        position = self.cases.record(case_id, kind="action", actor=actor, reason=reason, detail={
            "action": "rotate_keys", "title": title, "done": done, "outcome": detail, "rotation": report})
        return ActionOutcome("rotate_keys", f"title {title}", done, detail, position)

    def _one(self, case_id: str, action: str, accusation: dict[str, Any], actor: str, reason: str) -> ActionOutcome:
        account, device = str(accusation["account"]), str(accusation["device"])
        target = f"account {account}" + (f", device {device}" if action == "revoke_device" else "")
        try:
            detail = self._do(action, account, device)
            done = True
        except NotFound as exc:  # the account or device is gone: recorded as not done, with why
            detail, done = f"not done: {exc}", False
        position = self.cases.record(case_id, kind="action", actor=actor, reason=reason, detail={
            "action": action, "account": account, "device": device, "session": accusation.get("session"),
            "p_value": accusation.get("p_value"), "done": done, "outcome": detail})
        return ActionOutcome(action, target, done, detail, position)

    def _do(self, action: str, account: str, device: str) -> str:
        if action == "suspend_account":
            self.accounts.suspend_account(account)
            return f"account {account} suspended: its licences are refused at the next renewal"
        if action == "revoke_device":
            self.accounts.revoke_device(account, device)
            return f"device {device} of account {account} revoked"
        running = self.streams.list_streams(account=account, running_only=True, limit=1000)
        for stream in running:
            self.streams.end(stream.id)
        return f"{len(running)} running streams of account {account} ended"
