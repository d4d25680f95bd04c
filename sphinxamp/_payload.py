"""Typed hop payloads (BOLT 4 › Packet Structure › `payload` format) and the role rules, as
BOLT 4 states them (profile "bolt") or as lnd applies them (profile "lnd").

The records come from one registry (`_records.py`); records the registry does not know
survive decode → encode byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sphinxamp.errors import DecodeError, EncodeError, InvalidArgument, InvalidOnionPayload
from sphinxamp.wire._records import (
    _LND_SCHEMA,
    _RULES,
    AMP,
    CUSTOM_RECORD_START,
    HOP_PAYLOAD_RECORDS,
    HOP_PAYLOAD_SCHEMA,
    HOP_RECORDS,
    HOP_RECORDS_BY_TYPE,
    KEYSEND_TYPE,
    LND_REFUSED,
    PAYMENT_DATA,
    PROFILES,
    AmpRecord,
    PaymentData,
    Role,
    record_name,
)
from sphinxamp.wire._tlv import ShortChannelId, TlvRecord

_ATTR_TYPE = {spec.name: spec.type for spec in HOP_PAYLOAD_RECORDS}
ENCRYPTED_RECIPIENT_DATA = _ATTR_TYPE["encrypted_recipient_data"]
CURRENT_PATH_KEY = _ATTR_TYPE["current_path_key"]


# Fields in an instance dictionary, not in slots: a frozen dataclass's __init__ sets every
# field through object.__setattr__, a third of a whole payload decode; `_from_fields` instead
# sets the dictionary whole to the fields present and lets the class-level defaults stand for
# the rest. The dictionary is a slot of its own (not the managed one CPython gives a class
# without `__slots__`), which is cheaper to replace.
@dataclass(frozen=True)
class HopPayload:
    """A decoded hop payload. `custom_records` (≥ 2^16) and `unknown_records` (odd, < 2^16)
    are kept in wire order so the payload re-encodes to the same bytes."""

    __slots__ = ("__dict__", "__weakref__")

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



def parse_custom_records(entries: Iterable[tuple[int, bytes]]) -> tuple[TlvRecord, ...]:
    """Records a sender may attach, sorted by type; types below 2^16 are refused as lnd's
    `CustomSet.Validate` refuses them (record/custom_records.go)."""
    out: dict[int, TlvRecord] = {}
    for rtype, value in entries:
        if rtype < CUSTOM_RECORD_START:
            raise EncodeError(f"custom record type {rtype} is below {CUSTOM_RECORD_START}",
                              field="custom_records", tlv_type=rtype, reason="range")
        out[rtype] = TlvRecord(rtype, bytes(value))
    return tuple(out[t] for t in sorted(out))


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise InvalidArgument(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}",
                              field="profile", reason="unknown_profile")
    return profile


def decode_payload(
    data: bytes | memoryview,
    role: Role | str | None = None,
    *,
    base: int = 0,
    path_key_from_htlc: bool | None = None,
    profile: str = "bolt",
) -> HopPayload:
    """Decode a hop payload and, when `role` is given, enforce that role's rules.

    Every failure is `InvalidOnionPayload` (PERM|22) carrying the TLV type and the offset of
    the offending record (plus `base`, for offsets in the decrypted stream); under the "lnd"
    profile they are what lnd puts on the wire instead (the type, 0 for a stream that does
    not parse, and offset 0). `path_key_from_htlc` says whether update_add_htlc carried a
    path_key: for blinded roles current_path_key is then forbidden, otherwise required; for
    unblinded roles a path_key is itself an error; None leaves these checks to the caller.
    """
    raw = bytes(data)
    check_profile(profile)
    fields, unknown, offsets, mask = _decode(raw, base, profile)
    if role is not None:
        role = parse_role(role)
        if profile == "lnd":
            _check_lnd(role.final, bool(path_key_from_htlc),
                       offsets or HOP_PAYLOAD_SCHEMA.offsets(raw, base), role)
        elif not _role_ok(role, mask, unknown, path_key_from_htlc):
            _check_role(role, offsets or HOP_PAYLOAD_SCHEMA.offsets(raw, base), base + len(raw),
                        path_key_from_htlc)
    return _from_fields(fields, unknown)


def decode_hop_payload(
    data: bytes | memoryview, *, final: bool, path_key_from_htlc: bool, base: int = 0,
    profile: str = "bolt",
) -> tuple[HopPayload, Role]:
    """Decode the payload a peel found and judge it in the role BOLT 4's structure gives it:
    the position comes from the peel (`final`), and the blinded rules apply when the HTLC
    carried a path_key or the payload holds encrypted_recipient_data (10)."""
    raw = data if type(data) is bytes else bytes(data)
    # process_hop's hot path: the generated decoder, the role's rules as one mask test; what
    # it does not pass goes the checked way below, which raises the precise error.
    fast = _FAST_BOLT(raw, base) if profile == "bolt" else None
    if fast is not None:
        fields, unknown, _, mask = fast
        if path_key_from_htlc or mask & _DATA_BIT:
            path = 2 if path_key_from_htlc else 0 if path_key_from_htlc is None else 1
            role, care, want = _BLINDED_JUDGES[path + 3 if final else path]
            passed = mask & care == want and not unknown  # nothing else inside a blinded route
        else:
            role, care, want = _FINAL_JUDGE if final else _INTERMEDIATE_JUDGE
            passed = mask & care == want
        if passed:
            payload: HopPayload = _new(HopPayload)
            if unknown:
                if unknown[0].type >= CUSTOM_RECORD_START:
                    fields["custom_records"] = tuple(unknown)
                else:
                    _split_unknown(fields, unknown)
            _set_dict(payload, fields)
            return payload, role
    fields, unknown, offsets, mask = _decode(raw, base, profile)
    role = _role_of(final, path_key_from_htlc or bool(mask & _DATA_BIT))
    if profile == "lnd":
        _check_lnd(final, path_key_from_htlc, offsets or HOP_PAYLOAD_SCHEMA.offsets(raw, base),
                   role)
    elif not _role_ok(role, mask, unknown, path_key_from_htlc):
        _check_role(role, offsets or HOP_PAYLOAD_SCHEMA.offsets(raw, base), base + len(raw),
                    path_key_from_htlc)
    return _from_fields(fields, unknown), role


def derive_role(types: Iterable[int], *, final: bool, path_key_from_htlc: bool) -> Role:
    """The role BOLT 4's structure gives a hop: its position, blinded when the HTLC carried a
    path_key or the payload holds encrypted_recipient_data (10)."""
    return _role_of(final, path_key_from_htlc or ENCRYPTED_RECIPIENT_DATA in types)


def _role_of(final: bool, blinded: bool) -> Role:
    if blinded:
        return Role.BLINDED_FINAL if final else Role.BLINDED_INTERMEDIATE
    return Role.FINAL if final else Role.INTERMEDIATE


# The role rules as masks of the schema's type bits (`TlvSchema.bit`), so that judging a valid
# payload is a few integer operations; `_check_role` states the rules and finds the violation.
def _type_mask(types: Iterable[int]) -> int:
    bits = [HOP_PAYLOAD_SCHEMA.bit(t) for t in types]
    if not all(bits):  # a rule about a type the schema does not decode cannot be a mask bit
        raise ValueError(f"role rule on a type outside the payload schema: {sorted(types)}")
    return sum(bits)


_MASKS = {role: (_type_mask(req), _type_mask(forb), None if only is None else _type_mask(only),
                 blinded) for role, (req, forb, only, blinded) in _RULES.items()}
_DATA_BIT = HOP_PAYLOAD_SCHEMA.bit(ENCRYPTED_RECIPIENT_DATA)
_PATH_KEY_BIT = HOP_PAYLOAD_SCHEMA.bit(CURRENT_PATH_KEY)
_FAST_BOLT = HOP_PAYLOAD_SCHEMA.fast_named
_ALL_BITS = (1 << len(HOP_PAYLOAD_SCHEMA.specs)) - 1


def _judge(role: Role, path_key: bool | None) -> tuple[Role, int, int]:
    """`role`'s rules for a payload decoded with `path_key` from the HTLC as (role, the bits
    that decide, the value they must have): with no records outside the schema in a blinded
    role, a payload passes exactly when `_role_ok` passes it."""
    required, forbidden, only, blinded = _MASKS[role]
    care = required | forbidden | (0 if only is None else _ALL_BITS & ~only)
    want = required
    if blinded and path_key is not None:
        care |= _PATH_KEY_BIT  # in the payload exactly when the HTLC did not bring it
        want = want & ~_PATH_KEY_BIT if path_key else want | _PATH_KEY_BIT
        if path_key and required & _PATH_KEY_BIT:
            want = -1  # required and forbidden at once: no mask passes
    return role, care, want


# Unblinded roles (no path key from the HTLC, no encrypted_recipient_data), then the blinded
# ones by 3 * final + the path key from the HTLC: 0 left to the caller (None), 1 absent (so the
# payload must hold it), 2 present (so the payload must not).
_INTERMEDIATE_JUDGE = _judge(Role.INTERMEDIATE, None)
_FINAL_JUDGE = _judge(Role.FINAL, None)
_BLINDED_JUDGES = tuple(_judge(role, path_key)
                        for role in (Role.BLINDED_INTERMEDIATE, Role.BLINDED_FINAL)
                        for path_key in (None, False, True))


def _role_ok(role: Role, mask: int, unknown: list[TlvRecord], path_key: bool | None) -> bool:
    """Whether the records present (`mask`, plus `unknown` ones) obey `role`'s rules: exactly
    when `_check_role` finds no violation (every rule's type is a registry type)."""
    required, forbidden, only, blinded = _MASKS[role]
    return (mask & required == required and not mask & forbidden
            and (only is None or (not unknown and not mask & ~only))
            and (path_key is None or (bool(mask & _PATH_KEY_BIT) != path_key if blinded
                                      else not path_key)))


def _decode(
    raw: bytes, base: int, profile: str
) -> tuple[dict[str, Any], list[TlvRecord], dict[int, int] | None, int]:
    """(registry values by field name, records kept unparsed, record offsets by type or None,
    the mask of the registry types present)."""
    try:
        return (_LND_SCHEMA if profile == "lnd" else HOP_PAYLOAD_SCHEMA).decode_named(raw, base)
    except DecodeError as exc:
        if profile == "lnd":
            # lnd cannot name a record in a stream it could not parse: type 0, offset 0
            # (htlcswitch/link.go, processRemoteAdds).
            raise InvalidOnionPayload(exc.message, field=exc.field, offset=0, tlv_type=0,
                                      reason=exc.reason) from None
        raise InvalidOnionPayload(exc.message, field=exc.field, offset=exc.offset,
                                  tlv_type=exc.tlv_type, reason=exc.reason) from None


_new = object.__new__
# HopPayload is not slotted: its instance dictionary is set whole, the class-level defaults
# standing for the records absent (a frozen dataclass refuses attribute assignment, and its
# __init__ would set all twelve fields).
_set_dict = vars(HopPayload)["__dict__"].__set__


def _split_unknown(fields: dict[str, Any], unknown: list[TlvRecord]) -> None:
    """Put the records kept unparsed into `fields`: in wire order, so types increase, the odd
    unknown ones (< 2^16) come first, then the custom ones."""
    split = next((i for i, r in enumerate(unknown) if r.type >= CUSTOM_RECORD_START),
                 len(unknown))
    fields["custom_records"] = tuple(unknown[split:])
    fields["unknown_records"] = tuple(unknown[:split])


def _from_fields(fields: dict[str, Any], unknown: list[TlvRecord]) -> HopPayload:
    """A HopPayload holding the decoded registry records (by field name, as the schema's
    `decode_named` gives them, a dictionary of its own) and the records kept unparsed."""
    payload: HopPayload = _new(HopPayload)
    if unknown:
        _split_unknown(fields, unknown)
    _set_dict(payload, fields)
    return payload


def _violation(kind: str, rtype: int, role: Role, offset: int) -> InvalidOnionPayload:
    name = record_name(rtype) or f"type {rtype}"
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
    decode_payload(raw, role, path_key_from_htlc=path_key_from_htlc)


def _check_role(
    role: Role, offsets: dict[int, int], end: int, path_key_from_htlc: bool | None
) -> None:
    """BOLT 4's reader rules. A forbidden record is reported where it starts; a missing one
    where it would have been (before the first record of a higher type, or at the end)."""
    required, forbidden, only, blinded = _RULES[role]
    types = offsets.keys()
    if (required <= types and forbidden.isdisjoint(types) and (only is None or types <= only)
            and (path_key_from_htlc is None or (
                (CURRENT_PATH_KEY in types) != path_key_from_htlc if blinded
                else not path_key_from_htlc))):
        return  # the common case, decided by set operations alone (the checks below agree)
    present = sorted(offsets)

    def missing_at(rtype: int) -> int:
        return next((offsets[t] for t in present if t > rtype), end)

    if path_key_from_htlc and not blinded:
        # Outside a blinded route a path_key in update_add_htlc is an error; like lnd, name
        # the encrypted_recipient_data that should have come with it.
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


def _check_lnd(final: bool, path_key: bool, offsets: dict[int, int], role: Role) -> None:
    """lnd's rules in lnd's order (htlcswitch/hop/payload.go: ValidateParsedPayloadTypes,
    getMinRequiredViolation, ValidatePayloadWithBlinded); lnd always reports offset 0."""
    has = offsets.__contains__
    data, point = has(10), has(12)
    need_fwd = final or not data
    need_next = not (data or final)
    # The records lnd refuses where BOLT 4's reader does not, from the registry, for the role
    # lnd's own tests give the hop (final, encrypted data present).
    refused = LND_REFUSED[_role_of(final, data)].__contains__
    for broken, rtype, kind in (
        (point and path_key, 12, "included"),
        (not data and (point or path_key), 10, "omitted"),
        (data and not (point or path_key), 10, "included"),
        (need_fwd and not has(2), 2, "omitted"),
        (need_fwd and not has(4), 4, "omitted"),
        (not need_fwd and has(2), 2, "included"),
        (not need_fwd and has(4), 4, "included"),
        (refused(6) and has(6), 6, "included"),
        (need_next and not has(6), 6, "omitted"),
        (refused(8) and has(8), 8, "included"),
        (refused(14) and has(14), 14, "included"),
    ):
        if broken:
            raise _violation(kind, rtype, role, 0)
    unknown_even = [t for t in offsets if not t & 1 and t < CUSTOM_RECORD_START
                    and t not in HOP_RECORDS_BY_TYPE]
    if unknown_even:
        raise _violation("required", min(unknown_even), role, 0)
    if data:
        allowed = {10, 12} | ({2, 4, 18} if final else set())
        extra = sorted(t for t in offsets if t not in allowed)
        if extra:
            raise _violation("included", extra[0], role, 0)


def parse_role(value: Role | str) -> Role:
    if isinstance(value, Role):
        return value
    try:
        return Role(value)
    except ValueError:
        raise InvalidArgument(f"unknown role {value!r}; one of "
                              + ", ".join(r.value for r in Role), field="role",
                              reason="unknown_role") from None


__all__ = [
    "AMP", "CURRENT_PATH_KEY", "CUSTOM_RECORD_START", "ENCRYPTED_RECIPIENT_DATA",
    "HOP_PAYLOAD_RECORDS", "HOP_PAYLOAD_SCHEMA", "HOP_RECORDS", "KEYSEND_TYPE", "PAYMENT_DATA",
    "PROFILES", "AmpRecord", "HopPayload", "PaymentData", "Role", "check_profile",
    "decode_hop_payload", "decode_payload", "derive_role", "parse_custom_records", "parse_role",
    "record_name", "validate_role",
]
