"""Route blinding (BOLT 4 › Route Blinding; › Inside `encrypted_recipient_data`; › `payload`
format › Requirements): the `encrypted_data_tlv` a recipient writes for every hop of a blinded
path, the path itself, and what a hop inside it decrypts, checks and derives.

The TLV has one registry (`ENCRYPTED_DATA_SCHEMA`); every reader rule is its own
`EncryptedDataError` subclass (`sphinxamp.errors`) with the failure code
`invalid_onion_blinding`, which is what a node answers for any of them (process_hop converts
them inside a blinded route and keeps them as `cause`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sphinxamp.errors import (
    EncodeError,
    InvalidArgument,
    MalformedEncryptedData,
    TlvError,
    UnknownEvenEncryptedType,
)
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire._bigsize import bigsize_len
from sphinxamp.wire._tlv import (
    BYTES,
    POINT,
    SCID,
    TU32,
    TU64,
    U16,
    U32,
    RecordSpec,
    ShortChannelId,
    Struct,
    TlvRecord,
    TlvSchema,
)

TAG_SIZE = 16  # Poly1305 tag appended to every encrypted_recipient_data


# --- encrypted_data_tlv ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentRelay:
    """Type 10: what a blinded hop charges (fee_base_msat is a tu32, last)."""

    cltv_expiry_delta: int
    fee_proportional_millionths: int
    fee_base_msat: int = 0


@dataclass(frozen=True, slots=True)
class PaymentConstraints:
    """Type 12: the largest expiry and the smallest amount the path accepts."""

    max_cltv_expiry: int
    htlc_minimum_msat: int = 0


# BOLT 4 › Route Blinding › `encrypted_data_tlv`.
ENCRYPTED_DATA_RECORDS = (
    RecordSpec(1, "padding", BYTES, "fills every hop's data to one length, hiding the role"),
    RecordSpec(2, "short_channel_id", SCID, "the channel to forward on, to the next node"),
    RecordSpec(4, "next_node_id", POINT, "the next node of the blinded route"),
    RecordSpec(6, "path_id", BYTES, "the recipient's own value: proves it made this path"),
    RecordSpec(8, "next_path_key_override", POINT,
               "the path key to hand the next node instead of the derived one"),
    RecordSpec(10, "payment_relay", Struct(
        [("cltv_expiry_delta", U16), ("fee_proportional_millionths", U32),
         ("fee_base_msat", TU32)], PaymentRelay),
        "this hop's fee and delta: the amount and expiry it forwards derive from them"),
    RecordSpec(12, "payment_constraints", Struct(
        [("max_cltv_expiry", U32), ("htlc_minimum_msat", TU64)], PaymentConstraints),
        "the latest expiry and the smallest amount the path accepts"),
    RecordSpec(14, "allowed_features", BYTES, "the features a sender may use on this path"),
)
ENCRYPTED_DATA_SCHEMA = TlvSchema("encrypted_data_tlv", ENCRYPTED_DATA_RECORDS)
_TYPE_OF = {spec.name: spec.type for spec in ENCRYPTED_DATA_RECORDS}
_NAME_OF = {spec.type: spec.name for spec in ENCRYPTED_DATA_RECORDS}


def feature_bits(field: bytes) -> list[int]:
    """The set bits of a BOLT 9 feature field (bit 0 is the last byte's lowest bit)."""
    value = int.from_bytes(field, "big")
    return [i for i in range(value.bit_length()) if value >> i & 1]


def feature_field(bits: Iterable[int]) -> bytes:
    value = sum(1 << b for b in set(bits))
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


@dataclass(frozen=True, slots=True)
class EncryptedData:
    """A decoded `encrypted_data_tlv`. Unknown odd records are kept, so decode → encode gives
    the same bytes back."""

    padding: bytes | None = None
    short_channel_id: ShortChannelId | None = None
    next_node_id: bytes | None = None
    path_id: bytes | None = None
    next_path_key_override: bytes | None = None
    payment_relay: PaymentRelay | None = None
    payment_constraints: PaymentConstraints | None = None
    allowed_features: bytes | None = None
    unknown_records: tuple[TlvRecord, ...] = ()

    def record_values(self) -> dict[int, Any]:
        return {_TYPE_OF[name]: getattr(self, name) for name in _TYPE_OF
                if getattr(self, name) is not None}

    def encode(self) -> bytes:
        for rec in self.unknown_records:
            if rec.type in _NAME_OF:
                raise EncodeError(f"unknown record {rec.type} is a known type",
                                  field="unknown_records", tlv_type=rec.type, reason="range")
        return ENCRYPTED_DATA_SCHEMA.encode(self.record_values(), self.unknown_records)

    @classmethod
    def decode(cls, data: bytes) -> EncryptedData:
        """The typed value of a decrypted stream; `MalformedEncryptedData` (or its
        `UnknownEvenEncryptedType`) for anything BOLT 1 or the record sizes refuse."""
        try:
            decoded = ENCRYPTED_DATA_SCHEMA.decode(data)
        except TlvError as exc:
            kind = (UnknownEvenEncryptedType if exc.reason == "unknown_even_type"
                    else MalformedEncryptedData)
            raise kind(f"encrypted_data_tlv: {exc.message}", field=exc.field,
                       offset=exc.offset, tlv_type=exc.tlv_type, reason=exc.reason) from None
        values = {_NAME_OF[t]: v for t, v in decoded.values.items()}
        return cls(**values, unknown_records=decoded.unknown)

    @property
    def allowed_feature_bits(self) -> list[int]:
        return feature_bits(self.allowed_features or b"")

    def to_json(self) -> dict[str, Any]:
        """The fields present, named and written as the BOLT 4 vector files write them
        (short_channel_id as BxTxO, allowed_features as a list of bits, unknown records
        as unknown_tag_N)."""
        out: dict[str, Any] = {}
        for name in _TYPE_OF:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, PaymentRelay | PaymentConstraints):
                out[name] = {f.name: getattr(value, f.name) for f in fields(value)}
            elif name == "allowed_features":
                out[name] = {"features": feature_bits(value)}
            else:
                out[name] = str(value) if isinstance(value, ShortChannelId) else value.hex()
        for rec in self.unknown_records:
            out[f"unknown_tag_{rec.type}"] = rec.value.hex()
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> EncryptedData:
        """The inverse of `to_json` (a missing tu field of a struct is zero, as the vector
        files leave out a zero fee_base_msat)."""
        values: dict[str, Any] = {}
        unknown = []
        for key, value in obj.items():
            if key.startswith("unknown_tag_"):
                unknown.append(TlvRecord(int(key[12:]), bytes.fromhex(value)))
            elif key == "payment_relay":
                values[key] = PaymentRelay(**value)
            elif key == "payment_constraints":
                values[key] = PaymentConstraints(**value)
            elif key == "allowed_features":
                values[key] = feature_field(value["features"])
            elif key == "short_channel_id":
                block, tx, out = (int(p) for p in str(value).split("x"))
                values[key] = ShortChannelId(block, tx, out)
            elif key in _TYPE_OF:
                values[key] = bytes.fromhex(value)
            else:
                raise InvalidArgument(f"no encrypted_data_tlv field {key!r}", field=key,
                                      reason="unknown_field")
        return cls(**values, unknown_records=tuple(sorted(unknown, key=lambda r: r.type)))


# --- creating a blinded path (the recipient) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlindedHop:
    blinded_node_id: bytes
    encrypted_recipient_data: bytes


@dataclass(frozen=True, slots=True)
class BlindedPath:
    """What the recipient hands the sender: N_0, E_0 and every hop's blinded id and data."""

    first_node_id: bytes
    first_path_key: bytes
    hops: tuple[BlindedHop, ...]

    def encode(self) -> bytes:
        """The `blinded_path` wire form (first_node_id as a 33-byte point): as `reply_path`
        carries it."""
        if not 0 < len(self.hops) < 256:
            raise EncodeError("a blinded path has 1 to 255 hops", field="hops", reason="range")
        parts = [self.first_node_id, self.first_path_key, bytes((len(self.hops),))]
        for hop in self.hops:
            data = hop.encrypted_recipient_data
            parts += (hop.blinded_node_id, len(data).to_bytes(2, "big"), data)
        return b"".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"first_node_id": self.first_node_id.hex(),
                "first_path_key": self.first_path_key.hex(),
                "hops": [{"blinded_node_id": h.blinded_node_id.hex(),
                          "encrypted_recipient_data": h.encrypted_recipient_data.hex()}
                         for h in self.hops]}


@dataclass(frozen=True, slots=True)
class BlindingStep:
    """The recipient's values for hop i: e_i, E_i, ss_i, rho_i and B_i."""

    path_privkey: bytes
    path_key: bytes
    shared_secret: bytes
    rho: bytes
    blinded_node_id: bytes


def blinding_steps(session_key: bytes, node_ids: Sequence[bytes]) -> list[BlindingStep]:
    """BOLT 4 › Route Blinding › Requirements, the creator's loop:
    ss_i = SHA256(e_i·N_i), B_i = HMAC256("blinded_node_id", ss_i)·N_i,
    e_{i+1} = SHA256(E_i ‖ ss_i)·e_i."""
    secret = crypto.check_secret(bytes(session_key), "session_key")
    steps = []
    for i, node_id in enumerate(node_ids):
        point = crypto.parse_point(node_id)
        if point is None:
            raise InvalidArgument(f"hops[{i}].node_id is not a valid point",
                                  field=f"hops[{i}].node_id", reason="invalid_point")
        path_key = crypto.public_key(secret)
        ss = crypto.ecdh(secret, point)
        blinded = crypto.point_mul(point, crypto.derive_key(crypto.KEY_BLINDED_NODE_ID, ss))
        steps.append(BlindingStep(secret, path_key, ss, crypto.derive_key(crypto.KEY_RHO, ss),
                                  crypto.serialize_point(blinded)))
        secret = crypto.scalar_mul(secret, crypto.sha256(path_key + ss))
    return steps


def _without_padding(data: EncryptedData) -> EncryptedData:
    return EncryptedData(**{**{f.name: getattr(data, f.name) for f in fields(data)},
                            "padding": None})


def _padded(data: EncryptedData, target: int) -> EncryptedData | None:
    """`data` with a padding record making it `target` bytes long, or None if no padding
    length lands exactly there (the record costs its type and BigSize length too)."""
    bare = _without_padding(data)
    room = target - len(bare.encode())
    if room == 0:
        return bare
    for n in (room - 2, room - 4):  # BigSize length of 1 or 3 bytes
        if n >= 0 and 1 + bigsize_len(n) + n == room:
            return EncryptedData(**{**{f.name: getattr(bare, f.name) for f in fields(bare)},
                                    "padding": bytes(n)})
    return None


def pad_equal(datas: Sequence[EncryptedData]) -> list[EncryptedData]:
    """Every hop's data padded (type 1, zero bytes) to one length: the smallest length, at
    least the longest unpadded stream, that every hop can reach exactly (BOLT 4 › Route
    Blinding: SHOULD pad all encrypted_data_tlv to the same length). Given padding is
    replaced."""
    longest = max(len(_without_padding(d).encode()) for d in datas)
    target = longest
    while True:  # a hop one byte short cannot be padded: at most two more lengths to try
        padded = [_padded(d, target) for d in datas]
        if all(p is not None for p in padded):
            return [p for p in padded if p is not None]
        target += 1


def encrypt_data(rho: bytes, plaintext: bytes) -> bytes:
    """ChaCha20-Poly1305, key rho, 12 zero bytes of nonce, no associated data."""
    return crypto.aead_encrypt(rho, plaintext)


def create_blinded_path(session_key: bytes, hops: Sequence[tuple[bytes, EncryptedData | bytes]],
                        *, pad: bool = False) -> BlindedPath:
    """A blinded path over `hops` = [(node_id, encrypted_data_tlv)], first to last.

    The data is a typed `EncryptedData` or raw TLV bytes (written as given). `pad` pads
    every typed hop to one length (`pad_equal`); raw bytes cannot be padded.
    """
    if not hops:
        raise InvalidArgument("a blinded path needs at least one hop", field="hops",
                              reason="empty_path")
    datas = [d for _, d in hops]
    if pad:
        if not all(isinstance(d, EncryptedData) for d in datas):
            raise InvalidArgument("padding needs typed EncryptedData on every hop",
                                  field="hops", reason="raw_data_padding")
        datas = list(pad_equal([d for d in datas if isinstance(d, EncryptedData)]))
    steps = blinding_steps(session_key, [n for n, _ in hops])
    out = []
    for step, data in zip(steps, datas, strict=True):
        plain = data.encode() if isinstance(data, EncryptedData) else bytes(data)
        out.append(BlindedHop(step.blinded_node_id, encrypt_data(step.rho, plain)))
    return BlindedPath(bytes(hops[0][0]), steps[0].path_key, tuple(out))
