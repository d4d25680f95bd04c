"""The receiver's arguments at their bounds, over both stores: what is the caller's error
(`InvalidArgument`, nothing stored) and what is the last value still taken.

Bounds: a block height is a u32 (BOLT 2 `cltv_expiry` is a u32 block height); an invoice
amount is a u64 msat (lnd lnwire.MilliSatoshi); min_final_cltv_delta is at most lnd's
invoices.MaxFinalCltvDelta (65535); an invoice expiry is positive and at most ten years
(MAX_INVOICE_EXPIRY).
"""

from __future__ import annotations

import random

import pytest

from sphinxamp import Fail, Receiver
from sphinxamp.errors import InvalidArgument
from sphinxamp.receiver import MAX_INVOICE_EXPIRY, InvoiceKind, ResolutionResult
from sphinxamp.receiver._machine import MAX_FINAL_CLTV_DELTA
from tests.test_receiver import HEIGHT, keysend_htlc, make_payment

R = ResolutionResult
_FIELD = {"amount_msat": "value_msat"}  # add_invoice's argument -> the Invoice field


@pytest.mark.parametrize("height", [-1, 1 << 32, True, 5.0])
def test_a_height_that_is_no_u32_is_refused(rx: Receiver, rng: random.Random,
                                            height: object) -> None:
    htlc = make_payment(rng, [1000]).shards[0].htlc(0)
    with pytest.raises(InvalidArgument) as caught:
        rx.receive(htlc, now=1.0, height=height)  # type: ignore[arg-type]
    assert caught.value.field == "height"
    with pytest.raises(InvalidArgument):
        rx.receive_many([htlc], now=1.0, height=height)  # type: ignore[arg-type]
    assert rx.store.htlc(0) is None


@pytest.mark.parametrize(("height", "reason"), [(0, R.EXPIRY_TOO_FAR),
                                                ((1 << 32) - 1, R.EXPIRY_TOO_SOON)])
def test_the_first_and_last_u32_heights_are_decided(rx: Receiver, rng: random.Random,
                                                    height: int, reason: R) -> None:
    """Height 0 and 2^32-1 are heights: the HTLC (expiring at 800_100) gets a decision."""
    decision = rx.receive(make_payment(rng, [1000]).shards[0].htlc(0), now=1.0, height=height)
    assert isinstance(decision, Fail) and decision.reason is reason


@pytest.mark.parametrize(("terms", "field"), [
    ({"payment_addr": bytes(31)}, "payment_addr"),
    ({"payment_addr": bytes(33)}, "payment_addr"),
    ({"amount_msat": -1}, "amount_msat"),
    ({"amount_msat": 1 << 64}, "amount_msat"),
    ({"expiry_seconds": 0.0}, "expiry"),
    ({"expiry_seconds": -5.0}, "expiry"),
    ({"min_final_cltv_delta": -1}, "min_final_cltv_delta"),
    ({"min_final_cltv_delta": MAX_FINAL_CLTV_DELTA + 1}, "min_final_cltv_delta"),
])
def test_invoice_terms_out_of_range_are_refused(rx: Receiver, terms: dict[str, object],
                                                field: str) -> None:
    args: dict[str, object] = {"payment_addr": bytes(32), **terms}
    with pytest.raises(InvalidArgument) as caught:
        rx.add_invoice(now=1.0, **args)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert rx.invoices() == []


@pytest.mark.parametrize("terms", [
    {"amount_msat": 0}, {"amount_msat": (1 << 64) - 1},
    {"min_final_cltv_delta": 0}, {"min_final_cltv_delta": MAX_FINAL_CLTV_DELTA},
    {"expiry_seconds": 0.001}, {"expiry_seconds": MAX_INVOICE_EXPIRY},
])
def test_invoice_terms_at_their_bounds_are_taken(rx: Receiver, terms: dict[str, object]) -> None:
    invoice = rx.add_invoice(now=1.0, payment_addr=bytes(32), **terms)  # type: ignore[arg-type]
    assert rx.invoice(bytes(32)) == invoice
    for name, value in terms.items():
        assert getattr(invoice, _FIELD.get(name, name)) == value


def test_cancel_refuses_an_unknown_or_settled_invoice(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000])
    with pytest.raises(InvalidArgument) as caught:
        rx.cancel_invoice(payment.payment_addr)
    assert caught.value.reason == "unknown_invoice"
    rx.add_invoice(now=0.0, payment_addr=payment.payment_addr)
    # An AMP invoice stays open while its sets settle; a keysend invoice settles with its HTLC.
    preimage = rng.randbytes(32)
    rx.receive(keysend_htlc(0, preimage), now=1.0, height=HEIGHT)
    phash = keysend_htlc(0, preimage).payment_hash
    with pytest.raises(InvalidArgument) as caught:
        rx.cancel_invoice(phash, InvoiceKind.KEYSEND)
    assert caught.value.reason == "invoice_settled"
    assert rx.cancel_invoice(payment.payment_addr) == ()
    assert rx.cancel_invoice(payment.payment_addr) == ()  # canceled already: nothing to do
