"""Deciding one new final-hop HTLC against the invoices: lnd's checks in lnd's order.

The steps follow lnd (commit 90ea05d5): the link's final-hop checks (htlcswitch/link.go,
`hop.ValidateFinalHtlc`), the just-in-time invoices (invoices/invoiceregistry.go
`NotifyExitHopHtlc`, `processAMP`, `processKeySend`), the lookup (invoices/update.go
`invoiceUpdateCtx.invoiceRef`), then `updateInvoice` → `updateLegacy` (keysend) or
`updateMpp` (AMP). Under profile "bolt" the expiry-too-soon check of BOLT 4 › Requirements for
the final node runs with the other final-hop checks, before any payment detail is looked at;
under "lnd" it runs where lnd runs it (so AMP without MPP and too soon is amp_error there).

Each function returns the decision and the one `Change` that records it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace

from sphinxamp.errors import PaymentError
from sphinxamp.payments._amp import derive_child, reconstruct_root
from sphinxamp.payments._keysend import verify_keysend
from sphinxamp.receiver._resolution import (
    Accepted,
    Decision,
    Fail,
    FailedHtlc,
    IncomingHtlc,
    Settle,
)
from sphinxamp.receiver._resolution import ResolutionResult as R
from sphinxamp.receiver._store import (
    Change,
    HtlcRecord,
    HtlcState,
    Invoice,
    InvoiceKind,
    InvoiceState,
    SetRecord,
    SetState,
    Store,
)

MAX_FINAL_CLTV_DELTA = 65535  # lnd invoices.MaxFinalCltvDelta
SPONTANEOUS_EXPIRY_SECONDS = 3600.0  # zpay32.DefaultInvoiceExpiry, for invoices with none
_ZERO_SET_ID = bytes(32)


@dataclass(frozen=True, slots=True)
class Policy:
    """The receiver's settings that decisions depend on."""

    profile: str
    accept_amp: bool
    accept_keysend: bool
    hold_seconds: float
    final_cltv_reject_delta: int


def failed_htlc(record: HtlcRecord) -> FailedHtlc:
    return FailedHtlc(record.htlc_id, record.amount_msat, record.accept_height,
                      record.cltv_expiry)


def fail_of(records: list[HtlcRecord] | tuple[HtlcRecord, ...], reason: R,
            set_id: bytes | None = None) -> Fail:
    return Fail(tuple(r.htlc_id for r in records), reason.failure_code, reason, set_id,
                tuple(failed_htlc(r) for r in records))


def refuse(record: HtlcRecord, reason: R) -> tuple[Decision, Change]:
    failed = replace(record, state=HtlcState.FAILED, failure_code=reason.failure_code,
                     reason=reason.value, set_id=None, invoice=None)
    return fail_of((failed,), reason), Change(new_htlc=failed)


def decide(store: Store, policy: Policy, htlc: IncomingHtlc, now: float,
           height: int) -> tuple[Decision, Change]:
    mpp = htlc.payload.payment_data
    record = HtlcRecord(htlc.htlc_id, htlc.payment_hash, htlc.amount_msat, now,
                        HtlcState.HELD, total_msat=None if mpp is None else mpp.total_msat,
                        cltv_expiry=htlc.cltv_expiry, accept_height=height)
    reason = _final_hop_refusal(policy, htlc, height)
    if reason is not None:
        return refuse(record, reason)
    created, reason = _just_in_time(store, policy, htlc, now, height)
    if reason is not None:
        return refuse(record, reason)
    decision, change = _update(store, policy, htlc, record, now, height, created)
    return decision, replace(change, new_invoice=created)


def _final_hop_refusal(policy: Policy, htlc: IncomingHtlc, height: int) -> R | None:
    payload = htlc.payload
    # BOLT 4 › final node requirements, lnd hop.ValidateFinalHtlc: the HTLC must bring at
    # least what the onion says and expire no earlier than the onion says.
    if payload.amt_to_forward is not None and htlc.amount_msat < payload.amt_to_forward:
        return R.INCORRECT_HTLC_AMOUNT
    if payload.outgoing_cltv_value is not None and (
            htlc.cltv_expiry < payload.outgoing_cltv_value):
        return R.INCORRECT_CLTV_EXPIRY
    if htlc.cltv_expiry - height > MAX_FINAL_CLTV_DELTA:
        return R.EXPIRY_TOO_FAR
    if policy.profile == "bolt" and _too_soon(policy, htlc, height):
        return R.EXPIRY_TOO_SOON
    return None


def _too_soon(policy: Policy, htlc: IncomingHtlc, height: int, delta: int = 0) -> bool:
    return htlc.cltv_expiry < height + max(policy.final_cltv_reject_delta, delta)


def _just_in_time(store: Store, policy: Policy, htlc: IncomingHtlc, now: float,
                  height: int) -> tuple[Invoice | None, R | None]:
    """lnd NotifyExitHopHtlc: with accept_amp, an AMP HTLC creates its invoice (processAMP);
    with accept_keysend, a keysend HTLC without AMP creates its invoice (processKeySend)."""
    p, delta = htlc.payload, policy.final_cltv_reject_delta
    if policy.accept_amp and p.amp is not None:
        if p.payment_data is None or _too_soon(policy, htlc, height):
            return None, R.AMP_ERROR  # "no MPP record for AMP", "final expiry too soon"
        addr = p.payment_data.payment_secret
        if store.invoice(InvoiceKind.AMP, addr) is not None:
            return None, None  # a later shard or set: lnd ignores the duplicate
        return Invoice(InvoiceKind.AMP, addr, p.payment_data.total_msat, now,
                       SPONTANEOUS_EXPIRY_SECONDS, delta, spontaneous=True), None
    if policy.accept_keysend and p.amp is None and p.keysend_preimage is not None:
        try:
            preimage = verify_keysend(p, htlc.payment_hash)
        except PaymentError:
            return None, R.KEYSEND_ERROR
        if _too_soon(policy, htlc, height):
            return None, R.KEYSEND_ERROR
        if store.invoice(InvoiceKind.KEYSEND, htlc.payment_hash) is not None:
            return None, None
        return Invoice(InvoiceKind.KEYSEND, htlc.payment_hash, htlc.amount_msat, now,
                       SPONTANEOUS_EXPIRY_SECONDS, delta, spontaneous=True,
                       preimage=preimage), None
    return None, None


def _update(store: Store, policy: Policy, htlc: IncomingHtlc, record: HtlcRecord,
            now: float, height: int, created: Invoice | None) -> tuple[Decision, Change]:
    p, mpp = htlc.payload, htlc.payload.payment_data
    # lnd invoiceRef: AMP+MPP by payment_addr, MPP by hash and address, else by hash. There
    # are no plain MPP invoices here (only AMP and keysend), so MPP alone finds none.
    if p.amp is not None and mpp is not None:
        inv = created or store.invoice(InvoiceKind.AMP, mpp.payment_secret)
    elif mpp is None:
        inv = created or store.invoice(InvoiceKind.KEYSEND, htlc.payment_hash)
    else:
        inv = None
    if inv is None:
        return refuse(record, R.INVOICE_NOT_FOUND)
    if inv.expired(now):
        # lnd's expiry watcher has canceled it by `now`, whether or not `expire(now)` ran
        # here since: the HTLC meets a canceled invoice (lnd updateMpp: ResultInvoiceNotOpen,
        # updateLegacy: ResultInvoiceAlreadyCanceled). Held HTLCs fail on `expire(now)`.
        inv = replace(inv, state=InvoiceState.CANCELED)
    if p.amp is not None and mpp is None:
        return refuse(record, R.AMP_ERROR)
    if mpp is None:
        return _legacy(policy, htlc, record, height, inv)
    return _amp(store, policy, htlc, record, height, inv)


def _legacy(policy: Policy, htlc: IncomingHtlc, record: HtlcRecord, height: int,
            inv: Invoice) -> tuple[Decision, Change]:
    """lnd updateLegacy, for keysend invoices: a repeat of a settled one settles again."""
    if inv.kind is not InvoiceKind.KEYSEND or inv.preimage is None:
        return refuse(record, R.HTLC_INVOICE_TYPE_MISMATCH)
    if inv.state is InvoiceState.CANCELED:
        return refuse(record, R.INVOICE_ALREADY_CANCELED)
    if htlc.amount_msat < inv.value_msat:
        return refuse(record, R.AMOUNT_TOO_LOW)
    if _too_soon(policy, htlc, height, inv.min_final_cltv_delta):
        return refuse(record, R.EXPIRY_TOO_SOON)
    settled = replace(record, state=HtlcState.SETTLED, preimage=inv.preimage, invoice=inv.ref)
    change = Change(new_htlc=settled)
    if inv.state is InvoiceState.OPEN:
        change = replace(change, invoice_key=inv.key, invoice_state=InvoiceState.SETTLED)
    return Settle(None, ((htlc.htlc_id, inv.preimage),), htlc.amount_msat), change


def _amp(store: Store, policy: Policy, htlc: IncomingHtlc, record: HtlcRecord, height: int,
         inv: Invoice) -> tuple[Decision, Change]:
    """lnd updateMpp for an AMP HTLC, in its order."""
    amp, mpp = htlc.payload.amp, htlc.payload.payment_data
    assert amp is not None and mpp is not None
    known = store.amp_set(amp.set_id)
    if known is not None and not hmac.compare_digest(known.payment_addr, inv.ref):
        return refuse(record, R.INVOICE_NOT_FOUND)  # lnd ErrDuplicateSetID
    if inv.state is not InvoiceState.OPEN:
        return refuse(record, R.INVOICE_NOT_OPEN)
    total = mpp.total_msat
    if total == 0 or total < inv.value_msat:
        return refuse(record, R.TOTAL_TOO_LOW)
    held = [] if known is None else store.set_htlcs(amp.set_id, HtlcState.HELD)
    # Compared with the HTLCs held now, not with the set's first total forever.
    if any(h.total_msat != total for h in held):
        return refuse(record, R.TOTAL_MISMATCH)
    if _too_soon(policy, htlc, height, inv.min_final_cltv_delta):
        return refuse(record, R.EXPIRY_TOO_SOON)
    if amp.set_id == _ZERO_SET_ID:
        return refuse(record, R.AMP_ERROR)
    if known is not None and known.state is SetState.SETTLED:
        return refuse(record, R.INVOICE_ALREADY_SETTLED)  # lnd's answer outside a settled set
    record = replace(record, set_id=amp.set_id, share=amp.root_share,
                     child_index=amp.child_index, invoice=inv.ref)
    new_set = None if known else SetRecord(amp.set_id, inv.ref, total, SetState.OPEN)
    held_msat = sum(r.amount_msat for r in held) + htlc.amount_msat
    if held_msat < total:  # overpayment is fine: lnd settles once the sum reaches the total
        accepted = Accepted(htlc.htlc_id, amp.set_id, held_msat, total,
                            record.arrived_at + policy.hold_seconds)
        return accepted, Change(new_htlc=record, new_set=new_set)
    return _complete(inv, amp.set_id, new_set, (*held, record), held_msat)


def _complete(inv: Invoice, set_id: bytes, new_set: SetRecord | None,
              members: tuple[HtlcRecord, ...], amount_msat: int) -> tuple[Decision, Change]:
    """The set reached its total: reconstruct (lnd reconstructAMPPreimages), settle or fail.

    `members` ends with the HTLC just received, which is not stored yet.
    """
    root = reconstruct_root(m.share for m in members if m.share is not None)
    preimages = []
    for m in members:
        assert m.share is not None and m.child_index is not None
        child = derive_child(root, m.share, m.child_index)
        if not hmac.compare_digest(child.hash, m.payment_hash):
            return _fail_set(inv, set_id, new_set, members)
        preimages.append((m.htlc_id, child.preimage))
    incoming = replace(members[-1], state=HtlcState.SETTLED, preimage=preimages[-1][1])
    change = Change(new_htlc=incoming, new_set=new_set, set_id=set_id,
                    set_state=SetState.SETTLED, settle=tuple(preimages[:-1]))
    return Settle(set_id, tuple(preimages), amount_msat, inv.ref), change


def _fail_set(inv: Invoice, set_id: bytes, new_set: SetRecord | None,
              members: tuple[HtlcRecord, ...]) -> tuple[Decision, Change]:
    """A failed reconstruction fails the set and cancels the invoice (lnd updateMpp returns
    a CancelInvoiceUpdate; invoices/update_invoice.go `addHTLCs` lets an AMP invoice move
    to canceled), so later sets to that payment_addr are refused."""
    reason = R.RECONSTRUCTION_FAILED
    incoming = replace(members[-1], state=HtlcState.FAILED, failure_code=reason.failure_code,
                       reason=reason.value)
    change = Change(new_htlc=incoming, new_set=new_set, set_id=set_id,
                    set_state=SetState.FAILED, fail=tuple(m.htlc_id for m in members[:-1]),
                    failure_code=reason.failure_code, reason=reason.value,
                    invoice_key=inv.key, invoice_state=InvoiceState.CANCELED)
    return fail_of(members, reason, set_id), change
