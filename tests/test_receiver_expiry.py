"""Invoices past their expiry, set totals on any-amount invoices, and the invoice lookup,
over both stores.

lnd facts (lnd 90ea05d5):
- invoices/invoice_expiry_watcher.go, `makeTimestampExpiry` and `cancelNextExpiredInvoice`:
  an open invoice is canceled once creation date + expiry has passed, by a timer of its own,
  whatever else happens;
- invoices/update.go, `updateMpp`: an HTLC to an invoice that is not open fails with
  ResultInvoiceNotOpen (on the wire incorrect_or_unknown_payment_details);
- invoices/update.go, `updateMpp`: an HTLC whose MPP total differs from that of any accepted
  HTLC of its set fails with ResultHtlcSetTotalMismatch, whichever of the two is larger;
- invoices/update.go, `invoiceUpdateCtx.invoiceRef`: AMP and MPP look up by payment_addr, MPP
  alone by hash and payment_addr, anything else by hash; channeldb/invoices.go,
  `fetchInvoiceNumByRef`: a payment_addr with a hash that matches no invoice is not found.
"""

from __future__ import annotations

import random
from dataclasses import replace

from sphinxamp import Accepted, Fail, PaymentData, Receiver, Settle
from sphinxamp._codes import INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS as PERM15
from sphinxamp.receiver import InvoiceState, ResolutionResult, Store
from tests.test_receiver import HEIGHT, Payment, assert_settles, keysend_htlc, make_payment

R = ResolutionResult


def _invoice(rx: Receiver, payment: Payment, *, expiry: float) -> None:
    rx.add_invoice(now=0.0, amount_msat=0, expiry_seconds=expiry,
                   payment_addr=payment.payment_addr)


def test_a_shard_at_the_expiry_is_refused_without_expire(rx: Receiver,
                                                         rng: random.Random) -> None:
    """The invoice expires at 100 and nobody called `expire` since: a shard arriving at 100
    meets the invoice lnd's watcher canceled, so it does not complete the set."""
    payment = make_payment(rng, [1000, 1000])
    _invoice(rx, payment, expiry=100.0)
    first, second = payment.shards
    assert isinstance(rx.receive(first.htlc(0), now=50.0, height=HEIGHT), Accepted)
    assert rx.receive(second.htlc(1), now=100.0, height=HEIGHT) == Fail(
        (1,), PERM15, R.INVOICE_NOT_OPEN)
    # The held shard fails when the caller runs the clock; the invoice is then canceled.
    assert rx.expire(100.0) == (Fail((0,), PERM15, R.CANCELED, payment.set_id),)
    invoice = rx.invoice(payment.payment_addr)
    assert invoice is not None and invoice.state is InvoiceState.CANCELED
    assert rx.amount_paid(payment.payment_addr) == 0


def test_a_shard_just_before_the_expiry_still_completes(rx: Receiver,
                                                        rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000])
    _invoice(rx, payment, expiry=100.0)
    assert isinstance(rx.receive(payment.shards[0].htlc(0), now=50.0, height=HEIGHT), Accepted)
    decision = rx.receive(payment.shards[1].htlc(1), now=99.5, height=HEIGHT)
    assert_settles(decision, payment, [0, 1])


def test_a_new_set_long_after_the_expiry_is_refused(rx: Receiver, rng: random.Random) -> None:
    """The first set settled; the invoice stays open (reusable) until its expiry, then a
    new set to the same payment_addr is refused although `expire` never ran."""
    first = make_payment(rng, [3000])
    _invoice(rx, first, expiry=1000.0)
    assert_settles(rx.receive(first.shards[0].htlc(0), now=1.0, height=HEIGHT), first, [0])
    later = make_payment(rng, [3000], payment_addr=first.payment_addr)
    assert rx.receive(later.shards[0].htlc(1), now=5000.0, height=HEIGHT) == Fail(
        (1,), PERM15, R.INVOICE_NOT_OPEN)
    assert rx.amount_paid(first.payment_addr) == 3000


def test_a_spontaneous_amp_invoice_expires_after_an_hour(rx: Receiver,
                                                         rng: random.Random) -> None:
    """lnd processAMP gives the invoice no expiry, so the default hour applies
    (zpay32.DefaultInvoiceExpiry in `makeTimestampExpiry`)."""
    payment = make_payment(rng, [1000, 1000])
    assert isinstance(rx.receive(payment.shards[0].htlc(0), now=0.0, height=HEIGHT), Accepted)
    assert rx.receive(payment.shards[1].htlc(1), now=3600.0, height=HEIGHT) == Fail(
        (1,), PERM15, R.INVOICE_NOT_OPEN)


def test_a_settled_keysend_invoice_is_not_canceled_by_its_expiry(rx: Receiver,
                                                                 rng: random.Random) -> None:
    """The watcher cancels open invoices only; a keysend paid again after its invoice's hour
    settles again (lnd updateLegacy)."""
    preimage = rng.randbytes(32)
    assert isinstance(rx.receive(keysend_htlc(0, preimage), now=0.0, height=HEIGHT), Settle)
    again = rx.receive(keysend_htlc(1, preimage), now=7200.0, height=HEIGHT)
    assert again == Settle(None, ((1, preimage),), 5000)


def test_a_smaller_total_on_an_any_amount_invoice_is_a_mismatch(rx: Receiver,
                                                                rng: random.Random) -> None:
    """Held shard says 2000, the next says 1000 (enough by itself to "complete" at 1000):
    a mismatch, refused alone; the set then completes with a shard that agrees."""
    payment = make_payment(rng, [1000, 1000])
    _invoice(rx, payment, expiry=3600.0)
    first, second = payment.shards
    assert isinstance(rx.receive(first.htlc(0), now=1.0, height=HEIGHT), Accepted)
    smaller = replace(second.payload, payment_data=PaymentData(payment.payment_addr, 1000))
    assert rx.receive(second.htlc(1, payload=smaller), now=2.0, height=HEIGHT) == Fail(
        (1,), PERM15, R.TOTAL_MISMATCH)
    assert_settles(rx.receive(second.htlc(2), now=3.0, height=HEIGHT), payment, [0, 2])


def test_amp_without_mpp_is_looked_up_by_hash_when_amp_is_off(store: Store,
                                                              rng: random.Random) -> None:
    """Without accept_amp no invoice is made for it: the lookup by hash finds nothing."""
    rx = Receiver(store)
    payment = make_payment(rng, [1000])
    _invoice(rx, payment, expiry=3600.0)
    shard = payment.shards[0]
    htlc = shard.htlc(0, payload=replace(shard.payload, payment_data=None))
    assert rx.receive(htlc, now=1.0, height=HEIGHT) == Fail((0,), PERM15, R.INVOICE_NOT_FOUND)


def test_mpp_without_amp_does_not_find_the_amp_invoice(rx: Receiver,
                                                       rng: random.Random) -> None:
    """The MPP record names an AMP invoice's payment_addr, but the HTLC's hash is no
    invoice's: lnd's lookup by hash and address finds none."""
    payment = make_payment(rng, [1000])
    _invoice(rx, payment, expiry=3600.0)
    shard = payment.shards[0]
    htlc = shard.htlc(0, payload=replace(shard.payload, amp=None))
    assert rx.receive(htlc, now=1.0, height=HEIGHT) == Fail((0,), PERM15, R.INVOICE_NOT_FOUND)
