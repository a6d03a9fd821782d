"""Canonical JSON (RFC 8785, JCS): one byte string per record, so its hash in the evidence log is reproducible.

A record is hashed into the log as these bytes, and anyone re-deriving them from the
record — in any language with a JCS implementation — gets the same hash. The rules:
object members sorted by their names' UTF-16 code units; no whitespace; strings as
ECMAScript's ``JSON.stringify`` writes them (only ``"``, ``\\`` and control characters
escaped, the rest raw UTF-8); numbers as ECMAScript writes a double (shortest digits
that read back the same, exponent form below 1e-6 and from 1e21). Integers beyond
±(2^53 - 1) are refused rather than rounded, as are NaN, the infinities, lone
surrogates and keys that are not strings: evidence must not change on the way in::

    canonical_json({"b": 1, "a": [0.5, 1e21, "é"]})   # b'{"a":[0.5,1e+21,"\\xc3\\xa9"],"b":1}'
"""

from __future__ import annotations

import math
from typing import Any

from reelguard.errors import InvalidInput

__all__ = ["canonical_json"]

MAX_SAFE_INTEGER = 2**53 - 1
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value`` (dicts, lists, str, int, float, bool, None); ``InvalidInput`` otherwise."""
    return _serialize(value, "$").encode("utf-8")


def _serialize(value: Any, where: str) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInput(f"{where}: expected an integer within ±(2^53 - 1) (I-JSON), got {value}; "
                               f"keep larger ones as strings")
        return str(value)
    if isinstance(value, float):
        return _number(value, where)
    if isinstance(value, str):
        return _string(value, where)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_serialize(item, f"{where}[{i}]") for i, item in enumerate(value)) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise InvalidInput(f"{where}: expected object member names to be strings")
        members = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(f"{_string(key, where)}:{_serialize(item, f'{where}.{key}')}"
                              for key, item in members) + "}"
    raise InvalidInput(f"{where}: expected a JSON value, got a {type(value).__name__}")


def _string(text: str, where: str) -> str:
    out = []
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        elif "\ud800" <= char <= "\udfff":
            raise InvalidInput(f"{where}: a string holds a lone surrogate (U+{ord(char):04X}), which JSON cannot carry")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _number(value: float, where: str) -> str:
    """ECMAScript Number::toString (ECMA-262 7.1.12.1) from Python's shortest round-trip digits."""
    if not math.isfinite(value):
        raise InvalidInput(f"{where}: expected a finite number, got {value}")
    if value == 0:
        return "0"  # and -0
    if value < 0:
        return "-" + _number(-value, where)
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    n = len(whole) + int(exponent or 0) - (len(all_digits) - len(significant))  # value = 0.digits × 10^n
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    power = n - 1
    sign = "+" if power >= 0 else "-"
    return (digits if k == 1 else digits[0] + "." + digits[1:]) + f"e{sign}{abs(power)}"
