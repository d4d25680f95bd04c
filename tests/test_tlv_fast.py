"""The generated fast path of `TlvSchema.decode` against the checked decoder it shortcuts.

Whatever the bytes, `decode` (fast path, falling back to the checked loop) must give exactly
what the checked loop alone gives: the same values, unknown records and offsets, or the same
error (type, reason, offset, TLV type). Streams are built from records near each schema's
types with lengths around each record's bounds, plus arbitrary bytes, so the inline checks
(minimal BigSize, ordering, length bounds, minimal truncated integers, point validity) are all
reached. And on valid streams the fast path must really be taken (no silent fallback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp.errors import DecodeError
from sphinxamp.wire import (
    BYTES,
    POINT,
    SCID,
    SHA256,
    TU16,
    TU64,
    U32,
    FixedBytes,
    RecordSpec,
    Struct,
    TlvSchema,
)
from tests.strategies import ref_bigsize


@dataclass(frozen=True, slots=True)
class Pair:
    point: bytes
    amount: int


@dataclass(frozen=True)
class Loose:  # not slotted: built through its constructor
    tag: bytes
    count: int


SCHEMAS = [
    __import__("sphinxamp.wire._records", fromlist=["x"]).HOP_PAYLOAD_SCHEMA,
    __import__("sphinxamp.wire._records", fromlist=["x"])._LND_SCHEMA,
    __import__("sphinxamp.blinding._path", fromlist=["x"]).ENCRYPTED_DATA_SCHEMA,
    __import__("sphinxamp.blinding._onion_message", fromlist=["x"]).ONIONMSG_SCHEMA,
    TlvSchema("synthetic", [
        RecordSpec(1, "u32", U32), RecordSpec(2, "tu16", TU16), RecordSpec(4, "scid", SCID),
        RecordSpec(6, "pair", Struct([("point", POINT), ("amount", TU64)], Pair)),
        RecordSpec(8, "loose", Struct([("tag", FixedBytes(3)), ("count", TU16)], Loose)),
        RecordSpec(10, "hash", SHA256), RecordSpec(253, "wide", BYTES),
        RecordSpec(70000, "far", FixedBytes(2, lambda v: v != b"\xff\xff", "pair")),
    ]),
]
G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    try:
        got = fn(*args)
    except DecodeError as exc:
        return ("error", type(exc), exc.reason, exc.offset, exc.tlv_type, exc.field)
    return ("ok", got.values, got.unknown, got.offsets)


@st.composite
def streams(draw: st.DrawFn, schema: TlvSchema) -> bytes:
    known = sorted(schema.specs)
    types = draw(st.lists(st.one_of(st.sampled_from(known), st.integers(0, 2**17),
                                    st.sampled_from([252, 253, 65535, 65536, 2**32])),
                          max_size=6))
    if draw(st.booleans()):
        types = sorted(set(types))
    out = b""
    for rtype in types:
        spec = schema.specs.get(rtype)
        lo = spec.codec.min_len if spec else 0
        hi = spec.codec.max_len if spec and spec.codec.max_len is not None else lo + 40
        length = draw(st.integers(max(0, lo - 1), hi + 1))
        value = draw(st.sampled_from([b"", b"\x00", G]) | st.binary(min_size=length,
                                                                      max_size=length))
        value = (value + bytes(length))[:length]
        tbytes = draw(st.sampled_from([ref_bigsize(rtype), b"\xfd" + rtype.to_bytes(2, "big")
                                       if rtype < 2**16 else ref_bigsize(rtype)]))
        out += tbytes + ref_bigsize(length) + value
    cut = draw(st.integers(0, len(out)))
    return out if draw(st.booleans()) else out[:cut] + draw(st.binary(max_size=3))


@settings(max_examples=600, deadline=None)
@given(data=st.data(), base=st.integers(0, 1000))
def test_fast_path_decodes_exactly_as_the_checked_loop(data: st.DataObject, base: int) -> None:
    for schema in SCHEMAS:
        raw = data.draw(streams(schema))
        assert outcome(schema.decode, raw, base) == outcome(schema._decode_checked, raw, base)
        checked = outcome(schema._decode_checked, raw, base)
        fast = schema._fast(raw, base)
        if checked[0] == "ok":
            # Valid streams take the fast path, and it returns what the checked loop does.
            assert fast is not None, raw.hex()
            assert (fast[0], tuple(fast[1]), fast[2]) == checked[1:]
            assert fast[3] == sum(schema.bit(t) for t in checked[1])
            assert all(schema.bit(t) for t in checked[1])
            named, unknown, offsets, mask = schema.decode_named(raw, base)
            assert named == {schema.specs[t].name: v for t, v in checked[1].items()}
            assert offsets is None  # the named decoder leaves offsets to `TlvSchema.offsets`
            assert (tuple(unknown), schema.offsets(raw, base), mask) == (*checked[2:], fast[3])
        else:
            assert fast is None


@given(st.binary(max_size=64))
def test_arbitrary_bytes(raw: bytes) -> None:
    for schema in SCHEMAS:
        assert outcome(schema.decode, raw) == outcome(schema._decode_checked, raw, 0)


def test_struct_values_are_the_dataclasses() -> None:
    schema = SCHEMAS[-1]
    raw = bytes([6, 35]) + G + b"\x01\x00" + bytes([8, 4]) + b"abc\x07"
    got = schema.decode(raw)
    assert got.values == {6: Pair(G, 256), 8: Loose(b"abc", 7)}
    assert type(got.values[6]) is Pair and type(got.values[8]) is Loose


def _stream_checked(raw: bytes, base: int) -> tuple[Any, ...]:
    from sphinxamp.wire._tlv import TlvRecord, iter_records

    try:
        return ("ok", tuple(TlvRecord(t, raw[a:b]) for t, _, a, b in iter_records(raw, base)))
    except DecodeError as exc:
        return ("error", type(exc), exc.reason, exc.offset, exc.tlv_type, exc.field)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), base=st.integers(0, 100))
def test_schema_less_decode_is_the_checked_split(data: st.DataObject, base: int) -> None:
    from sphinxamp.wire._tlv import decode_stream

    raw = data.draw(streams(SCHEMAS[-1]) | st.binary(max_size=40))
    try:
        got: tuple[Any, ...] = ("ok", decode_stream(raw, base))
    except DecodeError as exc:
        got = ("error", type(exc), exc.reason, exc.offset, exc.tlv_type, exc.field)
    assert got == _stream_checked(raw, base)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_role_masks_agree_with_the_role_rules(data: st.DataObject) -> None:
    """`_role_ok` (masks, the fast judgement) passes a payload exactly when `_check_role`
    (the rules as BOLT 4 states them) finds no violation, for every role and path key."""
    from sphinxamp._payload import _check_role, _role_ok
    from sphinxamp.wire._records import HOP_PAYLOAD_SCHEMA, Role

    # Valid values for every record, so any combination of records decodes and only the
    # role rules decide; plus an unknown odd type and a custom one.
    valid = {2: b"\x01", 4: b"\x01", 6: bytes(8), 8: bytes(32) + b"\x01", 10: b"x", 12: G,
             14: bytes(64) + b"\x01", 16: b"m", 18: b"\x01", 33: b"", 65537: b"c"}
    chosen = data.draw(st.sets(st.sampled_from(sorted(valid))))
    raw = b"".join(ref_bigsize(t) + ref_bigsize(len(valid[t])) + valid[t] for t in sorted(chosen))
    if data.draw(st.booleans()):
        raw = data.draw(streams(HOP_PAYLOAD_SCHEMA))
    try:
        _, unknown, _, mask = HOP_PAYLOAD_SCHEMA.decode_named(raw)
    except DecodeError:
        return
    offsets = HOP_PAYLOAD_SCHEMA.offsets(raw)
    for role in Role:
        for path_key in (None, True, False):
            try:
                _check_role(role, offsets, len(raw), path_key)
                violation = False
            except DecodeError:
                violation = True
            assert _role_ok(role, mask, unknown, path_key) is not violation, (role, path_key)
