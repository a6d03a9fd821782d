"""Action rules: a versioned TOML file that says what a case's findings set in motion.

    format = 1
    name = "standard"
    version = "2026-12-04"

    [[rule]]
    name = "strong-trace"
    when = { trace_p_at_most = 1e-9 }
    then = ["suspend_account", "revoke_device", "end_streams"]

    [[rule]]
    name = "indexer-link"
    when = { source = "indexer" }
    then = ["notice:dmca_512d"]

Every rule whose conditions all hold fires (a rule with no conditions always fires). The
whole file is validated before anything uses it: an unknown condition or action, a
mistyped value, a duplicate name is a ``ConfigurationError`` naming the rule, so a typo
never turns a suspension off. ``evaluate`` is pure: ``what_if`` runs a draft file
against existing cases and says what it would do, and nothing is done::

    rules = load_rules(path)                  # None: the shipped default
    for decision in evaluate(rules, case.facts, origin=case.origin): ...
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from reelguard.errors import ConfigurationError
from reelguard.textfiles import read_config_text

__all__ = ["ACCOUNT_ACTIONS", "CONDITIONS", "DEFAULT_RULES", "NOTICE_KINDS", "TITLE_ACTIONS", "ActionRules",
           "Decision", "Rule", "evaluate", "load_rules", "parse_rules"]

SUPPORTED_FORMAT = 1
DEFAULT_RULES = "default-rules.toml"
_MAX_BYTES = 256 * 1024

ACCOUNT_ACTIONS = ("suspend_account", "revoke_device", "end_streams")
TITLE_ACTIONS = ("rotate_keys",)
NOTICE_KINDS = ("dmca_512c", "dmca_512d", "dsa_16", "acns")
_ACTIONS = (*ACCOUNT_ACTIONS, *TITLE_ACTIONS, "review", *(f"notice:{kind}" for kind in NOTICE_KINDS))
# condition → (the type its value must be, what it means)
CONDITIONS: dict[str, tuple[type, str]] = {
    "trace_p_at_most": (float, "a session is accused with a family-wise p-value at or below this"),
    "trace_p_above": (float, "the strongest accusation's p-value is above this (a weaker trace)"),
    "accused": (bool, "whether the trace accused any session"),
    "identify_p_at_most": (float, "the copy was identified with a false-match probability at or below this"),
    "source": (str, "the copy was found on a source of this kind: indexer, swarm or url"),
    "origin": (str, "how the case opened: monitor or report"),
}
_SOURCE_KINDS = ("indexer", "swarm", "url")
_ORIGINS = ("monitor", "report")


@dataclass(frozen=True)
class Rule:
    name: str
    when: dict[str, Any]
    then: tuple[str, ...]


@dataclass(frozen=True)
class ActionRules:
    name: str
    version: str
    rules: tuple[Rule, ...]
    source: str

    @property
    def label(self) -> str:
        """``name/version``: which rules decided (a case is given one label's decisions once)."""
        return f"{self.name}/{self.version}"

    def actor(self, rule: Rule) -> str:
        return f"rule:{rule.name}@{self.label}"


@dataclass(frozen=True)
class Decision:
    rule: str
    actor: str
    action: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "actor": self.actor, "action": self.action, "why": self.why}


def load_rules(path: Path | None) -> ActionRules:
    """The rules in ``path``, or the shipped default rules when ``path`` is None."""
    if path is None:
        text = resources.files("reelguard.enforcement").joinpath(DEFAULT_RULES).read_text("utf-8")
        return parse_rules(text, source=f"built-in {DEFAULT_RULES}")
    text = read_config_text(path, what="action rules file", max_bytes=_MAX_BYTES)
    return parse_rules(text, source=str(path))


def parse_rules(text: str, *, source: str = "action rules") -> ActionRules:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(document) - {"format", "name", "version", "rule"}
    if unknown:
        raise ConfigurationError(f"{source}: unknown top-level keys {sorted(unknown)} "
                                 "(expected format, name, version and [[rule]] tables)")
    if document.get("format") != SUPPORTED_FORMAT:
        raise ConfigurationError(f"{source}: expected format = {SUPPORTED_FORMAT}, got {document.get('format')!r}")
    name, version = document.get("name"), document.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        raise ConfigurationError(f"{source}: expected a name and a version (strings), got {name!r} and {version!r}")
    entries = document.get("rule", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"{source}: expected at least one [[rule]] table")
    rules = tuple(_rule(entry, f"{source}: rule {i + 1}") for i, entry in enumerate(entries))
    names = [r.name for r in rules]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigurationError(f"{source}: rule names must be unique; repeated: {duplicated}")
    return ActionRules(name, version, rules, source)


def _rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: expected a table")
    unknown = set(entry) - {"name", "when", "then"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)} (expected name, when, then)")
    name, when, then = entry.get("name"), entry.get("when", {}), entry.get("then")
    if not isinstance(name, str) or not name.strip() or any(c.isspace() or c in "@/" for c in name):
        raise ConfigurationError(f"{where}: expected a name without spaces, '@' or '/', got {name!r}")
    where = f"{where} ({name})"
    if not isinstance(when, dict):
        raise ConfigurationError(f"{where}: expected 'when' to be a table of conditions")
    for key, value in when.items():
        _check_condition(key, value, where)
    if not isinstance(then, list) or not then or not all(isinstance(a, str) for a in then):
        raise ConfigurationError(f"{where}: expected 'then' to be a non-empty list of actions")
    for action in then:
        if action not in _ACTIONS:
            raise ConfigurationError(f"{where}: unknown action {action!r} (expected one of {', '.join(_ACTIONS)})")
    return Rule(name, dict(when), tuple(dict.fromkeys(then)))


def _check_condition(key: str, value: Any, where: str) -> None:
    if key not in CONDITIONS:
        raise ConfigurationError(f"{where}: unknown condition {key!r} (expected one of {', '.join(CONDITIONS)})")
    kind = CONDITIONS[key][0]
    ok = (isinstance(value, bool) if kind is bool else
          isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1 if kind is float else
          isinstance(value, str))
    if not ok:
        expected = {bool: "true or false", float: "a probability from 0 to 1", str: "a string"}[kind]
        raise ConfigurationError(f"{where}: condition {key} expects {expected}, got {value!r}")
    if key == "source" and value not in _SOURCE_KINDS:
        raise ConfigurationError(f"{where}: source expects one of {', '.join(_SOURCE_KINDS)}, got {value!r}")
    if key == "origin" and value not in _ORIGINS:
        raise ConfigurationError(f"{where}: origin expects one of {', '.join(_ORIGINS)}, got {value!r}")


def evaluate(rules: ActionRules, facts: dict[str, Any], *, origin: str) -> list[Decision]:
    """Every action of every rule whose conditions hold for a case's facts, in file order, each once."""
    decisions: list[Decision] = []
    taken: set[str] = set()
    for rule in rules.rules:
        reasons = [_holds(key, value, facts, origin) for key, value in rule.when.items()]
        if any(r is None for r in reasons):
            continue
        why = "; ".join(r for r in reasons if r) or "applies to every case"
        for action in rule.then:
            if action not in taken:
                taken.add(action)
                decisions.append(Decision(rule.name, rules.actor(rule), action, why))
    return decisions


def _holds(key: str, value: Any, facts: dict[str, Any], origin: str) -> str | None:
    """Why the condition holds, or None when it does not."""
    trace = facts.get("trace") or {}
    accused = trace.get("accused") or []
    strongest = min((float(a["p_value"]) for a in accused), default=None)
    if key == "trace_p_at_most":
        return f"trace p = {strongest:.3g} ≤ {value:g}" if strongest is not None and strongest <= value else None
    if key == "trace_p_above":
        return f"trace p = {strongest:.3g} > {value:g}" if strongest is not None and strongest > value else None
    if key == "accused":
        return f"accused: {bool(accused)}" if bool(accused) == value else None
    if key == "identify_p_at_most":
        p = float((facts.get("identify") or {}).get("false_match_probability", 1.0))
        return f"identified at p = {p:.3g} ≤ {value:g}" if p <= value else None
    if key == "source":
        return f"found on a {value}" if any(s.get("kind") == value for s in facts.get("sources", [])) else None
    if key == "origin":
        return f"opened by {value}" if origin == value else None
    raise ConfigurationError(f"unknown condition {key!r}")
