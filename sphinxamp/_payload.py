"""Typed hop payloads (BOLT 4 › Packet Structure › `payload` format) and the role rules.

The records a hop payload may carry form one registry (`HOP_PAYLOAD_SCHEMA`); a record defined
outside the BOLTs (MPP's companion AMP, keysend) joins by adding a `RecordSpec` and a field of
the same name to `HopPayload`, never by a parse loop of its own. Records the registry does not
know survive decode → encode byte for byte.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ._errors import DecodeError, EncodeError, InvalidOnionPayload
from ._tlv import (
    BYTES,
    POINT,
    SCID,
    TU32,
    TU64,
    FixedBytes,
    RecordSpec,
    ShortChannelId,
    Struct,
    TlvRecord,
    TlvSchema,
)

CUSTOM_RECORD_START = 65536  # BOLT 1: types ≥ 2^16 are free for applications


class Role(enum.Enum):
    """Where the payload was peeled: decides which records are required and which forbidden."""

    INTERMEDIATE = "intermediate"
    FINAL = "final"
    BLINDED_INTERMEDIATE = "blinded-intermediate"
    BLINDED_FINAL = "blinded-final"

    @property
    def blinded(self) -> bool:
        return self in (Role.BLINDED_INTERMEDIATE, Role.BLINDED_FINAL)

    @property
    def final(self) -> bool:
        return self in (Role.FINAL, Role.BLINDED_FINAL)


@dataclass(frozen=True, slots=True)
class PaymentData:
    """Type 8: payment_secret ‖ tu64 total_msat (BOLT 4 basic MPP; lnd's "MPP record")."""

    payment_secret: bytes
    total_msat: int


@dataclass(frozen=True, slots=True)
class AmpRecord:
    """Type 14, lnd's AMP record: this shard's share ‖ set_id ‖ tu32 child_index.

    lnd names the first field `root_share`, but it carries the shard's share, never the root
    (the root is the XOR of every share in the set).
    """

    root_share: bytes
    set_id: bytes
    child_index: int


KEYSEND_TYPE = 5482373484  # bLIP 3: 32-byte preimage, an even custom type

PAYMENT_DATA = Struct([("payment_secret", FixedBytes(32)), ("total_msat", TU64)], PaymentData)
AMP = Struct(
    [("root_share", FixedBytes(32)), ("set_id", FixedBytes(32)), ("child_index", TU32)], AmpRecord
)

HOP_PAYLOAD_RECORDS = (
    RecordSpec(2, "amt_to_forward", TU64),
    RecordSpec(4, "outgoing_cltv_value", TU32),
    RecordSpec(6, "short_channel_id", SCID),
    RecordSpec(8, "payment_data", PAYMENT_DATA),
    RecordSpec(10, "encrypted_recipient_data", BYTES),
    RecordSpec(12, "current_path_key", POINT),
    RecordSpec(14, "amp", AMP),
    RecordSpec(16, "payment_metadata", BYTES),
    RecordSpec(18, "total_amount_msat", TU64),
    RecordSpec(KEYSEND_TYPE, "keysend_preimage", FixedBytes(32)),
)

# lnd keeps unknown even types of the custom range for the application to judge
# (htlcswitch/hop/payload.go); below 2^16 an unknown even type is refused as BOLT 1 requires.
HOP_PAYLOAD_SCHEMA = TlvSchema(
    "payload", HOP_PAYLOAD_RECORDS, even_ok=lambda t: t >= CUSTOM_RECORD_START
)
_ATTR_TYPE = {spec.name: spec.type for spec in HOP_PAYLOAD_RECORDS}

# Role rules, BOLT 4 › `payload` format › Requirements (reader side):
# records that MUST be present, and the records allowed at all (None = any not forbidden).
_REQUIRED = {
    Role.INTERMEDIATE: (2, 4, 6),
    Role.FINAL: (2, 4),
    Role.BLINDED_INTERMEDIATE: (10,),
    Role.BLINDED_FINAL: (2, 4, 10, 18),
}
_FORBIDDEN = {
    # Outside a blinded route a path key or blinded data is an error. A forwarding node
    # refuses payment_data (BOLT 4: "MUST NOT include payment_data" for non-final hops) and,
    # as lnd does, the AMP record; a final node refuses short_channel_id. Records neither
    # BOLT 4 nor lnd's reader refuses (metadata, total_amount_msat, custom records on a
    # forwarding hop) are let through, so no onion another node accepts is refused here.
    Role.INTERMEDIATE: frozenset({8, 10, 12, 14}),
    Role.FINAL: frozenset({6, 10, 12}),
}
# Inside a blinded route the payload may hold nothing but these ("MUST return an error if the
# payload contains other tlv fields than …"), unknown records included.
_ONLY = {
    Role.BLINDED_INTERMEDIATE: frozenset({10, 12}),
    Role.BLINDED_FINAL: frozenset({2, 4, 10, 12, 18}),
}
# Per role, as sets: required, forbidden, the only ones allowed (or None), blinded.
_RULES = {
    role: (frozenset(_REQUIRED[role]), _FORBIDDEN.get(role, frozenset()), _ONLY.get(role),
           role.blinded)
    for role in Role
}


# Not slotted: a frozen dataclass's __init__ sets every field through object.__setattr__,
# a third of a whole payload decode; `_from_records` instead sets only the fields present and
# lets the class-level defaults stand for the rest.
@dataclass(frozen=True)
class HopPayload:
    """A decoded hop payload. `custom_records` (≥ 2^16) and `unknown_records` (odd, < 2^16)
    are kept in wire order so the payload re-encodes to the same bytes."""

    amt_to_forward: int | None = None
    outgoing_cltv_value: int | None = None
    short_channel_id: ShortChannelId | None = None
    payment_data: PaymentData | None = None
    encrypted_recipient_data: bytes | None = None
    current_path_key: bytes | None = None
    amp: AmpRecord | None = None
    payment_metadata: bytes | None = None
    total_amount_msat: int | None = None
    keysend_preimage: bytes | None = None
    custom_records: tuple[TlvRecord, ...] = ()
    unknown_records: tuple[TlvRecord, ...] = ()

    def record_values(self) -> dict[int, Any]:
        """The registry records present, by TLV type."""
        out = {}
        for name, rtype in _ATTR_TYPE.items():
            value = getattr(self, name)
            if value is not None:
                out[rtype] = value
        return out

    def present_types(self) -> set[int]:
        types = set(self.record_values())
        types.update(r.type for r in self.custom_records)
        types.update(r.type for r in self.unknown_records)
        return types

    def encode(self) -> bytes:
        """The TLV stream (without the BigSize length that frames it in the onion)."""
        for rec in self.custom_records:
            if rec.type < CUSTOM_RECORD_START or rec.type in HOP_PAYLOAD_SCHEMA.specs:
                raise EncodeError(f"custom record type {rec.type} is not a free custom type",
                                  field="custom_records", tlv_type=rec.type, reason="range")
        for rec in self.unknown_records:
            if rec.type >= CUSTOM_RECORD_START or rec.type in HOP_PAYLOAD_SCHEMA.specs:
                raise EncodeError(f"unknown record type {rec.type} collides with a known "
                                  "or custom type", field="unknown_records", tlv_type=rec.type,
                                  reason="range")
        return HOP_PAYLOAD_SCHEMA.encode(
            self.record_values(), self.custom_records + self.unknown_records
        )



def decode_payload(
    data: bytes | memoryview,
    role: Role | str | None = None,
    *,
    base: int = 0,
    path_key_from_htlc: bool | None = None,
) -> HopPayload:
    """Decode a hop payload and, when `role` is given, enforce that role's rules.

    Every failure is `InvalidOnionPayload` (PERM|22) carrying the TLV type and the offset of
    the offending record (plus `base`, for offsets in the decrypted stream).
    `path_key_from_htlc` says whether update_add_htlc carried a path_key: for blinded roles
    current_path_key is then forbidden, otherwise required; for unblinded roles a path_key is
    itself an error; None leaves these checks to the caller.
    """
    raw = bytes(data)
    try:
        decoded = HOP_PAYLOAD_SCHEMA.decode(raw, base)
    except DecodeError as exc:
        raise InvalidOnionPayload(exc.message, field=exc.field, offset=exc.offset,
                                  tlv_type=exc.tlv_type, reason=exc.reason) from None
    if role is not None:
        _check_role(parse_role(role), decoded.offsets, base + len(raw), path_key_from_htlc)
    return _from_records(decoded.values, decoded.unknown)


_NAMES = {spec.type: spec.name for spec in HOP_PAYLOAD_RECORDS}
_new = object.__new__


def _from_records(values: dict[int, Any], unknown: tuple[TlvRecord, ...]) -> HopPayload:
    """A HopPayload holding the decoded registry records and the records kept unparsed."""
    payload: HopPayload = _new(HopPayload)
    fields = {_NAMES[t]: v for t, v in values.items()}
    if unknown:
        fields["custom_records"] = tuple(r for r in unknown if r.type >= CUSTOM_RECORD_START)
        fields["unknown_records"] = tuple(r for r in unknown if r.type < CUSTOM_RECORD_START)
    payload.__dict__.update(fields)
    return payload


def _violation(kind: str, rtype: int, role: Role, offset: int) -> InvalidOnionPayload:
    name = HOP_PAYLOAD_SCHEMA.name_of(rtype) or f"type {rtype}"
    return InvalidOnionPayload(
        f"{role.value} hop payload {kind} {name} (type {rtype})",
        field=name, offset=offset, tlv_type=rtype, reason=f"record_{kind}",
    )


def validate_role(
    payload: HopPayload, role: Role | str, path_key_from_htlc: bool | None = None
) -> None:
    """Raise `InvalidOnionPayload` for the first rule of `role` that `payload` breaks
    (offsets are those of `payload.encode()`)."""
    raw = payload.encode()
    offsets = HOP_PAYLOAD_SCHEMA.decode(raw).offsets
    _check_role(parse_role(role), offsets, len(raw), path_key_from_htlc)


def _check_role(
    role: Role, offsets: dict[int, int], end: int, path_key_from_htlc: bool | None
) -> None:
    """A forbidden record is reported where it starts; a missing one where it would have been
    (before the first record of a higher type, or at the end of the payload)."""
    required, forbidden, only, blinded = _RULES[role]
    types = offsets.keys()
    if (path_key_from_htlc is None and required <= types and forbidden.isdisjoint(types)
            and (only is None or types <= only)):
        return  # the common case, decided by set operations alone
    present = sorted(offsets)

    def missing_at(rtype: int) -> int:
        return next((offsets[t] for t in present if t > rtype), end)

    if path_key_from_htlc and not blinded:
        # BOLT 4 › `payload` reader: outside a blinded route a path_key in update_add_htlc is
        # an error; like lnd, name the encrypted_recipient_data that should have come with it.
        raise _violation("omitted", 10, role, missing_at(10))
    if blinded and path_key_from_htlc is not None:
        if path_key_from_htlc and 12 in offsets:
            raise _violation("included", 12, role, offsets[12])
        if not path_key_from_htlc and 12 not in offsets:
            raise _violation("omitted", 12, role, missing_at(12))
    for rtype in present:
        if rtype in forbidden or (only is not None and rtype not in only):
            raise _violation("included", rtype, role, offsets[rtype])
    for rtype in sorted(required):
        if rtype not in offsets:
            raise _violation("omitted", rtype, role, missing_at(rtype))


def parse_role(value: Role | str) -> Role:
    if isinstance(value, Role):
        return value
    try:
        return Role(value)
    except ValueError:
        raise DecodeError(f"unknown role {value!r}; one of "
                          + ", ".join(r.value for r in Role), field="role",
                          reason="unknown_role") from None


__all__ = [
    "AMP",
    "CUSTOM_RECORD_START",
    "HOP_PAYLOAD_SCHEMA",
    "KEYSEND_TYPE",
    "PAYMENT_DATA",
    "AmpRecord",
    "HopPayload",
    "PaymentData",
    "Role",
    "decode_payload",
    "parse_role",
    "validate_role",
]
