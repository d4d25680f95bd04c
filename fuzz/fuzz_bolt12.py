"""BOLT 12 contents through the field decoder (sphinxamp._explain._bolt12.bolt12_fields): the
`invoice_request`, `invoice` and `invoice_error` TLV streams an onion message's final payload
carries (BOLT 4 › Onion Messages, types 64, 66, 68; BOLT 12 › TLV Fields).

Input: byte 0 picks the stream (64, 66 or 68, by its value mod 3), the rest is the stream.
Invariants: nothing escapes, library errors included (what does not parse is a `problem`
field, never an exception, never the explanation's error); every field lies inside its parent
and holds exactly the input's bytes at its offset; a problem field is empty and marked; a
record the reader here finds (BigSize type and length, read independently) whose value
breaks its type's rule (a point that coincurve refuses, a tu64 with a leading zero or longer
than 8 bytes, a signature not 64 bytes) has a problem under it; the JSON form serialises;
deterministic; memory O(len).

Seeds: the invoice_request of examples/node.log (tools/make_node_log.py) and cut copies.
"""

import json
from typing import Any

import _common
from coincurve import PublicKey

from sphinxamp._explain._bolt12 import bolt12_fields
from sphinxamp._explain._tree import Explanation, Field

STREAMS = (64, 66, 68)
# BOLT 12 › TLV Fields for `invoice_request`, › Invoices: the types this reader checks.
POINTS = {22, 88, 176}
TU64 = {8, 14, 20, 82, 86, 164, 170}
SIGNATURE = 240
PER_BYTE = 2048


def _bigsize(data: bytes, pos: int) -> tuple[int, int] | None:
    if pos >= len(data):
        return None
    first = data[pos]
    width = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(first, 0)
    if pos + 1 + width > len(data):
        return None
    if not width:
        return first, pos + 1
    value = int.from_bytes(data[pos + 1 : pos + 1 + width], "big")
    if value < (0xFD, 0x10000, 0x100000000)[width // 4]:
        return None  # not minimal: the stream breaks here
    return value, pos + 1 + width


def ref_records(data: bytes) -> list[tuple[int, int, bytes]]:
    """(type, offset of the record, value) of each record that reads, in order, until the
    stream breaks or a type does not increase."""
    out: list[tuple[int, int, bytes]] = []
    pos = 0
    while pos < len(data):
        got = _bigsize(data, pos)
        length = None if got is None else _bigsize(data, got[1])
        if got is None or length is None or length[0] > len(data) - length[1]:
            break
        if out and got[0] <= out[-1][0]:
            break
        out.append((got[0], pos, data[length[1] : length[1] + length[0]]))
        pos = length[1] + length[0]
    return out


def _valid_point(raw: bytes) -> bool:
    if len(raw) != 33 or raw[0] not in (2, 3):
        return False
    try:
        PublicKey(raw)
    except ValueError:
        return False
    return True


def _broken(stream: int, rtype: int, value: bytes) -> bool:
    if stream == 68:
        return rtype == 1 and (len(value) > 8 or value[:1] == b"\0")
    if rtype in POINTS:
        return not _valid_point(value)
    if rtype in TU64:
        return len(value) > 8 or value[:1] == b"\0"
    return rtype == SIGNATURE and len(value) != 64


def _decode(stream: int, body: bytes) -> tuple[list[Field], Explanation]:
    ex = Explanation("bolt12", body)
    return bolt12_fields(stream, body, 0, ex), ex


def _check_field(f: Field, data: bytes, lo: int, hi: int) -> None:
    assert lo <= f.offset and f.offset + f.length <= hi, f"{f.name} outside its parent"
    assert data[f.offset : f.offset + f.length] == f.raw, f"{f.name} bytes differ"
    if f.name == "problem":
        assert f.error and not f.raw and f.meaning
    for child in f.children:
        _check_field(child, data, f.offset, f.offset + f.length)


def _key(fields: list[Field], ex: Explanation) -> Any:
    return [f.to_json() for f in fields], ex.notes


def test_one_input(data: bytes) -> None:
    if not data:
        return
    stream, body = STREAMS[data[0] % 3], data[1:]
    first = _common.bounded(len(body), _decode, stream, body, per_byte=PER_BYTE)
    assert first.error is None, f"bolt12_fields raised {first.error!r}"
    fields, ex = first.value
    assert ex.error is None, "a BOLT 12 problem became the explanation's error"
    assert _key(fields, ex) == _key(*_decode(stream, body)), "not deterministic"
    for f in fields:
        _check_field(f, body, 0, len(body))
    starts = {f.offset: f for f in fields}
    for rtype, offset, value in ref_records(body):
        rec = starts.get(offset)
        assert rec is not None, f"no field for the record of type {rtype} at {offset}"
        if _broken(stream, rtype, value):
            assert any(c.name == "problem" for c in rec.children), (
                f"type {rtype}'s broken value is not flagged")
    json.dumps([f.to_json() for f in fields])


if __name__ == "__main__":
    _common.main(test_one_input)
