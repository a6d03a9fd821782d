"""Policy files: a versioned TOML document that declares the rule tree (docs/policy.md).

    name = "standard"
    version = "2026-11-22"
    [[all_of]]
    type = "account_active"
    [[all_of]]
    any_of = [{ type = "territory" }, { type = "ip_lists", allow = ["10.0.0.0/8"] }]

``load_policy(path)`` parses and validates the whole file before anything uses it: an
unknown rule type, an unknown or mistyped parameter, or an empty composition is a
``ConfigurationError`` naming the rule's position, so a typo never loosens a policy.

A derived policy (the demo's, a test's) is made from a parsed document, not by editing its
text: ``with_rule_parameters`` changes a named rule's parameters and fails when the rule is
not there, where a text replacement would silently change nothing::

    document = default_policy_document()
    document = with_rule_parameters(document, "token", max_lifetime_seconds=43_200, single_use=False)
    path.write_text(policy_text(document | {"name": "demo"}))
"""

from __future__ import annotations

import dataclasses
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic

from reelguard.errors import ConfigurationError
from reelguard.license.policy import AllOf, AnyOf, Policy, Rule
from reelguard.license.rules import RULE_TYPES
from reelguard.textfiles import read_config_text

__all__ = ["DEFAULT_POLICY", "default_policy_document", "load_policy", "parse_policy", "policy_text",
           "with_rule_parameters"]

SUPPORTED_FORMAT = 1
DEFAULT_POLICY = "default-policy.toml"
_MAX_POLICY_BYTES = 256 * 1024


def load_policy(path: Path | None) -> Policy:
    """The policy in ``path``, or the shipped default policy when ``path`` is None."""
    if path is None:
        text = resources.files("reelguard.license").joinpath(DEFAULT_POLICY).read_text("utf-8")
        return parse_policy(text, source=f"built-in {DEFAULT_POLICY}")
    text = read_config_text(path, what="policy file", max_bytes=_MAX_POLICY_BYTES)
    return parse_policy(text, source=str(path))


def default_policy_document() -> dict[str, Any]:
    """The shipped default policy as a TOML document (a dict), to derive another policy from."""
    return tomllib.loads(resources.files("reelguard.license").joinpath(DEFAULT_POLICY).read_text("utf-8"))


def with_rule_parameters(document: dict[str, Any], rule_type: str, **parameters: Any) -> dict[str, Any]:
    """A copy of ``document`` with ``parameters`` set on every top-level rule of ``rule_type``.

    Raises ConfigurationError when the document has no such rule: a derived policy must not
    silently keep the parameters it meant to change.
    """
    composition = "any_of" if "any_of" in document else "all_of"
    rules = [dict(rule) for rule in document.get(composition, [])]
    matching = [rule for rule in rules if rule.get("type") == rule_type]
    if not matching:
        present = sorted({str(rule.get("type")) for rule in rules})
        raise ConfigurationError(f"policy {document.get('name')!r} has no top-level {rule_type!r} rule to change "
                                 f"(it has {', '.join(present) or 'none'})")
    for rule in matching:
        rule.update(parameters)
    return {**document, composition: rules}


def policy_text(document: dict[str, Any]) -> str:
    """``document`` as policy TOML, validated first (an invalid derived policy is never written)."""
    import tomli_w  # only commands that write a policy need the writer, never the server

    text = tomli_w.dumps(document)
    parse_policy(text, source=f"derived policy {document.get('name')!r}")
    return text


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source} is not valid TOML: {exc}") from exc
    if document.get("format", SUPPORTED_FORMAT) != SUPPORTED_FORMAT:
        raise ConfigurationError(f"{source}: format must be {SUPPORTED_FORMAT}, got {document.get('format')!r}")
    for key in ("name", "version"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise ConfigurationError(f"{source}: expected a non-empty string {key!r}")
    unknown = set(document) - {"format", "name", "version", "description", "all_of", "any_of"}
    if unknown:
        raise ConfigurationError(f"{source}: unknown top-level keys {sorted(unknown)}")
    composition = "any_of" if "any_of" in document else "all_of"
    root = _composition(composition, document.get(composition), f"{source}: {composition}", composition)
    return Policy(document["name"], document["version"], root)


def _composition(kind: str, entries: Any, where: str, label: str) -> Rule:
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"{where}: expected a non-empty list of rules (an empty {kind} would deny all)")
    rules = tuple(_rule(entry, f"{where}[{index}]") for index, entry in enumerate(entries))
    return AllOf(rules, label) if kind == "all_of" else AnyOf(rules, label)


def _rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: expected a table, got {type(entry).__name__}")
    params = dict(entry)
    for kind in ("all_of", "any_of"):
        if kind in params:
            label = params.pop("label", kind)
            if set(params) != {kind}:
                raise ConfigurationError(f"{where}: a {kind} takes only 'label', got {sorted(set(params) - {kind})}")
            return _composition(kind, params[kind], f"{where}.{kind}", str(label))
    type_name = params.pop("type", None)
    rule_class = RULE_TYPES.get(str(type_name))
    if rule_class is None:
        raise ConfigurationError(f"{where}: unknown rule type {type_name!r}; known: {', '.join(sorted(RULE_TYPES))}")
    allowed = {f.name for f in dataclasses.fields(rule_class) if f.init}  # type: ignore[arg-type]
    if set(params) - allowed:
        raise ConfigurationError(f"{where}: rule {type_name!r} has no parameter {sorted(set(params) - allowed)}; "
                                 f"parameters: {sorted(allowed) or 'none'}")
    try:
        rule: Rule = pydantic.TypeAdapter(rule_class).validate_python(params)
    except (pydantic.ValidationError, ValueError) as exc:
        raise ConfigurationError(f"{where}: bad parameters for rule {type_name!r}: {exc}") from exc
    for name, value in params.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ConfigurationError(f"{where}: {name} must not be negative, got {value}")
    return rule
