"""Typed hop payloads and the role rules (BOLT 4 › `payload` format › Requirements).

Byte strings come from the BOLT 4 onion vector (`onion-test.json` hop payloads), from lnd's
hop-payload test table (htlcswitch/hop/payload_test.go: MPP, AMP, custom records), or are
written by hand; offsets are counted in those literals.
"""

from __future__ import annotations

import pytest

from sphinxamp import AmpRecord, HopPayload, PaymentData, Role, ShortChannelId, decode_payload
from sphinxamp._payload import KEYSEND_TYPE, parse_role, validate_role
from sphinxamp.errors import EncodeError, InvalidOnionPayload
from sphinxamp.wire import TlvRecord
from tests.strategies import pubkey_of

POINT = pubkey_of(bytes([0x33]) * 32).hex()

# encrypted_recipient_data: at least the 16-byte Poly1305 tag of its AEAD (18 bytes with its
# type and length), so a record after it starts 18 bytes further on.
ENC = "0a 10 " + "0302" * 8


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", "").replace("|", ""))


# BOLT 4 onion-test.json, hops[1] and hops[4] without their length prefix.
VECTOR_HOP1 = h(
    "02 02 36b0 | 04 02 0578 | 06 08 0000000000000002 | fd0201 3c"
    + "0102030405060708090a0b0c0d0e0f" * 4
)
VECTOR_SECRET = h("24a33562c54507a9334e79f0dc4f17d407e6d7c61f0e2f3d0d38599502f61704")
VECTOR_HOP4 = h("02 02 2710 | 04 02 03e8 | 08 22") + VECTOR_SECRET + h("2710 | fd012d e0") + (
    b"\x2a" * 224
)

# lnd htlcswitch/hop/payload_test.go
LND_INTERMEDIATE = h("02 00 | 04 00 | 06 08 0100000000000000")
LND_MPP = h("08 21") + b"\x11" * 32 + h("08")
LND_AMP = h("0e 41") + b"\x12" * 32 + b"\x13" * 32 + h("09")


def violation(data: bytes, role: Role | str, **kw: object) -> InvalidOnionPayload:
    with pytest.raises(InvalidOnionPayload) as info:
        decode_payload(data, role, **kw)  # type: ignore[arg-type]
    assert info.value.failure_code == 0x4016
    return info.value


# --- the BOLT 4 vector payloads ------------------------------------------------------------------


def test_vector_intermediate_payload() -> None:
    p = decode_payload(VECTOR_HOP1, Role.INTERMEDIATE)
    assert p.amt_to_forward == 0x36B0
    assert p.outgoing_cltv_value == 0x0578
    assert p.short_channel_id == ShortChannelId(0, 0, 2)
    assert p.unknown_records == (TlvRecord(513, bytes(range(1, 16)) * 4),)
    assert p.custom_records == ()
    assert p.encode() == VECTOR_HOP1


def test_vector_final_payload() -> None:
    p = decode_payload(VECTOR_HOP4, Role.FINAL)
    assert (p.amt_to_forward, p.outgoing_cltv_value) == (10000, 1000)
    assert p.payment_data == PaymentData(VECTOR_SECRET, 10000)
    assert p.unknown_records == (TlvRecord(301, b"\x2a" * 224),)
    assert p.encode() == VECTOR_HOP4


# --- lnd's MPP / AMP records ----------------------------------------------------------------------


def test_lnd_final_hop_with_mpp() -> None:
    p = decode_payload(h("02 00 | 04 00") + LND_MPP, Role.FINAL)
    assert p.payment_data == PaymentData(b"\x11" * 32, 8)
    assert (p.amt_to_forward, p.outgoing_cltv_value) == (0, 0)


def test_lnd_final_hop_with_amp() -> None:
    p = decode_payload(h("02 00 | 04 00") + LND_AMP, Role.FINAL)
    assert p.amp == AmpRecord(b"\x12" * 32, b"\x13" * 32, 9)
    assert p.encode() == h("02 00 | 04 00") + LND_AMP


@pytest.mark.parametrize(("record", "rtype"), [(LND_MPP, 8), (LND_AMP, 14)])
def test_lnd_intermediate_hop_with_mpp_or_amp_fails_as_included(record: bytes, rtype: int) -> None:
    """lnd htlcswitch/hop/payload.go, ValidateParsedPayloadTypes: "Intermediate nodes should
    never receive MPP fields" / "... AMP fields" (lnd reports offset 0). BOLT 4's reader has
    no such rule (payment_data at a non-final hop is a writer MUST NOT; 14 is lnd's own)."""
    err = violation(LND_INTERMEDIATE + record, Role.INTERMEDIATE, profile="lnd")
    assert (err.tlv_type, err.offset, err.reason) == (rtype, 0, "record_included")
    # lnd's rule is `!isFinalHop`: inside a blinded route too.
    stream = record + h(ENC) if rtype < 10 else h(ENC) + record
    blinded = violation(stream, Role.BLINDED_INTERMEDIATE, profile="lnd",
                        path_key_from_htlc=True)
    assert (blinded.tlv_type, blinded.reason) == (rtype, "record_included")
    assert decode_payload(LND_INTERMEDIATE + record, Role.INTERMEDIATE).present_types() == {
        2, 4, 6, rtype}


def test_lnd_custom_range_even_record_is_kept() -> None:
    """lnd keeps unknown even types of the custom range for the application
    (htlcswitch/hop/payload.go, getMinRequiredViolation skips t >= CustomTypeStart)."""
    data = h("02 00 | 04 00 | fe00010000 02 1011")
    p = decode_payload(data, Role.FINAL, profile="lnd")
    assert p.custom_records == (TlvRecord(65536, b"\x10\x11"),)
    assert p.encode() == data


def test_bolt_profile_refuses_an_unknown_even_custom_record() -> None:
    # BOLT 1 › TLV reader: an unknown even type is an error, whatever its range.
    err = violation(h("02 00 | 04 00 | fe00010000 02 1011"), Role.FINAL)
    assert (err.tlv_type, err.offset, err.reason) == (65536, 4, "unknown_even_type")


def test_well_known_even_custom_record_is_known_under_the_bolt_profile() -> None:
    data = h("02 00 | 04 00 | fe00746970 02 6869")  # 7629168, a tip note
    assert decode_payload(data, Role.FINAL).custom_records == (TlvRecord(7629168, b"hi"),)


@pytest.mark.parametrize(
    ("data", "rtype", "offset"),
    [
        ("02 00 | 04 00 | 80 00", 0x80, 4),
        ("00 00 | 02 00 | 04 00", 0, 0),
        ("02 00 | 04 00 | 06 08 0100000000000000 | 80 00", 0x80, 14),
    ],
)
def test_lnd_unknown_required_type(data: str, rtype: int, offset: int) -> None:
    err = violation(h(data), Role.FINAL)
    assert (err.tlv_type, err.offset, err.reason) == (rtype, offset, "unknown_even_type")


# --- record lengths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "total"),
    [("", 0), ("01", 1), ("ffffffffffffffff", 2**64 - 1), ("0100000000", 2**32)],
)
def test_payment_data_lengths_32_to_40(value: str, total: int) -> None:
    record = bytes([8, 32 + len(value) // 2]) + b"\x11" * 32 + h(value)
    p = decode_payload(h("02 00 | 04 00") + record, Role.FINAL)
    assert p.payment_data == PaymentData(b"\x11" * 32, total)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (h("08 1f") + b"\x11" * 31, "length_below_fixed_size"),
        (h("08 29") + b"\x11" * 32 + h("01") * 9, "length_above_fixed_size"),
        (h("08 21") + b"\x11" * 32 + h("00"), "truncated_int_not_minimal"),
        (h("08 22") + b"\x11" * 32 + h("0008"), "truncated_int_not_minimal"),
    ],
)
def test_payment_data_bad_lengths(record: bytes, reason: str) -> None:
    err = violation(h("02 00 | 04 00") + record, Role.FINAL, base=7)
    assert (err.tlv_type, err.offset, err.reason) == (8, 4 + 7, reason)


@pytest.mark.parametrize(
    ("index_hex", "index"), [("", 0), ("09", 9), ("0100", 256), ("ffffffff", 2**32 - 1)]
)
def test_amp_lengths_64_to_68(index_hex: str, index: int) -> None:
    record = bytes([14, 64 + len(index_hex) // 2]) + b"\x12" * 32 + b"\x13" * 32 + h(index_hex)
    p = decode_payload(h("02 00 | 04 00") + record, Role.FINAL)
    assert p.amp == AmpRecord(b"\x12" * 32, b"\x13" * 32, index)


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        (h("0e 3f") + b"\x12" * 63, "length_below_fixed_size"),
        (h("0e 45") + b"\x12" * 64 + h("0102030405"), "length_above_fixed_size"),
        (h("0e 41") + b"\x12" * 64 + h("00"), "truncated_int_not_minimal"),
        (h("0e 42") + b"\x12" * 64 + h("0009"), "truncated_int_not_minimal"),
        (h("0e 44") + b"\x12" * 64 + h("00000009"), "truncated_int_not_minimal"),
    ],
)
def test_amp_bad_lengths_and_non_minimal_child_index(tail: bytes, reason: str) -> None:
    err = violation(h("02 00 | 04 00") + tail, Role.FINAL)
    assert (err.tlv_type, err.offset, err.reason) == (14, 4, reason)


def test_keysend_preimage() -> None:
    # bLIP 3: type 5482373484 = 0x146c6616c (BigSize ff + u64), 32-byte preimage.
    data = h("02 00 | 04 00 | ff 0000000146c6616c 20") + b"\x77" * 32
    p = decode_payload(data, Role.FINAL)
    assert p.keysend_preimage == b"\x77" * 32
    assert p.custom_records == ()
    assert p.encode() == data
    # lnd reads the record as opaque bytes (record/custom_records.go: a custom record); the
    # final hop, not the parser, refuses a preimage that is not 32 bytes.
    odd = h("02 00 | 04 00 | ff 0000000146c6616c 1f") + b"\x77" * 31
    assert decode_payload(odd, Role.FINAL).keysend_preimage == b"\x77" * 31
    assert decode_payload(odd, Role.FINAL, profile="lnd").keysend_preimage == b"\x77" * 31


@pytest.mark.parametrize(
    ("data", "rtype", "offset", "reason"),
    [
        ("02 01 00", 2, 0, "truncated_int_not_minimal"),
        ("02 09 010203040506070809", 2, 0, "length_above_fixed_size"),
        ("02 00 | 04 05 0102030405", 4, 2, "length_above_fixed_size"),
        ("02 00 | 04 00 | 06 07 01010101010101", 6, 4, "length_below_fixed_size"),
        (ENC + " | 0c 21 04" + "11" * 32, 12, 18, "invalid_point"),
        ("0a 0f " + "00" * 15, 10, 0, "length_below_fixed_size"),  # shorter than its tag
        ("02", 2, 1, "length_missing"),
        ("04 00 | 02 00", 2, 2, "not_strictly_increasing"),
    ],
)
def test_malformed_records_are_invalid_onion_payload(
    data: str, rtype: int, offset: int, reason: str
) -> None:
    with pytest.raises(InvalidOnionPayload) as info:
        decode_payload(h(data), base=3)
    assert (info.value.tlv_type, info.value.offset, info.value.reason) == (
        rtype, offset + 3, reason,
    )


# --- role rules ---------------------------------------------------------------------------------

SCID = "06 08 0100000000000000"
CPK = "0c 21 " + POINT  # current_path_key


@pytest.mark.parametrize(
    ("data", "rtype", "offset", "reason"),
    [
        # not blinded: 2 and 4 required; 6 required for an intermediate hop
        ("04 00 | " + SCID, 2, 0, "record_omitted"),
        ("02 00 | " + SCID, 4, 2, "record_omitted"),
        ("02 00 | 04 00", 6, 4, "record_omitted"),
        ("", 2, 0, "record_omitted"),
        # current_path_key outside a blinded route
        ("02 00 | 04 00 | " + SCID + " | " + CPK, 12, 14, "record_included"),
    ],
)
def test_intermediate_rules(data: str, rtype: int, offset: int, reason: str) -> None:
    err = violation(h(data), Role.INTERMEDIATE, base=10)
    assert (err.tlv_type, err.offset, err.reason) == (rtype, offset + 10, reason)


@pytest.mark.parametrize(
    ("data", "rtype", "offset", "reason"),
    [
        ("", 2, 0, "record_omitted"),
        ("04 00", 2, 0, "record_omitted"),
        ("02 00", 4, 2, "record_omitted"),
        ("02 00 | 05 00", 4, 2, "record_omitted"),
        ("02 00 | 04 00 | " + CPK, 12, 4, "record_included"),
    ],
)
def test_final_rules(data: str, rtype: int, offset: int, reason: str) -> None:
    err = violation(h(data), Role.FINAL)
    assert (err.tlv_type, err.offset, err.reason) == (rtype, offset, reason)


def test_final_accepts_the_bolt4_final_records() -> None:
    data = h("02 01 05 | 04 01 06 | 08 21") + b"\x11" * 32 + h("05 | 10 02 abcd")
    p = decode_payload(data, "final")
    assert p.payment_metadata == b"\xab\xcd"
    assert p.payment_data == PaymentData(b"\x11" * 32, 5)




def test_blinded_intermediate_accepts_data_and_path_key() -> None:
    p = decode_payload(h(ENC), Role.BLINDED_INTERMEDIATE)
    assert p.encrypted_recipient_data == h("0302" * 8)
    p = decode_payload(h(ENC + CPK), Role.BLINDED_INTERMEDIATE, path_key_from_htlc=False)
    assert p.current_path_key == bytes.fromhex(POINT)
    decode_payload(h(ENC), Role.BLINDED_INTERMEDIATE, path_key_from_htlc=True)


@pytest.mark.parametrize(
    ("data", "rtype", "offset"),
    [
        ("02 00 | 04 00 | " + ENC, 2, 0),  # nothing but 10 and 12
        ("01 00 | " + ENC, 1, 0),  # not even an unknown odd record
        (ENC + " | 0d 00", 13, 18),
        (ENC + " | fe00010001 00", 0x10001, 18),
        ("06 08 0100000000000000 | " + ENC, 6, 0),
    ],
)
def test_blinded_intermediate_refuses_other_records(data: str, rtype: int, offset: int) -> None:
    err = violation(h(data), Role.BLINDED_INTERMEDIATE)
    assert (err.tlv_type, err.offset, err.reason) == (rtype, offset, "record_included")


def test_blinded_intermediate_requires_encrypted_data() -> None:
    err = violation(h(CPK), Role.BLINDED_INTERMEDIATE)
    assert (err.tlv_type, err.offset, err.reason) == (10, 0, "record_omitted")


def test_blinded_path_key_from_htlc_and_payload_both() -> None:
    err = violation(h(ENC + CPK), Role.BLINDED_INTERMEDIATE, path_key_from_htlc=True)
    assert (err.tlv_type, err.offset, err.reason) == (12, 18, "record_included")


def test_blinded_path_key_from_neither() -> None:
    err = violation(h(ENC), Role.BLINDED_INTERMEDIATE, path_key_from_htlc=False)
    assert (err.tlv_type, err.offset, err.reason) == (12, 18, "record_omitted")


BLINDED_FINAL = "02 01 0b | 04 01 11 | " + ENC + " | 12 01 05"


def test_blinded_final_accepts_its_records() -> None:
    p = decode_payload(h(BLINDED_FINAL), Role.BLINDED_FINAL)
    assert (p.amt_to_forward, p.outgoing_cltv_value, p.total_amount_msat) == (0x0B, 0x11, 5)
    decode_payload(h("02 01 0b | 04 01 11 | " + ENC + " | " + CPK + " | 12 01 05"),
                   Role.BLINDED_FINAL, path_key_from_htlc=False)


@pytest.mark.parametrize(
    ("data", "rtype", "offset", "reason"),
    [
        ("04 01 11 | " + ENC + " | 12 01 05", 2, 0, "record_omitted"),
        ("02 01 0b | " + ENC + " | 12 01 05", 4, 3, "record_omitted"),
        ("02 01 0b | 04 01 11 | 12 01 05", 10, 6, "record_omitted"),
        ("02 01 0b | 04 01 11 | " + ENC, 18, 24, "record_omitted"),
        ("02 01 0b | 04 01 11 | 08 20" + "11" * 32 + " | " + ENC + " | 12 01 05", 8, 6,
         "record_included"),
        ("02 01 0b | 04 01 11 | " + SCID + " | " + ENC + " | 12 01 05", 6, 6, "record_included"),
        (BLINDED_FINAL + " | 13 00", 19, 27, "record_included"),
        ("02 01 0b | 04 01 11 | " + ENC + " | 10 00 | 12 01 05", 16, 24, "record_included"),
    ],
)
def test_blinded_final_rules(data: str, rtype: int, offset: int, reason: str) -> None:
    err = violation(h(data), Role.BLINDED_FINAL)
    assert (err.tlv_type, err.offset, err.reason) == (rtype, offset, reason)


@pytest.mark.parametrize("role", [Role.INTERMEDIATE, Role.FINAL])
def test_unblinded_role_refuses_a_path_key_from_the_htlc(role: Role) -> None:
    # BOLT 4: not part of a blinded route → "MUST return an error if `path_key` is set in
    # the incoming `update_add_htlc`". lnd reports it as encrypted_recipient_data omitted.
    data = LND_INTERMEDIATE if role is Role.INTERMEDIATE else h("02 00 | 04 00")
    decode_payload(data, role, path_key_from_htlc=False)
    err = violation(data, role, path_key_from_htlc=True)
    assert err.tlv_type == 10
    assert err.reason == "record_omitted"
    assert err.offset == (14 if role is Role.INTERMEDIATE else 4)


def test_roles_by_their_string_values() -> None:
    assert [r.value for r in Role] == [
        "intermediate", "final", "blinded-intermediate", "blinded-final",
    ]
    assert parse_role("blinded-final") is Role.BLINDED_FINAL
    assert Role.BLINDED_FINAL.blinded and Role.BLINDED_FINAL.final
    assert not Role.INTERMEDIATE.blinded and not Role.INTERMEDIATE.final


def test_parse_role_refuses_unknown_names() -> None:
    from sphinxamp.errors import InvalidArgument

    with pytest.raises(InvalidArgument) as info:
        parse_role("relay")
    assert info.value.reason == "unknown_role"


@pytest.mark.parametrize("role", ["relay", "FINAL", ""])
def test_decode_payload_refuses_unknown_role_names_with_a_typed_error(role: str) -> None:
    from sphinxamp.errors import InvalidArgument

    with pytest.raises(InvalidArgument) as info:
        decode_payload(h("02 00 | 04 00"), role)
    assert info.value.reason == "unknown_role"


@pytest.mark.parametrize(
    "extra",
    [
        "10 02 abcd",  # payment_metadata: BOLT 4 puts it on the final hop but no reader refuses it
        "12 01 07",  # total_amount_msat
        "ff 00000001 46c6616c 20" + "33" * 32,  # the keysend record (custom range)
    ],
)
def test_intermediate_lets_through_records_no_reader_is_told_to_refuse(extra: str) -> None:
    payload = decode_payload(h("02 00 | 04 00 | " + SCID + " | " + extra), Role.INTERMEDIATE)
    assert payload.short_channel_id is not None


def test_final_lets_through_total_amount_msat_outside_a_blinded_route() -> None:
    payload = decode_payload(h("02 01 05 | 04 01 06 | 12 01 07"), Role.FINAL)
    assert payload.total_amount_msat == 7

# --- encode, round trips, validate_role ----------------------------------------------------------


def test_encode_writes_records_in_type_order() -> None:
    p = HopPayload(
        amt_to_forward=10000,
        outgoing_cltv_value=1000,
        payment_data=PaymentData(VECTOR_SECRET, 10000),
        unknown_records=(TlvRecord(301, b"\x2a" * 224),),
    )
    assert p.encode() == VECTOR_HOP4


def test_unknown_and_custom_records_round_trip_byte_for_byte() -> None:
    data = (
        h("01 02 abcd | 02 01 07 | 04 01 08 | 0b 00 | fd0201 01 ff")
        + h("fe00010000 00 | fe00010001 03 010203 | ff 0000000146c6616c 20")
        + b"\x55" * 32
        + h("ff 0000000146c6616d 01 99")
    )
    p = decode_payload(data, profile="lnd")
    assert p.unknown_records == (
        TlvRecord(1, h("abcd")), TlvRecord(11, b""), TlvRecord(513, b"\xff"),
    )
    assert p.custom_records == (
        TlvRecord(65536, b""), TlvRecord(65537, h("010203")), TlvRecord(5482373485, b"\x99"),
    )
    assert p.keysend_preimage == b"\x55" * 32
    assert p.encode() == data


@pytest.mark.parametrize(
    "payload",
    [
        HopPayload(custom_records=(TlvRecord(65535, b""),)),
        HopPayload(custom_records=(TlvRecord(KEYSEND_TYPE, bytes(32)),)),
        HopPayload(unknown_records=(TlvRecord(65537, b""),)),
        HopPayload(unknown_records=(TlvRecord(2, b""),)),
        HopPayload(amt_to_forward=2**64),
        HopPayload(outgoing_cltv_value=2**32),
        HopPayload(payment_data=PaymentData(bytes(31), 1)),
        HopPayload(current_path_key=bytes(32)),
        # 33 bytes, but not a point: decode would refuse what encode wrote
        HopPayload(current_path_key=b"\x04" + bytes(32)),
        HopPayload(current_path_key=b"\x02" + (2**256 - 1).to_bytes(32, "big")),
    ],
)
def test_encode_refuses_what_cannot_be_written(payload: HopPayload) -> None:
    with pytest.raises(EncodeError):
        payload.encode()


def test_validate_role_reports_offsets_of_the_encoding() -> None:
    # encodes as 02 01 01 | 06 08 ..: 4 is missing before the scid record at offset 3
    p = HopPayload(amt_to_forward=1, short_channel_id=ShortChannelId(1, 0, 0))
    with pytest.raises(InvalidOnionPayload) as info:
        validate_role(p, Role.INTERMEDIATE)
    assert (info.value.tlv_type, info.value.offset) == (4, 3)
    validate_role(HopPayload(amt_to_forward=1, outgoing_cltv_value=2), "final")
