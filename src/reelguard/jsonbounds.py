"""JSON from outside, parsed with bounds: nesting depth and number size checked first.

Python's ``json`` recurses once per nesting level, so a 2 KB body of ``[[[[…`` raises
``RecursionError``; an integer of over 4,300 digits raises ``ValueError`` from ``int``.
Neither is a ``JSONDecodeError``, so a parser that catches only that answers 500. Every
JSON parser at the edge (licence and download bodies, token headers and payloads, the
integration API) goes through ``parse_bounded_json`` instead, which refuses both before
they reach the decoder, with the error class the caller names::

    document = parse_bounded_json(body, what="licence request", error=InvalidLicenseRequest)
"""

from __future__ import annotations

import json
import re
from typing import Any

from reelguard.errors import InvalidInput, ReelguardError

__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "parse_bounded_json"]

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def parse_bounded_json(data: bytes | str, *, what: str, error: type[InvalidInput] = InvalidInput,
                       malformed: type[ReelguardError] | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """The decoded document, or ``error`` (a 400) saying what was expected and what arrived.

    ``malformed``, if given, is raised instead for input that is not JSON at all (a token
    that does not parse is an authentication failure, 401; one nested 1,000 deep is
    still refused as bad input before anything else looks at it).
    """
    not_json = malformed or error
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise not_json(f"expected {what} as UTF-8 JSON, got malformed JSON (bytes that are not UTF-8)") from exc
    if _nests_deeper_than(text, max_depth):
        raise error(f"expected {what} nested at most {max_depth} levels deep, got deeper nesting")
    try:
        return json.loads(text, parse_int=_bounded_int, parse_float=_bounded_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise not_json(f"expected {what} as JSON, got malformed JSON ({exc.msg} at character {exc.pos})") from exc
    except _NumberTooLong as exc:
        raise error(f"expected {what} with numbers of at most {MAX_NUMBER_CHARS} characters, "
                    f"got one of {exc.length}") from exc
    except _NotJsonConstant as exc:
        raise error(f"expected {what} as JSON, got {exc.name}, which JSON does not have (RFC 8259 §6)") from exc


def _nests_deeper_than(text: str, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (brackets in strings skipped).

    A body with no more opening brackets than the limit cannot nest deeper, so the usual
    request (a handful of brackets) costs two ``str.count`` calls and no scan.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False


class _NumberTooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length


class _NotJsonConstant(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _bounded_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _NumberTooLong(len(literal))
    return int(literal)


def _bounded_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _NumberTooLong(len(literal))
    return float(literal)


def _no_constant(name: str) -> Any:
    raise _NotJsonConstant(name)
