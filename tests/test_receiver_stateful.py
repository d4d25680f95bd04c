"""Arbitrary sequences of shards, duplicates, keysends, timeouts and restarts, over both stores.

A reference model written here (spontaneous invoices as lnd's accept-amp / accept-keysend
make them, sets, held HTLCs with their arrival times, settles) predicts every decision; the
preimages it expects are derived with hashlib, independently of the library. On top of the
exact prediction the invariants the receiver exists for are asserted
on their own: a settle covers every HTLC held for its set (never a part), a set settles at
most once (a replay repeats the same settle), every preimage hashes to its HTLC's hash.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sphinxamp import Accepted, AmpRecord, Fail, IncomingHtlc, PaymentData, Receiver, Settle
from sphinxamp._codes import INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS as PERM15
from sphinxamp.receiver import (
    Decision,
    HtlcState,
    MemoryStore,
    ResolutionResult,
    SqliteStore,
    Store,
)
from sphinxamp.receiver._store import HtlcId
from tests.test_receiver import HEIGHT, Payment, keysend_htlc, make_payment, sha256, xor

R = ResolutionResult
HOLD = 120.0
VARIANTS = ("ok", "ok", "ok", "ok", "bad_share", "bad_hash", "other_total", "no_mpp",
            "low_amount", "zero_set_id")


@dataclass
class ModelSet:
    payment_addr: bytes
    total_msat: int
    state: str = "open"
    held: list[HtlcId] = field(default_factory=list)  # arrival order


@dataclass
class ModelInvoice:
    value_msat: int
    created_at: float
    state: str = "open"


@dataclass
class ModelHtlc:
    htlc: IncomingHtlc
    arrived_at: float
    state: str  # held / settled / failed
    set_id: bytes | None = None
    fail: Fail | None = None
    order: int = 0


def expected_children(members: list[IncomingHtlc]) -> list[bytes] | None:
    """lnd's reconstruction, from the formula: the preimages, or None if any hash differs."""
    root = bytes(32)
    for m in members:
        assert m.payload.amp is not None
        root = xor(root, m.payload.amp.root_share)
    preimages = []
    for m in members:
        amp = m.payload.amp
        assert amp is not None
        preimage = sha256(root + amp.root_share + amp.child_index.to_bytes(4, "big"))
        if sha256(preimage) != m.payment_hash:
            return None
        preimages.append(preimage)
    return preimages


class ReceiverMachine(RuleBasedStateMachine):
    use_sqlite = False

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="rx-stateful-")
        self.store = self._open()
        self.rx = Receiver(self.store, hold_seconds=HOLD, accept_amp=True, accept_keysend=True)
        self.now = 1000.0
        self.next_id = 0
        self.payments: list[Payment] = []
        self.htlcs: dict[HtlcId, ModelHtlc] = {}
        self.sets: dict[bytes, ModelSet] = {}
        self.settles: dict[bytes, Settle] = {}
        self.invoices: dict[bytes, ModelInvoice] = {}  # spontaneous AMP, by payment_addr

    def _open(self) -> Store:
        if not self.use_sqlite:
            return MemoryStore()
        # The logic under test is the same in both modes; NORMAL spares an fsync per step
        # (the crash test runs the default, FULL).
        return SqliteStore(str(Path(self.tmp) / "rx.db"), synchronous="NORMAL")

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- rules ---------------------------------------------------------------------------

    @rule(seed=st.integers(0, 2**32), amounts=st.lists(st.integers(1, 1000), min_size=1,
                                                       max_size=4),
          overpay=st.booleans(), reuse_addr=st.booleans())
    def new_payment(self, seed: int, amounts: list[int], overpay: bool,
                    reuse_addr: bool) -> None:
        rng = random.Random(seed)
        addr = self.payments[seed % len(self.payments)].payment_addr if (
            reuse_addr and self.payments) else None
        # Overpaying by less than the smallest shard: only the full set reaches the total.
        total = sum(amounts) - (rng.randrange(min(amounts)) if overpay else 0)
        self.payments.append(make_payment(rng, amounts, total=total, payment_addr=addr))

    @precondition(lambda self: self.payments)
    @rule(pick=st.integers(0, 1000), shard=st.integers(0, 3), variant=st.sampled_from(VARIANTS))
    def send_shard(self, pick: int, shard: int, variant: str) -> None:
        payment = self.payments[pick % len(self.payments)]
        base = payment.shards[shard % len(payment.shards)]
        htlc = _variant(base.htlc(self._new_id()), variant)
        self._send(htlc)

    @precondition(lambda self: self.payments)
    @rule(picks=st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 3),
                                   st.sampled_from(VARIANTS)), min_size=1, max_size=6))
    def send_batch(self, picks: list[tuple[int, int, str]]) -> None:
        htlcs = []
        for pick, shard, variant in picks:
            payment = self.payments[pick % len(self.payments)]
            base = payment.shards[shard % len(payment.shards)]
            htlcs.append(_variant(base.htlc(self._new_id()), variant))
        decisions = self.rx.receive_many(htlcs, now=self.now, height=HEIGHT)
        assert len(decisions) == len(htlcs)
        for htlc, decision in zip(htlcs, decisions, strict=True):
            self._judge(htlc, decision)

    @rule(preimage=st.binary(min_size=32, max_size=32), valid=st.booleans())
    def send_keysend(self, preimage: bytes, valid: bool) -> None:
        phash = None if valid else sha256(preimage + b"!")
        self._send(keysend_htlc(self._new_id(), preimage, payment_hash=phash))

    @precondition(lambda self: self.htlcs)
    @rule(pick=st.integers(0, 10_000))
    def resend(self, pick: int) -> None:
        known = list(self.htlcs.values())[pick % len(self.htlcs)]
        decision = self.rx.receive(known.htlc, now=self.now, height=HEIGHT)
        assert decision == self._replay(known), "a duplicate was not answered from the store"

    @rule(seconds=st.floats(0, 150, allow_nan=False))
    def advance_and_expire(self, seconds: float) -> None:
        self.now += seconds
        cutoff = self.now - HOLD
        due = sorted((m for m in self.htlcs.values()
                      if m.state == "held" and m.arrived_at <= cutoff),
                     key=lambda m: m.arrived_at)  # stable: ties stay in arrival order
        groups: dict[bytes | None, list[HtlcId]] = {}
        for m in due:
            groups.setdefault(m.set_id, []).append(m.htlc.htlc_id)
        want = tuple(Fail(tuple(ids), 23, R.MPP_TIMEOUT, set_id) for set_id, ids in
                     groups.items())
        got = self.rx.expire(self.now)
        for fail in want:
            for htlc_id in fail.htlc_ids:
                self._fail_held(htlc_id, Fail((htlc_id,), 23, R.MPP_TIMEOUT, fail.set_id))
        # Then spontaneous invoices an hour old are canceled, failing what they still hold.
        canceled: list[Fail] = []
        for addr, invoice in self.invoices.items():
            if invoice.state != "open" or invoice.created_at + 3600 > self.now:
                continue
            invoice.state = "canceled"
            held = sorted((m for m in self.htlcs.values() if m.state == "held"
                           and m.set_id is not None and self.sets[m.set_id].payment_addr == addr),
                          key=lambda m: m.order)
            by_set: dict[bytes | None, list[HtlcId]] = {}
            for m in held:
                by_set.setdefault(m.set_id, []).append(m.htlc.htlc_id)
            for set_id, ids in by_set.items():
                canceled.append(Fail(tuple(ids), PERM15, R.CANCELED, set_id))
                for htlc_id in ids:
                    self._fail_held(htlc_id, Fail((htlc_id,), PERM15, R.CANCELED, set_id))
        assert got == (*want, *canceled)

    @rule(dice=st.integers(0, 3))
    def restart(self, dice: int) -> None:
        if dice:  # restart on one draw in four: often enough, without dominating the run
            return
        if self.use_sqlite:
            self.store.close()
            self.store = self._open()
        self.rx = Receiver(self.store, hold_seconds=HOLD, accept_amp=True, accept_keysend=True)

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def held_htlcs_are_the_stores_held_htlcs(self) -> None:
        for set_id, s in self.sets.items():
            held = [r.htlc_id for r in self.store.set_htlcs(set_id, HtlcState.HELD)]
            assert held == s.held
            assert s.state == "open" or not held

    @invariant()
    def amount_paid_adds_up_settled_sets(self) -> None:
        for addr in {s.payment_addr for s in self.sets.values()}:
            want = sum(settle.amount_msat for set_id, settle in self.settles.items()
                       if self.sets[set_id].payment_addr == addr)
            assert self.rx.amount_paid(addr) == want

    # --- the model -----------------------------------------------------------------------

    def _new_id(self) -> HtlcId:
        self.next_id += 1
        return self.next_id if self.next_id % 2 else f"htlc-{self.next_id}"

    def _send(self, htlc: IncomingHtlc) -> None:
        self._judge(htlc, self.rx.receive(htlc, now=self.now, height=HEIGHT))

    def _judge(self, htlc: IncomingHtlc, decision: Decision) -> None:
        want = self._predict(htlc)
        self._check_invariants(htlc, decision)
        assert decision == want, f"predicted {want}, got {decision}"
        self._record(htlc, decision)

    def _predict(self, htlc: IncomingHtlc) -> Decision:
        p = htlc.payload
        if p.amt_to_forward is not None and htlc.amount_msat < p.amt_to_forward:
            return Fail((htlc.htlc_id,), 19, R.INCORRECT_HTLC_AMOUNT)
        if p.amp is None:
            assert p.keysend_preimage is not None
            if sha256(p.keysend_preimage) != htlc.payment_hash:
                return Fail((htlc.htlc_id,), PERM15, R.KEYSEND_ERROR)
            return Settle(None, ((htlc.htlc_id, p.keysend_preimage),), htlc.amount_msat)
        refusal = self._amp_refusal(htlc)
        if refusal is not None:
            return Fail((htlc.htlc_id,), PERM15, refusal)
        assert p.payment_data is not None
        set_id, total = p.amp.set_id, p.payment_data.total_msat
        s = self.sets.get(set_id) or ModelSet(p.payment_data.payment_secret, total)
        held = [self.htlcs[i].htlc for i in s.held]
        amount = sum(h.amount_msat for h in held) + htlc.amount_msat
        if amount < total:  # the total of this HTLC, which the held ones share
            return Accepted(htlc.htlc_id, set_id, amount, total, self.now + HOLD)
        members = [*held, htlc]
        preimages = expected_children(members)
        if preimages is None:
            return Fail(tuple(m.htlc_id for m in members), PERM15, R.RECONSTRUCTION_FAILED,
                        set_id)
        pairs = tuple((m.htlc_id, pre) for m, pre in zip(members, preimages, strict=True))
        return Settle(set_id, pairs, amount, s.payment_addr)

    def _amp_refusal(self, htlc: IncomingHtlc) -> ResolutionResult | None:
        """lnd processAMP (the invoice made on the fly), then updateMpp's checks in order."""
        amp, mpp = htlc.payload.amp, htlc.payload.payment_data
        assert amp is not None
        if mpp is None:
            return R.AMP_ERROR
        invoice = self.invoices.setdefault(mpp.payment_secret,
                                           ModelInvoice(mpp.total_msat, self.now))
        s = self.sets.get(amp.set_id)
        if s is not None and s.payment_addr != mpp.payment_secret:
            return R.INVOICE_NOT_FOUND
        if invoice.state != "open":
            return R.INVOICE_NOT_OPEN
        if mpp.total_msat < invoice.value_msat:
            return R.TOTAL_TOO_LOW
        held = [] if s is None else [self.htlcs[i].htlc for i in s.held]
        if any(h.payload.payment_data.total_msat != mpp.total_msat  # type: ignore[union-attr]
               for h in held):
            return R.TOTAL_MISMATCH
        if amp.set_id == bytes(32):
            return R.AMP_ERROR
        return R.INVOICE_ALREADY_SETTLED if s is not None and s.state == "settled" else None

    def _check_invariants(self, htlc: IncomingHtlc, decision: Decision) -> None:
        if not isinstance(decision, Settle) or decision.set_id is None:
            return
        s = self.sets.get(decision.set_id)
        held = [] if s is None else s.held
        assert decision.set_id not in self.settles, "a set settled twice"
        assert list(decision.htlc_ids) == [*held, htlc.htlc_id], "a partial settle"
        known = {**{i: self.htlcs[i].htlc for i in held}, htlc.htlc_id: htlc}
        for htlc_id, preimage in decision.preimages:
            assert sha256(preimage) == known[htlc_id].payment_hash

    def _record(self, htlc: IncomingHtlc, decision: Decision) -> None:
        amp = htlc.payload.amp
        joined = amp is not None and not (
            isinstance(decision, Fail) and decision.htlc_ids == (htlc.htlc_id,)
            and decision.reason is not R.RECONSTRUCTION_FAILED)
        set_id = amp.set_id if joined and amp is not None else None
        model = ModelHtlc(htlc, self.now, "held", set_id, order=len(self.htlcs))
        self.htlcs[htlc.htlc_id] = model
        if set_id is not None and set_id not in self.sets:
            mpp = htlc.payload.payment_data
            assert mpp is not None
            self.sets[set_id] = ModelSet(mpp.payment_secret, mpp.total_msat)
        if isinstance(decision, Accepted):
            assert set_id is not None
            self.sets[set_id].held.append(htlc.htlc_id)
        elif isinstance(decision, Settle):
            model.state = "settled"
            self._settle(decision)
        else:
            model.state, model.fail = "failed", Fail((htlc.htlc_id,), decision.failure_code,
                                                     decision.reason, decision.set_id)
            if set_id is not None:  # the whole set failed with it, and its invoice
                for other in self.sets[set_id].held[:]:
                    self._fail_held(other, replace(model.fail, htlc_ids=(other,)))
                self.sets[set_id].state = "failed"
                self.invoices[self.sets[set_id].payment_addr].state = "canceled"

    def _settle(self, settle: Settle) -> None:
        if settle.set_id is None:
            return
        self.settles[settle.set_id] = settle
        s = self.sets[settle.set_id]
        for htlc_id in s.held:
            self.htlcs[htlc_id].state = "settled"
        s.held.clear()
        s.state = "settled"

    def _fail_held(self, htlc_id: HtlcId, fail: Fail) -> None:
        model = self.htlcs[htlc_id]
        model.state, model.fail = "failed", fail
        if model.set_id is not None:
            self.sets[model.set_id].held.remove(htlc_id)

    def _replay(self, known: ModelHtlc) -> Decision:
        if known.state == "failed":
            assert known.fail is not None
            if known.set_id is not None:  # it had reached an invoice: ResultReplayToCanceled
                return Fail((known.htlc.htlc_id,), PERM15, R.REPLAY_TO_CANCELED, known.set_id)
            return known.fail
        if known.set_id is None:  # keysend
            preimage = known.htlc.payload.keysend_preimage
            assert preimage is not None
            return Settle(None, ((known.htlc.htlc_id, preimage),), known.htlc.amount_msat)
        if known.state == "settled":
            return self.settles[known.set_id]
        s = self.sets[known.set_id]
        amount = sum(self.htlcs[i].htlc.amount_msat for i in s.held)
        mpp = known.htlc.payload.payment_data
        assert mpp is not None
        return Accepted(known.htlc.htlc_id, known.set_id, amount, mpp.total_msat,
                        known.arrived_at + HOLD)


def _variant(htlc: IncomingHtlc, variant: str) -> IncomingHtlc:
    p = htlc.payload
    amp, mpp = p.amp, p.payment_data
    assert amp is not None and mpp is not None
    if variant == "bad_share":
        amp = AmpRecord(xor(amp.root_share, b"\x80" + bytes(31)), amp.set_id, amp.child_index)
    elif variant == "zero_set_id":
        amp = AmpRecord(amp.root_share, bytes(32), amp.child_index)
    elif variant == "bad_hash":
        return replace(htlc, payment_hash=sha256(htlc.payment_hash))
    elif variant == "other_total":
        mpp = PaymentData(mpp.payment_secret, mpp.total_msat + 1)
    elif variant == "low_amount":
        return replace(htlc, amount_msat=htlc.amount_msat - 1)
    payload = replace(p, amp=amp, payment_data=None if variant == "no_mpp" else mpp)
    return replace(htlc, payload=payload)


class SqliteReceiverMachine(ReceiverMachine):
    use_sqlite = True


TestReceiverOverMemoryStore = ReceiverMachine.TestCase
TestReceiverOverMemoryStore.settings = settings(stateful_step_count=40, deadline=None)
TestReceiverOverSqliteStore = SqliteReceiverMachine.TestCase
TestReceiverOverSqliteStore.settings = settings(stateful_step_count=40, deadline=None)
