"""`load_json`: JSON from outside the library parses, and whatever does not parse (bad text,
bad UTF-8, nesting deeper than the decoder can follow) is an `InvalidArgument` naming the
field it was read for, never a JSONDecodeError or RecursionError traceback."""

from __future__ import annotations

import pytest

from sphinxamp._json import load_json
from sphinxamp.errors import InvalidArgument


@pytest.mark.parametrize(("text", "value"), [
    ('{"a": [1, 2]}', {"a": [1, 2]}),
    (b'["\xc3\xa9"]', ["\u00e9"]),
    ("0", 0),
    ("null", None),
])
def test_valid_json_parses(text: str | bytes, value: object) -> None:
    assert load_json(text) == value


def test_nesting_the_decoder_follows_parses() -> None:
    nested = load_json("[" * 200 + "]" * 200)
    for _ in range(199):
        assert isinstance(nested, list) and len(nested) == 1
        nested = nested[0]
    assert nested == []


@pytest.mark.parametrize("text", [
    "", "{", "{'a': 1}", "[1,]", "nul", '{"a": 1} trailing', b"[\"\xff\"]",
])
def test_bad_json_is_invalid_argument_with_field(text: str | bytes) -> None:
    with pytest.raises(InvalidArgument) as info:
        load_json(text, "route_file")
    assert info.value.field == "route_file"
    assert info.value.reason == "not_json"
    assert str(info.value).startswith("route_file: not JSON")


def test_default_field_is_input() -> None:
    with pytest.raises(InvalidArgument) as info:
        load_json("{")
    assert info.value.field == "input"


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_nesting_past_the_decoder_is_invalid_argument(depth: int) -> None:
    """Python's decoder recurses once per level; past the interpreter's limit it would raise
    RecursionError, which must not escape."""
    with pytest.raises(InvalidArgument) as info:
        load_json("[" * depth + "]" * depth, "line")
    assert (info.value.field, info.value.reason) == ("line", "not_json")
    assert "nested too deeply" in str(info.value)


def test_invalid_argument_is_also_a_value_error() -> None:
    """Callers that catch ValueError from json.loads keep working."""
    with pytest.raises(ValueError):
        load_json("[")
