"""The AMP receiver fed arbitrary sequences of HTLCs, duplicates, timeouts and restarts.

Input: a program, one operation per step (byte % 8, then its operands):
  0 new AMP payment (1–4 shards, amounts from the input, root/set_id/shares hashed from it,
    a payment_addr reused from an earlier payment when the operand says so);
  1 a shard of a payment, as made; 2 a shard with one thing wrong (share, hash, total, no
    MPP, zero set_id, amount below amt_to_forward);
  3 an arbitrary final payload (the next bytes, length-prefixed) with an arbitrary hash and
    amount; 4 an HTLC sent before, again; 5 time passes, timeouts fire;
  6 a keysend, good or bad; 7 by operand % 3: up to four shards of payments arrive together
    (`receive_many`), the receiver restarts on its store under the other profile (bolt,
    lnd), or a payment's invoice is canceled.
Invariants: nothing escapes but the library's errors (a payload that does not decode is
skipped as its `InvalidOnionPayload`; the receiver itself raises nothing); every failure code
is one lnd sends for a final HTLC; a settle names every HTLC held for its set and the one that
completed it (never a part), its amounts reach the set's total, each preimage hashes to its
HTLC's payment hash; a set settles at most once; a duplicate is answered as its HTLC stands
(the same settle, the same failure or, failed after it reached an invoice, lnd's
replay_to_canceled, still held with the same expiry); held HTLCs time out exactly when their
hold ran out, and only held HTLCs fail when an invoice is canceled or expires; deterministic.
"""

import hashlib

import _common

from sphinxamp._payload import AmpRecord, HopPayload, PaymentData, Role, decode_payload
from sphinxamp.errors import DecodeError, InvalidArgument
from sphinxamp.receiver._machine import Accepted, Fail, IncomingHtlc, Receiver, Settle
from sphinxamp.receiver._machine import ResolutionResult as R
from sphinxamp.receiver._store import HtlcId, MemoryStore

HOLD = 120.0
WIRE_CODES = {18, 19, 23, 0x4000 | 15}
CLTV = 1000
HEIGHT = 900  # every HTLC arrives at this height: 100 blocks left


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


class Reader:
    """Operands from the input; past its end every read is zero."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out.ljust(n, b"\x00")

    def byte(self) -> int:
        return self.take(1)[0]

    @property
    def done(self) -> bool:
        return self.pos >= len(self.data)


class Run:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.rx = Receiver(self.store, hold_seconds=HOLD, accept_amp=True, accept_keysend=True)
        self.profile = "bolt"
        self.now = 0.0
        self.payments: list[tuple[bytes, list[IncomingHtlc]]] = []  # (payment_addr, shards)
        self.sent: dict[HtlcId, IncomingHtlc] = {}
        self.state: dict[HtlcId, object] = {}  # htlc id -> its last decision for it
        self.arrival: dict[HtlcId, float] = {}
        self.held: dict[bytes, list[HtlcId]] = {}
        self.settled: dict[bytes, Settle] = {}

    # --- operations ------------------------------------------------------------------

    def new_payment(self, r: Reader) -> None:
        n, seed = 1 + r.byte() % 4, r.take(8)
        reuse = r.byte()
        amounts = [1 + int.from_bytes(r.take(2), "big") for _ in range(n)]
        addr = self.payments[reuse % len(self.payments)][0] if (
            reuse % 2 and self.payments) else sha256(b"addr" + seed)
        root, set_id = sha256(b"root" + seed), sha256(b"set" + seed)
        shares = [sha256(b"share%d" % i + seed) for i in range(n - 1)]
        last = root
        for share in shares:
            last = xor(last, share)
        shards = []
        for i, (share, amount) in enumerate(zip([*shares, last], amounts, strict=True)):
            index = int.from_bytes(sha256(b"index%d" % i + seed)[:4], "big")
            preimage = sha256(root + share + index.to_bytes(4, "big"))
            payload = HopPayload(amount, CLTV, payment_data=PaymentData(addr, sum(amounts)),
                                 amp=AmpRecord(share, set_id, index))
            shards.append(IncomingHtlc(0, sha256(preimage), amount, CLTV, payload))
        self.payments.append((addr, shards))

    def pick(self, r: Reader, broken: bool) -> IncomingHtlc | None:
        if not self.payments:
            return None
        shards = self.payments[r.byte() % len(self.payments)][1]
        htlc = shards[r.byte() % len(shards)]
        return _break(htlc, r.byte()) if broken else htlc

    def shard(self, r: Reader, broken: bool) -> None:
        htlc = self.pick(r, broken)
        if htlc is not None:
            self.send(htlc)

    def batch(self, r: Reader) -> None:
        picked = [self.pick(r, broken=r.byte() % 4 == 0) for _ in range(1 + r.byte() % 4)]
        htlcs = [self.number(h) for h in picked if h is not None]
        decisions = self.rx.receive_many(htlcs, now=self.now, height=HEIGHT)
        assert len(decisions) == len(htlcs)
        for htlc, decision in zip(htlcs, decisions, strict=True):
            self.judge(htlc, decision)

    def raw_payload(self, r: Reader) -> None:
        data = r.take(r.byte() * 2)
        phash, amount = r.take(32), int.from_bytes(r.take(3), "big")
        try:
            payload = decode_payload(data, Role.FINAL)
        except DecodeError as exc:
            _common.check_error(exc, len(data))
            return
        self.send(IncomingHtlc(0, phash, amount, CLTV + r.byte(), payload))

    def keysend(self, r: Reader) -> None:
        preimage, good = r.take(32), r.byte() % 2
        payload = HopPayload(500, CLTV, keysend_preimage=preimage)
        phash = sha256(preimage) if good else sha256(preimage + b"!")
        self.send(IncomingHtlc(0, phash, 500, CLTV, payload))

    def resend(self, r: Reader) -> None:
        if self.sent:
            htlc_id = list(self.sent)[r.byte() % len(self.sent)]
            decision = self.rx.receive(self.sent[htlc_id], now=self.now, height=HEIGHT)
            self.check_replay(htlc_id, decision)

    def tick(self, r: Reader) -> None:
        self.now += r.byte() * 2
        due = {i for ids in self.held.values() for i in ids if self.arrival[i] <= self.now - HOLD}
        fails = self.rx.expire(self.now)
        timeouts = [fail for fail in fails if fail.reason is R.MPP_TIMEOUT]
        got = [i for fail in timeouts for i in fail.htlc_ids]
        assert sorted(got) == sorted(due) and len(got) == len(due), (got, due)
        for fail in timeouts:
            assert fail.failure_code == 23
        # Then invoices past their expiry (spontaneous ones: an hour) fail what they hold.
        self.release(fails)

    def release(self, fails: tuple[Fail, ...]) -> None:
        for fail in fails:
            assert fail.set_id is not None and fail.reason in (R.MPP_TIMEOUT, R.CANCELED)
            for htlc_id in fail.htlc_ids:
                self.held[fail.set_id].remove(htlc_id)  # only held HTLCs fail here
                self.state[htlc_id] = Fail((htlc_id,), fail.failure_code, fail.reason,
                                           fail.set_id)

    def cancel(self, r: Reader) -> None:
        if not self.payments:
            return
        addr = self.payments[r.byte() % len(self.payments)][0]
        try:
            fails = self.rx.cancel_invoice(addr)
        except InvalidArgument as exc:  # no invoice yet for that payment_addr
            assert exc.reason == "unknown_invoice", exc
            return
        assert all(fail.reason is R.CANCELED for fail in fails)
        self.release(fails)

    def restart(self) -> None:
        """A new receiver on the same store, alternately under either profile."""
        self.profile = "lnd" if self.profile == "bolt" else "bolt"
        self.rx = Receiver(self.store, hold_seconds=HOLD, accept_amp=True, accept_keysend=True,
                           profile=self.profile)

    # --- checks ----------------------------------------------------------------------

    def number(self, template: IncomingHtlc) -> IncomingHtlc:
        """The template as a new HTLC, under the next id."""
        htlc_id = len(self.sent)
        htlc = IncomingHtlc(htlc_id, template.payment_hash, template.amount_msat,
                            template.cltv_expiry, template.payload)
        self.sent[htlc_id], self.arrival[htlc_id] = htlc, self.now
        return htlc

    def send(self, template: IncomingHtlc) -> None:
        htlc = self.number(template)
        self.judge(htlc, self.rx.receive(htlc, now=self.now, height=HEIGHT))

    def judge(self, htlc: IncomingHtlc, decision: Accepted | Settle | Fail) -> None:
        htlc_id = htlc.htlc_id
        if isinstance(decision, Accepted):
            assert decision.htlc_id == htlc_id and decision.held_msat < decision.total_msat
            assert decision.expires_at == self.now + HOLD
            self.held.setdefault(decision.set_id, []).append(htlc_id)
        elif isinstance(decision, Settle):
            self.check_settle(htlc, decision)
        else:
            self.check_fail(htlc_id, decision)
        for i in _ids(decision):
            self.state[i] = decision

    def check_settle(self, htlc: IncomingHtlc, settle: Settle) -> None:
        if settle.set_id is None:
            assert settle.htlc_ids == (htlc.htlc_id,) and htlc.payload.amp is None
        else:
            assert settle.set_id not in self.settled, "a set settled twice"
            held = self.held.pop(settle.set_id, [])
            assert list(settle.htlc_ids) == [*held, htlc.htlc_id], "a partial settle"
            mpp = htlc.payload.payment_data
            assert mpp is not None and settle.amount_msat >= mpp.total_msat > 0
            assert settle.amount_msat == sum(self.sent[i].amount_msat for i in settle.htlc_ids)
            self.settled[settle.set_id] = settle
        for htlc_id, preimage in settle.preimages:
            assert sha256(preimage) == self.sent[htlc_id].payment_hash, "a wrong preimage"

    def check_fail(self, htlc_id: HtlcId, fail: Fail) -> None:
        assert fail.failure_code in WIRE_CODES and fail.failure_name, fail
        assert fail.failure_code == fail.reason.failure_code
        if len(fail.htlc_ids) > 1 or fail.set_id is not None:  # the whole set failed
            assert fail.set_id is not None and fail.htlc_ids[-1] == htlc_id
            held = self.held.pop(fail.set_id, [])
            assert list(fail.htlc_ids) == [*held, htlc_id]
        else:
            assert fail.htlc_ids == (htlc_id,)

    def check_replay(self, htlc_id: HtlcId, got: object) -> None:
        last = self.state[htlc_id]
        if isinstance(last, Settle):
            assert got == last, "a duplicate got another settle"
        elif isinstance(last, Fail):
            assert isinstance(got, Fail) and got.htlc_ids == (htlc_id,)
            assert got.set_id == last.set_id
            # Failed after it reached an invoice (it was in a set): lnd's ReplayToCanceled.
            replayed = R.REPLAY_TO_CANCELED if last.set_id is not None else last.reason
            assert got.reason is replayed, (got, last)
        else:
            assert isinstance(last, Accepted) and isinstance(got, Accepted)
            assert (got.set_id, got.expires_at) == (last.set_id, last.expires_at)


def _ids(decision: Accepted | Settle | Fail) -> tuple[HtlcId, ...]:
    return (decision.htlc_id,) if isinstance(decision, Accepted) else decision.htlc_ids


def _break(htlc: IncomingHtlc, how: int) -> IncomingHtlc:
    p = htlc.payload
    amp, mpp = p.amp, p.payment_data
    assert amp is not None and mpp is not None
    kind = how % 6
    if kind == 0:
        p = HopPayload(p.amt_to_forward, CLTV, payment_data=mpp,
                       amp=AmpRecord(xor(amp.root_share, b"\x01" * 32), amp.set_id,
                                     amp.child_index))
    elif kind == 1:
        return IncomingHtlc(0, sha256(htlc.payment_hash), htlc.amount_msat, CLTV, p)
    elif kind == 2:
        p = HopPayload(p.amt_to_forward, CLTV, payment_data=PaymentData(
            mpp.payment_secret, mpp.total_msat + 1 + how), amp=amp)
    elif kind == 3:
        p = HopPayload(p.amt_to_forward, CLTV, amp=amp)
    elif kind == 4:
        p = HopPayload(p.amt_to_forward, CLTV, payment_data=mpp,
                       amp=AmpRecord(amp.root_share, bytes(32), amp.child_index))
    else:
        return IncomingHtlc(0, htlc.payment_hash, htlc.amount_msat - 1, CLTV, p)
    return IncomingHtlc(0, htlc.payment_hash, htlc.amount_msat, CLTV, p)


def run(data: bytes) -> list[object]:
    state, r = Run(), Reader(data)
    steps = 0
    while not r.done and steps < 200:
        op, steps = r.byte() % 8, steps + 1
        if op == 0:
            state.new_payment(r)
        elif op in (1, 2):
            state.shard(r, broken=op == 2)
        elif op == 3:
            state.raw_payload(r)
        elif op == 4:
            state.resend(r)
        elif op == 5:
            state.tick(r)
        elif op == 6:
            state.keysend(r)
        else:
            which = r.byte() % 3
            if which == 0:
                state.batch(r)
            elif which == 1:
                state.restart()
            else:
                state.cancel(r)
    return [state.state[i] for i in sorted(state.state, key=str)]


def test_one_input(data: bytes) -> None:
    assert run(data) == run(data), "the receiver is not deterministic"


if __name__ == "__main__":
    _common.main(test_one_input)
