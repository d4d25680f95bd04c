"""One exception hierarchy for everything the library refuses.

Every failure carries what a caller needs to answer a peer or explain bytes to a person: the
BOLT 4 failure code where one applies (04-onion-routing.md › Failure Messages), the field that
was being read, the byte offset, the TLV type concerned, and a short machine-readable `reason`.

Under `SphinxampError` four branches never overlap:

- `DecodeError`: bytes that do not parse (BOLT 1 BigSize, TLV and message framing; an onion
  whose version, HMAC or key is bad; a payload or encrypted data of the wrong structure).
  Parsers of untrusted bytes raise nothing else.
- `PolicyError`: bytes that parse but that a rule or the node's own state refuses (a replayed
  onion, an HTLC outside payment_constraints, a path_id that is not the recipient's).
- `CallerError`: a value the caller handed in (not read from the wire) that cannot be used.
- `StoreError`: a store that cannot take the call.

A family whose members fall on both sides of the parse line (`BadOnionError`,
`EncryptedDataError`, `OnionMessageError`) is a base of its own carrying the family's failure
code; each member also names its branch.
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
    # Set by hop processing (`process_hop`), which knows the context a decoder does not: the
    # message that carries the failure, the hash of the onion it answers, and, for an error
    # converted to invalid_onion_blinding, the error underneath. Class-level defaults, so a
    # decoder's refusal (built per rejected input, and parsers refuse most of what a peer or
    # a fuzzer sends) costs no stores for them; `process_hop` sets them on the instance.
    failure_message: str | None = None
    sha256_of_onion: bytes | None = None
    cause: SphinxampError | None = None
    # The layer a refused hop had peeled before the refusal (a `PeeledHop`), so a debugging
    # tool can still show what the node saw; None when the peel itself failed.
    peeled: Any = None
    # The role process_hop gave the refused layer (a `Role` value: "intermediate", "final",
    # "blinded-intermediate", "blinded-final") and whether it answered as the introduction
    # node; None when the peel itself failed.
    role: str | None = None
    introduction_node: bool | None = None

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

    @property
    def failure_name(self) -> str | None:
        return failure_name(self.failure_code)


# --- the four branches -----------------------------------------------------------------------


class DecodeError(SphinxampError):
    """Bytes that do not parse: framing, encoding or structure a reader MUST refuse."""


class PolicyError(SphinxampError):
    """Bytes that parse but are refused: a rule about their values, or the node's own state
    (its replay log, its invoices, the path it created), says no."""


class CallerError(SphinxampError):
    """A value handed in by the caller, not read from the wire, that the library cannot use."""


class StoreError(SphinxampError):
    """A store (the receiver's database, a replay log) that cannot take the call as it is:
    nothing of the call was written."""


# --- decoding (BOLT 1) -----------------------------------------------------------------------


class BigSizeError(DecodeError):
    """A BigSize that is truncated or not minimally encoded (BOLT 1 › Appendix A)."""


class TlvError(DecodeError):
    """A TLV stream that breaks BOLT 1 › Type-Length-Value Format › Requirements."""


class WireError(DecodeError):
    """A whole Lightning message (BOLT 1 › Lightning Message Format) that does not parse or
    breaks a rule its reader MUST enforce; `field` and `offset` say where in the message."""


# --- onions (BOLT 4 › Onion Decryption) ------------------------------------------------------


class BadOnionError(SphinxampError):
    """An onion the node cannot process at all: answered with update_fail_malformed_htlc."""


class InvalidOnionVersion(BadOnionError, DecodeError):
    failure_code = INVALID_ONION_VERSION


class InvalidOnionHmac(BadOnionError, DecodeError):
    failure_code = INVALID_ONION_HMAC


class InvalidOnionKey(BadOnionError, DecodeError):
    failure_code = INVALID_ONION_KEY


class InvalidOnionBlinding(BadOnionError, DecodeError):
    """A path_key that is not a point, and the answer for anything refused inside a blinded
    route (BOLT 4 › Route Blinding: the node tells the peer only that the onion was unusable);
    the refusal underneath, in its own branch, is `cause`."""

    failure_code = INVALID_ONION_BLINDING


class ReplayedOnion(BadOnionError, PolicyError):
    """An onion whose shared secret is already in the replay log: it peels, but was seen.

    BOLT 4 names no failure code for a replay. The answer goes back in
    update_fail_malformed_htlc, which needs the BADONION bit, so lnd answers
    invalid_onion_version (htlcswitch/hop/iterator.go, DecodeHopIterators), and so
    does this code.
    """

    failure_code = INVALID_ONION_VERSION


class InvalidOnionPayload(DecodeError):
    """A hop payload that is malformed or breaks the role rules (BOLT 4, PERM|22: "not
    understood by the processing node or is incomplete").

    `tlv_type` and `offset` are the data the failure message carries back to the origin.
    """

    failure_code = INVALID_ONION_PAYLOAD


# --- the final node (BOLT 4 › Failure Messages; `payload` Requirements) ----------------------


class PaymentError(PolicyError):
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


# --- route blinding (BOLT 4 › Route Blinding; › `payload` format › Requirements) -------------


class EncryptedDataError(SphinxampError):
    """encrypted_recipient_data a hop must refuse; answered as invalid_onion_blinding
    (process_hop converts it inside a blinded route and keeps it as `cause`)."""

    failure_code = INVALID_ONION_BLINDING


class InvalidPathKey(EncryptedDataError, DecodeError):
    """The path_key (update_add_htlc, current_path_key, onion_message) is not a point."""


class MissingEncryptedData(EncryptedDataError, DecodeError):
    """A hop inside a blinded route without encrypted_recipient_data."""


class UndecryptableData(EncryptedDataError, DecodeError):
    """ChaCha20-Poly1305 with rho from ECDH(node, path_key) does not authenticate it."""


class MalformedEncryptedData(EncryptedDataError, DecodeError):
    """The plaintext is not a valid TLV stream (BOLT 1 rules, record sizes)."""


class UnknownEvenEncryptedType(MalformedEncryptedData):
    """An even type encrypted_data_tlv does not define ("it's ok to be odd")."""


class ConflictingNextHop(EncryptedDataError, DecodeError):
    """Both short_channel_id and next_node_id: no single next hop can be read from it."""


class MissingNextHop(EncryptedDataError, DecodeError):
    """A forwarding hop with neither short_channel_id nor next_node_id."""


class MissingPaymentRelay(EncryptedDataError, DecodeError):
    """A forwarding hop of a payment without payment_relay."""


class PaymentConstraintsViolated(EncryptedDataError, PolicyError):
    """The HTLC breaks payment_constraints."""


class ExpiryAboveMaximum(PaymentConstraintsViolated):
    """cltv_expiry greater than payment_constraints.max_cltv_expiry."""


class AmountBelowMinimum(PaymentConstraintsViolated):
    """amount_msat below payment_constraints.htlc_minimum_msat."""


class UnknownAllowedFeature(EncryptedDataError, PolicyError):
    """allowed_features sets a bit the reader does not know (even if it is odd)."""


class FinalValuesMismatch(EncryptedDataError, PolicyError):
    """The final hop's HTLC does not carry what its payload says: cltv_expiry below
    outgoing_cltv_value, or amount below amt_to_forward (BOLT 4 › `payload` Requirements)."""


class PathIdMismatch(EncryptedDataError, PolicyError):
    """The final hop's path_id is not the one the recipient created the path with (BOLT 4 ›
    Route Blinding: MUST ignore the message; a payment is failed inside the route)."""


class RelayUnderflow(EncryptedDataError, PolicyError):
    """payment_relay takes more than the HTLC holds (amount below the base fee, or expiry
    below the cltv delta): there is nothing left to forward."""


# --- onion messages (BOLT 4 › Onion Messages › Requirements: the reader MUST ignore) ---------


class OnionMessageError(SphinxampError):
    """An onion message the node drops (never answered: onion messages have no errors)."""


class MalformedOnionMessage(OnionMessageError, DecodeError):
    """The `onion_message` bytes do not frame (type 513, point, u16 len, packet)."""


class MalformedOnionMessagePayload(OnionMessageError, DecodeError):
    """The payload is not a valid `onionmsg_tlv` or holds an unknown even type."""


class InvalidReplyPath(MalformedOnionMessagePayload):
    """A `reply_path` (type 2) that is not a `blinded_path`: not a valid `onionmsg_tlv`."""


class ContentNotTlvStream(MalformedOnionMessagePayload):
    """An invoice_request, invoice or invoice_error (64, 66, 68) that is not a TLV stream,
    as BOLT 12 defines each: not a valid `onionmsg_tlv`."""


class MalformedBlindedPath(OnionMessageError, DecodeError):
    """A `blinded_path` (as `reply_path` carries it) that does not parse."""


class UnexpectedPayloadField(OnionMessageError, PolicyError):
    """A forwarding hop's payload holds more than encrypted_recipient_data."""


class PathIdAtForwardingHop(OnionMessageError, PolicyError):
    """A forwarding hop's encrypted data holds a path_id (meant for the recipient only)."""


class TooManyPayloadFields(OnionMessageError, PolicyError):
    """The final payload holds more than one content field (types 64 and up)."""


# --- trampoline routing (lightning/bolts#836 › Trampoline Payments; Eclair's earlier format) ---

# The proposal's failure codes (04-onion-routing.md › Failure Messages, as the proposal adds
# them; LDK onion_utils.rs, LocalHTLCFailureReason: NODE|25, NODE|26, PERM|27). BOLT 4 has not
# assigned them yet, so they live here rather than in the failure code table.
TEMPORARY_TRAMPOLINE_FAILURE = 0x2000 | 25
TRAMPOLINE_FEE_OR_EXPIRY_INSUFFICIENT = 0x2000 | 26
UNKNOWN_NEXT_TRAMPOLINE = 0x4000 | 27


class TrampolineError(SphinxampError):
    """A trampoline onion a trampoline node or its recipient refuses (`failure_code` is the
    code the node answers with; the payload and peel errors keep their own BOLT 4 codes)."""


class InvalidTrampolinePayload(TrampolineError, InvalidOnionPayload):
    """A payload inside the trampoline onion that is malformed or breaks the format's rules
    (answered as invalid_onion_payload, PERM|22, as LDK answers its InvalidTrampolinePayload;
    `offset` counts from the start of the trampoline onion's decrypted hop_payloads)."""


class TemporaryTrampolineFailure(TrampolineError, PolicyError):
    """temporary_trampoline_failure (NODE|25): the trampoline node could not relay to the next
    trampoline node now."""

    failure_code = TEMPORARY_TRAMPOLINE_FAILURE


class TrampolineFeeOrExpiryInsufficient(TrampolineError, PolicyError):
    """trampoline_fee_or_expiry_insufficient (NODE|26): the incoming HTLC leaves less fee or
    expiry delta than the trampoline node asks; `fee_base_msat`,
    `fee_proportional_millionths` and `cltv_expiry_delta` are what it asks (the message's
    data)."""

    failure_code = TRAMPOLINE_FEE_OR_EXPIRY_INSUFFICIENT
    fee_base_msat: int = 0
    fee_proportional_millionths: int = 0
    cltv_expiry_delta: int = 0


class UnknownNextTrampoline(TrampolineError, PolicyError):
    """unknown_next_trampoline (PERM|27): the node cannot reach the outgoing_node_id."""

    failure_code = UNKNOWN_NEXT_TRAMPOLINE


# --- the caller's values ---------------------------------------------------------------------


class EncodeError(CallerError):
    """Values that cannot be written: out of range, unordered, too large for the packet."""


class InvalidArgument(CallerError, ValueError):
    """A value handed in by the caller (not read from the wire) that the library cannot use:
    an amount past u64, an unknown option, a malformed id. Also a ValueError, as Python code
    expects of a bad argument."""


class InvalidSecret(CallerError):
    """A private key or scalar that is not 32 bytes, zero, or not below the curve order."""


class AdapterStartError(CallerError):
    """The conformance adapter the caller named did not get as far as a usable answer to
    `hello`: it could not be spawned, it exited, hung, or answered something else."""


# --- stores ----------------------------------------------------------------------------------


class StoreConflict(StoreError, RuntimeError):
    """A change that contradicts the stored state (a second writer, or a receiver bug):
    nothing of it was written."""


class StoreBusy(StoreError):
    """Another connection (usually another process) held the store's lock for longer than
    the store's `busy_timeout`. Nothing was written: the same call may be retried."""


__all__ = [
    "AdapterStartError", "AmountBelowMinimum", "BadOnionError", "BigSizeError", "CallerError",
    "ConflictingNextHop", "ContentNotTlvStream", "DecodeError", "EncodeError",
    "EncryptedDataError", "ExpiryAboveMaximum", "FinalIncorrectCltvExpiry",
    "FinalIncorrectHtlcAmount", "FinalValuesMismatch", "InvalidArgument",
    "InvalidOnionBlinding", "InvalidOnionHmac", "InvalidOnionKey", "InvalidOnionPayload",
    "InvalidOnionVersion", "InvalidPathKey", "InvalidReplyPath", "InvalidSecret",
    "InvalidTrampolinePayload", "MalformedBlindedPath", "MalformedEncryptedData",
    "MalformedOnionMessage", "MalformedOnionMessagePayload", "MissingEncryptedData",
    "MissingNextHop", "MissingPaymentRelay", "OnionMessageError", "PathIdAtForwardingHop",
    "PathIdMismatch", "PaymentConstraintsViolated", "PaymentError", "PolicyError",
    "RelayUnderflow", "ReplayedOnion", "SphinxampError", "StoreBusy", "StoreConflict",
    "StoreError", "TemporaryTrampolineFailure", "TlvError", "TooManyPayloadFields",
    "TrampolineError", "TrampolineFeeOrExpiryInsufficient", "UndecryptableData",
    "UnexpectedPayloadField", "UnknownAllowedFeature", "UnknownEvenEncryptedType",
    "UnknownNextTrampoline", "WireError",
]
