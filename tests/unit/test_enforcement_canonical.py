"""RFC 8785 canonical JSON against the JCS authors' own test data (tests/vectors/json_canonicalization.json)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from reelguard.enforcement.canonical import canonical_json
from reelguard.errors import InvalidInput

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "json_canonicalization.json").read_text())


@pytest.mark.parametrize("name", sorted(VECTORS["documents"]))
def test_documents_canonicalize_to_the_published_bytes(name: str) -> None:
    document = VECTORS["documents"][name]
    assert canonical_json(json.loads(document["input"])) == bytes.fromhex(document["output_hex"]).rstrip(b"\n")


@pytest.mark.parametrize(("ieee", "expected"), VECTORS["numbers"])
def test_numbers_are_written_as_ecmascript_writes_them(ieee: str, expected: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(ieee.rjust(16, "0")))[0]
    assert canonical_json(value) == expected.encode()


@pytest.mark.parametrize(("value", "expected"), [
    (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-6, "0.000001"), (1e-7, "1e-7"), (-0.0, "0"),
    (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (0.1 + 0.2, "0.30000000000000004"),
    (123.456, "123.456"), (-1.5e-9, "-1.5e-9"), (2**53 - 1, "9007199254740991"),
])
def test_edges_of_the_number_format(value: float, expected: str) -> None:
    assert canonical_json(value).decode() == expected
    assert float(expected) == value  # the digits read back as the same double


@pytest.mark.parametrize(("value", "said"), [
    (float("nan"), "finite"), (float("inf"), "finite"), (2**53, r"2\^53 - 1"), ({1: "a"}, "strings"),
    ("\udc80", "lone surrogate"), ({"a": {1, 2}}, "JSON value"),
])
def test_what_json_cannot_carry_exactly_is_refused(value: object, said: str) -> None:
    with pytest.raises(InvalidInput, match=said):
        canonical_json(value)
