"""Trampoline payloads in the two wire formats in use (lightning/bolts#836 › Trampoline
Payments, and Eclair's and Electrum's earlier format), told apart by profile.

A trampoline payload is a TLV stream of the `payload` namespace read under the profile of its
format (`sphinxamp.wire.PROFILE_SCHEMAS`): under "trampoline" type 14 is outgoing_node_id (the
proposal; LDK msgs.rs, OutboundTrampolinePayload), never lnd's AMP record; under
"trampoline-legacy" the node id is 66098 and the trampoline onion 66100 (Eclair
PaymentOnion.scala, PaymentOnionCodecs.onionTlvCodec; Electrum lnwire/onion_wire.csv).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sphinxamp.blinding._path import BlindedHop, BlindedPath
from sphinxamp.errors import DecodeError, InvalidArgument, InvalidTrampolinePayload
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire._records import (
    CUSTOM_RECORD_START,
    PROFILE_SCHEMAS,
    TRAMPOLINE_PROFILES,
    PaymentData,
    profile_record,
)
from sphinxamp.wire._tlv import ShortChannelId, TlvRecord


@dataclass(frozen=True, slots=True)
class TrampolineFormat:
    """What tells one trampoline format from the other on the wire.

    `payload_area` is the size of the trampoline onion's hop_payloads a sender builds by
    default: None for exactly what the payloads take (the proposal's vectors; LDK
    onion_utils.rs, construct_trampoline_onion_packet without a length), 400 bytes for the
    legacy format (Eclair SphinxSpec.scala, "create trampoline payment packet"; Eclair and
    Electrum now size it as None does, and a reader takes any size). `double_wrapped_failures`:
    a trampoline node's failure is obfuscated with its trampoline shared secret and then its
    outer one (the proposal, › Returning Errors; LDK HTLCFailReason
    get_encrypted_failure_packet), or with the outer one only (Eclair PaymentPacket.scala,
    buildHtlcFailure). `blinded_hops`: whether trampoline hops may sit inside a blinded path
    (encrypted_recipient_data in a trampoline payload); both formats carry the recipient's
    blinded paths to the last trampoline node (`blinded_paths_type`)."""

    profile: str
    onion_type: int
    outgoing_node_id_type: int
    features_type: int
    blinded_paths_type: int
    feature_bits: tuple[int, ...]
    payload_area: int | None
    double_wrapped_failures: bool
    blinded_hops: bool


TRAMPOLINE_FORMATS = {
    # 09-features.md as the proposal amends it: trampoline_routing is 56/57.
    "trampoline": TrampolineFormat("trampoline", 20, 14, 21, 22, (56, 57), None, True, True),
    # Eclair Features.scala TrampolinePaymentPrototype (148/149); Electrum lnutil.py adds
    # OPTION_TRAMPOLINE_ROUTING_*_ELECTRUM (150/151).
    "trampoline-legacy": TrampolineFormat(
        "trampoline-legacy", 66100, 66098, 66097, 66102, (148, 149, 150, 151), 400, False,
        False),
}


def trampoline_format(profile: str) -> TrampolineFormat:
    fmt = TRAMPOLINE_FORMATS.get(profile)
    if fmt is None:
        raise InvalidArgument(f"unknown trampoline profile {profile!r}; one of "
                              f"{', '.join(TRAMPOLINE_PROFILES)}", field="profile",
                              reason="unknown_profile")
    return fmt


# --- payment_blinded_path: blinded_path ‖ blinded_payinfo (BOLT 12 › Invoices) ---------------


@dataclass(frozen=True, slots=True)
class PaymentBlindedPath:
    """One entry of recipient_blinded_paths / outgoing_blinded_paths: the recipient's blinded
    path and what it costs (`blinded_payinfo`). `path.first_node_id` keeps its wire form (a
    33-byte point, or the 9 bytes of a `sciddir`)."""

    path: BlindedPath
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int
    htlc_minimum_msat: int
    htlc_maximum_msat: int
    features: bytes = b""

    def encode(self) -> bytes:
        p = self.path
        parts = [p.first_node_id, p.first_path_key, bytes((len(p.hops),))]
        for hop in p.hops:
            data = hop.encrypted_recipient_data
            parts += (hop.blinded_node_id, len(data).to_bytes(2, "big"), data)
        parts += (self.fee_base_msat.to_bytes(4, "big"),
                  self.fee_proportional_millionths.to_bytes(4, "big"),
                  self.cltv_expiry_delta.to_bytes(2, "big"),
                  self.htlc_minimum_msat.to_bytes(8, "big"),
                  self.htlc_maximum_msat.to_bytes(8, "big"),
                  len(self.features).to_bytes(2, "big"), self.features)
        return b"".join(parts)


def encode_blinded_paths(paths: tuple[PaymentBlindedPath, ...]) -> bytes:
    return b"".join(p.encode() for p in paths)


class _Reader:
    """Bounds-checked reads: no length from the wire is used before its bytes are there."""

    def __init__(self, data: bytes, base: int, field_name: str) -> None:
        self.data, self.pos, self.base, self.field = data, 0, base, field_name

    def take(self, size: int, what: str) -> bytes:
        if self.pos + size > len(self.data):
            raise DecodeError(f"{self.field}: {what} runs past the record",
                              field=self.field, offset=self.base + self.pos, reason="truncated")
        out = self.data[self.pos : self.pos + size]
        self.pos += size
        return out

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "big")

    def point(self, what: str) -> bytes:
        at = self.base + self.pos
        value = self.take(33, what)
        if crypto.parse_point(value) is None:
            raise DecodeError(f"{self.field}: {what} is not a valid point", field=self.field,
                              offset=at, reason="invalid_point")
        return value


def _one_path(r: _Reader) -> PaymentBlindedPath:
    kind = r.data[r.pos] if r.pos < len(r.data) else None
    first = r.take(9, "first_node_id") if kind in (0, 1) else r.point("first_node_id")
    path_key = r.point("first_path_key")
    hops = []
    for _ in range(r.uint(1, "num_hops")):
        blinded = r.point("blinded_node_id")
        hops.append(BlindedHop(blinded, r.take(r.uint(2, "enclen"), "encrypted_recipient_data")))
    fee_base, prop = r.uint(4, "fee_base_msat"), r.uint(4, "fee_proportional_millionths")
    delta = r.uint(2, "cltv_expiry_delta")
    low, high = r.uint(8, "htlc_minimum_msat"), r.uint(8, "htlc_maximum_msat")
    features = r.take(r.uint(2, "flen"), "features")
    return PaymentBlindedPath(BlindedPath(first, path_key, tuple(hops)), fee_base, prop, delta,
                              low, high, features)


def decode_blinded_paths(data: bytes, *, base: int = 0,
                         field_name: str = "recipient_blinded_paths"
                         ) -> tuple[PaymentBlindedPath, ...]:
    """`...*payment_blinded_path`: one or more paths, back to back, nothing after them
    (`DecodeError` otherwise; `offset` counts from `base`)."""
    reader, paths = _Reader(bytes(data), base, field_name), []
    while reader.pos < len(reader.data):
        paths.append(_one_path(reader))
    if not paths:
        raise DecodeError(f"{field_name} holds no path", field=field_name, offset=base,
                          reason="empty")
    return tuple(paths)


# --- the payload ---------------------------------------------------------------------------

# Attribute of TrampolinePayload → the name of the record in each profile's schema.
_WIRE_NAMES = {
    "trampoline": {"recipient_features": "recipient_features",
                   "blinded_paths": "recipient_blinded_paths"},
    "trampoline-legacy": {"recipient_features": "invoice_features",
                          "blinded_paths": "outgoing_blinded_paths"},
}
_ATTRS = ("amt_to_forward", "outgoing_cltv_value", "short_channel_id", "payment_data",
          "encrypted_recipient_data", "current_path_key", "outgoing_node_id",
          "payment_metadata", "total_amount_msat", "trampoline_onion_packet",
          "recipient_features", "blinded_paths", "invoice_routing_info", "keysend_preimage")


@dataclass(frozen=True, slots=True)
class TrampolinePayload:
    """A payload read under a trampoline profile: one inside a trampoline onion, or the outer
    payload that carries one (`trampoline_onion_packet`, the packet's bytes).

    `recipient_features` and `blinded_paths` are the proposal's recipient_features (21) and
    recipient_blinded_paths (22), or the legacy invoice_features (66097) and
    outgoing_blinded_paths (66102); `invoice_routing_info` (66099) is legacy only. Records
    the profile does not know are kept in wire order and re-encode byte for byte."""

    profile: str = "trampoline"
    amt_to_forward: int | None = None
    outgoing_cltv_value: int | None = None
    short_channel_id: ShortChannelId | None = None
    payment_data: PaymentData | None = None
    encrypted_recipient_data: bytes | None = None
    current_path_key: bytes | None = None
    outgoing_node_id: bytes | None = None
    payment_metadata: bytes | None = None
    total_amount_msat: int | None = None
    trampoline_onion_packet: bytes | None = None
    recipient_features: bytes | None = None
    blinded_paths: tuple[PaymentBlindedPath, ...] | None = None
    invoice_routing_info: bytes | None = None
    keysend_preimage: bytes | None = None
    custom_records: tuple[TlvRecord, ...] = field(default=())
    unknown_records: tuple[TlvRecord, ...] = field(default=())

    def record_values(self) -> dict[int, Any]:
        """The records present, by TLV type in this payload's profile."""
        schema, names = PROFILE_SCHEMAS[self.profile], _WIRE_NAMES[self.profile]
        out: dict[int, Any] = {}
        for attr in _ATTRS:
            value = getattr(self, attr)
            if value is None:
                continue
            spec = schema.by_name.get(names.get(attr, attr))
            if spec is None:
                raise InvalidArgument(f"{attr} is no record of profile {self.profile!r}",
                                      field=attr, reason="not_in_profile")
            out[spec.type] = encode_blinded_paths(value) if attr == "blinded_paths" else value
        return out

    def encode(self) -> bytes:
        """The TLV stream (without the BigSize length that frames it in an onion)."""
        trampoline_format(self.profile)
        return PROFILE_SCHEMAS[self.profile].encode(
            self.record_values(), self.custom_records + self.unknown_records)

    def named_records(self) -> Iterator[tuple[int, str, str]]:
        """(type, name, the profile that names it) of every record present, in type order;
        a type the profile does not know is named "unknown" by no profile ("")."""
        types = sorted([*self.record_values(),
                        *(r.type for r in self.custom_records + self.unknown_records)])
        for rtype in types:
            named = profile_record(rtype, self.profile)
            yield (rtype, *named) if named else (rtype, "unknown", "")


def decode_trampoline_payload(data: bytes | memoryview, profile: str = "trampoline", *,
                              base: int = 0) -> tuple[TrampolinePayload, dict[int, int]]:
    """A payload read under `profile` ("trampoline" or "trampoline-legacy"): the typed
    payload and where each record starts (offsets from `base`). Structure only: the rules of
    the hop it was read at are `process_hop`'s. Every refusal is `InvalidTrampolinePayload`
    (invalid_onion_payload) with the record's type and offset."""
    trampoline_format(profile)
    raw, schema = bytes(data), PROFILE_SCHEMAS[profile]
    try:
        decoded = schema.decode(raw, base)
    except DecodeError as exc:
        raise _payload_error(exc) from None
    names = {v: k for k, v in _WIRE_NAMES[profile].items()}
    fields: dict[str, Any] = {}
    for rtype, value in decoded.values.items():
        name = schema.specs[rtype].name
        attr = names.get(name, name)
        if attr == "blinded_paths":
            try:
                value = decode_blinded_paths(value, base=decoded.offsets[rtype],
                                             field_name=name)
            except DecodeError as exc:
                raise _payload_error(exc, rtype) from None
        fields[attr] = value
    custom = tuple(r for r in decoded.unknown if r.type >= CUSTOM_RECORD_START)
    unknown = tuple(r for r in decoded.unknown if r.type < CUSTOM_RECORD_START)
    payload = TrampolinePayload(profile, **fields, custom_records=custom,
                                unknown_records=unknown)
    return payload, dict(decoded.offsets)


def _payload_error(exc: DecodeError, rtype: int | None = None) -> InvalidTrampolinePayload:
    return InvalidTrampolinePayload(exc.message, field=exc.field, offset=exc.offset,
                                    tlv_type=exc.tlv_type if rtype is None else rtype,
                                    reason=exc.reason)


__all__ = [
    "TRAMPOLINE_FORMATS",
    "PaymentBlindedPath",
    "TrampolineFormat",
    "TrampolinePayload",
    "decode_blinded_paths",
    "decode_trampoline_payload",
    "encode_blinded_paths",
    "trampoline_format",
]
