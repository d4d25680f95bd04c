"""The trampoline records in the payload registry and the payload codec of both formats.

Type 14 means three things on the wire: lnd's AMP record in a plain payload (profile "bolt"
and "lnd"), outgoing_node_id in the proposal's trampoline payload (lightning/bolts#836,
04-onion-routing.md › Packet Structure; LDK msgs.rs, `(14, outgoing_node_id, required)`), and
nothing in the legacy format, whose node id is 66098 (Eclair PaymentOnion.scala,
PaymentOnionCodecs.onionTlvCodec; Electrum lnwire/onion_wire.csv). The byte strings below are
written from those definitions by hand.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp import decode_payload
from sphinxamp.errors import DecodeError, InvalidArgument, InvalidOnionPayload
from sphinxamp.payments import (
    TRAMPOLINE_FORMATS,
    TrampolinePayload,
    decode_blinded_paths,
    decode_trampoline_payload,
    trampoline_format,
)
from sphinxamp.wire import PROFILE_SCHEMAS, TRAMPOLINE_PROFILES, TRAMPOLINE_RECORDS, profile_record
from tests.strategies import ref_stream

NODE = bytes.fromhex("02edabbd16b41c8371b92ef2f04c1185b4f03b6dcd52ba9b78d9d7c89c8f221145")
# amt_to_forward 561, outgoing_cltv_value 42 (tu64 0x0231, tu32 0x2a)
HEAD = [(2, bytes.fromhex("0231")), (4, bytes.fromhex("2a"))]


def test_type_14_is_outgoing_node_id_under_the_proposal_and_amp_elsewhere() -> None:
    assert profile_record(14, "trampoline") == ("outgoing_node_id", "trampoline")
    assert profile_record(14, "bolt") == ("amp", "lnd")
    assert profile_record(14, "lnd") == ("amp", "lnd")
    assert profile_record(14, "trampoline-legacy") is None
    assert profile_record(66098, "trampoline-legacy") == ("outgoing_node_id",
                                                          "trampoline-legacy")
    assert profile_record(66098, "trampoline") is None
    assert profile_record(2, "trampoline-legacy") == ("amt_to_forward", "bolt")
    assert profile_record(20, "bolt") is None and profile_record(99, "nonsense") is None


def test_one_decode_reads_14_as_a_node_id_never_as_amp() -> None:
    raw = ref_stream([*HEAD, (14, NODE)])
    payload, offsets = decode_trampoline_payload(raw, "trampoline")
    assert payload.outgoing_node_id == NODE and offsets == {2: 0, 4: 4, 14: 7}
    assert list(payload.named_records()) == [(2, "amt_to_forward", "bolt"),
                                             (4, "outgoing_cltv_value", "bolt"),
                                             (14, "outgoing_node_id", "trampoline")]
    assert not hasattr(payload, "amp")
    # The same bytes in a plain payload: 33 bytes are no AMP record (share ‖ set_id ‖ index).
    with pytest.raises(InvalidOnionPayload) as info:
        decode_payload(raw)
    assert info.value.tlv_type == 14


def test_legacy_refuses_type_14_as_an_unknown_even_type() -> None:
    with pytest.raises(InvalidOnionPayload) as info:
        decode_trampoline_payload(ref_stream([*HEAD, (14, NODE)]), "trampoline-legacy")
    assert (info.value.tlv_type, info.value.offset, info.value.reason) == (
        14, 7, "unknown_even_type")


def test_bolt_keeps_refusing_unknown_even_types() -> None:
    for rtype in (20, 22, 66100, 66102):
        with pytest.raises(InvalidOnionPayload) as info:
            decode_payload(ref_stream([*HEAD, (rtype, b"\x00" * 66)]))
        assert info.value.tlv_type == rtype and info.value.reason == "unknown_even_type"
    # An unknown odd type stays fine everywhere.
    for profile in ("trampoline", "trampoline-legacy"):
        payload, _ = decode_trampoline_payload(ref_stream([*HEAD, (23, b"x")]), profile)
        assert [r.type for r in payload.unknown_records] == [23]


def test_registry_records_name_their_profile_and_source() -> None:
    by = {(r.profile, r.type): r for r in TRAMPOLINE_RECORDS}
    assert by[("trampoline", 20)].layer == "outer" and "836" in by[("trampoline", 20)].source
    assert by[("trampoline-legacy", 66100)].name == "trampoline_onion_packet"
    assert "PaymentOnion.scala" in by[("trampoline-legacy", 66098)].source
    assert set(TRAMPOLINE_PROFILES) == {"trampoline", "trampoline-legacy"}
    # Neither trampoline schema knows lnd's AMP record.
    for profile in TRAMPOLINE_PROFILES:
        assert "amp" not in PROFILE_SCHEMAS[profile].by_name


def test_formats_tell_each_other_apart() -> None:
    new, old = trampoline_format("trampoline"), trampoline_format("trampoline-legacy")
    assert (new.onion_type, new.outgoing_node_id_type, new.blinded_paths_type) == (20, 14, 22)
    assert (old.onion_type, old.outgoing_node_id_type, old.blinded_paths_type) == (
        66100, 66098, 66102)
    assert new.feature_bits == (56, 57) and old.feature_bits == (148, 149, 150, 151)
    assert (new.payload_area, old.payload_area) == (None, 400)
    assert new.double_wrapped_failures and not old.double_wrapped_failures
    assert set(TRAMPOLINE_FORMATS) == set(TRAMPOLINE_PROFILES)
    with pytest.raises(InvalidArgument):
        trampoline_format("bolt")


def test_payload_encodes_in_its_profiles_types() -> None:
    new = TrampolinePayload("trampoline", 561, 42, outgoing_node_id=NODE,
                            recipient_features=b"\x02")
    old = TrampolinePayload("trampoline-legacy", 561, 42, outgoing_node_id=NODE,
                            recipient_features=b"\x02")
    assert new.encode() == ref_stream([*HEAD, (14, NODE), (21, b"\x02")])
    assert old.encode() == ref_stream([*HEAD, (66097, b"\x02"), (66098, NODE)])
    with pytest.raises(InvalidArgument):
        TrampolinePayload("trampoline", 561, 42, invoice_routing_info=b"\x00").encode()


def test_blinded_paths_refuse_a_length_past_the_record() -> None:
    """A path that says it has one hop with 0xffff bytes of data, and holds 2."""
    point = NODE
    raw = point + point + b"\x01" + point + b"\xff\xff" + b"ab"
    with pytest.raises(DecodeError) as info:
        decode_blinded_paths(raw, base=100)
    assert info.value.reason == "truncated" and info.value.offset == 100 + 33 + 33 + 1 + 33 + 2
    with pytest.raises(DecodeError):
        decode_blinded_paths(b"")


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), profile=st.sampled_from(TRAMPOLINE_PROFILES))
def test_any_bytes_decode_or_raise_decode_error_only(data: bytes, profile: str) -> None:
    try:
        payload, offsets = decode_trampoline_payload(data, profile)
    except DecodeError as exc:
        assert exc.failure_code == 0x4016  # invalid_onion_payload, as the node answers
        return
    assert payload.encode() == data
    assert all(0 <= at < len(data) for at in offsets.values())


@settings(max_examples=200, deadline=None)
@given(records=st.lists(st.tuples(st.sampled_from([2, 4, 8, 12, 14, 16, 18, 20, 21, 22, 66097,
                                                   66098, 66099, 66100, 66102, 7, 65537]),
                                  st.binary(max_size=80)), max_size=8, unique_by=lambda r: r[0]),
       profile=st.sampled_from(TRAMPOLINE_PROFILES))
def test_structured_streams_decode_or_raise_decode_error_only(
        records: list[tuple[int, bytes]], profile: str) -> None:
    raw = ref_stream(sorted(records))
    try:
        payload, _ = decode_trampoline_payload(raw, profile)
    except DecodeError:
        return
    assert payload.encode() == raw
