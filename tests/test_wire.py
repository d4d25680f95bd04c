"""The five message codecs (BOLT 2 › Adding an HTLC, › Removing an HTLC; BOLT 4 › The
`onion_message` Message), against messages written from the BOLT text in `wire_reference`."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sphinxamp import decode_message, encode_message
from sphinxamp.errors import DecodeError, EncodeError, InvalidArgument, WireError
from sphinxamp.messages import (
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
    WireOnionMessage,
    message_from_json,
    message_to_json,
)
from sphinxamp.wire import TlvRecord
from tests.strategies import U64_MAX, private_keys, pubkey_of, ref_bigsize
from tests.wire_reference import (
    FIRST_PATH_KEY,
    LAYOUTS,
    RECORDS,
    attribution_case,
    bolt04_onion,
    onion_message_case,
    ref_fixed_end,
    ref_message,
)

ONION, PAYMENT_HASH = bolt04_onion()
REASON, FAIL_ATTRIBUTION, FULFILL_ATTRIBUTION = attribution_case()
ONION_MESSAGE, ONION_MESSAGE_PACKET = onion_message_case()
CHANNEL_ID = bytes(range(32))
ACCOUNTABLE = 106823  # bLIP 4 › Specification


def vector_messages() -> dict[str, tuple[dict[str, Any], list[tuple[int, bytes]]]]:
    """Each message built around the vectors: fields, and TLV records in type order."""
    return {
        "update_add_htlc": ({"channel_id": CHANNEL_ID, "id": 7, "amount_msat": 15_000,
                             "payment_hash": PAYMENT_HASH, "cltv_expiry": 800_000,
                             "onion_routing_packet": ONION},
                            [(0, FIRST_PATH_KEY), (ACCOUNTABLE, b"\x07")]),
        "update_fulfill_htlc": ({"channel_id": CHANNEL_ID, "id": 7,
                                 "payment_preimage": b"\x41" * 32},
                                [(1, FULFILL_ATTRIBUTION)]),
        "update_fail_htlc": ({"channel_id": CHANNEL_ID, "id": 7, "reason": REASON},
                             [(1, FAIL_ATTRIBUTION), (5, b"odd")]),
        "update_fail_malformed_htlc": ({"channel_id": CHANNEL_ID, "id": 7,
                                        "sha256_of_onion": b"\x5a" * 32,
                                        "failure_code": 0xC005}, []),
        "onion_message": ({"path_key": FIRST_PATH_KEY,
                           "onion_message_packet": ONION_MESSAGE_PACKET}, [(65537, b"")]),
    }


def expected_fields(name: str, fields: dict[str, Any], records: list[tuple[int, bytes]]
                    ) -> dict[str, Any]:
    """What the decoded message must hold: the fields, each known record under its attribute
    (the accountable byte as an integer), the rest as unknown records."""
    out = dict(fields)
    known = RECORDS[name]
    for attr in known.values():
        out[attr] = None
    unknown = []
    for rtype, value in records:
        if rtype in known:
            out[known[rtype]] = value[0] if rtype == ACCOUNTABLE else value
        else:
            unknown.append(TlvRecord(rtype, value))
    out["unknown_tlvs"] = tuple(unknown)
    return out


def fields_of(msg: Any) -> dict[str, Any]:
    return {f.name: getattr(msg, f.name) for f in dataclasses.fields(msg)}


@pytest.mark.parametrize("name", LAYOUTS)
def test_vector_messages_decode_and_round_trip(name: str) -> None:
    fields, records = vector_messages()[name]
    data = ref_message(name, fields, records)
    msg = decode_message(data)
    assert (msg.type, msg.name) == (LAYOUTS[name][0], name)
    assert fields_of(msg) == expected_fields(name, fields, records)
    assert encode_message(msg) == data
    assert type(msg)(**fields_of(msg)) == msg


def test_the_bolt4_onion_rides_whole_in_update_add_htlc() -> None:
    fields, _ = vector_messages()["update_add_htlc"]
    msg = decode_message(ref_message("update_add_htlc", fields, []))
    assert isinstance(msg, UpdateAddHtlc)
    assert msg.onion_routing_packet == ONION and len(ONION) == 1366
    assert (msg.path_key, msg.accountable, msg.unknown_tlvs) == (None, None, ())


def test_bolt4_onion_message_vector_decodes_and_round_trips() -> None:
    msg = decode_message(ONION_MESSAGE)
    assert isinstance(msg, WireOnionMessage)
    assert msg.onion_message_packet == ONION_MESSAGE_PACKET
    assert msg.path_key == ONION_MESSAGE[2:35]
    assert encode_message(msg) == ONION_MESSAGE


def _add_htlc(records: list[tuple[int, bytes]]) -> bytes:
    return ref_message("update_add_htlc", vector_messages()["update_add_htlc"][0], records)


def test_tlv0_blinded_path_holds_the_path_key() -> None:
    msg = decode_message(_add_htlc([(0, FIRST_PATH_KEY)]))
    assert isinstance(msg, UpdateAddHtlc) and msg.path_key == FIRST_PATH_KEY
    # 0x04 is no compressed point's prefix: the record's value is refused, at the record.
    bad = _add_htlc([(0, b"\x04" + FIRST_PATH_KEY[1:])])
    with pytest.raises(WireError) as err:
        decode_message(bad)
    start = ref_fixed_end("update_add_htlc", bad)
    assert (err.value.tlv_type, err.value.offset, err.value.field) == (0, start, "blinded_path")
    with pytest.raises(WireError) as short:
        decode_message(_add_htlc([(0, FIRST_PATH_KEY[:32])]))
    assert short.value.reason == "length_below_fixed_size"


@pytest.mark.parametrize("value", [0, 7, 1, 0xFF])
def test_accountable_signal_is_one_byte_kept_as_read(value: int) -> None:
    msg = decode_message(_add_htlc([(ACCOUNTABLE, bytes([value]))]))
    assert isinstance(msg, UpdateAddHtlc) and msg.accountable == value
    assert encode_message(msg) == _add_htlc([(ACCOUNTABLE, bytes([value]))])


@pytest.mark.parametrize("value", [b"", b"\x07\x00"])
def test_accountable_signal_of_another_length_is_refused(value: bytes) -> None:
    with pytest.raises(WireError) as err:
        decode_message(_add_htlc([(ACCOUNTABLE, value)]))
    assert err.value.tlv_type == ACCOUNTABLE


@pytest.mark.parametrize("value", [256, -1])
def test_accountable_signal_outside_a_byte_is_not_written(value: int) -> None:
    msg = decode_message(_add_htlc([]))
    assert isinstance(msg, UpdateAddHtlc)
    with pytest.raises(EncodeError):
        encode_message(UpdateAddHtlc(**{**fields_of(msg), "accountable": value}))


@pytest.mark.parametrize("name", ["update_fulfill_htlc", "update_fail_htlc"])
def test_attribution_data_is_920_bytes(name: str) -> None:
    fields, records = vector_messages()[name]
    msg = decode_message(ref_message(name, fields, records))
    assert isinstance(msg, UpdateFulfillHtlc | UpdateFailHtlc)
    assert msg.attribution_data == records[0][1] and len(records[0][1]) == 920
    for size in (919, 921):
        with pytest.raises(WireError) as err:
            decode_message(ref_message(name, fields, [(1, bytes(size))]))
        assert err.value.tlv_type == 1


@pytest.mark.parametrize("name", LAYOUTS)
def test_unknown_odd_kept_unknown_even_refused(name: str) -> None:
    fields, _ = vector_messages()[name]
    odd = [(3, b"\x01\x02"), (0x10001, b""), (U64_MAX, b"x")]
    msg = decode_message(ref_message(name, fields, odd))
    assert msg.unknown_tlvs == tuple(TlvRecord(t, v) for t, v in odd)
    assert encode_message(msg) == ref_message(name, fields, odd)
    even = ref_message(name, fields, [(3, b""), (0x10002, b"\x00")])
    with pytest.raises(WireError) as err:
        decode_message(even)
    start = ref_fixed_end(name, even) + 2  # after the empty record of type 3
    assert (err.value.reason, err.value.tlv_type, err.value.offset) == (
        "unknown_even_type", 0x10002, start)
    with pytest.raises(EncodeError):
        encode_message(type(msg)(**{**fields_of(msg), "unknown_tlvs": (TlvRecord(4, b""),)}))


@pytest.mark.parametrize("code", [0x4005, 0x0000, 0x7FFF])
def test_fail_malformed_without_badonion_is_refused(code: int) -> None:
    fields = {**vector_messages()["update_fail_malformed_htlc"][0], "failure_code": code}
    with pytest.raises(WireError) as err:
        decode_message(ref_message("update_fail_malformed_htlc", fields, []))
    assert (err.value.field, err.value.offset, err.value.reason) == (
        "failure_code", 2 + 32 + 8 + 32, "badonion_bit_missing")
    with pytest.raises(EncodeError):
        encode_message(UpdateFailMalformedHtlc(CHANNEL_ID, 1, bytes(32), code))


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_truncation_is_refused_unless_it_ends_a_record(name: str) -> None:
    fields, records = vector_messages()[name]
    data = ref_message(name, fields, records)
    ends = {ref_fixed_end(name, data)}
    for rtype, value in records:  # a stream may stop after any whole record
        last = max(ends)
        ends.add(last + len(ref_bigsize(rtype)) + len(ref_bigsize(len(value))) + len(value))
    for cut in range(len(data)):
        try:
            msg = decode_message(data[:cut])
        except WireError as exc:
            assert cut not in ends, f"refused a whole message cut at {cut}"
            assert exc.reason and exc.offset is not None and 0 <= exc.offset <= cut
            continue
        assert cut in ends, f"accepted a message cut at byte {cut}"
        assert encode_message(msg) == data[:cut]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "truncated"), (b"\x00", "truncated"), (b"\x00\x81", "unknown_message_type"),
    (b"\x02\x02", "unknown_message_type"), (b"\x00\x80" + bytes(65534), "message_too_long"),
])
def test_framing_refusals(data: bytes, reason: str) -> None:
    with pytest.raises(WireError) as err:
        decode_message(data)
    assert err.value.reason == reason


def test_length_prefix_past_the_end_is_refused_before_slicing() -> None:
    data = (131).to_bytes(2, "big") + CHANNEL_ID + bytes(8) + b"\xff\xff" + b"abc"
    with pytest.raises(WireError) as err:
        decode_message(data)
    assert (err.value.field, err.value.offset) == ("reason", 44)


def test_a_message_over_65535_bytes_is_not_written() -> None:
    with pytest.raises(EncodeError):
        encode_message(WireOnionMessage(FIRST_PATH_KEY, bytes(65535 - 37 + 1)))
    assert len(encode_message(WireOnionMessage(FIRST_PATH_KEY, bytes(65535 - 37)))) == 65535


# --- properties ---------------------------------------------------------------------------

points = private_keys.map(pubkey_of)
u64s = st.integers(0, U64_MAX)
odd_records = st.lists(st.tuples(st.integers(0, U64_MAX // 2).map(lambda t: 2 * t + 1),
                                 st.binary(max_size=40)), max_size=4, unique_by=lambda r: r[0])


@st.composite
def messages(draw: st.DrawFn, name: str) -> tuple[dict[str, Any], list[tuple[int, bytes]]]:
    b32 = st.binary(min_size=32, max_size=32)
    records = sorted(draw(odd_records))
    if name == "update_add_htlc":
        fields = {"channel_id": draw(b32), "id": draw(u64s), "amount_msat": draw(u64s),
                  "payment_hash": draw(b32), "cltv_expiry": draw(st.integers(0, 2**32 - 1)),
                  "onion_routing_packet": draw(st.binary(min_size=1366, max_size=1366))}
        records = [r for r in records if r[0] != ACCOUNTABLE]
        if draw(st.booleans()):
            records.append((0, draw(points)))
        if draw(st.booleans()):
            records.append((ACCOUNTABLE, draw(st.binary(min_size=1, max_size=1))))
    elif name == "update_fulfill_htlc" or name == "update_fail_htlc":
        third = ("payment_preimage", draw(b32)) if name == "update_fulfill_htlc" else (
            "reason", draw(st.binary(max_size=600)))
        fields = {"channel_id": draw(b32), "id": draw(u64s), third[0]: third[1]}
        records = [r for r in records if r[0] != 1]
        if draw(st.booleans()):
            records.append((1, draw(st.binary(min_size=920, max_size=920))))
    elif name == "update_fail_malformed_htlc":
        fields = {"channel_id": draw(b32), "id": draw(u64s), "sha256_of_onion": draw(b32),
                  "failure_code": draw(st.integers(0x8000, 0xFFFF))}
    else:
        fields = {"path_key": draw(points),
                  "onion_message_packet": draw(st.binary(max_size=2000))}
    return fields, sorted(records)


@pytest.mark.parametrize("name", LAYOUTS)
@given(data=st.data())
def test_every_message_round_trips(name: str, data: st.DataObject) -> None:
    fields, records = data.draw(messages(name))
    wire = ref_message(name, fields, records)
    msg = decode_message(wire)
    assert fields_of(msg) == expected_fields(name, fields, records)
    assert encode_message(msg) == wire
    assert message_from_json(message_to_json(msg)) == msg


@given(st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from([128, 130, 131, 135, 513]), st.binary(max_size=1600)).map(
        lambda t: t[0].to_bytes(2, "big") + t[1]),
))
def test_arbitrary_bytes_only_raise_decode_errors(data: bytes) -> None:
    try:
        msg = decode_message(data)
    except DecodeError as exc:
        assert isinstance(exc, WireError) and exc.reason
        return
    assert encode_message(msg) == data


@pytest.mark.parametrize(("obj", "field"), [
    ({"type": 130, "channel_id": "00" * 32, "id": 1}, "payment_preimage"),
    ({"name": "update_fulfill_htlc", "channel_id": "00" * 32, "id": True,
      "payment_preimage": "00" * 32}, "id"),
    ({"type": 131, "name": "onion_message"}, "name"),
    ({"type": 131, "channel_id": "00" * 32, "id": 1, "reason": "zz"}, "reason"),
    ({"type": 131, "channel_id": "00" * 32, "id": 1, "reason": "00", "len": 2}, "len"),
    ({"type": 135, "channel_id": "00" * 32, "id": 1, "sha256_of_onion": "00" * 32,
      "failure_code": 1, "extra": 1}, "extra"),
    ([1], "message"),
])
def test_json_that_describes_no_message_is_refused(obj: Any, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        message_from_json(obj)
    assert err.value.field == field
