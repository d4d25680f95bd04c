"""One exception hierarchy for everything the library refuses.

Every failure carries what a caller needs to answer a peer or explain bytes to a person: the
BOLT 4 failure code where one applies (04-onion-routing.md › Failure Messages), the field that
was being read, the byte offset, the TLV type concerned, and a short machine-readable `reason`.
Parsers of untrusted bytes raise nothing but subclasses of `DecodeError`.
"""

from __future__ import annotations

from typing import Any

from sphinxamp._codes import (
    FINAL_INCORRECT_CLTV_EXPIRY,
    FINAL_INCORRECT_HTLC_AMOUNT,
    INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS,
    INVALID_ONION_BLINDING,
    INVALID_ONION_HMAC,
    INVALID_ONION_KEY,
    INVALID_ONION_PAYLOAD,
    INVALID_ONION_VERSION,
    failure_name,
)

# Which message carries a failure back upstream (BOLT 2 › Removing an HTLC).
UPDATE_FAIL_HTLC = "update_fail_htlc"
UPDATE_FAIL_MALFORMED_HTLC = "update_fail_malformed_htlc"


class SphinxampError(Exception):
    """Base of every error the library raises on purpose."""

    failure_code: int | None = None

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        offset: int | None = None,
        tlv_type: int | None = None,
        reason: str | None = None,
        failure_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.offset = offset
        self.tlv_type = tlv_type
        self.reason = reason
        if failure_code is not None:
            self.failure_code = failure_code
        # Set by hop processing (`process_hop`), which knows the context a decoder does not:
        # the message that carries the failure, the hash of the onion it answers, and, for an
        # error converted to invalid_onion_blinding, the error underneath.
        self.failure_message: str | None = None
        self.sha256_of_onion: bytes | None = None
        self.cause: SphinxampError | None = None
        # The layer a refused hop had peeled before the refusal (a `PeeledHop`), so a
        # debugging tool can still show what the node saw; None when the peel itself failed.
        self.peeled: Any = None

    @property
    def failure_name(self) -> str | None:
        return failure_name(self.failure_code)


class DecodeError(SphinxampError):
    """Bytes that do not parse or break a rule a reader MUST enforce."""


class EncodeError(SphinxampError):
    """Values that cannot be written: out of range, unordered, too large for the packet."""


class BigSizeError(DecodeError):
    """A BigSize that is truncated or not minimally encoded (BOLT 1 › Appendix A)."""


class TlvError(DecodeError):
    """A TLV stream that breaks BOLT 1 › Type-Length-Value Format › Requirements."""


class WireError(DecodeError):
    """A whole Lightning message (BOLT 1 › Lightning Message Format) that does not parse or
    breaks a rule its reader MUST enforce; `field` and `offset` say where in the message."""


class BadOnionError(DecodeError):
    """An onion the node cannot process at all: answered with update_fail_malformed_htlc."""


class InvalidOnionVersion(BadOnionError):
    failure_code = INVALID_ONION_VERSION


class InvalidOnionHmac(BadOnionError):
    failure_code = INVALID_ONION_HMAC


class InvalidOnionKey(BadOnionError):
    failure_code = INVALID_ONION_KEY


class InvalidOnionBlinding(BadOnionError):
    failure_code = INVALID_ONION_BLINDING


class InvalidOnionPayload(DecodeError):
    """A hop payload that is malformed or breaks the role rules (BOLT 4, PERM|22).

    `tlv_type` and `offset` are the data the failure message carries back to the origin.
    """

    failure_code = INVALID_ONION_PAYLOAD


class InvalidArgument(SphinxampError, ValueError):
    """A value handed in by the caller (not read from the wire) that the library cannot use:
    an amount past u64, an unknown option, a malformed id. Also a ValueError, as Python code
    expects of a bad argument."""


class InvalidSecret(SphinxampError):
    """A private key or scalar that is not 32 bytes, zero, or not below the curve order."""


class PaymentError(SphinxampError):
    """A final-hop payment refused at the receiver (wire code PERM|15 unless stated)."""

    failure_code = INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS


class FinalIncorrectCltvExpiry(PaymentError):
    """The final node's HTLC expires before the onion's outgoing_cltv_value (BOLT 4 ›
    Failure Messages: final_incorrect_cltv_expiry, data the HTLC's cltv_expiry)."""

    failure_code = FINAL_INCORRECT_CLTV_EXPIRY


class FinalIncorrectHtlcAmount(PaymentError):
    """The final node's HTLC carries less than the onion's amt_to_forward (BOLT 4 › Failure
    Messages: final_incorrect_htlc_amount, data the HTLC's amount)."""

    failure_code = FINAL_INCORRECT_HTLC_AMOUNT


class ReplayedOnion(BadOnionError):
    """An onion whose shared secret is already in the replay log.

    BOLT 4 names no failure code for a replay. The answer goes back in
    update_fail_malformed_htlc, which needs the BADONION bit, so lnd answers
    invalid_onion_version (htlcswitch/hop/iterator.go, DecodeHopIterators), and so
    does this code.
    """

    failure_code = INVALID_ONION_VERSION


class StoreError(SphinxampError):
    """A store (the receiver's database, a replay log) that cannot take the call as it is:
    nothing of the call was written."""


class StoreConflict(StoreError, RuntimeError):
    """A change that contradicts the stored state (a second writer, or a receiver bug):
    nothing of it was written."""


class StoreBusy(StoreError):
    """Another connection (usually another process) held the store's lock for longer than
    the store's `busy_timeout`. Nothing was written: the same call may be retried."""
