"""The annotated field tree `explain` returns, and how a library error becomes its `error`.

Every offset is a position in the bytes the caller gave. Decrypted content keeps the offsets
of the ciphertext it came from (ChaCha20 and the failure obfuscation are stream ciphers: byte
i of the plaintext is byte i of the ciphertext), and its fields say `decrypted`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sphinxamp.errors import SphinxampError

_TLV = "BOLT 1 › Type-Length-Value Format › Requirements"
_BIGSIZE = "BOLT 1 › Appendix A: BigSize Test Vectors"
_PACKET = "BOLT 4 › Packet Structure"
_DECRYPT = "BOLT 4 › Onion Decryption"
_PAYLOAD = "BOLT 4 › Packet Structure › `payload` format › Requirements"
_BLINDING = "BOLT 4 › Route Blinding › Requirements"
_RETURN = "BOLT 4 › Returning Errors"
_MESSAGES = "BOLT 4 › Onion Messages"

# reason (as the library's errors carry it) → (the rule broken, the BOLT section stating it;
# None where the reason is generic and the caller knows the section).
RULES: dict[str, tuple[str, str | None]] = {
    "type_truncated": ("a record's type is a complete BigSize", _TLV),
    "type_not_minimal": ("a BigSize type is minimally encoded", _TLV),
    "length_missing": ("every type is followed by a BigSize length", _TLV),
    "length_truncated": ("a record's length is a complete BigSize", _TLV),
    "length_not_minimal": ("a BigSize length is minimally encoded", _TLV),
    "value_missing": ("a record's value is as long as its length says", _TLV),
    "value_truncated": ("a record's value is as long as its length says", _TLV),
    "duplicate_type": ("types strictly increase: no type twice", _TLV),
    "not_strictly_increasing": ("types strictly increase", _TLV),
    "unknown_even_type": ("an unknown even type is refused (it's ok to be odd)", _TLV),
    "length_below_fixed_size": ("a known record has the size its type defines", _TLV),
    "length_above_fixed_size": ("a known record has the size its type defines", _TLV),
    "truncated_int_not_minimal": ("a truncated integer has no leading zero byte",
                                  "BOLT 1 › Fundamental Types"),
    "invalid_point": ("a point is a valid compressed secp256k1 point", None),
    "empty_input": ("a BigSize needs at least one byte", _BIGSIZE),
    "truncated": ("the field is complete", None),
    "non_canonical": ("a BigSize is minimally encoded", _BIGSIZE),
    "packet_length": ("an onion is version ‖ 33-byte key ‖ hop_payloads ‖ 32-byte hmac, "
                      "1366 bytes for a payment", _PACKET),
    "unknown_version": ("the version byte is 0", _DECRYPT),
    "hmac_mismatch": ("the HMAC over hop_payloads ‖ associated_data verifies", _DECRYPT),
    "payload_too_short": ("a hop payload is at least 2 bytes (one record)", _DECRYPT),
    "payload_past_routing_area": ("the frame (length, payload, hmac) fits in hop_payloads",
                                  _DECRYPT),
    "record_omitted": ("the role's required record is present", _PAYLOAD),
    "record_included": ("the role's forbidden record is absent", _PAYLOAD),
    "record_required": ("the role's required record is present", _PAYLOAD),
    "decryption_failed": ("encrypted_recipient_data authenticates under rho", _BLINDING),
    "too_short": ("encrypted_recipient_data holds at least its 16-byte tag", _BLINDING),
    "message_type": ("a message starts with a known type: 128, 130, 131, 135 or 513 "
                     "(onion_message)", None),
    "length_mismatch": ("len is the size of onion_message_packet", _MESSAGES),
    "wrong_length": ("the field has its fixed size", None),
    "unattributable": ("one hop's um-HMAC verifies after stripping the layers", _RETURN),
}


@dataclass(slots=True)
class Field:
    """One field: where it is, its bytes, what they mean, and its parts."""

    name: str
    offset: int
    raw: bytes
    meaning: str = ""
    value: Any = None
    children: list[Field] = field(default_factory=list)
    decrypted: bool = False
    error: bool = False  # the field where parsing failed
    # The profile whose definition names the field: a hop payload record's ("bolt", "lnd",
    # "trampoline", "trampoline-legacy"), a trampoline onion's parts (its format's).
    profile: str | None = None

    @property
    def length(self) -> int:
        return len(self.raw)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "offset": self.offset,
                               "length": len(self.raw), "hex": self.raw.hex(),
                               "meaning": self.meaning}
        if self.value is not None:
            out["value"] = self.value
        if self.decrypted:
            out["decrypted"] = True
        if self.error:
            out["error"] = True
        if self.profile is not None:
            out["profile"] = self.profile
        out["children"] = [c.to_json() for c in self.children]
        return out


@dataclass(frozen=True, slots=True)
class DecodeProblem:
    """Where decoding stopped (a record, not an exception): `offset` is the first byte of the
    failing field (of the record, for a TLV), `rule` what the bytes break, `section` where the
    BOLTs say so."""

    offset: int
    rule: str
    section: str
    message: str
    reason: str | None = None
    field: str | None = None
    tlv_type: int | None = None
    failure_code: int | None = None
    decrypted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"offset": self.offset, "rule": self.rule, "section": self.section,
                "message": self.message, "reason": self.reason, "field": self.field,
                "tlv_type": self.tlv_type, "failure_code": self.failure_code,
                "decrypted": self.decrypted}


def error_from(exc: SphinxampError, offset: int, section: str = _TLV, *,
               decrypted: bool = False) -> DecodeProblem:
    """A library error as the tree's error, at `offset` (the caller knows the field start)."""
    under = exc.cause if exc.cause is not None else exc
    rule, where = RULES.get(under.reason or "", (under.message, section))
    return DecodeProblem(offset, rule, where or section, exc.message, under.reason, under.field,
                        under.tlv_type, exc.failure_code, decrypted)


@dataclass(slots=True)
class Explanation:
    """The whole answer: the kind read, why (for `auto`), the field tree, the error (None
    when every byte parsed) and notes (what could not be decrypted, and why)."""

    kind: str
    data: bytes
    fields: list[Field] = field(default_factory=list)
    error: DecodeProblem | None = None
    guess: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "length": len(self.data), "guess": self.guess,
                "fields": [f.to_json() for f in self.fields], "notes": list(self.notes),
                "error": None if self.error is None else self.error.to_json()}

    def fail(self, error: DecodeProblem) -> None:
        """Record the first error only (parsing stops there; later checks add nothing)."""
        if self.error is None:
            self.error = error

    def finish(self) -> Explanation:
        """Mark the field where the error is (the outermost one starting at its offset), or
        add the bytes left unread from there as one field."""
        error = self.error
        if error is not None and not _mark(self.fields, error.offset):
            rest = self.data[error.offset:]
            self.fields.append(Field("unparsed", error.offset, rest,
                                     f"{len(rest)} bytes not read", error=True))
        return self


def _mark(fields: list[Field], offset: int) -> bool:
    """Along the fields containing `offset`, mark the first that starts there."""
    for f in fields:
        if f.offset <= offset <= f.offset + f.length:
            if f.offset == offset:
                f.error = True
                return True
            if _mark(f.children, offset):
                return True
    return False
