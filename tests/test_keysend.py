"""Keysend (bLIP 3) as lnd builds and checks it (record/experimental.go, processKeySend)."""

from __future__ import annotations

import hashlib

import pytest

from sphinxamp import (
    AmpRecord,
    HopPayload,
    PaymentData,
    RouteHop,
    ShortChannelId,
    build_keysend_payment,
    decode_payload,
    public_key,
)
from sphinxamp.errors import EncodeError, PaymentError
from sphinxamp.onion import peel_onion
from sphinxamp.payments import SeededRand, verify_keysend
from sphinxamp.payments._keysend import keysend_payload
from sphinxamp.wire import TlvRecord

DEST_KEY, HOP_KEY = b"\x07" * 32, b"\x08" * 32
DEST, HOP = public_key(DEST_KEY), public_key(HOP_KEY)
PREIMAGE = bytes(range(32))
HASH = hashlib.sha256(PREIMAGE).digest()
# bLIP 3: type 5482373484 = 0x146c6616c, BigSize ff ‖ u64, then length 32.
KEYSEND_TL = bytes.fromhex("ff0000000146c6616c20")


def test_keysend_record_bytes() -> None:
    data = keysend_payload(1_000, 500, PREIMAGE).encode()
    assert data == bytes.fromhex("0202 03e8 0402 01f4".replace(" ", "")) + KEYSEND_TL + PREIMAGE
    assert decode_payload(data, "final").keysend_preimage == PREIMAGE


def test_build_peel_verify_through_a_hop() -> None:
    note = TlvRecord(7629168, "thanks ☕".encode())
    pay = build_keysend_payment(DEST, 5_000, final_cltv_expiry=900, custom_records=[note],
                                route=[RouteHop(HOP, ShortChannelId(9, 9, 9), 1, 0, 40)],
                                rand=SeededRand(b"ks"))
    assert pay.payment_hash == hashlib.sha256(pay.preimage).digest()
    assert (pay.route_onion.htlc_amount_msat, pay.route_onion.htlc_cltv_expiry) == (5_001, 940)
    first = peel_onion(pay.route_onion.onion.packet, HOP_KEY, pay.payment_hash)
    assert first.next_packet is not None
    last = peel_onion(first.next_packet, DEST_KEY, pay.payment_hash)
    payload = decode_payload(last.payload, "final")
    assert payload.custom_records == (note,)
    assert verify_keysend(payload, pay.payment_hash, htlc_expiry=900, current_height=881) \
        == pay.preimage


def _reason(payload: HopPayload, payment_hash: bytes = HASH, **kw: int) -> str | None:
    with pytest.raises(PaymentError) as info:
        verify_keysend(payload, payment_hash, **kw)
    assert info.value.failure_code == 0x4000 | 15
    return info.value.reason


def test_refusals() -> None:
    good = keysend_payload(1_000, 500, PREIMAGE)
    assert _reason(good, b"\x00" * 32) == "keysend_preimage_mismatch"
    assert _reason(HopPayload(amt_to_forward=1, outgoing_cltv_value=1)) == "keysend_missing"
    mpp = HopPayload(amt_to_forward=1, outgoing_cltv_value=1, keysend_preimage=PREIMAGE,
                     payment_data=PaymentData(b"\x01" * 32, 1))
    assert _reason(mpp) == "keysend_with_mpp"
    with_amp = HopPayload(amt_to_forward=1, outgoing_cltv_value=1, keysend_preimage=PREIMAGE,
                          amp=AmpRecord(b"\x01" * 32, b"\x02" * 32, 0))
    assert _reason(with_amp) == "keysend_with_amp"
    # lnd's keysend invoices have FinalCltvDelta 19: expiry 518 at height 500 is one short.
    assert _reason(good, htlc_expiry=518, current_height=500) == "keysend_expiry_too_soon"
    assert verify_keysend(good, HASH, htlc_expiry=519, current_height=500) == PREIMAGE


def test_preimage_must_be_32_bytes() -> None:
    with pytest.raises(EncodeError):
        keysend_payload(1, 1, b"\x00" * 31)


def test_custom_records_below_range_are_refused() -> None:
    with pytest.raises(EncodeError):
        keysend_payload(1, 1, PREIMAGE, [TlvRecord(4000, b"")]).encode()
