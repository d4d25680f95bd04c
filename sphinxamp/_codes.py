"""The one table of BOLT 4 failure codes (04-onion-routing.md › Failure Messages).

Each code is data: its number, its spec name, and the fixed fields its `failuremsg` carries
after the u16 code. Everything that names, builds or reads a failure looks it up here.
"""

from __future__ import annotations

from dataclasses import dataclass

# Flag bits in the top byte of the u16 failure_code.
BADONION = 0x8000
PERM = 0x4000
NODE = 0x2000
UPDATE = 0x1000

FLAG_NAMES = ((BADONION, "BADONION"), (PERM, "PERM"), (NODE, "NODE"), (UPDATE, "UPDATE"))


@dataclass(frozen=True, slots=True)
class FailureCode:
    """A failure code and the fixed fields of its `failuremsg` (name, wire type) in order."""

    code: int
    name: str
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(name for bit, name in FLAG_NAMES if self.code & bit)

    @property
    def bad_onion(self) -> bool:
        return bool(self.code & BADONION)


# Wire types of the fields: u16/u32/u64 (big-endian), bigsize (BOLT 1), sha256 (32 bytes),
# and channel_update: u16 len ‖ len bytes of the channel_update message (len may be 0).
_SHA = (("sha256_of_onion", "sha256"),)
_UPD = (("channel_update", "channel_update"),)

FAILURE_CODES: dict[int, FailureCode] = {
    c.code: c
    for c in (
        FailureCode(NODE | 2, "temporary_node_failure"),
        FailureCode(PERM | NODE | 2, "permanent_node_failure"),
        FailureCode(PERM | NODE | 3, "required_node_feature_missing"),
        FailureCode(BADONION | PERM | 4, "invalid_onion_version", _SHA),
        FailureCode(BADONION | PERM | 5, "invalid_onion_hmac", _SHA),
        FailureCode(BADONION | PERM | 6, "invalid_onion_key", _SHA),
        FailureCode(UPDATE | 7, "temporary_channel_failure", _UPD),
        FailureCode(PERM | 8, "permanent_channel_failure"),
        FailureCode(PERM | 9, "required_channel_feature_missing"),
        FailureCode(PERM | 10, "unknown_next_peer"),
        FailureCode(UPDATE | 11, "amount_below_minimum",
                    (("htlc_msat", "u64"), *_UPD)),
        FailureCode(UPDATE | 12, "fee_insufficient", (("htlc_msat", "u64"), *_UPD)),
        FailureCode(UPDATE | 13, "incorrect_cltv_expiry", (("cltv_expiry", "u32"), *_UPD)),
        FailureCode(UPDATE | 14, "expiry_too_soon", _UPD),
        FailureCode(PERM | 15, "incorrect_or_unknown_payment_details",
                    (("htlc_msat", "u64"), ("height", "u32"))),
        FailureCode(18, "final_incorrect_cltv_expiry", (("cltv_expiry", "u32"),)),
        FailureCode(19, "final_incorrect_htlc_amount", (("incoming_htlc_amt", "u64"),)),
        FailureCode(UPDATE | 20, "channel_disabled", (("disabled_flags", "u16"), *_UPD)),
        FailureCode(21, "expiry_too_far"),
        FailureCode(PERM | 22, "invalid_onion_payload", (("type", "bigsize"), ("offset", "u16"))),
        FailureCode(23, "mpp_timeout"),
        FailureCode(BADONION | PERM | 24, "invalid_onion_blinding", _SHA),
    )
}

FAILURE_NAMES: dict[int, str] = {c.code: c.name for c in FAILURE_CODES.values()}
CODES_BY_NAME: dict[str, int] = {c.name: c.code for c in FAILURE_CODES.values()}

INVALID_ONION_VERSION = CODES_BY_NAME["invalid_onion_version"]
INVALID_ONION_HMAC = CODES_BY_NAME["invalid_onion_hmac"]
INVALID_ONION_KEY = CODES_BY_NAME["invalid_onion_key"]
INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS = CODES_BY_NAME["incorrect_or_unknown_payment_details"]
INVALID_ONION_PAYLOAD = CODES_BY_NAME["invalid_onion_payload"]
MPP_TIMEOUT = CODES_BY_NAME["mpp_timeout"]
FINAL_INCORRECT_CLTV_EXPIRY = CODES_BY_NAME["final_incorrect_cltv_expiry"]
FINAL_INCORRECT_HTLC_AMOUNT = CODES_BY_NAME["final_incorrect_htlc_amount"]
INVALID_ONION_BLINDING = CODES_BY_NAME["invalid_onion_blinding"]


def failure_name(code: int | None) -> str | None:
    """The spec's name for a failure code, or None for no code / an unassigned one."""
    return None if code is None else FAILURE_NAMES.get(code)
