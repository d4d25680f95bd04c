"""The AMP receiver: a sans-IO state machine that settles a set of shards whole or not at all.

The caller peels each incoming HTLC's onion, decodes the final payload and hands it here with
the HTLC's payment hash, amount, expiry and id. What comes back is a decision to carry out:
hold the HTLC (`Accepted`), settle HTLCs with their preimages (`Settle`), or fail them
(`Fail`). Time and block height are arguments; the receiver never reads a clock.

The rules are lnd's (invoices/update.go `updateMpp`, `reconstructAMPPreimages`;
invoices/invoiceregistry.go `processAMP`, `processKeySend`; htlcswitch/hop
`ValidateFinalHtlc`):

- First the final-hop checks of BOLT 4: an HTLC bringing less than amt_to_forward fails
  with final_incorrect_htlc_amount (19), one expiring before outgoing_cltv_value with
  final_incorrect_cltv_expiry (18); given a block height, the expiry must also be at least
  `final_cltv_reject_delta` blocks away and at most 65535.
- AMP shards group by set_id under their MPP record's payment_addr. A set completes when the
  amounts of its held HTLCs reach the MPP total_msat (overpayment is fine); then the shares
  are XORed into the root, every child is derived again and each must hash to its own HTLC's
  payment hash. Then every HTLC of the set settles with its own preimage; any mismatch fails
  the whole set. No HTLC of a set settles before all of them can. (lnd cancels the whole
  AMP invoice on such a mismatch; here the set fails and its payment_addr stays usable, as
  there is no invoice beyond the sets.) A shard whose total_msat differs from its set's is
  refused alone.
- One payment_addr may receive many sets (a reusable AMP invoice, or spontaneous AMP); each
  set_id settles on its own and `amount_paid` adds them up. A set_id belongs to the first
  payment_addr that used it (lnd's set-id index).
- A held HTLC fails with mpp_timeout (23) once `hold_seconds` passed since its own arrival
  (lnd's DefaultHtlcHoldDuration, one timer per HTLC), fired by `expire(now)`.
- A keysend HTLC (bLIP 3) settles alone when its preimage hashes to its payment hash.
- HTLCs arriving for a set already settled or failed are failed (lnd refuses HTLCs to a
  settled AMP set and to a cancelled one).
- Every other refusal is incorrect_or_unknown_payment_details (PERM|15) on the wire, as lnd
  answers it; the detailed `ResolutionResult` stays with the receiver.
- An HTLC id seen before is answered from the store, not decided again: a held HTLC is
  reported accepted, a settled one with its set's settle (same preimages), a failed one with
  its own failure. After a crash the caller resends every HTLC it has not settled or failed
  yet and gets the decisions it lost.

Every decision is written to the store in one transaction before it is returned
(`receive_many` writes a batch in one); see receiver_store.py for what that guarantees.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ._amp import derive_child, reconstruct_root
from ._codes import FAILURE_NAMES, INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS, MPP_TIMEOUT
from ._errors import InvalidArgument, PaymentError
from ._keysend import verify_keysend
from ._payload import HopPayload
from ._receiver_store import (
    Change,
    HtlcId,
    HtlcRecord,
    HtlcState,
    SetRecord,
    SetState,
    Store,
    check_htlc_id,
)

DEFAULT_HOLD_SECONDS = 120.0  # lnd invoices.DefaultHtlcHoldDuration
FINAL_CLTV_REJECT_DELTA = 19  # lnd DefaultFinalCltvRejectDelta: incoming broadcast delta + 3
MAX_FINAL_CLTV_DELTA = 65535  # lnd invoices.MaxFinalCltvDelta
FINAL_INCORRECT_CLTV_EXPIRY = 18
FINAL_INCORRECT_HTLC_AMOUNT = 19
_ZERO_SET_ID = bytes(32)


class ResolutionResult(enum.Enum):
    """Why an HTLC was failed, kept locally (lnd's FailResolutionResult)."""

    INCORRECT_HTLC_AMOUNT = "final_incorrect_htlc_amount"
    INCORRECT_CLTV_EXPIRY = "final_incorrect_cltv_expiry"
    EXPIRY_TOO_SOON = "expiry_too_soon"
    EXPIRY_TOO_FAR = "expiry_too_far"
    INVOICE_NOT_FOUND = "invoice_not_found"  # neither AMP nor keysend: no invoice to pay
    AMP_ERROR = "amp_error"  # AMP without MPP, or an all-zero set_id
    DUPLICATE_SET_ID = "duplicate_set_id"  # the set_id belongs to another payment_addr
    SET_ALREADY_SETTLED = "set_already_settled"
    SET_ALREADY_FAILED = "set_already_failed"
    TOTAL_TOO_LOW = "total_too_low"  # total_msat of zero
    TOTAL_MISMATCH = "total_mismatch"
    RECONSTRUCTION_FAILED = "reconstruction_failed"
    KEYSEND_ERROR = "keysend_error"
    MPP_TIMEOUT = "mpp_timeout"

    @property
    def failure_code(self) -> int:
        return _WIRE_CODE.get(self, INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS)


# htlcswitch/link.go `getResolutionFailure`: mpp_timeout has its own code, every other
# invoice failure is PERM|15; the two final-hop checks come from BOLT 4 before the invoice.
_WIRE_CODE = {
    ResolutionResult.MPP_TIMEOUT: MPP_TIMEOUT,
    ResolutionResult.INCORRECT_HTLC_AMOUNT: FINAL_INCORRECT_HTLC_AMOUNT,
    ResolutionResult.INCORRECT_CLTV_EXPIRY: FINAL_INCORRECT_CLTV_EXPIRY,
}


@dataclass(frozen=True, slots=True)
class IncomingHtlc:
    """An HTLC that reached its final hop, with its decoded final payload."""

    htlc_id: HtlcId
    payment_hash: bytes
    amount_msat: int
    cltv_expiry: int
    payload: HopPayload

    def __post_init__(self) -> None:
        check_htlc_id(self.htlc_id)
        if not isinstance(self.payment_hash, bytes) or len(self.payment_hash) != 32:
            raise InvalidArgument("payment_hash must be 32 bytes", field="payment_hash")
        if not 0 <= self.amount_msat < 1 << 64:
            raise InvalidArgument(f"amount_msat {self.amount_msat} is not a u64",
                                  field="amount_msat")
        if not 0 <= self.cltv_expiry < 1 << 32:
            raise InvalidArgument(f"cltv_expiry {self.cltv_expiry} is not a u32",
                                  field="cltv_expiry")


@dataclass(frozen=True, slots=True)
class Accepted:
    """The HTLC is held: its set has `held_msat` of `total_msat` so far, and the HTLC times
    out at `expires_at` (its first arrival plus the hold time) unless the set completes."""

    htlc_id: HtlcId
    set_id: bytes
    held_msat: int
    total_msat: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class Settle:
    """Settle each HTLC with its preimage: a whole AMP set, or one keysend HTLC (no set)."""

    set_id: bytes | None
    preimages: tuple[tuple[HtlcId, bytes], ...]
    amount_msat: int
    payment_addr: bytes | None = None

    @property
    def htlc_ids(self) -> tuple[HtlcId, ...]:
        return tuple(htlc_id for htlc_id, _ in self.preimages)


@dataclass(frozen=True, slots=True)
class Fail:
    """Fail these HTLCs back with `failure_code`; `reason` is the local detail."""

    htlc_ids: tuple[HtlcId, ...]
    failure_code: int
    reason: ResolutionResult
    set_id: bytes | None = None

    @property
    def failure_name(self) -> str:
        return FAILURE_NAMES[self.failure_code]


Decision = Accepted | Settle | Fail


def _fail(htlc_ids: tuple[HtlcId, ...], reason: ResolutionResult,
          set_id: bytes | None = None) -> Fail:
    return Fail(htlc_ids, reason.failure_code, reason, set_id)


class Receiver:
    """Decides every final-hop HTLC against the state in `store` (see the module docstring).

    One receiver writes a store at a time. `final_cltv_reject_delta` is the least number of
    blocks an HTLC must have left when a height is given (lnd's FinalCltvRejectDelta).
    """

    def __init__(self, store: Store, *, hold_seconds: float = DEFAULT_HOLD_SECONDS,
                 final_cltv_reject_delta: int = FINAL_CLTV_REJECT_DELTA) -> None:
        if not hold_seconds > 0:
            raise InvalidArgument("hold_seconds must be positive", field="hold_seconds")
        self.store = store
        self.hold_seconds = float(hold_seconds)
        self.final_cltv_reject_delta = final_cltv_reject_delta

    def receive(self, htlc: IncomingHtlc, *, now: float, height: int | None = None) -> Decision:
        """Decide one HTLC; the decision is durable in the store when this returns."""
        with self.store.transaction():
            return self._receive(htlc, float(now), height)

    def receive_many(self, htlcs: Iterable[IncomingHtlc], *, now: float,
                     height: int | None = None) -> list[Decision]:
        """Decide HTLCs that arrived together, in order, in one transaction: one commit (one
        fsync) for all of them, so the decisions are durable at once when this returns.

        Each decision is the one `receive` would give in that order; an id repeated in the
        batch is answered as a duplicate of its first occurrence.
        """
        with self.store.transaction():
            return [self._receive(htlc, float(now), height) for htlc in htlcs]

    def _receive(self, htlc: IncomingHtlc, now: float, height: int | None) -> Decision:
        known = self.store.htlc(htlc.htlc_id)
        if known is not None:
            return self._replay(known)
        decision, change = self._decide(htlc, now, height)
        self.store.apply(change)
        return decision

    def expire(self, now: float) -> tuple[Fail, ...]:
        """Fail every held HTLC whose hold time ran out by `now`: one `Fail` per set."""
        cutoff = float(now) - self.hold_seconds
        with self.store.transaction():
            due = self.store.expired(cutoff)
            if not due:
                return ()
            reason = ResolutionResult.MPP_TIMEOUT
            self.store.apply(Change(fail=tuple(r.htlc_id for r in due),
                                    failure_code=reason.failure_code, reason=reason.value))
        by_set: dict[bytes | None, list[HtlcId]] = {}
        for record in due:
            by_set.setdefault(record.set_id, []).append(record.htlc_id)
        return tuple(_fail(tuple(ids), reason, set_id) for set_id, ids in by_set.items())

    tick = expire

    def next_deadline(self) -> float | None:
        """When the earliest held HTLC times out (None: nothing held)."""
        earliest = self.store.earliest_held()
        return None if earliest is None else earliest + self.hold_seconds

    def amount_paid(self, payment_addr: bytes) -> int:
        """Everything settled so far under `payment_addr`, over all its sets."""
        return self.store.amount_paid(payment_addr)

    def _replay(self, known: HtlcRecord) -> Decision:
        """The decision an HTLC seen before stands at now, read back from the store."""
        if known.state is HtlcState.FAILED:
            return _fail((known.htlc_id,), ResolutionResult(known.reason), known.set_id)
        if known.set_id is None:  # keysend: settled alone
            assert known.preimage is not None
            return Settle(None, ((known.htlc_id, known.preimage),), known.amount_msat)
        amp_set = self.store.amp_set(known.set_id)
        assert amp_set is not None
        members = self.store.set_htlcs(known.set_id, known.state)
        amount = sum(m.amount_msat for m in members)
        if known.state is HtlcState.HELD:
            return Accepted(known.htlc_id, known.set_id, amount, amp_set.total_msat,
                            known.arrived_at + self.hold_seconds)
        pairs = tuple((m.htlc_id, m.preimage) for m in members if m.preimage is not None)
        return Settle(known.set_id, pairs, amount, amp_set.payment_addr)

    # --- deciding a new HTLC -----------------------------------------------------------

    def _decide(self, htlc: IncomingHtlc, now: float,
                height: int | None) -> tuple[Decision, Change]:
        record = HtlcRecord(htlc.htlc_id, htlc.payment_hash, htlc.amount_msat, now,
                            HtlcState.HELD)
        refusal = self._final_hop_refusal(htlc, height)
        if refusal is not None:
            return self._refuse(record, refusal)
        if htlc.payload.amp is not None:
            return self._amp(htlc, record)
        if htlc.payload.keysend_preimage is not None:
            return self._keysend(htlc, record)
        return self._refuse(record, ResolutionResult.INVOICE_NOT_FOUND)

    def _final_hop_refusal(self, htlc: IncomingHtlc,
                           height: int | None) -> ResolutionResult | None:
        payload = htlc.payload
        # BOLT 4 › final node requirements, lnd hop.ValidateFinalHtlc: the HTLC must bring at
        # least what the onion says and expire no earlier than the onion says.
        if payload.amt_to_forward is not None and htlc.amount_msat < payload.amt_to_forward:
            return ResolutionResult.INCORRECT_HTLC_AMOUNT
        if payload.outgoing_cltv_value is not None and (
                htlc.cltv_expiry < payload.outgoing_cltv_value):
            return ResolutionResult.INCORRECT_CLTV_EXPIRY
        if height is not None:
            if htlc.cltv_expiry - height > MAX_FINAL_CLTV_DELTA:
                return ResolutionResult.EXPIRY_TOO_FAR
            if htlc.cltv_expiry < height + self.final_cltv_reject_delta:
                return ResolutionResult.EXPIRY_TOO_SOON
        return None

    @staticmethod
    def _refuse(record: HtlcRecord, reason: ResolutionResult) -> tuple[Decision, Change]:
        failed = replace(record, state=HtlcState.FAILED, failure_code=reason.failure_code,
                         reason=reason.value)
        return _fail((record.htlc_id,), reason), Change(new_htlc=failed)

    def _keysend(self, htlc: IncomingHtlc, record: HtlcRecord) -> tuple[Decision, Change]:
        # lnd processKeySend: single-part (no MPP record), preimage hashing to the HTLC's
        # hash (bLIP 3); the expiry was checked with every other final HTLC's.
        try:
            preimage = verify_keysend(htlc.payload, htlc.payment_hash)
        except PaymentError:
            return self._refuse(record, ResolutionResult.KEYSEND_ERROR)
        settled = replace(record, state=HtlcState.SETTLED, preimage=preimage)
        return (Settle(None, ((htlc.htlc_id, preimage),), htlc.amount_msat),
                Change(new_htlc=settled))

    def _amp(self, htlc: IncomingHtlc, record: HtlcRecord) -> tuple[Decision, Change]:
        amp, mpp = htlc.payload.amp, htlc.payload.payment_data
        assert amp is not None
        if mpp is None:  # lnd processAMP: "no MPP record for AMP"
            return self._refuse(record, ResolutionResult.AMP_ERROR)
        set_id = amp.set_id
        known = self.store.amp_set(set_id)
        refusal = _set_refusal(known, mpp.payment_secret, mpp.total_msat, set_id)
        if refusal is not None:
            return self._refuse(record, refusal)
        record = replace(record, set_id=set_id, share=amp.root_share,
                         child_index=amp.child_index)
        held = [] if known is None else self.store.set_htlcs(set_id, HtlcState.HELD)
        amp_set = known or SetRecord(set_id, mpp.payment_secret, mpp.total_msat, SetState.OPEN)
        new_set = None if known else amp_set
        held_msat = sum(r.amount_msat for r in held) + htlc.amount_msat
        if held_msat < amp_set.total_msat:
            accepted = Accepted(htlc.htlc_id, set_id, held_msat, amp_set.total_msat,
                                record.arrived_at + self.hold_seconds)
            return accepted, Change(new_htlc=record, new_set=new_set)
        return _complete(amp_set, new_set, (*held, record), held_msat)


def _set_refusal(known: SetRecord | None, payment_addr: bytes, total_msat: int,
                 set_id: bytes) -> ResolutionResult | None:
    """lnd updateMpp's checks, in its order, for a shard that would join `known`."""
    if known is not None:
        if not hmac.compare_digest(known.payment_addr, payment_addr):
            return ResolutionResult.DUPLICATE_SET_ID
        if known.state is SetState.SETTLED:
            return ResolutionResult.SET_ALREADY_SETTLED
        if known.state is SetState.FAILED:
            return ResolutionResult.SET_ALREADY_FAILED
    if total_msat == 0:
        return ResolutionResult.TOTAL_TOO_LOW
    if known is not None and known.total_msat != total_msat:
        return ResolutionResult.TOTAL_MISMATCH
    if set_id == _ZERO_SET_ID:
        return ResolutionResult.AMP_ERROR
    return None


def _complete(amp_set: SetRecord, new_set: SetRecord | None,
              members: tuple[HtlcRecord, ...], amount_msat: int) -> tuple[Decision, Change]:
    """The set reached its total: reconstruct (lnd reconstructAMPPreimages), settle or fail.

    `members` ends with the HTLC just received, which is not stored yet.
    """
    descs = [_child_desc(m) for m in members]
    root = reconstruct_root(share for share, _ in descs)
    preimages = []
    for m, (share, index) in zip(members, descs, strict=True):
        child = derive_child(root, share, index)
        if not hmac.compare_digest(child.hash, m.payment_hash):
            return _fail_set(amp_set, new_set, members)
        preimages.append((m.htlc_id, child.preimage))
    incoming = replace(members[-1], state=HtlcState.SETTLED, preimage=preimages[-1][1])
    change = Change(new_htlc=incoming, new_set=new_set, set_id=amp_set.set_id,
                    set_state=SetState.SETTLED, settle=tuple(preimages[:-1]))
    return Settle(amp_set.set_id, tuple(preimages), amount_msat, amp_set.payment_addr), change


def _child_desc(member: HtlcRecord) -> tuple[bytes, int]:
    # Every member of a set was stored with its AMP record's share and index.
    assert member.share is not None and member.child_index is not None
    return member.share, member.child_index


def _fail_set(amp_set: SetRecord, new_set: SetRecord | None,
              members: tuple[HtlcRecord, ...]) -> tuple[Decision, Change]:
    reason = ResolutionResult.RECONSTRUCTION_FAILED
    incoming = replace(members[-1], state=HtlcState.FAILED, failure_code=reason.failure_code,
                       reason=reason.value)
    change = Change(new_htlc=incoming, new_set=new_set, set_id=amp_set.set_id,
                    set_state=SetState.FAILED, fail=tuple(m.htlc_id for m in members[:-1]),
                    failure_code=reason.failure_code, reason=reason.value)
    return _fail(tuple(m.htlc_id for m in members), reason, amp_set.set_id), change
