"""`explain --as auto` through its library function (sphinxamp._explain.explain).

Input: any bytes, explained as auto guesses them, without keys and with the BOLT 4 test
vector's node key and associated data (so a guessed onion is decrypted when it can be).
Invariants: only library errors escape (explain itself never raises for bytes); every field
lies inside the input, and a field that is not decrypted holds exactly the input's bytes at
its offset; children lie inside their parent; the error, if any, points inside the input and
names a rule and a BOLT section, and a field or the unread tail is marked at its offset; the
JSON form serialises; deterministic; memory O(len).
"""

import json
from typing import Any

import _common

from sphinxamp._errors import SphinxampError
from sphinxamp._explain import Explanation, Field, explain

NODE_KEY = bytes([0x41]) * 32
ASSOC = bytes([0x42]) * 32
# A tree holds a few fields per input byte, each with a slice of the input: a wider slope
# than a decoder's, still linear.
PER_BYTE = 2048


def _explain(data: bytes, keyed: bool) -> Any:
    try:
        if keyed:
            return explain(data, node_key=NODE_KEY, assoc_data=ASSOC)
        return explain(data)
    except SphinxampError as exc:  # allowed to escape; none is expected for bytes
        return exc


def _check_field(f: Field, data: bytes, lo: int, hi: int, marks: list[int]) -> None:
    assert lo <= f.offset and f.offset + f.length <= hi, f"{f.name} outside its parent"
    if not f.decrypted and f.name != "unparsed":
        assert data[f.offset : f.offset + f.length] == f.raw, f"{f.name} bytes differ"
    if f.error:
        marks.append(f.offset)
    for child in f.children:
        _check_field(child, data, f.offset, f.offset + f.length, marks)


def _check(ex: Explanation, data: bytes) -> None:
    marks: list[int] = []
    for f in ex.fields:
        _check_field(f, data, 0, len(data), marks)
    if ex.error is not None:
        assert 0 <= ex.error.offset <= len(data), "error offset outside the input"
        assert ex.error.rule and ex.error.section.startswith("BOLT"), ex.error
        assert ex.error.offset in marks, "the failing field is not marked"
    json.dumps(ex.to_json())


def test_one_input(data: bytes) -> None:
    for keyed in (False, True):
        first = _common.bounded(len(data), _explain, data, keyed, per_byte=PER_BYTE).value
        second = _explain(data, keyed)
        if isinstance(first, SphinxampError):
            assert type(first) is type(second)
            continue
        assert isinstance(second, Explanation)
        assert first.to_json() == second.to_json(), "explain is not deterministic"
        _check(first, data)


def seeds(inputs: dict[str, set[bytes]]) -> dict[str, bytes]:
    """Corpus seeds for make_corpus.py: every kind's inputs found in the vectors."""
    out: dict[str, bytes] = {}
    for kind, found in inputs.items():
        for i, raw in enumerate(sorted(found)[:40]):
            out[f"vec-{kind}{i}"] = raw
    out["edge-empty"] = b""
    out["edge-attribution"] = bytes(920)
    out["edge-onion-version"] = b"\x01" + bytes(1365)
    return out


if __name__ == "__main__":
    _common.main(test_one_input)
