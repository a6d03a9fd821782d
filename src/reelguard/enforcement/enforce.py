"""The act loop: open the cases monitoring found, apply the action rules, send notices, check removal.

``sweep`` is what ``reelguard monitor once`` ends with and ``reelguard cases sweep``
runs: each step is idempotent, so a sweep after a crash picks up where the last one
stopped. The rules of one name and version are applied to a case once (recorded as the
case's ``rules`` event); ``what_if`` evaluates any rules file against cases and does
nothing::

    enforcer = Enforcer(cases, rules, actions, desk, removal)
    report = enforcer.sweep()
    enforcer.what_if(load_rules(Path("draft.toml")))     # [{case, decisions}, …]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reelguard.enforcement.actions import ActionTaker
from reelguard.enforcement.cases import CaseService
from reelguard.enforcement.delivery import NoticeDesk
from reelguard.enforcement.removal import RemovalChecker
from reelguard.enforcement.rules import ACCOUNT_ACTIONS, TITLE_ACTIONS, ActionRules, Decision, evaluate
from reelguard.errors import ReelguardError

__all__ = ["Enforcer", "SweepReport"]

_log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    opened: list[str] = field(default_factory=list)
    decisions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deliveries: list[dict[str, str]] = field(default_factory=list)
    removal_checks: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"opened": self.opened, "decisions": self.decisions, "deliveries": self.deliveries,
                "removal_checks": self.removal_checks}


class Enforcer:
    def __init__(self, cases: CaseService, rules: ActionRules, actions: ActionTaker, desk: NoticeDesk,
                 removal: RemovalChecker | None = None) -> None:
        self.cases, self.rules, self.actions, self.desk, self.removal = cases, rules, actions, desk, removal

    def sweep(self, *, check_removal: bool = True) -> SweepReport:
        report = SweepReport()
        for case in self.cases.open_settled_sightings():
            report.opened.append(case.id)
        for case in self.cases.store.find(state="evidence", limit=1000):
            if not self._applied(case.id):
                report.decisions[case.id] = self.apply_rules(case.id)
        report.deliveries = [d.to_json() for d in self.desk.deliver_due()]
        if check_removal and self.removal is not None:
            report.removal_checks = [r.to_json() for r in self.removal.check_due()]
        return report

    def apply_rules(self, case_id: str) -> list[dict[str, Any]]:
        """Do what the rules say for one case (once per rules version); each decision and what came of it."""
        case = self.cases.get(case_id)
        decisions = evaluate(self.rules, case.facts, origin=case.origin)
        self.cases.record(case.id, kind="rules", actor=f"rule:*@{self.rules.label}",
                          reason=f"{len(decisions)} decisions of rules {self.rules.name} {self.rules.version}",
                          detail={"rules": self.rules.label, "decisions": [d.to_json() for d in decisions]})
        return [{**d.to_json(), "result": self._carry_out(case.id, d)} for d in decisions]

    def what_if(self, rules: ActionRules, case_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """What ``rules`` would decide for each case (all open ones when none named); nothing is done."""
        cases = ([self.cases.get(c) for c in case_ids] if case_ids else
                 [c for c in self.cases.store.find(limit=1000) if c.state != "closed"])
        current = {c.id: [d.to_json() for d in evaluate(self.rules, c.facts, origin=c.origin)] for c in cases}
        out = []
        for case in cases:
            proposed = [d.to_json() for d in evaluate(rules, case.facts, origin=case.origin)]
            out.append({"case": case.id, "title": case.title, "state": case.state, "decisions": proposed,
                        "differs_from_current": [d["action"] for d in proposed] !=
                        [d["action"] for d in current[case.id]]})
        return out

    def _carry_out(self, case_id: str, decision: Decision) -> Any:
        try:
            if decision.action in (*ACCOUNT_ACTIONS, *TITLE_ACTIONS):
                return [o.to_json() for o in self.actions.take(case_id, decision.action, actor=decision.actor,
                                                               reason=decision.why)]
            if decision.action == "review":
                self.cases.set_review(case_id, f"{decision.rule}: {decision.why}", actor=decision.actor)
                return "queued for review"
            kind = decision.action.removeprefix("notice:")
            ids, unreachable = self.desk.queue(case_id, kind, actor=decision.actor)
            return {"notices": ids, "unaddressed": unreachable}
        except ReelguardError as exc:  # recorded on the case; the other decisions still run
            _log.warning("case %s: %s by %s not carried out: %s", case_id, decision.action, decision.rule, exc)
            self.cases.record(case_id, kind="decision_failed", actor=decision.actor, reason=str(exc),
                              detail=decision.to_json())
            return f"not carried out: {exc}"

    def _applied(self, case_id: str) -> bool:
        return any(e.kind == "rules" and e.detail.get("rules") == self.rules.label
                   for e in self.cases.store.events(case_id))
