"""What the receiver answers: the HTLC it is given, its decisions, and the local reasons.

The reasons are lnd's: the final-hop checks of htlcswitch/link.go (`hop.ValidateFinalHtlc`)
and the `FailResolutionResult`s of invoices/resolution_result.go. On the wire
(htlcswitch/link.go `getResolutionFailure`) mpp_timeout keeps its own code, the two BOLT 4
final-hop checks theirs, and every other reason is incorrect_or_unknown_payment_details
carrying the HTLC's amount and the height at which it was accepted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sphinxamp._codes import (
    CODES_BY_NAME,
    FAILURE_NAMES,
    INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS,
    MPP_TIMEOUT,
)
from sphinxamp._payload import HopPayload
from sphinxamp.errors import InvalidArgument
from sphinxamp.failures._message import FailureMessage
from sphinxamp.receiver._store import HtlcId, check_htlc_id

FINAL_INCORRECT_CLTV_EXPIRY = CODES_BY_NAME["final_incorrect_cltv_expiry"]
FINAL_INCORRECT_HTLC_AMOUNT = CODES_BY_NAME["final_incorrect_htlc_amount"]


class ResolutionResult(enum.Enum):
    """Why an HTLC was failed, kept locally; `lnd_name` is lnd's name for the same answer."""

    INCORRECT_HTLC_AMOUNT = "final_incorrect_htlc_amount"
    INCORRECT_CLTV_EXPIRY = "final_incorrect_cltv_expiry"
    EXPIRY_TOO_FAR = "expiry_too_far"
    EXPIRY_TOO_SOON = "expiry_too_soon"
    INVOICE_NOT_FOUND = "invoice_not_found"
    AMP_ERROR = "amp_error"
    KEYSEND_ERROR = "keysend_error"
    HTLC_INVOICE_TYPE_MISMATCH = "htlc_invoice_type_mismatch"
    INVOICE_NOT_OPEN = "invoice_not_open"
    INVOICE_ALREADY_CANCELED = "invoice_already_canceled"
    INVOICE_ALREADY_SETTLED = "invoice_already_settled"
    AMOUNT_TOO_LOW = "amount_too_low"
    TOTAL_TOO_LOW = "total_too_low"
    TOTAL_MISMATCH = "total_mismatch"
    RECONSTRUCTION_FAILED = "reconstruction_failed"
    MPP_TIMEOUT = "mpp_timeout"
    CANCELED = "canceled"
    REPLAY_TO_CANCELED = "replay_to_canceled"

    @property
    def failure_code(self) -> int:
        return _WIRE_CODE.get(self, INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS)

    @property
    def lnd_name(self) -> str:
        return LND_NAMES[self]


# htlcswitch/link.go `getResolutionFailure`: mpp_timeout has its own code, every other
# invoice failure is PERM|15; the two final-hop checks come from BOLT 4 before the invoice.
_WIRE_CODE = {
    ResolutionResult.MPP_TIMEOUT: MPP_TIMEOUT,
    ResolutionResult.INCORRECT_HTLC_AMOUNT: FINAL_INCORRECT_HTLC_AMOUNT,
    ResolutionResult.INCORRECT_CLTV_EXPIRY: FINAL_INCORRECT_CLTV_EXPIRY,
}

R = ResolutionResult
LND_NAMES: dict[ResolutionResult, str] = {
    R.INCORRECT_HTLC_AMOUNT: "hop.FinalHtlcInvalidAmount",
    R.INCORRECT_CLTV_EXPIRY: "hop.FinalHtlcInvalidCltv",
    R.EXPIRY_TOO_FAR: "hop.FinalHtlcExpiryTooFar",
    R.EXPIRY_TOO_SOON: "ResultExpiryTooSoon",
    R.INVOICE_NOT_FOUND: "ResultInvoiceNotFound",
    R.AMP_ERROR: "ResultAmpError",
    R.KEYSEND_ERROR: "ResultKeySendError",
    R.HTLC_INVOICE_TYPE_MISMATCH: "ResultHtlcInvoiceTypeMismatch",
    R.INVOICE_NOT_OPEN: "ResultInvoiceNotOpen",
    R.INVOICE_ALREADY_CANCELED: "ResultInvoiceAlreadyCanceled",
    R.INVOICE_ALREADY_SETTLED: "ResultInvoiceAlreadySettled",
    R.AMOUNT_TOO_LOW: "ResultAmountTooLow",
    R.TOTAL_TOO_LOW: "ResultHtlcSetTotalTooLow",
    R.TOTAL_MISMATCH: "ResultHtlcSetTotalMismatch",
    R.RECONSTRUCTION_FAILED: "ResultAmpReconstruction",
    R.MPP_TIMEOUT: "ResultMppTimeout",
    R.CANCELED: "ResultCanceled",
    R.REPLAY_TO_CANCELED: "ResultReplayToCanceled",
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
class FailedHtlc:
    """What the failure message of one failed HTLC carries: its amount, the height at which
    it was accepted (lnd's AcceptHeight) and its expiry."""

    htlc_id: HtlcId
    htlc_msat: int
    height: int
    cltv_expiry: int


@dataclass(frozen=True, slots=True)
class Fail:
    """Fail these HTLCs back with `failure_code`; `reason` is the local detail and `htlcs`
    the data of each HTLC's failure message (`failure_message` gives its bytes). Two fails
    are equal when they fail the same HTLCs the same way, whatever their message data."""

    htlc_ids: tuple[HtlcId, ...]
    failure_code: int
    reason: ResolutionResult
    set_id: bytes | None = None
    htlcs: tuple[FailedHtlc, ...] = field(default=(), compare=False)

    @property
    def failure_name(self) -> str:
        return FAILURE_NAMES[self.failure_code]

    def failure_message(self, htlc_id: HtlcId | None = None) -> bytes:
        """The `failuremsg` (BOLT 4 › Failure Messages) for one HTLC of this decision (the
        first when not named), to encrypt with the hop's shared secret."""
        data = next((h for h in self.htlcs if htlc_id is None or h.htlc_id == htlc_id), None)
        if data is None:
            raise InvalidArgument(f"no failure data for htlc {htlc_id!r}", field="htlc_id")
        code = self.failure_code
        if code == INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS:
            fields = {"htlc_msat": data.htlc_msat, "height": data.height}
        elif code == FINAL_INCORRECT_HTLC_AMOUNT:
            fields = {"incoming_htlc_amt": data.htlc_msat}
        elif code == FINAL_INCORRECT_CLTV_EXPIRY:
            fields = {"cltv_expiry": data.cltv_expiry}
        else:
            fields = {}
        return FailureMessage.create(code, fields).encode()


Decision = Accepted | Settle | Fail
