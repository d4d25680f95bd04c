"""Keysend (bLIP 3): a spontaneous payment whose preimage rides in the onion.

The sender draws a 32-byte preimage, puts it in custom record 5482373484 of the final payload
and pays SHA256(preimage). The receiver checks it as lnd's `processKeySend` does
(invoices/invoiceregistry.go): preimage present and hashing to the HTLC's hash, no MPP record
("no mpp keysend supported"), no AMP record (an AMP HTLC is never treated as keysend), and an
expiry at least 19 blocks away (lnd's keysend invoices use FinalCltvDelta 19). Every refusal
is a `PaymentError`: incorrect_or_unknown_payment_details on the wire, as bLIP 3 asks.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sphinxamp._payload import KEYSEND_TYPE, HopPayload
from sphinxamp.errors import EncodeError, PaymentError
from sphinxamp.payments._amp import Rand
from sphinxamp.payments._route import RouteHop, RouteOnion, build_route_onion
from sphinxamp.wire._tlv import TlvRecord

PREIMAGE_SIZE = 32
KEYSEND_FINAL_CLTV_DELTA = 19  # lnd invoices/invoiceregistry.go, keysend invoices


@dataclass(frozen=True, slots=True)
class KeysendPayment:
    preimage: bytes
    payment_hash: bytes
    route_onion: RouteOnion


def keysend_payload(amount_msat: int, final_cltv_expiry: int, preimage: bytes,
                    custom_records: Iterable[TlvRecord] = ()) -> HopPayload:
    """The final payload of a keysend: amount, expiry, the preimage record, the app records."""
    if len(preimage) != PREIMAGE_SIZE:
        raise EncodeError(f"keysend preimage must be {PREIMAGE_SIZE} bytes",
                          field="keysend_preimage", tlv_type=KEYSEND_TYPE, reason="range")
    return HopPayload(amt_to_forward=amount_msat, outgoing_cltv_value=final_cltv_expiry,
                      keysend_preimage=bytes(preimage),
                      custom_records=tuple(sorted(custom_records, key=lambda r: r.type)))


def build_keysend_payment(
    dest: bytes,
    amount_msat: int,
    *,
    final_cltv_expiry: int,
    route: Sequence[RouteHop] = (),
    custom_records: Iterable[TlvRecord] = (),
    rand: Rand = os.urandom,
    session_key: bytes | None = None,
) -> KeysendPayment:
    """A single-part keysend onion (lnd: keysend is never split and never AMP)."""
    preimage = rand(PREIMAGE_SIZE)
    payment_hash = hashlib.sha256(preimage).digest()
    final = keysend_payload(amount_msat, final_cltv_expiry, preimage, custom_records)
    key = rand(32) if session_key is None else session_key
    return KeysendPayment(preimage, payment_hash,
                          build_route_onion(dest, route, final, payment_hash, key))


def _refuse(message: str, reason: str, tlv_type: int | None = KEYSEND_TYPE) -> PaymentError:
    return PaymentError(message, field="keysend_preimage", tlv_type=tlv_type, reason=reason)


def verify_keysend(
    payload: HopPayload,
    payment_hash: bytes,
    *,
    htlc_expiry: int | None = None,
    current_height: int | None = None,
) -> bytes:
    """The preimage of a keysend HTLC, or `PaymentError` saying why it cannot settle.

    The expiry check runs only when both `htlc_expiry` and `current_height` are given.
    """
    preimage = payload.keysend_preimage
    if preimage is None:
        raise _refuse("no keysend preimage record", "keysend_missing")
    if payload.amp is not None:
        raise _refuse("an AMP HTLC is not a keysend", "keysend_with_amp", 14)
    if payload.payment_data is not None:
        raise _refuse("no mpp keysend supported", "keysend_with_mpp", 8)
    if len(preimage) != PREIMAGE_SIZE:
        raise _refuse(f"keysend preimage is {len(preimage)} bytes", "keysend_preimage_size")
    if not hmac.compare_digest(hashlib.sha256(preimage).digest(), bytes(payment_hash)):
        raise _refuse("SHA256(keysend preimage) is not the payment hash",
                      "keysend_preimage_mismatch")
    if (htlc_expiry is not None and current_height is not None
            and htlc_expiry < current_height + KEYSEND_FINAL_CLTV_DELTA):
        raise _refuse(f"HTLC expiry {htlc_expiry} is less than {KEYSEND_FINAL_CLTV_DELTA} "
                      f"blocks after height {current_height}", "keysend_expiry_too_soon",
                      None)
    return bytes(preimage)
