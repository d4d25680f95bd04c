"""The AMP receiver's rules, one by one, over both stores.

Expected preimages are derived here with hashlib from lnd's formula
(preimage = SHA256(root ‖ share ‖ be32(child_index)), hash = SHA256(preimage)), never with the
library's own derivation, and the shares are made here by XOR splitting.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace

import pytest

from sphinxamp import (
    Accepted,
    AmpRecord,
    Fail,
    HopPayload,
    IncomingHtlc,
    PaymentData,
    Receiver,
    Settle,
)
from sphinxamp._codes import INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS as PERM15
from sphinxamp.receiver import ResolutionResult, Store

R = ResolutionResult
CLTV = 800_100  # every HTLC here expires at this height; payloads ask for 800_000
HEIGHT = 800_000  # the block height every HTLC here arrives at: 100 blocks left


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Shard:
    share: bytes
    child_index: int
    preimage: bytes
    payment_hash: bytes
    amount_msat: int
    payload: HopPayload

    def htlc(self, htlc_id: int | str, **changes: object) -> IncomingHtlc:
        htlc = IncomingHtlc(htlc_id, self.payment_hash, self.amount_msat, CLTV, self.payload)
        return replace(htlc, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Payment:
    root: bytes
    set_id: bytes
    payment_addr: bytes
    total_msat: int
    shards: tuple[Shard, ...]


def make_payment(rng: random.Random, amounts: list[int], *, total: int | None = None,
                 payment_addr: bytes | None = None, set_id: bytes | None = None) -> Payment:
    """An AMP payment as lnd's sender makes one: random root, XOR shares, random indexes."""
    root = rng.randbytes(32)
    set_id = rng.randbytes(32) if set_id is None else set_id
    addr = rng.randbytes(32) if payment_addr is None else payment_addr
    total = sum(amounts) if total is None else total
    shares = [rng.randbytes(32) for _ in amounts[1:]]
    last = root
    for share in shares:
        last = xor(last, share)
    shards = []
    for share, amount in zip([*shares, last], amounts, strict=True):
        index = rng.getrandbits(32)
        preimage = sha256(root + share + index.to_bytes(4, "big"))
        payload = HopPayload(amt_to_forward=amount, outgoing_cltv_value=800_000,
                             payment_data=PaymentData(addr, total),
                             amp=AmpRecord(share, set_id, index))
        shards.append(Shard(share, index, preimage, sha256(preimage), amount, payload))
    return Payment(root, set_id, addr, total, tuple(shards))


def keysend_htlc(htlc_id: int | str, preimage: bytes, *, payment_hash: bytes | None = None,
                 amount: int = 5000, mpp: PaymentData | None = None) -> IncomingHtlc:
    payload = HopPayload(amt_to_forward=amount, outgoing_cltv_value=800_000,
                         payment_data=mpp, keysend_preimage=preimage)
    phash = sha256(preimage) if payment_hash is None else payment_hash
    return IncomingHtlc(htlc_id, phash, amount, CLTV, payload)


def feed(rx: Receiver, payment: Payment, start: int = 0, now: float = 1000.0) -> list[object]:
    return [rx.receive(s.htlc(start + i), now=now, height=HEIGHT)
            for i, s in enumerate(payment.shards)]


def assert_settles(decision: object, payment: Payment, ids: list[int | str]) -> None:
    """A settle of exactly these HTLCs (one per shard, in `payment` order), each with the
    preimage derived here, which hashes to that HTLC's payment hash."""
    assert isinstance(decision, Settle)
    assert decision.set_id == payment.set_id
    assert decision.payment_addr == payment.payment_addr
    assert len(decision.preimages) == len(ids)
    got = dict(decision.preimages)
    assert got == {i: s.preimage for i, s in zip(ids, payment.shards, strict=True)}
    for i, shard in zip(ids, payment.shards, strict=True):
        assert sha256(got[i]) == shard.payment_hash


# --- settling ---------------------------------------------------------------------------


def test_single_shard_set_settles_with_share_equal_to_root(rx: Receiver,
                                                           rng: random.Random) -> None:
    payment = make_payment(rng, [10_000])
    assert payment.shards[0].share == payment.root
    (decision,) = feed(rx, payment)
    assert_settles(decision, payment, [0])
    assert isinstance(decision, Settle) and decision.amount_msat == 10_000


def test_three_shards_are_held_then_settle_together(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [3000, 3000, 4000])
    first, second, third = feed(rx, payment)
    assert first == Accepted(0, payment.set_id, 3000, 10_000, 1120.0)
    assert second == Accepted(1, payment.set_id, 6000, 10_000, 1120.0)
    assert_settles(third, payment, [0, 1, 2])
    assert isinstance(third, Settle) and [i for i, _ in third.preimages] == [0, 1, 2]


def test_arrival_order_does_not_matter(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 2000, 3000, 4000, 5000])
    order = [3, 0, 4, 2, 1]
    decisions = [rx.receive(payment.shards[k].htlc(f"h{k}"), now=1.0, height=HEIGHT) for k in order]
    assert all(isinstance(d, Accepted) for d in decisions[:-1])
    assert_settles(decisions[-1], payment, [f"h{k}" for k in range(5)])


def test_overpayment_is_accepted(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [6000, 6000], total=10_000)
    first, second = feed(rx, payment)
    assert first == Accepted(0, payment.set_id, 6000, 10_000, 1120.0)
    assert_settles(second, payment, [0, 1])
    assert isinstance(second, Settle) and second.amount_msat == 12_000


def test_sixteen_shards(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000] * 16)
    decisions = feed(rx, payment)
    assert all(isinstance(d, Accepted) for d in decisions[:-1])
    assert_settles(decisions[-1], payment, list(range(16)))


def test_a_batch_is_decided_in_order_in_one_transaction(rx: Receiver,
                                                        rng: random.Random) -> None:
    payment = make_payment(rng, [100, 200, 300])
    preimage = rng.randbytes(32)
    batch = [payment.shards[0].htlc(0), keysend_htlc("k", preimage), payment.shards[1].htlc(1),
             payment.shards[0].htlc(0), payment.shards[2].htlc(2), payment.shards[1].htlc(1)]
    decisions = rx.receive_many(batch, now=50.0, height=HEIGHT)
    assert decisions[:4] == [Accepted(0, payment.set_id, 100, 600, 170.0),
                             Settle(None, (("k", preimage),), 5000),
                             Accepted(1, payment.set_id, 300, 600, 170.0),
                             Accepted(0, payment.set_id, 300, 600, 170.0)]
    assert_settles(decisions[4], payment, [0, 1, 2])
    assert decisions[5] == decisions[4]  # a repeated id is a duplicate of its first
    assert rx.receive_many([], now=60.0, height=HEIGHT) == []


# --- failing a whole set ----------------------------------------------------------------


def test_a_wrong_share_fails_the_whole_set(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000, 1000])
    bad = payment.shards[1]
    amp = AmpRecord(xor(bad.share, b"\x01" * 32), payment.set_id, bad.child_index)
    shards = (payment.shards[0], replace(bad, payload=replace(bad.payload, amp=amp)),
              payment.shards[2])
    decisions = feed(rx, replace(payment, shards=shards))
    assert isinstance(decisions[0], Accepted) and isinstance(decisions[1], Accepted)
    assert decisions[2] == Fail((0, 1, 2), PERM15, R.RECONSTRUCTION_FAILED, payment.set_id)
    late = make_payment(rng, [1000], set_id=payment.set_id,
                        payment_addr=payment.payment_addr, total=3000)
    assert rx.receive(late.shards[0].htlc(9), now=1.0, height=HEIGHT) == Fail((9,), PERM15,
                                                               R.INVOICE_NOT_OPEN)


def test_a_wrong_payment_hash_fails_the_whole_set(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [500, 500])
    assert isinstance(rx.receive(payment.shards[0].htlc(0), now=1.0, height=HEIGHT), Accepted)
    wrong = payment.shards[1].htlc(1, payment_hash=sha256(b"not this one"))
    assert rx.receive(wrong, now=1.0, height=HEIGHT) == Fail(
        (0, 1), PERM15, R.RECONSTRUCTION_FAILED, payment.set_id)


def test_a_missing_shard_never_settles(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000, 1000])
    decisions = [rx.receive(s.htlc(i), now=1.0, height=HEIGHT)
                 for i, s in enumerate(payment.shards[:2])]
    assert all(isinstance(d, Accepted) for d in decisions)


# --- refusing one shard -----------------------------------------------------------------


def test_total_mismatch_refuses_only_that_shard(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000])
    assert isinstance(rx.receive(payment.shards[0].htlc(0), now=1.0, height=HEIGHT), Accepted)
    shard = payment.shards[1]
    other_total = replace(shard.payload, payment_data=PaymentData(payment.payment_addr, 2001))
    assert rx.receive(shard.htlc(1, payload=other_total), now=1.0, height=HEIGHT) == Fail(
        (1,), PERM15, R.TOTAL_MISMATCH)
    assert_settles(rx.receive(shard.htlc(2), now=1.0, height=HEIGHT), payment, [0, 2])


def test_zero_total_is_too_low(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000], total=0)
    assert feed(rx, payment) == [Fail((0,), PERM15, R.TOTAL_TOO_LOW)]


def test_all_zero_set_id_is_refused(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000], set_id=bytes(32))
    assert feed(rx, payment) == [Fail((0,), PERM15, R.AMP_ERROR)]


def test_amp_without_mpp_is_refused(rx: Receiver, rng: random.Random) -> None:
    shard = make_payment(rng, [1000]).shards[0]
    htlc = shard.htlc(0, payload=replace(shard.payload, payment_data=None))
    assert rx.receive(htlc, now=1.0, height=HEIGHT) == Fail((0,), PERM15, R.AMP_ERROR)


def test_set_id_belongs_to_its_first_payment_addr(rx: Receiver, rng: random.Random) -> None:
    first = make_payment(rng, [1000, 1000])
    assert isinstance(rx.receive(first.shards[0].htlc(0), now=1.0, height=HEIGHT), Accepted)
    other = make_payment(rng, [2000], set_id=first.set_id)
    assert feed(rx, other, start=1) == [Fail((1,), PERM15, R.INVOICE_NOT_FOUND)]
    assert_settles(rx.receive(first.shards[1].htlc(2), now=1.0, height=HEIGHT), first, [0, 2])


def test_shards_after_a_settle_are_failed(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000])
    feed(rx, payment)
    extra = make_payment(rng, [1000], set_id=payment.set_id,
                         payment_addr=payment.payment_addr, total=2000)
    assert feed(rx, extra, start=5) == [Fail((5,), PERM15, R.INVOICE_ALREADY_SETTLED)]


def test_neither_amp_nor_keysend_has_no_invoice(rx: Receiver, rng: random.Random) -> None:
    mpp = PaymentData(rng.randbytes(32), 1000)
    htlc = IncomingHtlc(0, rng.randbytes(32), 1000, CLTV,
                        HopPayload(amt_to_forward=1000, outgoing_cltv_value=800_000,
                                   payment_data=mpp))
    assert rx.receive(htlc, now=1.0, height=HEIGHT) == Fail((0,), PERM15, R.INVOICE_NOT_FOUND)


# --- final-hop checks (BOLT 4; lnd ValidateFinalHtlc and the registry's expiry check) -----


def test_htlc_below_amt_to_forward(rx: Receiver, rng: random.Random) -> None:
    shard = make_payment(rng, [1000]).shards[0]
    fail = rx.receive(shard.htlc(0, amount_msat=999), now=1.0, height=HEIGHT)
    assert fail == Fail((0,), 19, R.INCORRECT_HTLC_AMOUNT)
    assert isinstance(fail, Fail) and fail.failure_name == "final_incorrect_htlc_amount"


def test_htlc_expiring_before_outgoing_cltv(rx: Receiver, rng: random.Random) -> None:
    shard = make_payment(rng, [1000]).shards[0]
    fail = rx.receive(shard.htlc(0, cltv_expiry=799_999), now=1.0, height=HEIGHT)
    assert fail == Fail((0,), 18, R.INCORRECT_CLTV_EXPIRY)
    assert isinstance(fail, Fail) and fail.failure_name == "final_incorrect_cltv_expiry"


@pytest.mark.parametrize(("height", "reason"), [
    (CLTV - 18, R.EXPIRY_TOO_SOON),  # 18 blocks left: lnd wants 19
    (CLTV - 19, None),
    (CLTV - 65535, None),
    (CLTV - 65536, R.EXPIRY_TOO_FAR),
])
def test_expiry_against_height(rx: Receiver, rng: random.Random, height: int,
                               reason: ResolutionResult | None) -> None:
    shard = make_payment(rng, [1000]).shards[0]
    decision = rx.receive(shard.htlc(0), now=1.0, height=height)
    if reason is None:
        assert isinstance(decision, Settle)
    else:
        assert decision == Fail((0,), PERM15, reason)


# --- keysend ----------------------------------------------------------------------------


def test_keysend_settles_alone(rx: Receiver, rng: random.Random) -> None:
    preimage = rng.randbytes(32)
    assert rx.receive(keysend_htlc("k", preimage), now=1.0, height=HEIGHT) == Settle(
        None, (("k", preimage),), 5000)


def test_keysend_preimage_must_hash_to_payment_hash(rx: Receiver, rng: random.Random) -> None:
    htlc = keysend_htlc(1, rng.randbytes(32), payment_hash=rng.randbytes(32))
    assert rx.receive(htlc, now=1.0, height=HEIGHT) == Fail((1,), PERM15, R.KEYSEND_ERROR)


def test_keysend_with_mpp_is_refused(rx: Receiver, rng: random.Random) -> None:
    htlc = keysend_htlc(1, rng.randbytes(32), mpp=PaymentData(rng.randbytes(32), 5000))
    assert rx.receive(htlc, now=1.0, height=HEIGHT) == Fail((1,), PERM15, R.KEYSEND_ERROR)


def test_keysend_paid_twice_settles_twice(rx: Receiver, rng: random.Random) -> None:
    # lnd: a further payment to a settled (keysend) invoice is accepted and settled.
    preimage = rng.randbytes(32)
    assert isinstance(rx.receive(keysend_htlc(1, preimage), now=1.0, height=HEIGHT), Settle)
    assert rx.receive(keysend_htlc(2, preimage), now=2.0, height=HEIGHT) == Settle(
        None, ((2, preimage),), 5000)


# --- timeouts ---------------------------------------------------------------------------


def test_each_held_htlc_times_out_from_its_own_arrival(rx: Receiver,
                                                       rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000, 1000])
    rx.receive(payment.shards[0].htlc(0), now=1000.0, height=HEIGHT)
    rx.receive(payment.shards[1].htlc(1), now=1050.0, height=HEIGHT)
    assert rx.next_deadline() == 1120.0
    assert rx.expire(1119.5) == ()
    assert rx.expire(1120.0) == (Fail((0,), 23, R.MPP_TIMEOUT, payment.set_id),)
    assert rx.next_deadline() == 1170.0
    assert rx.expire(1169.0) == ()
    (fail,) = rx.expire(1170.0)
    assert fail == Fail((1,), 23, R.MPP_TIMEOUT, payment.set_id)
    assert fail.failure_name == "mpp_timeout"
    assert rx.next_deadline() is None and rx.expire(5000.0) == ()


def test_expired_htlcs_of_several_sets(rx: Receiver, rng: random.Random) -> None:
    a, b = make_payment(rng, [1, 1, 1]), make_payment(rng, [1, 1])
    rx.receive(a.shards[0].htlc("a0"), now=10.0, height=HEIGHT)
    rx.receive(b.shards[0].htlc("b0"), now=11.0, height=HEIGHT)
    rx.receive(a.shards[1].htlc("a1"), now=12.0, height=HEIGHT)
    assert rx.expire(500.0) == (Fail(("a0", "a1"), 23, R.MPP_TIMEOUT, a.set_id),
                                Fail(("b0",), 23, R.MPP_TIMEOUT, b.set_id))


def test_hold_is_configurable(store: Store, rng: random.Random) -> None:
    rx = Receiver(store, hold_seconds=5, accept_amp=True)
    payment = make_payment(rng, [1, 1])
    assert rx.receive(payment.shards[0].htlc(0), now=0.0, height=HEIGHT) == Accepted(
        0, payment.set_id, 1, 2, 5.0)
    assert rx.expire(4.9) == ()
    assert rx.expire(5.0) == (Fail((0,), 23, R.MPP_TIMEOUT, payment.set_id),)


def test_a_retried_shard_completes_the_set_after_a_timeout(rx: Receiver,
                                                           rng: random.Random) -> None:
    # lnd's sender takes a failed shard's share back and resends it under a new child index.
    payment = make_payment(rng, [1000, 1000])
    first = payment.shards[0]
    rx.receive(first.htlc(0), now=0.0, height=HEIGHT)
    assert len(rx.expire(120.0)) == 1
    index = first.child_index ^ 1
    preimage = sha256(payment.root + first.share + index.to_bytes(4, "big"))
    retry = replace(first, child_index=index, preimage=preimage, payment_hash=sha256(preimage),
                    payload=replace(first.payload, amp=AmpRecord(first.share, payment.set_id,
                                                                 index)))
    assert isinstance(rx.receive(retry.htlc(2), now=130.0, height=HEIGHT), Accepted)
    assert_settles(rx.receive(payment.shards[1].htlc(3), now=131.0, height=HEIGHT),
                   replace(payment, shards=(retry, payment.shards[1])), [2, 3])


def test_settled_htlcs_do_not_time_out(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1, 1])
    feed(rx, payment, now=0.0)
    assert rx.expire(10_000.0) == () and rx.next_deadline() is None


# --- reusable invoices ------------------------------------------------------------------


def test_one_payment_addr_receives_many_sets(rx: Receiver, rng: random.Random) -> None:
    """A reusable AMP invoice of value 0 (lnd addinvoice --amp): every set settles on its
    own and the amount paid adds up; a set failing its reconstruction adds nothing."""
    addr = rng.randbytes(32)
    rx.add_invoice(now=0.0, payment_addr=addr)
    first = make_payment(rng, [1000, 2000], payment_addr=addr)
    second = make_payment(rng, [500], payment_addr=addr)
    failed = make_payment(rng, [700, 700], payment_addr=addr)
    elsewhere = make_payment(rng, [9999])
    assert_settles(feed(rx, first, start=0)[-1], first, [0, 1])
    assert rx.amount_paid(addr) == 3000
    assert_settles(feed(rx, second, start=10)[-1], second, [10])
    feed(rx, elsewhere, start=20)
    bad = replace(failed.shards[1], payment_hash=rng.randbytes(32))
    feed(rx, replace(failed, shards=(failed.shards[0], bad)), start=30)
    assert rx.amount_paid(addr) == 3500
    assert rx.amount_paid(elsewhere.payment_addr) == 9999
    assert rx.amount_paid(rng.randbytes(32)) == 0


def test_integer_and_text_ids_are_different_htlcs(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000])
    rx.receive(payment.shards[0].htlc(7), now=0.0, height=HEIGHT)
    assert_settles(rx.receive(payment.shards[1].htlc("7"), now=0.0, height=HEIGHT), payment,
                   [7, "7"])
