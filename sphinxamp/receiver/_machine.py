"""The AMP and keysend receiver: a sans-IO state machine over lnd's invoice layer.

The caller peels each incoming HTLC's onion, decodes the final payload and hands it here with
the HTLC's payment hash, amount, expiry and id, the time and the block height (required: the
final CLTV checks cannot be skipped). What comes back is a decision to carry out: hold the
HTLC (`Accepted`), settle HTLCs with their preimages (`Settle`), or fail them (`Fail`, with
the data of each HTLC's failure message). The receiver never reads a clock.

The rules are lnd's (_invoices.py walks through them in lnd's order):

- Invoices: AMP invoices by payment_addr (value 0 = any amount, an expiry, a min final CLTV
  delta; added with `add_invoice`), states open / settled / canceled. With `accept_amp`
  (off by default, as in lnd) an AMP HTLC to an unknown payment_addr creates a spontaneous
  invoice whose value is its set's total; with `accept_keysend` (off by default) a keysend
  HTLC creates one by payment hash. Spontaneous invoices expire an hour after creation
  (lnd's default invoice expiry); `expire(now)` cancels every open invoice past its expiry,
  failing its held HTLCs (canceled). An HTLC arriving at or after an open invoice's expiry
  meets it canceled even if `expire` has not run since (lnd's expiry watcher runs alone).
- AMP shards group by set_id under the invoice's payment_addr. A set completes when its held
  HTLCs reach the MPP total_msat (overpayment is fine); then the shares are XORed into the
  root, each child is derived again and must hash to its own HTLC's payment hash, and every
  HTLC settles with its own preimage. A mismatch fails the whole set and cancels the invoice.
  A set total below the invoice's value is refused; a shard whose total differs from the
  HTLCs held in its set now is refused alone. A reusable AMP invoice stays open: every set
  settles on its own and `amount_paid` adds them up. A set_id belongs to the first
  payment_addr that used it (lnd's set-id index). HTLCs to a settled set are refused; HTLCs
  to a set whose held HTLCs timed out are accepted into it again (lnd's tests show it).
- A held HTLC fails with mpp_timeout (23) once `hold_seconds` passed since its own arrival
  (lnd's DefaultHtlcHoldDuration, one timer per HTLC), fired by `expire(now)`.
- A keysend HTLC (bLIP 3) settles when its 32-byte preimage hashes to its payment hash; a
  repeat settles again unless it pays less than the first (lnd updateLegacy).
- Every other refusal is incorrect_or_unknown_payment_details (PERM|15) on the wire with the
  HTLC's amount and accept height; the detailed `ResolutionResult` stays with the receiver.
- An HTLC id seen before is answered from the store, not decided again: a held HTLC is
  reported accepted, a settled one with its set's settle (same preimages), one failed after
  it reached an invoice with incorrect_or_unknown_payment_details (lnd ResultReplayToCanceled).
  One refused because no invoice was found (invoice_not_found) is decided again, as lnd
  (which kept nothing of it) does: the same HTLC meets the same refusal, unless an invoice was
  added or accept_keysend / accept_amp turned on since. After a crash the caller resends
  every HTLC it has not settled or failed yet and gets the decisions it lost.

Profiles: "bolt" (default) checks BOLT 4's "expiry unreasonably near" with the other final-hop
checks, before the payment details; "lnd" checks it where lnd does. Every decision is written
to the store in one transaction before it is returned (`receive_many`: a batch in one).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace

from sphinxamp._payload import check_profile
from sphinxamp.errors import InvalidArgument
from sphinxamp.receiver._invoices import MAX_FINAL_CLTV_DELTA, Policy, decide, fail_of
from sphinxamp.receiver._resolution import (
    FINAL_INCORRECT_CLTV_EXPIRY,
    FINAL_INCORRECT_HTLC_AMOUNT,
    Accepted,
    Decision,
    Fail,
    FailedHtlc,
    IncomingHtlc,
    ResolutionResult,
    Settle,
)
from sphinxamp.receiver._store import (
    Change,
    HtlcRecord,
    HtlcState,
    Invoice,
    InvoiceKind,
    InvoiceState,
    Store,
    refused_for_want_of_invoice,
)

DEFAULT_HOLD_SECONDS = 120.0  # lnd invoices.DefaultHtlcHoldDuration
FINAL_CLTV_REJECT_DELTA = 19  # lnd DefaultFinalCltvRejectDelta: incoming broadcast delta + 3
DEFAULT_AMP_INVOICE_EXPIRY = 30 * 24 * 3600.0  # lnd invoicesrpc.DefaultAMPInvoiceExpiry
# This library's bound, not the BOLTs' (BOLT 11's `x` can say more): ten years, past which
# an expiry is a typing mistake rather than a plan.
MAX_INVOICE_EXPIRY = 10 * 365 * 24 * 3600.0
DEFAULT_MIN_FINAL_CLTV_DELTA = 80  # lnd's default invoice cltv delta (chainreg, 80 blocks)

__all__ = ["DEFAULT_HOLD_SECONDS", "FINAL_CLTV_REJECT_DELTA", "FINAL_INCORRECT_CLTV_EXPIRY",
           "FINAL_INCORRECT_HTLC_AMOUNT", "MAX_FINAL_CLTV_DELTA", "Accepted", "Decision",
           "Fail", "FailedHtlc", "IncomingHtlc", "Receiver", "ResolutionResult", "Settle"]


def _check_height(height: object) -> int:
    if not isinstance(height, int) or isinstance(height, bool) or not 0 <= height < 1 << 32:
        raise InvalidArgument(f"height must be a block height (u32), got {height!r}",
                              field="height")
    return height


def _by_set(records: list[HtlcRecord], reason: ResolutionResult) -> list[Fail]:
    """One `Fail` per set (keysend HTLCs are never held, so every record has a set)."""
    by_set: dict[bytes | None, list[HtlcRecord]] = {}
    for record in records:
        by_set.setdefault(record.set_id, []).append(record)
    return [fail_of(group, reason, set_id) for set_id, group in by_set.items()]


class Receiver:
    """Decides every final-hop HTLC against the state in `store` (see the module docstring).

    One receiver writes a store at a time. `final_cltv_reject_delta` is the least number of
    blocks an HTLC must have left (lnd's FinalCltvRejectDelta).
    """

    def __init__(self, store: Store, *, profile: str = "bolt", accept_amp: bool = False,
                 accept_keysend: bool = False, hold_seconds: float = DEFAULT_HOLD_SECONDS,
                 final_cltv_reject_delta: int = FINAL_CLTV_REJECT_DELTA) -> None:
        if not hold_seconds > 0:
            raise InvalidArgument("hold_seconds must be positive", field="hold_seconds")
        self.store = store
        self.policy = Policy(check_profile(profile), bool(accept_amp), bool(accept_keysend),
                             float(hold_seconds), int(final_cltv_reject_delta))

    @property
    def profile(self) -> str:
        return self.policy.profile

    @property
    def hold_seconds(self) -> float:
        return self.policy.hold_seconds

    def receive(self, htlc: IncomingHtlc, *, now: float, height: int) -> Decision:
        """Decide one HTLC; the decision is durable in the store when this returns."""
        height = _check_height(height)
        with self.store.transaction():
            return self._receive(htlc, float(now), height)

    def receive_many(self, htlcs: Iterable[IncomingHtlc], *, now: float,
                     height: int) -> list[Decision]:
        """Decide HTLCs that arrived together, in order, in one transaction: one commit (one
        fsync) for all of them, so the decisions are durable at once when this returns.

        Each decision is the one `receive` would give in that order; an id repeated in the
        batch is answered as a duplicate of its first occurrence.
        """
        height = _check_height(height)
        with self.store.transaction():
            return [self._receive(htlc, float(now), height) for htlc in htlcs]

    def _receive(self, htlc: IncomingHtlc, now: float, height: int) -> Decision:
        known = self.store.htlc(htlc.htlc_id)
        if known is not None and not refused_for_want_of_invoice(known):
            return self._replay(known)
        decision, change = decide(self.store, self.policy, htlc, now, height)
        if known is not None:
            # A resend of an HTLC refused for want of an invoice is decided again, as lnd
            # does (it stored nothing): under the policy and invoices of now, so a refusal
            # under accept_keysend or accept_amp off does not outlive the flag. Refused so
            # again, the stored refusal stands for it.
            if change == Change(new_htlc=change.new_htlc) and change.new_htlc is not None \
                    and refused_for_want_of_invoice(change.new_htlc):
                return decision
            change = replace(change, replaces_refusal=True)
        self.store.apply(change)
        return decision

    # --- time --------------------------------------------------------------------------

    def expire(self, now: float) -> tuple[Fail, ...]:
        """Fail every held HTLC whose hold time ran out by `now` (one `Fail` per set), then
        cancel every open invoice past its expiry, failing its held HTLCs."""
        now = float(now)
        with self.store.transaction():
            fails = list(self._time_out(now - self.policy.hold_seconds))
            for invoice in self.store.expired_invoices(now):
                fails += self._cancel(invoice)
        return tuple(fails)

    tick = expire

    def _time_out(self, cutoff: float) -> list[Fail]:
        due = self.store.expired(cutoff)
        if not due:
            return []
        reason = ResolutionResult.MPP_TIMEOUT
        self.store.apply(Change(fail=tuple(r.htlc_id for r in due),
                                failure_code=reason.failure_code, reason=reason.value))
        return _by_set(due, reason)

    def _cancel(self, invoice: Invoice) -> list[Fail]:
        held = self.store.invoice_htlcs(invoice.ref, HtlcState.HELD)
        reason = ResolutionResult.CANCELED
        self.store.apply(Change(fail=tuple(r.htlc_id for r in held),
                                failure_code=reason.failure_code, reason=reason.value,
                                invoice_key=invoice.key, invoice_state=InvoiceState.CANCELED))
        return _by_set(held, reason)

    def next_deadline(self) -> float | None:
        """When the earliest held HTLC times out (None: nothing held)."""
        earliest = self.store.earliest_held()
        return None if earliest is None else earliest + self.policy.hold_seconds

    # --- invoices ----------------------------------------------------------------------

    def add_invoice(self, *, now: float, amount_msat: int = 0,
                    expiry_seconds: float = DEFAULT_AMP_INVOICE_EXPIRY,
                    min_final_cltv_delta: int = DEFAULT_MIN_FINAL_CLTV_DELTA,
                    payment_addr: bytes | None = None,
                    rand: Callable[[int], bytes] = os.urandom) -> Invoice:
        """Add an AMP invoice (reusable: each set settles on its own); `amount_msat` 0 takes
        any amount, `expiry_seconds` is above 0 and at most `MAX_INVOICE_EXPIRY` (ten years).
        The payment_addr is drawn at random unless given. Adding again an invoice that is
        stored with the same terms (amount, expiry, min_final_cltv_delta: a retry after an
        interruption) returns the stored invoice; other terms for a stored payment_addr are
        refused as a duplicate."""
        addr = rand(32) if payment_addr is None else bytes(payment_addr)
        if len(addr) != 32:
            raise InvalidArgument("payment_addr must be 32 bytes", field="payment_addr")
        if not 0 <= amount_msat < 1 << 64:
            raise InvalidArgument("amount_msat must be a u64", field="amount_msat")
        if not 0 < expiry_seconds <= MAX_INVOICE_EXPIRY:
            raise InvalidArgument(f"expiry must be above 0 and at most {MAX_INVOICE_EXPIRY:.0f} "
                                  "seconds (ten years)", field="expiry", reason="range")
        if not 0 <= min_final_cltv_delta <= MAX_FINAL_CLTV_DELTA:
            raise InvalidArgument("min_final_cltv_delta must be a u16",
                                  field="min_final_cltv_delta", reason="range")
        invoice = Invoice(InvoiceKind.AMP, addr, amount_msat, float(now),
                          float(expiry_seconds), int(min_final_cltv_delta))
        with self.store.transaction():
            stored = self.store.invoice(InvoiceKind.AMP, addr)
            if stored is not None and stored.same_terms(invoice):
                return stored  # the same invoice added again: answered as the first time
            if stored is not None:
                raise InvalidArgument("an invoice with this payment_addr exists",
                                      field="payment_addr", reason="duplicate")
            self.store.apply(Change(new_invoice=invoice))
        return invoice

    def invoice(self, ref: bytes, kind: InvoiceKind = InvoiceKind.AMP) -> Invoice | None:
        """The invoice with this payment_addr (AMP) or payment hash (keysend)."""
        return self.store.invoice(kind, bytes(ref))

    def invoices(self) -> list[Invoice]:
        return self.store.invoices()

    def cancel_invoice(self, ref: bytes,
                       kind: InvoiceKind = InvoiceKind.AMP) -> tuple[Fail, ...]:
        """Cancel an open invoice: later HTLCs to it are refused, held ones fail now."""
        with self.store.transaction():
            invoice = self.store.invoice(kind, bytes(ref))
            if invoice is None:
                raise InvalidArgument("no such invoice", field="payment_addr",
                                      reason="unknown_invoice")
            if invoice.state is InvoiceState.SETTLED:
                raise InvalidArgument("the invoice is settled", field="payment_addr",
                                      reason="invoice_settled")
            if invoice.state is InvoiceState.CANCELED:
                return ()
            return tuple(self._cancel(invoice))

    def amount_paid(self, ref: bytes) -> int:
        """Everything settled so far to the invoice `ref` (for AMP: over all its sets)."""
        return self.store.amount_paid(ref)

    # --- replays -----------------------------------------------------------------------

    def _replay(self, known: HtlcRecord) -> Decision:
        """The decision an HTLC seen before stands at now, read back from the store."""
        if known.state is HtlcState.FAILED:
            if known.invoice is not None:  # it reached an invoice: lnd resolveReplayedHtlc
                return fail_of((known,), ResolutionResult.REPLAY_TO_CANCELED, known.set_id)
            return fail_of((known,), ResolutionResult(known.reason), known.set_id)
        if known.set_id is None:  # keysend: settled alone
            assert known.preimage is not None
            return Settle(None, ((known.htlc_id, known.preimage),), known.amount_msat)
        amp_set = self.store.amp_set(known.set_id)
        assert amp_set is not None
        members = self.store.set_htlcs(known.set_id, known.state)
        amount = sum(m.amount_msat for m in members)
        if known.state is HtlcState.HELD:
            assert known.total_msat is not None
            return Accepted(known.htlc_id, known.set_id, amount, known.total_msat,
                            known.arrived_at + self.policy.hold_seconds)
        pairs = tuple((m.htlc_id, m.preimage) for m in members if m.preimage is not None)
        return Settle(known.set_id, pairs, amount, amp_set.payment_addr)

