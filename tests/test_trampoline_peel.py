"""A trampoline node's layer, rule by rule (lightning/bolts#836 › Trampoline Payments ›
Requirements; Eclair PaymentOnion.scala, IntermediatePayload.NodeRelay.*.validate; LDK
onion_utils.rs, decode_next_payment_hop): which action each payload asks for, and what a
node refuses, with the record and offset it names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp import BlindedPath, PaymentData, public_key
from sphinxamp.blinding import BlindedHop
from sphinxamp.errors import (
    DecodeError,
    InvalidOnionPayload,
    InvalidTrampolinePayload,
    PolicyError,
)
from sphinxamp.onion import peel_onion
from sphinxamp.payments import (
    TRAMPOLINE_ACTIONS,
    PaymentBlindedPath,
    TrampolineCarrier,
    TrampolineHop,
    TrampolinePayload,
    build_trampoline_onion,
    build_trampoline_payment,
    carries_trampoline,
    peel_trampoline,
)
from tests.strategies import ref_stream

AD = bytes([0x42]) * 32
KEY = bytes([0x43]) * 32
NODE, OTHER = public_key(KEY), public_key(bytes([0x44]) * 32)
HEIGHT = 1000


def _peel(payload: TrampolinePayload, *, profile: str = "trampoline",
          carrier: TrampolineCarrier | None = None) -> TrampolineHop:
    carrier = carrier or TrampolineCarrier(10_000, 2000)
    payment = build_trampoline_payment(bytes([1]) * 32, [], [(NODE, payload)], AD, carrier,
                                       profile=profile)
    outer = peel_onion(payment.to_bytes(), KEY, AD)
    assert outer.is_final and carries_trampoline(outer.payload, profile)
    return peel_trampoline(outer.payload, KEY, AD, profile=profile, base=outer.payload_offset,
                           incoming_amount_msat=carrier.amt_to_forward,
                           incoming_cltv_expiry=carrier.outgoing_cltv_value,
                           current_block_height=HEIGHT)


def _path() -> PaymentBlindedPath:
    return PaymentBlindedPath(BlindedPath(OTHER, NODE, (BlindedHop(OTHER, bytes(20)),)),
                              1, 2, 3, 4, 5)


@pytest.mark.parametrize("profile", ["trampoline", "trampoline-legacy"])
def test_each_payload_asks_for_its_action(profile: str) -> None:
    receive = _peel(TrampolinePayload(profile, 9000, 1900), profile=profile)
    assert receive.action == "receive" and receive.is_final
    relay = _peel(TrampolinePayload(profile, 9000, 1900, blinded_paths=(_path(),),
                                    recipient_features=b"\x02"), profile=profile)
    assert relay.action == "pay_blinded_paths"
    assert relay.blinded_paths == (_path(),)
    assert set(TRAMPOLINE_ACTIONS) == {"forward", "pay_blinded_paths", "pay_node", "receive"}


def test_legacy_pays_a_recipient_without_trampoline_support() -> None:
    """Eclair NodeRelay.ToNonTrampoline: payment_data, outgoing_node_id and the invoice's
    routing info, in the last trampoline payload."""
    payload = TrampolinePayload("trampoline-legacy", 9000, 1900,
                                payment_data=PaymentData(bytes(32), 9000),
                                outgoing_node_id=OTHER, invoice_routing_info=b"\x00")
    hop = _peel(payload, profile="trampoline-legacy")
    assert hop.action == "pay_node" and hop.next_node_id == OTHER
    without = TrampolinePayload("trampoline-legacy", 9000, 1900, outgoing_node_id=OTHER)
    with pytest.raises(InvalidTrampolinePayload) as info:
        _peel(without, profile="trampoline-legacy")
    assert (info.value.tlv_type, info.value.reason) == (8, "record_omitted")


def test_the_proposals_last_hop_refuses_outgoing_node_id() -> None:
    """"MUST NOT include short_channel_id nor outgoing_node_id" at the final node."""
    with pytest.raises(InvalidTrampolinePayload) as info:
        _peel(TrampolinePayload("trampoline", 9000, 1900, outgoing_node_id=OTHER))
    assert (info.value.tlv_type, info.value.reason) == (14, "record_included")
    assert info.value.field == "outgoing_node_id"


def test_missing_amount_is_named_where_it_would_be() -> None:
    with pytest.raises(InvalidTrampolinePayload) as info:
        _peel(TrampolinePayload("trampoline", None, 1900))
    assert (info.value.tlv_type, info.value.reason) == (2, "record_omitted")
    assert info.value.offset is not None and info.value.offset >= 1


def test_the_outer_payload_must_carry_amount_and_expiry() -> None:
    payment = build_trampoline_payment(bytes([1]) * 32, [], [(NODE, TrampolinePayload(
        "trampoline", 9000, 1900))], AD, TrampolineCarrier(10_000, 2000))
    outer = peel_onion(payment.to_bytes(), KEY, AD)
    bad = outer.payload.replace(bytes.fromhex("02022710"), b"", 1)  # drop amt_to_forward
    with pytest.raises(InvalidOnionPayload) as info:
        peel_trampoline(bad, KEY, AD, incoming_amount_msat=10_000, incoming_cltv_expiry=2000,
                        current_block_height=HEIGHT)
    assert not isinstance(info.value, InvalidTrampolinePayload)
    assert (info.value.tlv_type, info.value.reason) == (2, "record_omitted")


def test_a_blinded_hop_without_any_path_key_is_refused() -> None:
    """The proposal: encrypted_recipient_data with current_path_key in neither the trampoline
    nor the outer payload MUST be rejected. (With one in the outer payload the trampoline
    onion is peeled with the tweaked key, so an onion built for the plain key fails its HMAC
    first.)"""
    blinded = TrampolinePayload("trampoline", 9000, 1900, encrypted_recipient_data=bytes(40))
    with pytest.raises(InvalidTrampolinePayload) as info:
        _peel(blinded)
    assert (info.value.tlv_type, info.value.reason) == (12, "path_key_in_neither")


@settings(max_examples=150, deadline=None)
@given(inner=st.binary(min_size=2, max_size=120), packet=st.binary(max_size=200),
       profile=st.sampled_from(["trampoline", "trampoline-legacy"]), raw=st.booleans())
def test_any_trampoline_bytes_are_a_hop_or_a_refusal(inner: bytes, packet: bytes, profile: str,
                                                     raw: bool) -> None:
    """Whatever the trampoline onion or the payload inside it holds, a trampoline node gets a
    TrampolineHop or one of the library's refusals (DecodeError, PolicyError), nothing else."""
    if raw:  # arbitrary bytes where the trampoline onion should be
        onion_type = 20 if profile == "trampoline" else 66100
        outer = ref_stream([(2, b"\x27\x10"), (4, b"\x07\xd0"), (onion_type, packet)])
    else:  # a well-built onion around an arbitrary payload
        built = build_trampoline_onion(bytes([1]) * 32, [(NODE, inner)], AD, profile=profile,
                                       payload_area="exact")
        carrier = TrampolineCarrier(10_000, 2000).payload(built.packet, profile)
        outer = carrier.encode()
    try:
        hop = peel_trampoline(outer, KEY, AD, profile=profile, incoming_amount_msat=10_000,
                              incoming_cltv_expiry=2000, current_block_height=HEIGHT)
    except (DecodeError, PolicyError):
        return
    assert hop.action in TRAMPOLINE_ACTIONS
