"""The hop payload registry (BOLT 4 › Packet Structure › `payload` format): every record a hop
payload may carry, its codec, and where it may appear.

One table drives decode, encode, the role rules and every display name: a record defined
outside the BOLTs (MPP's companion AMP, keysend, the well-known custom records) joins by adding
an entry here, never by a parse loop of its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sphinxamp.wire._tlv import (
    BYTES,
    POINT,
    SCID,
    TU32,
    TU64,
    FixedBytes,
    RawBytes,
    RecordSpec,
    Struct,
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


KEYSEND_TYPE = 5482373484  # bLIP 3: a 32-byte preimage, an even custom type

PAYMENT_DATA = Struct([("payment_secret", FixedBytes(32)), ("total_msat", TU64)], PaymentData)
AMP = Struct(
    [("root_share", FixedBytes(32)), ("set_id", FixedBytes(32)), ("child_index", TU32)], AmpRecord
)

PROFILES = ("bolt", "lnd")

_I, _F, _BI, _BF = Role.INTERMEDIATE, Role.FINAL, Role.BLINDED_INTERMEDIATE, Role.BLINDED_FINAL


class _SpecNamed:
    """A record whose type and name are its `RecordSpec`'s."""

    __slots__ = ()
    spec: RecordSpec

    @property
    def type(self) -> int:
        return self.spec.type

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True, slots=True)
class HopRecord(_SpecNamed):
    """One entry of the hop payload registry: the TLV record and where it may appear.

    `required` and `forbidden` are the roles whose reader MUST refuse a payload without / with
    the record (BOLT 4 › `payload` format › Requirements); `blinded` the blinded roles that may
    carry it at all (inside a blinded route nothing else is allowed). `lnd_refused` are the
    roles whose payload lnd's reader refuses with the record although BOLT 4's reader has no
    such rule (the writer's MUST NOTs lnd enforces: profile "lnd" only). A `raw` record is a
    well-known custom record: known (so an even one is no unknown even type), kept as bytes
    in `custom_records`, with `description` saying what it holds.
    """

    spec: RecordSpec
    required: frozenset[Role] = frozenset()
    forbidden: frozenset[Role] = frozenset()
    blinded: frozenset[Role] = frozenset()
    raw: bool = False
    description: str = ""
    lnd_refused: frozenset[Role] = frozenset()


def _rec(rtype: int, name: str, codec: Any, description: str, *, required: Any = (),
         forbidden: Any = (), blinded: Any = (), raw: bool = False,
         lnd_refused: Any = ()) -> HopRecord:
    return HopRecord(RecordSpec(rtype, name, codec), frozenset(required), frozenset(forbidden),
                     frozenset(blinded), raw, description, frozenset(lnd_refused))


# Outside a blinded route a path key or blinded data is an error. "MUST NOT include
# payment_data" at a non-final hop and "MUST NOT include short_channel_id" at the final hop
# are the writer's rules: BOLT 4's reader has none for them, so profile "bolt" accepts both,
# and lnd's reader refuses them, with the AMP record at a forwarding hop
# (htlcswitch/hop/payload.go, ValidateParsedPayloadTypes). Records no reader refuses
# (metadata, total_amount_msat, custom records on a forwarding hop) are let through.
HOP_RECORDS = (
    _rec(2, "amt_to_forward", TU64, "amount to forward, msat",
         required=(_I, _F, _BF), blinded=(_BF,)),
    _rec(4, "outgoing_cltv_value", TU32, "cltv_expiry of the outgoing HTLC",
         required=(_I, _F, _BF), blinded=(_BF,)),
    # lnd: "The exit hop and all blinded hops should omit the next hop id".
    _rec(6, "short_channel_id", SCID, "outgoing channel", required=(_I,),
         lnd_refused=(_F, _BI, _BF)),
    # lnd: "Intermediate nodes should never receive MPP fields" (nor AMP fields, below).
    _rec(8, "payment_data", PAYMENT_DATA, "payment_secret and total_msat (MPP)",
         lnd_refused=(_I, _BI)),
    # At least the 16-byte Poly1305 tag its ChaCha20-Poly1305 encryption appends (BOLT 4 ›
    # Route Blinding): anything shorter cannot be data for this hop.
    _rec(10, "encrypted_recipient_data", RawBytes(min_len=16), "route blinding data for this hop",
         required=(_BI, _BF), forbidden=(_I, _F), blinded=(_BI, _BF)),
    _rec(12, "current_path_key", POINT, "path key, given to the introduction node",
         forbidden=(_I, _F), blinded=(_BI, _BF)),
    _rec(14, "amp", AMP, "AMP: share, set_id, child_index (lnd)", lnd_refused=(_I, _BI)),
    _rec(16, "payment_metadata", BYTES, "payment metadata from the invoice"),
    _rec(18, "total_amount_msat", TU64, "total amount of a blinded payment",
         required=(_BF,), blinded=(_BF,)),
    # lnd reads the keysend record as an opaque custom record (forwarding hops ignore it);
    # the final hop judges whether it is the payment's 32-byte preimage.
    _rec(KEYSEND_TYPE, "keysend_preimage", BYTES, "keysend preimage, 32 bytes (bLIP 3)"),
    _rec(7629168, "keysend_message", BYTES, "tip note / keysend message, UTF-8 text", raw=True),
    _rec(7629169, "podcast_boostagram", BYTES,
         "Podcasting 2.0 boost/stream metadata, UTF-8 JSON (bLIP 10)", raw=True),
    _rec(34349334, "chat_message", BYTES, "chat message (Whatsat), UTF-8", raw=True),
    _rec(34349337, "chat_signature", BYTES,
         "chat signature, DER ECDSA over sender ‖ recipient ‖ timestamp ‖ message", raw=True),
    _rec(34349339, "chat_sender", BYTES, "chat sender public key (33 bytes)", raw=True),
    _rec(34349343, "chat_timestamp", BYTES,
         "chat timestamp, nanoseconds since the epoch, big-endian u64", raw=True),
)
HOP_RECORDS_BY_TYPE = {r.type: r for r in HOP_RECORDS}
HOP_PAYLOAD_RECORDS = tuple(r.spec for r in HOP_RECORDS if not r.raw)
_KNOWN_RAW = frozenset(r.type for r in HOP_RECORDS if r.raw)

# BOLT 1: an unknown even type is an error; the well-known custom records are known here.
HOP_PAYLOAD_SCHEMA = TlvSchema("payload", HOP_PAYLOAD_RECORDS, even_ok=_KNOWN_RAW.__contains__)
# lnd decodes every even type and judges them afterwards (htlcswitch/hop/payload.go,
# getMinRequiredViolation), keeping the custom range for the application.
_LND_SCHEMA = TlvSchema("payload", HOP_PAYLOAD_RECORDS, even_ok=lambda t: True)


def record_name(rtype: int) -> str | None:
    """The registry's name for a hop payload record type (well-known custom ones included)."""
    rec = HOP_RECORDS_BY_TYPE.get(rtype)
    return rec.name if rec else None


def _rules(role: Role) -> tuple[frozenset[int], frozenset[int], frozenset[int] | None, bool]:
    """Per role, from the registry: required types, forbidden types, the only types allowed
    (None = any not forbidden), and whether the role is blinded."""
    required = frozenset(r.type for r in HOP_RECORDS if role in r.required)
    forbidden = frozenset(r.type for r in HOP_RECORDS if role in r.forbidden)
    only = frozenset(r.type for r in HOP_RECORDS if role in r.blinded) if role.blinded else None
    return required, forbidden, only, role.blinded


_RULES = {role: _rules(role) for role in Role}
# lnd's refusals of records BOLT 4's reader lets through, per role (profile "lnd").
LND_REFUSED = {role: frozenset(r.type for r in HOP_RECORDS if role in r.lnd_refused)
               for role in Role}




# --- trampoline payloads: two wire formats, one profile each ---------------------------------
#
# A trampoline onion is a Sphinx packet carried in the payload of the payment onion's last
# hop; its own hop payloads are TLV streams of the same `payload` namespace. Two formats are in
# use, and they give the same types different meanings, so a payload is always decoded under
# the profile of its format and each record says which profile named it:
#
# - "trampoline": the proposal (lightning/bolts#836, 04-onion-routing.md › Packet Structure,
#   `tlv_stream` `payload`), as LDK implements it (lightning/src/ln/msgs.rs,
#   OutboundTrampolinePayload and InboundTrampolinePayload): the trampoline onion is TLV 20,
#   outgoing_node_id is TLV 14 (which lnd reads as its AMP record in a plain payload: never
#   here), recipient_features 21 and recipient_blinded_paths 22.
# - "trampoline-legacy": Eclair and Electrum before the proposal's values (Eclair
#   PaymentOnion.scala, PaymentOnionCodecs.onionTlvCodec: "Types below aren't specified"):
#   invoice_features 66097, outgoing_node_id 66098, invoice_routing_info 66099, the
#   trampoline onion 66100 and outgoing_blinded_paths 66102.
#
# Both keep every BOLT 4 record except lnd's AMP record (type 14): neither format defines it,
# so under "trampoline-legacy" a type 14 is an unknown even type and refused.
TRAMPOLINE_PROFILES = ("trampoline", "trampoline-legacy")
# version ‖ public_key ‖ hop_payloads ‖ hmac: a packet with no payload area is 66 bytes.
TRAMPOLINE_PACKET_MIN = 1 + 33 + 32


@dataclass(frozen=True, slots=True)
class TrampolineRecord(_SpecNamed):
    """A record one trampoline format adds to the `payload` namespace. `profile` is the
    profile that names it; `layer` says where the format puts it: "outer" (the payment
    onion's payload for the trampoline node) or "trampoline" (a payload inside the trampoline
    onion); `source` the definition it is taken from."""

    spec: RecordSpec
    profile: str
    layer: str
    description: str
    source: str


_PROPOSAL = "lightning/bolts#836 04-onion-routing.md › Packet Structure"
_ECLAIR = "ACINQ/eclair PaymentOnion.scala › PaymentOnionCodecs.onionTlvCodec"


def _tramp(rtype: int, name: str, codec: Any, profile: str, layer: str,
           description: str) -> TrampolineRecord:
    source = _PROPOSAL if profile == "trampoline" else _ECLAIR
    return TrampolineRecord(RecordSpec(rtype, name, codec), profile, layer, description, source)


_PACKET = RawBytes(min_len=TRAMPOLINE_PACKET_MIN)
TRAMPOLINE_RECORDS = (
    _tramp(14, "outgoing_node_id", POINT, "trampoline", "trampoline",
           "the next trampoline node"),
    _tramp(20, "trampoline_onion_packet", _PACKET, "trampoline", "outer",
           "the trampoline onion: version, public_key, hop_payloads, hmac"),
    _tramp(21, "recipient_features", BYTES, "trampoline", "trampoline",
           "the recipient's invoice features"),
    _tramp(22, "recipient_blinded_paths", RawBytes(min_len=1), "trampoline", "trampoline",
           "the recipient's blinded paths, each with its blinded_payinfo"),
    _tramp(66097, "invoice_features", BYTES, "trampoline-legacy", "trampoline",
           "the recipient's invoice features"),
    _tramp(66098, "outgoing_node_id", POINT, "trampoline-legacy", "trampoline",
           "the next trampoline node (or the recipient)"),
    _tramp(66099, "invoice_routing_info", BYTES, "trampoline-legacy", "trampoline",
           "the invoice's routing hints (BOLT 11 `r` fields)"),
    _tramp(66100, "trampoline_onion_packet", _PACKET, "trampoline-legacy", "outer",
           "the trampoline onion: version, public_key, hop_payloads, hmac"),
    _tramp(66102, "outgoing_blinded_paths", RawBytes(min_len=1), "trampoline-legacy",
           "trampoline", "the recipient's blinded paths, each with its blinded_payinfo"),
)
_BOLT_FOR_TRAMPOLINE = tuple(s for s in HOP_PAYLOAD_RECORDS if s.name != "amp")


def _profile_specs(profile: str) -> tuple[RecordSpec, ...]:
    added = [r.spec for r in TRAMPOLINE_RECORDS if r.profile == profile]
    return tuple(sorted((*_BOLT_FOR_TRAMPOLINE, *added), key=lambda s: s.type))


# The payload schema each profile reads. The two trampoline schemas get their fast decoders
# compiled when this module loads (tools/generate_tlv_decoders.py checks in those of the
# module-level schemas only).
PROFILE_SCHEMAS: dict[str, TlvSchema] = {
    "bolt": HOP_PAYLOAD_SCHEMA,
    "lnd": _LND_SCHEMA,
    "trampoline": TlvSchema("trampoline_payload", _profile_specs("trampoline"),
                            even_ok=_KNOWN_RAW.__contains__),
    "trampoline-legacy": TlvSchema("trampoline_legacy_payload",
                                   _profile_specs("trampoline-legacy"),
                                   even_ok=_KNOWN_RAW.__contains__),
}
_TRAMPOLINE_BY_KEY = {(r.profile, r.type): r for r in TRAMPOLINE_RECORDS}


def profile_record(rtype: int, profile: str = "bolt") -> tuple[str, str] | None:
    """(name, the profile that names it) for a hop payload record type read under `profile`
    ("bolt", "lnd", "trampoline" or "trampoline-legacy"), or None when that profile does not
    know the type. lnd's AMP record (14) is named by "lnd" under "bolt" and "lnd", and is no
    record at all under the trampoline profiles, where the proposal's 14 is outgoing_node_id."""
    if profile in TRAMPOLINE_PROFILES:
        added = _TRAMPOLINE_BY_KEY.get((profile, rtype))
        if added is not None:
            return added.name, profile
        if rtype == 14:
            return None
    elif profile not in PROFILES:
        return None
    rec = HOP_RECORDS_BY_TYPE.get(rtype)
    if rec is None:
        return None
    return rec.name, "lnd" if rec.name == "amp" else "bolt"
