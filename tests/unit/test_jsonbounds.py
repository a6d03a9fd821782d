"""JSON from outside: depth and number size refused before the decoder, as 400s that say why."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelguard.errors import AuthenticationError, InvalidInput, InvalidLicenseRequest
from reelguard.jsonbounds import MAX_DEPTH, parse_bounded_json

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@given(JSON_VALUES)
def test_everything_within_bounds_round_trips(value: object) -> None:
    assert parse_bounded_json(json.dumps(value), what="x") == value


@pytest.mark.parametrize("body", [
    b"[" * 1000 + b"]" * 1000,
    b'{"kids": ' + b"[" * 40 + b"]" * 40 + b"}",
    b'{"a": {"b": ' * 200 + b"1" + b"}}" * 200,
], ids=["1000-deep", "just-over", "objects"])
def test_deep_nesting_is_refused_before_the_decoder(body: bytes) -> None:
    with pytest.raises(InvalidLicenseRequest, match=f"nested at most {MAX_DEPTH} levels") as caught:
        parse_bounded_json(body, what="a licence request", error=InvalidLicenseRequest)
    assert caught.value.http_status == 400


def test_brackets_inside_strings_are_not_nesting() -> None:
    body = json.dumps({"note": "[" * 500 + "{" * 500, "kids": ['"\\[[[']})
    assert parse_bounded_json(body, what="x")["note"].startswith("[[[")


@pytest.mark.parametrize("body", [b'{"n": ' + b"1" * 4400 + b"}", b'{"n": 1.' + b"0" * 100 + b"}",
                                  b'{"n": 1e' + b"9" * 60 + b"}"], ids=["int-4400-digits", "long-float", "long-exp"])
def test_huge_numbers_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidInput, match="numbers of at most"):
        parse_bounded_json(body, what="x")


@pytest.mark.parametrize("body", [b'{"n": NaN}', b"[Infinity]", b"[-Infinity]"])
def test_non_json_constants_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidInput, match="which JSON does not have"):
        parse_bounded_json(body, what="x")


def test_malformed_input_raises_the_callers_class() -> None:
    with pytest.raises(AuthenticationError, match="malformed JSON"):
        parse_bounded_json(b"{not json", what="a token header", malformed=AuthenticationError)
    with pytest.raises(AuthenticationError, match="not UTF-8"):
        parse_bounded_json(b"\xff\xfe", what="a token header", malformed=AuthenticationError)
    with pytest.raises(InvalidInput, match="nested at most"):  # bounds stay a 400 whatever malformed says
        parse_bounded_json(b"[" * 100, what="a token header", malformed=AuthenticationError)
