"""The seven ways the receiver differed from lnd (issue 11), each as lnd behaves, under
profile="lnd", over both stores.

lnd read at commit 90ea05d5a7f9239ede8eb4e2f36d9a66c39e67d5. Expected failure messages are
built here with struct from BOLT 4's field layout, not with the library's encoder.
"""

from __future__ import annotations

import random
import struct
from dataclasses import replace

import pytest

from sphinxamp import (
    Accepted,
    Fail,
    HopPayload,
    IncomingHtlc,
    PaymentData,
    Receiver,
    Role,
    Settle,
    decode_payload,
)
from sphinxamp._codes import INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS as PERM15
from sphinxamp.errors import InvalidOnionPayload
from sphinxamp.receiver import InvoiceKind, InvoiceState, ResolutionResult, Store
from tests.test_receiver import CLTV, HEIGHT, keysend_htlc, make_payment, sha256

R = ResolutionResult
NOW = 1000.0


def lnd(store: Store, **flags: bool) -> Receiver:
    return Receiver(store, profile="lnd", **flags)


# --- 1. height is required -------------------------------------------------------------


def test_height_is_required_and_a_too_soon_expiry_is_refused(store: Store,
                                                            rng: random.Random) -> None:
    """lnd always checks the expiry against the current height: invoices/update.go
    `updateMpp` (expiry < currentHeight + finalCltvRejectDelta → ResultExpiryTooSoon, and
    again against the invoice's FinalCltvDelta); the delta is 19 (lncfg
    DefaultFinalCltvRejectDelta). There is no way to skip it."""
    rx = lnd(store)
    invoice = rx.add_invoice(now=NOW, min_final_cltv_delta=40)
    shard = make_payment(rng, [1000], payment_addr=invoice.payment_addr).shards[0]
    with pytest.raises(TypeError):
        rx.receive(shard.htlc(0), now=NOW)  # type: ignore[call-arg]
    for bad in (None, -1, 2**32, True):
        with pytest.raises(ValueError):
            rx.receive(shard.htlc(0), now=NOW, height=bad)  # type: ignore[arg-type]
    # 100 blocks left: fine for 19, and for the invoice's 40 only from a lower height.
    assert rx.receive(shard.htlc(1), now=NOW, height=CLTV - 39) == Fail(
        (1,), PERM15, R.EXPIRY_TOO_SOON)
    assert isinstance(rx.receive(shard.htlc(2), now=NOW, height=CLTV - 40), Settle)


# --- 2. the keysend record at the final hop ----------------------------------------------


@pytest.mark.parametrize("size", [0, 31, 33])
def test_a_keysend_record_that_is_no_preimage_is_refused_at_the_final_hop(
        store: Store, size: int) -> None:
    """lnd reads 5482373484 as an opaque custom record (htlcswitch/hop/payload.go
    `NewCustomRecords`) and refuses it at the final hop: invoices/invoiceregistry.go
    `processKeySend` (`lntypes.MakePreimage` needs 32 bytes) → ResultKeySendError, and with
    keysend off no invoice matches → ResultInvoiceNotFound; both PERM|15 on the wire."""
    # Built by hand: type 5482373484 as BigSize ff ‖ u64, a one-byte length, the value.
    record = b"\xff" + (5482373484).to_bytes(8, "big") + bytes([size]) + b"\x07" * size
    raw = HopPayload(5000, 800_000).encode() + record
    payload = decode_payload(raw, Role.FINAL, profile="lnd")
    htlc = IncomingHtlc(0, sha256(b"\x07" * size), 5000, CLTV, payload)
    assert lnd(store, accept_keysend=True).receive(htlc, now=NOW, height=HEIGHT) == Fail(
        (0,), PERM15, R.KEYSEND_ERROR)
    other = replace(htlc, htlc_id=1)
    assert lnd(store).receive(other, now=NOW, height=HEIGHT) == Fail(
        (1,), PERM15, R.INVOICE_NOT_FOUND)


# --- 3. the invoice layer ----------------------------------------------------------------


def test_spontaneous_amp_and_keysend_are_off_by_default(store: Store,
                                                       rng: random.Random) -> None:
    """invoices/invoiceregistry.go `NotifyExitHopHtlc`: an invoice is made on the fly only
    when cfg.AcceptAMP / cfg.AcceptKeySend (lnd's accept-amp, accept-keysend: off by
    default); otherwise the lookup finds nothing → ResultInvoiceNotFound
    (invoiceregistry_test.go `testKeySend` with keysend disabled)."""
    rx = lnd(store)
    shard = make_payment(rng, [1000]).shards[0]
    assert rx.receive(shard.htlc(0), now=NOW, height=HEIGHT) == Fail(
        (0,), PERM15, R.INVOICE_NOT_FOUND)
    assert rx.receive(keysend_htlc(1, b"\x01" * 32), now=NOW, height=HEIGHT) == Fail(
        (1,), PERM15, R.INVOICE_NOT_FOUND)
    assert rx.invoices() == []


def test_a_spontaneous_amp_invoice_takes_the_first_total_and_expires_in_an_hour(
        store: Store, rng: random.Random) -> None:
    """`processAMP` inserts an invoice with Value = the MPP total and no expiry, which the
    expiry watcher reads as zpay32.DefaultInvoiceExpiry, an hour
    (invoices/invoice_expiry_watcher.go `makeTimestampExpiry`); `updateMpp` refuses a set
    total below the value (ResultHtlcSetTotalTooLow)."""
    rx = lnd(store, accept_amp=True)
    first = make_payment(rng, [3000])
    assert isinstance(rx.receive(first.shards[0].htlc(0), now=NOW, height=HEIGHT), Settle)
    invoice = rx.invoice(first.payment_addr)
    assert invoice is not None and (invoice.value_msat, invoice.spontaneous) == (3000, True)
    low = make_payment(rng, [2999], payment_addr=first.payment_addr)
    assert rx.receive(low.shards[0].htlc(1), now=NOW, height=HEIGHT) == Fail(
        (1,), PERM15, R.TOTAL_TOO_LOW)
    held = make_payment(rng, [3000, 1000], payment_addr=first.payment_addr)
    assert isinstance(rx.receive(held.shards[0].htlc(2), now=NOW + 3590, height=HEIGHT),
                      Accepted)
    assert rx.expire(NOW + 3599) == ()
    assert rx.expire(NOW + 3600) == (Fail((2,), PERM15, R.CANCELED, held.set_id),)
    again = rx.invoice(first.payment_addr)
    assert again is not None and again.state is InvoiceState.CANCELED
    assert rx.receive(held.shards[1].htlc(3), now=NOW + 3601, height=HEIGHT) == Fail(
        (3,), PERM15, R.INVOICE_NOT_OPEN)
    assert rx.amount_paid(first.payment_addr) == 3000


def test_a_failed_reconstruction_cancels_the_invoice(store: Store, rng: random.Random) -> None:
    """invoices/update.go `updateMpp`: when `reconstructAMPPreimages` fails, the update is a
    CancelInvoiceUpdate to ContractCanceled (invoices/update_invoice.go `addHTLCs` lets an
    AMP invoice move to canceled); a later set to that payment_addr finds the invoice not
    open (ResultInvoiceNotOpen)."""
    rx = lnd(store)
    invoice = rx.add_invoice(now=NOW)
    addr = invoice.payment_addr
    assert addr is not None
    bad = make_payment(rng, [500, 500], payment_addr=addr)
    rx.receive(bad.shards[0].htlc(0), now=NOW, height=HEIGHT)
    wrong = bad.shards[1].htlc(1, payment_hash=sha256(b"wrong"))
    assert rx.receive(wrong, now=NOW, height=HEIGHT) == Fail(
        (0, 1), PERM15, R.RECONSTRUCTION_FAILED, bad.set_id)
    stored = rx.invoice(addr)
    assert stored is not None and stored.state is InvoiceState.CANCELED
    good = make_payment(rng, [1000], payment_addr=addr)
    assert rx.receive(good.shards[0].htlc(2), now=NOW, height=HEIGHT) == Fail(
        (2,), PERM15, R.INVOICE_NOT_OPEN)


def test_a_reusable_amp_invoice_accumulates_and_refuses_sets_below_its_value(
        store: Store, rng: random.Random) -> None:
    """An AMP invoice stays ContractOpen as its sets settle (invoices/update_invoice.go
    `addHTLCs`: only Canceled applies to AMP invoices); each set settles on its own and
    AmtPaid adds up; a set total below Terms.Value is ResultHtlcSetTotalTooLow
    (invoices/update.go `updateMpp`)."""
    rx = lnd(store)
    invoice = rx.add_invoice(now=NOW, amount_msat=2000)
    addr = invoice.payment_addr
    assert addr is not None
    for k in range(3):
        payment = make_payment(rng, [1000, 1000], payment_addr=addr)
        decisions = [rx.receive(s.htlc(f"{k}-{i}"), now=NOW, height=HEIGHT)
                     for i, s in enumerate(payment.shards)]
        assert isinstance(decisions[-1], Settle)
    assert rx.amount_paid(addr) == 6000
    stored = rx.invoice(addr)
    assert stored is not None and stored.state is InvoiceState.OPEN
    small = make_payment(rng, [1999], payment_addr=addr)
    assert rx.receive(small.shards[0].htlc("s"), now=NOW, height=HEIGHT) == Fail(
        ("s",), PERM15, R.TOTAL_TOO_LOW)
    unknown = make_payment(rng, [1000])
    assert rx.receive(unknown.shards[0].htlc("u"), now=NOW, height=HEIGHT) == Fail(
        ("u",), PERM15, R.INVOICE_NOT_FOUND)
    assert rx.cancel_invoice(addr) == ()
    assert rx.receive(make_payment(rng, [2000], payment_addr=addr).shards[0].htlc("c"),
                      now=NOW, height=HEIGHT) == Fail(("c",), PERM15, R.INVOICE_NOT_OPEN)


def test_a_keysend_repeat_paying_less_is_refused(store: Store) -> None:
    """`processKeySend` makes an invoice with Value = the first HTLC's amount; a repeat of
    the preimage goes through invoices/update.go `updateLegacy`: less than the value is
    ResultAmountTooLow, as much or more settles again (ResultDuplicateToSettled)."""
    rx = lnd(store, accept_keysend=True)
    preimage = b"\x42" * 32
    assert isinstance(rx.receive(keysend_htlc(0, preimage, amount=5000), now=NOW,
                                 height=HEIGHT), Settle)
    assert rx.receive(keysend_htlc(1, preimage, amount=4999), now=NOW, height=HEIGHT) == Fail(
        (1,), PERM15, R.AMOUNT_TOO_LOW)
    assert rx.receive(keysend_htlc(2, preimage, amount=5000), now=NOW, height=HEIGHT) == Settle(
        None, ((2, preimage),), 5000)
    invoice = rx.invoice(sha256(preimage), InvoiceKind.KEYSEND)
    assert invoice is not None and invoice.state is InvoiceState.SETTLED
    assert rx.amount_paid(sha256(preimage)) == 10_000


# --- 4. total mismatch against what is held now --------------------------------------------


def test_total_is_compared_with_the_htlcs_held_now(store: Store, rng: random.Random) -> None:
    """invoices/update.go `updateMpp` compares a shard's total with `HTLCSet(setID,
    HtlcStateAccepted)`, the HTLCs held now: with one held, another total is
    ResultHtlcSetTotalMismatch; once every held HTLC timed out, a new total is accepted."""
    rx = lnd(store, accept_amp=True)
    payment = make_payment(rng, [1000, 1000])
    rx.receive(payment.shards[0].htlc(0), now=0.0, height=HEIGHT)
    other = payment.shards[1]
    bigger = replace(other.payload, payment_data=PaymentData(payment.payment_addr, 3000))
    assert rx.receive(other.htlc(1, payload=bigger), now=1.0, height=HEIGHT) == Fail(
        (1,), PERM15, R.TOTAL_MISMATCH)
    assert len(rx.expire(120.0)) == 1
    assert rx.receive(other.htlc(2, payload=bigger), now=121.0, height=HEIGHT) == Accepted(
        2, payment.set_id, 1000, 3000, 241.0)


# --- 5. failure data -----------------------------------------------------------------------


def test_a_fail_carries_htlc_msat_and_the_accept_height(store: Store,
                                                        rng: random.Random) -> None:
    """htlcswitch/link.go `getResolutionFailure`: incorrect_or_unknown_payment_details
    carries the HTLC's amount and the resolution's AcceptHeight; for a set failure each HTLC
    gets its own (invoices/invoiceregistry.go `notifyExitHopHtlcLocked`, canceled set
    members with `htlc.AcceptHeight`). BOLT 4: u16 0x400f, u64 htlc_msat, u32 height."""
    rx = lnd(store, accept_amp=True)
    payment = make_payment(rng, [700, 900])
    rx.receive(payment.shards[0].htlc(0), now=NOW, height=HEIGHT - 5)
    wrong = payment.shards[1].htlc(1, payment_hash=sha256(b"no"))
    fail = rx.receive(wrong, now=NOW, height=HEIGHT)
    assert isinstance(fail, Fail) and fail.reason is R.RECONSTRUCTION_FAILED
    assert fail.failure_message(0) == struct.pack(">HQI", 0x400F, 700, HEIGHT - 5)
    assert fail.failure_message(1) == struct.pack(">HQI", 0x400F, 900, HEIGHT)
    low = payment.shards[0].htlc(2, amount_msat=1)
    amount_fail = rx.receive(low, now=NOW, height=HEIGHT)
    assert isinstance(amount_fail, Fail) and amount_fail.failure_code == 19
    assert amount_fail.failure_message() == struct.pack(">HQ", 19, 1)  # incoming_htlc_amt
    timeout = make_payment(rng, [10, 10])
    rx.receive(timeout.shards[0].htlc(3), now=NOW, height=HEIGHT)
    (mpp_fail,) = rx.expire(NOW + 120)
    assert mpp_fail.failure_message() == struct.pack(">H", 23)


# --- 6. replays of failed HTLCs ----------------------------------------------------------


def test_a_resent_failed_htlc_is_incorrect_or_unknown_payment_details(
        store: Store, rng: random.Random) -> None:
    """invoices/update.go `resolveReplayedHtlc`: an HTLC already on the invoice in state
    canceled is answered ResultReplayToCanceled (PERM|15), whatever failed it first (here
    mpp_timeout), with its accept height."""
    rx = lnd(store, accept_amp=True)
    payment = make_payment(rng, [1000, 1000])
    rx.receive(payment.shards[0].htlc(0), now=0.0, height=HEIGHT - 3)
    (timed_out,) = rx.expire(120.0)
    assert timed_out.failure_code == 23
    replay = rx.receive(payment.shards[0].htlc(0), now=121.0, height=HEIGHT)
    assert replay == Fail((0,), PERM15, R.REPLAY_TO_CANCELED, payment.set_id)
    assert isinstance(replay, Fail)
    assert replay.failure_message() == struct.pack(">HQI", 0x400F, 1000, HEIGHT - 3)


# --- 7. reasons and their order ----------------------------------------------------------


def test_amp_without_mpp_and_too_soon_is_amp_error_under_lnd(store: Store,
                                                             rng: random.Random) -> None:
    """invoices/invoiceregistry.go `NotifyExitHopHtlc` → `processAMP` fails "no MPP record
    for AMP" before any expiry check → ResultAmpError. BOLT 4's final-node requirements put
    "expiry unreasonably near" with the other final-hop checks: the bolt profile says
    expiry_too_soon. Same wire code either way."""
    shard = make_payment(rng, [1000]).shards[0]
    htlc = shard.htlc(0, payload=replace(shard.payload, payment_data=None))
    too_soon = CLTV - 18
    assert lnd(store, accept_amp=True).receive(htlc, now=NOW, height=too_soon) == Fail(
        (0,), PERM15, R.AMP_ERROR)
    bolt = Receiver(store, accept_amp=True)
    assert bolt.receive(replace(htlc, htlc_id=1), now=NOW, height=too_soon) == Fail(
        (1,), PERM15, R.EXPIRY_TOO_SOON)


def test_htlcs_to_a_timed_out_set_are_accepted(store: Store, rng: random.Random) -> None:
    """lnd does not refuse HTLCs to a set whose held HTLCs timed out: invoices/
    invoiceregistry_test.go `testMppPayment` times out htlc 1 (ResultMppTimeout), then htlcs
    2 and 3 settle the invoice; for AMP the timer is per HTLC (`startHtlcTimer` with
    InvoiceRefBySetID) and the set stays open."""
    rx = lnd(store, accept_amp=True)
    payment = make_payment(rng, [1000, 1000])
    rx.receive(payment.shards[0].htlc(0), now=0.0, height=HEIGHT)
    assert rx.expire(120.0)[0].reason is R.MPP_TIMEOUT
    assert isinstance(rx.receive(payment.shards[0].htlc(1), now=130.0, height=HEIGHT),
                      Accepted)
    settle = rx.receive(payment.shards[1].htlc(2), now=131.0, height=HEIGHT)
    assert isinstance(settle, Settle) and settle.htlc_ids == (1, 2)
    assert all(sha256(p) == s.payment_hash
               for (_, p), s in zip(settle.preimages, payment.shards, strict=True))


def test_every_reason_has_an_lnd_name_and_a_wire_code() -> None:
    """htlcswitch/link.go `getResolutionFailure`: mpp_timeout is FailMPPTimeout, every other
    invoice failure FailIncorrectDetails; the two ValidateFinalHtlc amount/CLTV results keep
    BOLT 4's final_incorrect_* codes."""
    special = {R.MPP_TIMEOUT: 23, R.INCORRECT_HTLC_AMOUNT: 19, R.INCORRECT_CLTV_EXPIRY: 18}
    for reason in R:
        assert reason.failure_code == special.get(reason, PERM15)
        assert reason.lnd_name.startswith(("Result", "hop.FinalHtlc"))


# --- writer MUST NOTs: lnd's reader refuses them, BOLT 4's does not ---------------------------


@pytest.mark.parametrize(("data", "role", "rtype"), [
    # short_channel_id at the final hop
    (bytes.fromhex("0200 0400 0608 0100000000000000"), Role.FINAL, 6),
    # payment_data at a forwarding hop
    (bytes.fromhex("0200 0400 0608 0100000000000000 0821") + b"\x11" * 32 + b"\x08",
     Role.INTERMEDIATE, 8),
])
def test_writer_must_nots_are_refused_by_lnd_only(data: bytes, role: Role, rtype: int) -> None:
    """BOLT 4 › `payload` format › Requirements: "MUST NOT include short_channel_id" (final)
    and "MUST NOT include payment_data" (non-final) bind the writer; the reader's list has no
    such rule, so profile "bolt" accepts the payload and profile "lnd" refuses it as lnd's
    ValidateParsedPayloadTypes does (htlcswitch/hop/payload.go: "The exit hop and all blinded
    hops should omit the next hop id", "Intermediate nodes should never receive MPP
    fields")."""
    assert rtype in decode_payload(data, role).present_types()
    with pytest.raises(InvalidOnionPayload) as info:
        decode_payload(data, role, profile="lnd")
    assert (info.value.tlv_type, info.value.offset, info.value.reason) == (
        rtype, 0, "record_included")
