"""One exception hierarchy for everything the library refuses.

Every failure carries what a caller needs to answer a peer or explain bytes to a person: the
BOLT 4 failure code where one applies (04-onion-routing.md › Failure Messages), the field that
was being read, the byte offset, the TLV type concerned, and a short machine-readable `reason`.
Parsers of untrusted bytes raise nothing but subclasses of `DecodeError`.
"""

from __future__ import annotations

# BOLT 4 › Failure Messages: flag bits in the top byte of the u16 failure_code.
BADONION = 0x8000
PERM = 0x4000
NODE = 0x2000
UPDATE = 0x1000

FAILURE_NAMES: dict[int, str] = {
    NODE | 2: "temporary_node_failure",
    PERM | NODE | 2: "permanent_node_failure",
    PERM | NODE | 3: "required_node_feature_missing",
    BADONION | PERM | 4: "invalid_onion_version",
    BADONION | PERM | 5: "invalid_onion_hmac",
    BADONION | PERM | 6: "invalid_onion_key",
    UPDATE | 7: "temporary_channel_failure",
    PERM | 8: "permanent_channel_failure",
    PERM | 9: "required_channel_feature_missing",
    PERM | 10: "unknown_next_peer",
    UPDATE | 11: "amount_below_minimum",
    UPDATE | 12: "fee_insufficient",
    UPDATE | 13: "incorrect_cltv_expiry",
    UPDATE | 14: "expiry_too_soon",
    PERM | 15: "incorrect_or_unknown_payment_details",
    18: "final_incorrect_cltv_expiry",
    19: "final_incorrect_htlc_amount",
    UPDATE | 20: "channel_disabled",
    21: "expiry_too_far",
    PERM | 22: "invalid_onion_payload",
    23: "mpp_timeout",
    BADONION | PERM | 24: "invalid_onion_blinding",
}

INVALID_ONION_VERSION = BADONION | PERM | 4
INVALID_ONION_HMAC = BADONION | PERM | 5
INVALID_ONION_KEY = BADONION | PERM | 6
INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS = PERM | 15
INVALID_ONION_PAYLOAD = PERM | 22
MPP_TIMEOUT = 23
INVALID_ONION_BLINDING = BADONION | PERM | 24


def failure_name(code: int | None) -> str | None:
    """The spec's name for a failure code, or None for no code / an unassigned one."""
    return None if code is None else FAILURE_NAMES.get(code)


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

    @property
    def failure_name(self) -> str | None:
        return failure_name(self.failure_code)

    def to_dict(self) -> dict[str, object]:
        """The JSON error object of the CLI contract."""
        return {
            "error": type(self).__name__,
            "failure_code": self.failure_code,
            "failure_name": self.failure_name,
            "tlv_type": self.tlv_type,
            "offset": self.offset,
            "field": self.field,
            "reason": self.reason,
            "message": self.message,
        }


class DecodeError(SphinxampError):
    """Bytes that do not parse or break a rule a reader MUST enforce."""


class EncodeError(SphinxampError):
    """Values that cannot be written: out of range, unordered, too large for the packet."""


class BigSizeError(DecodeError):
    """A BigSize that is truncated or not minimally encoded (BOLT 1 › Appendix A)."""


class TlvError(DecodeError):
    """A TLV stream that breaks BOLT 1 › Type-Length-Value Format › Requirements."""


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
