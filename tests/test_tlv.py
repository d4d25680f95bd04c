"""TLV streams and the typed schema (BOLT 1 › Type-Length-Value Format, Appendix B).

Streams and offsets are written out by hand from the record layout (type ‖ length ‖ value),
so each expected offset can be checked by counting bytes in the literal.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from sphinxamp import ShortChannelId
from sphinxamp.errors import DecodeError, EncodeError, TlvError
from sphinxamp.wire import (
    HOP_PAYLOAD_SCHEMA,
    POINT,
    SCID,
    TU64,
    U16,
    U64,
    RecordSpec,
    Struct,
    TlvRecord,
    TlvSchema,
    decode_stream,
    encode_stream,
    iter_records,
)

NODE_ID = bytes.fromhex("023da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb")


class Tlv3(NamedTuple):
    node_id: bytes
    amount_msat_1: int
    amount_msat_2: int


# The `n1` namespace of BOLT 1 › Appendix B.
N1 = TlvSchema(
    "n1",
    [
        RecordSpec(1, "tlv1", TU64),
        RecordSpec(2, "tlv2", SCID),
        RecordSpec(
            3,
            "tlv3",
            Struct(
                [("node_id", POINT), ("amount_msat_1", U64), ("amount_msat_2", U64)], Tlv3
            ),
        ),
        RecordSpec(254, "tlv4", U16),
    ],
)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", "").replace("|", ""))


# --- structure (schema-less) -------------------------------------------------------------------


def test_empty_stream_is_valid() -> None:
    assert decode_stream(b"") == ()
    assert encode_stream([]) == b""


def test_decode_records_in_order() -> None:
    stream = h("01 00 | 02 01 2a | fd00fe 02 0102 | fe00010000 00")
    assert decode_stream(stream) == (
        TlvRecord(1, b""),
        TlvRecord(2, b"\x2a"),
        TlvRecord(254, b"\x01\x02"),
        TlvRecord(0x10000, b""),
    )


def test_iter_records_positions() -> None:
    stream = h("01 00 | fd00fe 02 0102")
    assert iter_records(stream) == [(1, 0, 2, 2), (254, 2, 6, 8)]


def test_encode_stream_minimal_bigsize() -> None:
    records = [TlvRecord(0xFC, b""), TlvRecord(0xFD, b"\x01"), TlvRecord(2**64 - 1, bytes(253))]
    assert encode_stream(records) == (
        h("fc 00 | fd00fd 01 01 | ffffffffffffffffff fd00fd") + bytes(253)
    )


# (stream, reason, offset, tlv_type)
STRUCTURE_ERRORS = [
    ("fd", "type_truncated", 0, None),
    ("01 00 | fd 01", "type_truncated", 2, None),
    ("fd0001 00", "type_not_minimal", 0, None),
    ("01 00 | fe0000ffff 00", "type_not_minimal", 2, None),
    ("0f", "length_missing", 1, 15),
    ("0f fd", "length_truncated", 1, 15),
    ("0f fd26", "length_truncated", 1, 15),
    ("0f fd0001 00", "length_not_minimal", 1, 15),
    ("0f fd2602", "value_missing", 4, 15),
    ("0f 02 aa", "value_truncated", 2, 15),
    ("01 00 | 0f ff8000000000000000 aabb", "value_truncated", 12, 15),
    ("02 00 | 01 00", "not_strictly_increasing", 2, 1),
    ("1f 00 | 0f 01 2a", "not_strictly_increasing", 2, 15),
    ("1f 00 | 1f 01 2a", "duplicate_type", 2, 31),
]


@pytest.mark.parametrize(("stream", "reason", "offset", "tlv_type"), STRUCTURE_ERRORS)
def test_structure_errors(stream: str, reason: str, offset: int, tlv_type: int | None) -> None:
    with pytest.raises(TlvError) as info:
        decode_stream(h(stream))
    assert (info.value.reason, info.value.offset, info.value.tlv_type) == (
        reason, offset, tlv_type,
    )


@pytest.mark.parametrize(("stream", "reason", "offset", "tlv_type"), STRUCTURE_ERRORS)
def test_structure_errors_offsets_shift_with_base(
    stream: str, reason: str, offset: int, tlv_type: int | None
) -> None:
    with pytest.raises(TlvError) as info:
        decode_stream(h(stream), base=100)
    assert (info.value.reason, info.value.offset) == (reason, offset + 100)


@pytest.mark.parametrize(("stream", "reason", "offset", "tlv_type"), STRUCTURE_ERRORS)
def test_structure_errors_also_in_a_schema(
    stream: str, reason: str, offset: int, tlv_type: int | None
) -> None:
    with pytest.raises(TlvError) as info:
        N1.decode(h(stream))
    assert (info.value.reason, info.value.offset) == (reason, offset)


def test_valid_prefix_does_not_hide_a_later_error() -> None:
    # BOLT 1 › Appendix B: a valid stream followed by an invalid one fails as a whole.
    with pytest.raises(TlvError) as info:
        decode_stream(h("01 00 | 03 00 | 05 03 aabb"))
    assert info.value.reason == "value_truncated"
    assert info.value.offset == 6


def test_tlv_errors_are_decode_errors() -> None:
    with pytest.raises(DecodeError):
        decode_stream(b"\xfd")


@pytest.mark.parametrize(
    ("records", "tlv_type"),
    [
        ([TlvRecord(2, b""), TlvRecord(1, b"")], 1),
        ([TlvRecord(5, b""), TlvRecord(5, b"x")], 5),
        ([TlvRecord(1, b""), TlvRecord(2**64 - 1, b""), TlvRecord(3, b"")], 3),
    ],
)
def test_encode_refuses_unordered_or_duplicate(records: list[TlvRecord], tlv_type: int) -> None:
    with pytest.raises(EncodeError) as info:
        encode_stream(records)
    assert info.value.tlv_type == tlv_type


def test_encode_names_a_duplicate_as_decode_does() -> None:
    with pytest.raises(EncodeError) as info:
        encode_stream([TlvRecord(5, b""), TlvRecord(5, b"x")])
    assert info.value.reason == "duplicate_type"
    with pytest.raises(EncodeError) as info:
        encode_stream([TlvRecord(6, b""), TlvRecord(5, b"x")])
    assert info.value.reason == "not_strictly_increasing"


def test_encode_refuses_type_beyond_bigsize() -> None:
    with pytest.raises(EncodeError):
        encode_stream([TlvRecord(2**64, b"")])


# --- schema ----------------------------------------------------------------------------------


def test_schema_decodes_known_values() -> None:
    stream = h(
        "01 08 0100000000000000"
        "| 02 08 0000000000000226"
        "| 03 31" + NODE_ID.hex() + "0000000000000001 0000000000000002"
        "| fd00fe 02 0226"
    )
    decoded = N1.decode(stream)
    assert decoded.values == {
        1: 2**56,
        2: ShortChannelId(0, 0, 550),
        3: Tlv3(NODE_ID, 1, 2),
        254: 550,
    }
    assert decoded.unknown == ()
    assert decoded.offsets == {1: 0, 2: 10, 3: 20, 254: 71}


def test_schema_keeps_unknown_odd_in_order() -> None:
    decoded = N1.decode(h("01 00 | 07 02 aabb | 0f 00 | fd00ff 01 01"))
    assert decoded.values == {1: 0}
    assert decoded.unknown == (
        TlvRecord(7, b"\xaa\xbb"), TlvRecord(15, b""), TlvRecord(255, b"\x01"),
    )
    assert decoded.offsets == {1: 0, 7: 2, 15: 6, 255: 8}


@pytest.mark.parametrize(
    ("stream", "offset", "tlv_type"),
    [("00 00", 0, 0), ("01 00 | 12 00", 2, 18), ("fe00010000 00", 0, 0x10000)],
)
def test_schema_refuses_unknown_even(stream: str, offset: int, tlv_type: int) -> None:
    with pytest.raises(TlvError) as info:
        N1.decode(h(stream), base=5)
    assert info.value.reason == "unknown_even_type"
    assert (info.value.offset, info.value.tlv_type) == (offset + 5, tlv_type)


# (stream, reason, offset, tlv_type) — BOLT 1 › Appendix B failure list, offset of the record.
SCHEMA_ERRORS = [
    ("01 09 ffffffffffffffffff", "length_above_fixed_size", 0, 1),
    ("01 01 00", "truncated_int_not_minimal", 0, 1),
    ("01 02 0001", "truncated_int_not_minimal", 0, 1),
    ("01 08 0001000000000000", "truncated_int_not_minimal", 0, 1),
    ("02 07 01010101010101", "length_below_fixed_size", 0, 2),
    ("02 09 010101010101010101", "length_above_fixed_size", 0, 2),
    ("03 21 " + NODE_ID.hex(), "length_below_fixed_size", 0, 3),
    ("03 32 " + NODE_ID.hex() + "00" * 17, "length_above_fixed_size", 0, 3),
    (
        "03 31 04" + NODE_ID.hex()[2:] + "0000000000000001 0000000000000002",
        "invalid_point",
        0,
        3,
    ),
    ("01 00 | fd00fe 00", "length_below_fixed_size", 2, 254),
    ("01 00 | fd00fe 01 01", "length_below_fixed_size", 2, 254),
    ("01 00 | fd00fe 03 010101", "length_above_fixed_size", 2, 254),
]


@pytest.mark.parametrize(("stream", "reason", "offset", "tlv_type"), SCHEMA_ERRORS)
def test_schema_value_errors(stream: str, reason: str, offset: int, tlv_type: int) -> None:
    with pytest.raises(TlvError) as info:
        N1.decode(h(stream), base=10)
    assert (info.value.reason, info.value.offset, info.value.tlv_type) == (
        reason, offset + 10, tlv_type,
    )


def test_schema_encode_sorts_known_and_unknown() -> None:
    out = N1.encode({254: 550, 1: 0x0100}, [TlvRecord(7, b"\xaa")])
    assert out == h("01 02 0100 | 07 01 aa | fd00fe 02 0226")


def test_schema_encode_refuses_unknown_colliding_with_known() -> None:
    with pytest.raises(EncodeError):
        N1.encode({1: 5}, [TlvRecord(1, b"\x05")])


def test_schema_encode_refuses_a_type_it_does_not_know() -> None:
    with pytest.raises(EncodeError) as info:
        N1.encode({9: b"\x01"})
    assert (info.value.tlv_type, info.value.reason) == (9, "unknown_type")


def test_schema_name_of() -> None:
    assert N1.name_of(254) == "tlv4"
    assert N1.name_of(253) is None


# --- the hop payload namespace's custom-range rule ---------------------------------------------


def test_hop_payload_schema_refuses_unknown_even_custom_record() -> None:
    # BOLT 1: an unknown even type is refused in any range (the lnd profile keeps it).
    with pytest.raises(TlvError) as info:
        HOP_PAYLOAD_SCHEMA.decode(h("02 00 | 04 00 | fe00010000 02 1011"))
    assert (info.value.tlv_type, info.value.offset) == (0x10000, 4)


@pytest.mark.parametrize(
    ("stream", "offset", "tlv_type"),
    [
        ("00 00 | 02 00 | 04 00", 0, 0),
        ("02 00 | 04 00 | 80 00", 4, 0x80),
        ("02 00 | 04 00 | fdfffe 00", 4, 0xFFFE),
        ("02 00 | 04 00 | 14 00", 4, 20),
    ],
)
def test_hop_payload_schema_refuses_unknown_even_below_custom_range(
    stream: str, offset: int, tlv_type: int
) -> None:
    with pytest.raises(TlvError) as info:
        HOP_PAYLOAD_SCHEMA.decode(h(stream))
    assert info.value.reason == "unknown_even_type"
    assert (info.value.offset, info.value.tlv_type) == (offset, tlv_type)


def test_hop_payload_schema_keeps_unknown_odd() -> None:
    decoded = HOP_PAYLOAD_SCHEMA.decode(h("02 00 | 04 00 | fd0201 02 0102 | fe00010001 00"))
    assert decoded.unknown == (TlvRecord(513, b"\x01\x02"), TlvRecord(0x10001, b""))


# --- short_channel_id (BOLT 7) ---------------------------------------------------------------


def test_short_channel_id_layout() -> None:
    scid = SCID.decode(h("0a0b0c 0d0e0f 1011"), 0)
    assert scid == ShortChannelId(0x0A0B0C, 0x0D0E0F, 0x1011)
    assert str(scid) == f"{0x0A0B0C}x{0x0D0E0F}x{0x1011}"
    assert SCID.encode(scid) == h("0a0b0c0d0e0f1011")


@pytest.mark.parametrize(
    "scid", [ShortChannelId(2**24, 0, 0), ShortChannelId(0, 2**24, 0), ShortChannelId(0, 0, 2**16)]
)
def test_short_channel_id_out_of_range(scid: ShortChannelId) -> None:
    with pytest.raises(EncodeError):
        SCID.encode(scid)
