"""Building trampoline onions: the payload area each format uses, the carrier payload, and
the sender's keys.

The proposal's vectors (tests/test_trampoline_vectors.py) pin the bytes; these check the sizes
against the formats' definitions: the proposal's onion is exactly what its payloads take
(lightning/bolts#836 trampoline-payment-onion-test.json: 161 bytes for two payloads of 47 and
50 bytes, each with its 32-byte HMAC), Eclair's was 400 bytes (SphinxSpec.scala, "create
trampoline payment packet"), and LDK refuses a trampoline onion that would not fit the outer
one (onion_utils.rs, construct_trampoline_onion_packet).
"""

from __future__ import annotations

import hashlib

import pytest

from sphinxamp import public_key
from sphinxamp.errors import EncodeError, InvalidArgument
from sphinxamp.payments import (
    TrampolineCarrier,
    TrampolinePayload,
    build_trampoline_onion,
    build_trampoline_payment,
    exact_payload_area,
    trampoline_session_key,
)
from sphinxamp.payments._trampoline import decode_trampoline_payload

AD = bytes([0x42]) * 32
NODES = [public_key(bytes([0x43 + i]) * 32) for i in range(3)]


def _hops(profile: str) -> list[tuple[bytes, TrampolinePayload]]:
    return [(NODES[0], TrampolinePayload(profile, 1000, 500, outgoing_node_id=NODES[1])),
            (NODES[1], TrampolinePayload(profile, 900, 400))]


def test_each_format_sizes_its_onion() -> None:
    sizes = [len(p.encode()) for _, p in _hops("trampoline")]
    exact = sum(1 + s + 32 for s in sizes)  # one-byte BigSize lengths here
    assert exact_payload_area([p.encode() for _, p in _hops("trampoline")]) == exact
    new = build_trampoline_onion(bytes([1]) * 32, _hops("trampoline"), AD)
    old = build_trampoline_onion(bytes([1]) * 32, _hops("trampoline-legacy"), AD,
                                 profile="trampoline-legacy")
    assert len(new.to_bytes()) == 66 + exact
    assert len(old.to_bytes()) == 66 + 400
    padded = build_trampoline_onion(bytes([1]) * 32, _hops("trampoline"), AD, payload_area=650)
    assert len(padded.to_bytes()) == 66 + 650  # LDK's "expected default" (msgs.rs)
    with pytest.raises(EncodeError):
        build_trampoline_onion(bytes([1]) * 32, _hops("trampoline"), AD, payload_area=1300)
    with pytest.raises(InvalidArgument):
        build_trampoline_onion(bytes([1]) * 32, _hops("trampoline"), AD,
                               payload_area="big")  # type: ignore[arg-type]


def test_a_payload_of_the_other_format_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        build_trampoline_onion(bytes([1]) * 32, _hops("trampoline-legacy"), AD)


def test_the_carrier_holds_the_onion_in_the_formats_record() -> None:
    for profile, onion_type in (("trampoline", 20), ("trampoline-legacy", 66100)):
        payment = build_trampoline_payment(bytes([2]) * 32, [], _hops(profile), AD,
                                           TrampolineCarrier(1100, 600, bytes([9]) * 32, 2000),
                                           profile=profile)
        carrier = TrampolineCarrier(1100, 600, bytes([9]) * 32, 2000).payload(
            payment.trampoline.packet, profile)
        raw = carrier.encode()
        decoded, offsets = decode_trampoline_payload(raw, profile)
        assert onion_type in offsets
        assert decoded.trampoline_onion_packet == payment.trampoline.to_bytes()
        assert decoded.payment_data is not None and decoded.payment_data.total_msat == 2000
    with pytest.raises(InvalidArgument):
        TrampolineCarrier(1, 1, None, 5).payload(b"\x00" * 66)


def test_the_trampoline_session_key_is_ldks_derivation() -> None:
    """LDK compute_trampoline_session_priv: SHA256 of the outer session key."""
    outer = bytes([7]) * 32
    assert trampoline_session_key(outer) == hashlib.sha256(outer).digest()
    payment = build_trampoline_payment(outer, [], _hops("trampoline"), AD,
                                       TrampolineCarrier(1100, 600))
    again = build_trampoline_onion(hashlib.sha256(outer).digest(), _hops("trampoline"), AD)
    assert payment.trampoline.to_bytes() == again.to_bytes()
    with pytest.raises(InvalidArgument):
        build_trampoline_payment(outer, [], _hops("trampoline"), AD,
                                 TrampolineCarrier(1100, 600), trampoline_session=outer)
    with pytest.raises(EncodeError):
        build_trampoline_payment(outer, [], [], AD, TrampolineCarrier(1100, 600))
