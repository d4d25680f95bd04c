"""Whole messages around an onion: `update_add_htlc` (128), `update_fulfill_htlc` (130),
`update_fail_htlc` (131), `update_fail_malformed_htlc` (135) (BOLT 2 › Normal Operation ›
Adding an HTLC; › Removing an HTLC) and `onion_message` (513) (BOLT 4 › The `onion_message`
Message), decoded and encoded byte for byte.

A message is a u16 type, the fields of its type, then a TLV stream (BOLT 1 › Lightning Message
Format: a message may end with a TLV stream; › Type-Length-Value Format). Each stream is read
with a `TlvSchema`, so unknown odd records are kept as read and unknown even ones refused.
Every length read from the message is compared with the bytes present before anything is
sliced, and every refusal is a `WireError` naming the field and the byte offset.

The onion inside a message is kept as bytes: whether it can be peeled is the node's decision
(a bad one is answered with `update_fail_malformed_htlc`, BOLT 2 › Removing an HTLC), not a
reason to refuse the message that carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sphinxamp._codes import BADONION
from sphinxamp.errors import DecodeError, EncodeError, TlvError, WireError
from sphinxamp.failures._attribution import ATTRIBUTION_DATA_SIZE
from sphinxamp.onion._sphinx import PACKET_OVERHEAD, PAYMENT_PAYLOAD_AREA
from sphinxamp.wire._tlv import (
    POINT,
    U16,
    U32,
    U64,
    Codec,
    FixedBytes,
    RecordSpec,
    TlvRecord,
    TlvSchema,
    UInt,
)

# BOLT 1 › Lightning Message Format: the transport carries a message (type included) behind a
# u16 length, so no message is longer than 65535 bytes.
MAX_MESSAGE_SIZE = 65535
# BOLT 4 › Packet Structure: a payment onion is 1366 bytes.
ONION_ROUTING_PACKET_SIZE = PACKET_OVERHEAD + PAYMENT_PAYLOAD_AREA


class LengthPrefixed:
    """A `u16 len` followed by `len` bytes (`update_fail_htlc.reason`,
    `onion_message.onion_message_packet`); the length is the spec's field `len`."""

    min_len, max_len = 2, 2 + 0xFFFF


LEN_PREFIXED = LengthPrefixed()
CHANNEL_ID = FixedBytes(32, what="channel_id")
SHA256 = FixedBytes(32, what="sha256")
PAYMENT_PREIMAGE = FixedBytes(32, what="payment_preimage")
ONION_ROUTING_PACKET = FixedBytes(ONION_ROUTING_PACKET_SIZE, what="onion_routing_packet")
BYTE = UInt(1)

# BOLT 2 › Adding an HTLC: `update_add_htlc_tlvs`; bLIP 4 › Specification: type 106823.
UPDATE_ADD_HTLC_TLVS = TlvSchema("update_add_htlc_tlvs", (
    RecordSpec(0, "blinded_path", POINT,
               "path_key: the point that unblinds this hop's onion inside a blinded route"),
    RecordSpec(106823, "accountable", BYTE,
               "experimental accountability signal (bLIP 4): its 3 least significant bits "
               "carry the value, 7 accountable and 0 unaccountable"),
))
_ATTRIBUTION_DATA = RecordSpec(
    1, "attribution_data", FixedBytes(ATTRIBUTION_DATA_SIZE, what="attribution_data"),
    "hold times and truncated HMACs that attribute the result to a hop (BOLT 4 › Returning "
    "Errors)")
# BOLT 2 › Removing an HTLC: both answers that carry a result may carry attribution data.
UPDATE_FULFILL_HTLC_TLVS = TlvSchema("update_fulfill_htlc_tlvs", (_ATTRIBUTION_DATA,))
UPDATE_FAIL_HTLC_TLVS = TlvSchema("update_fail_htlc_tlvs", (_ATTRIBUTION_DATA,))
# No record is defined for these two; BOLT 1 › Lightning Message Format still lets any
# message end with a TLV stream, read by the same rules.
UPDATE_FAIL_MALFORMED_HTLC_TLVS = TlvSchema("update_fail_malformed_htlc_tlvs", ())
ONION_MESSAGE_TLVS = TlvSchema("onion_message_tlvs", ())


@dataclass(frozen=True, slots=True)
class UpdateAddHtlc:
    """`update_add_htlc` (BOLT 2 › Adding an HTLC). `path_key` is TLV 0 (`blinded_path`), set
    inside a blinded route; `accountable` is bLIP 4's TLV 106823, one byte as read."""

    type: ClassVar[int] = 128
    name: ClassVar[str] = "update_add_htlc"
    channel_id: bytes
    id: int
    amount_msat: int
    payment_hash: bytes
    cltv_expiry: int
    onion_routing_packet: bytes
    path_key: bytes | None = None
    accountable: int | None = None
    unknown_tlvs: tuple[TlvRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateFulfillHtlc:
    """`update_fulfill_htlc` (BOLT 2 › Removing an HTLC), with TLV 1 `attribution_data`."""

    type: ClassVar[int] = 130
    name: ClassVar[str] = "update_fulfill_htlc"
    channel_id: bytes
    id: int
    payment_preimage: bytes
    attribution_data: bytes | None = None
    unknown_tlvs: tuple[TlvRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateFailHtlc:
    """`update_fail_htlc` (BOLT 2 › Removing an HTLC): `reason` is the encrypted failure
    onion (its `len` is the length of `reason`), with TLV 1 `attribution_data`."""

    type: ClassVar[int] = 131
    name: ClassVar[str] = "update_fail_htlc"
    channel_id: bytes
    id: int
    reason: bytes
    attribution_data: bytes | None = None
    unknown_tlvs: tuple[TlvRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateFailMalformedHtlc:
    """`update_fail_malformed_htlc` (BOLT 2 › Removing an HTLC): the onion could not be
    processed; `failure_code` always has the BADONION bit."""

    type: ClassVar[int] = 135
    name: ClassVar[str] = "update_fail_malformed_htlc"
    channel_id: bytes
    id: int
    sha256_of_onion: bytes
    failure_code: int
    unknown_tlvs: tuple[TlvRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class WireOnionMessage:
    """`onion_message` (BOLT 4 › The `onion_message` Message) as it travels, the packet kept
    as bytes (`OnionMessage` is the same message with its packet parsed, for processing)."""

    type: ClassVar[int] = 513
    name: ClassVar[str] = "onion_message"
    path_key: bytes
    onion_message_packet: bytes
    unknown_tlvs: tuple[TlvRecord, ...] = ()


WireMessage = (UpdateAddHtlc | UpdateFulfillHtlc | UpdateFailHtlc | UpdateFailMalformedHtlc
               | WireOnionMessage)


@dataclass(frozen=True)
class Layout:
    """One message type: its fixed fields in wire order, its TLV stream, and which attribute
    holds which known record."""

    cls: type[Any]
    fields: tuple[tuple[str, Codec[Any] | LengthPrefixed], ...]
    tlvs: TlvSchema
    records: tuple[tuple[int, str], ...]  # (TLV type, attribute)


LAYOUTS: dict[int, Layout] = {layout.cls.type: layout for layout in (
    Layout(UpdateAddHtlc, (
        ("channel_id", CHANNEL_ID), ("id", U64), ("amount_msat", U64),
        ("payment_hash", SHA256), ("cltv_expiry", U32),
        ("onion_routing_packet", ONION_ROUTING_PACKET)),
        UPDATE_ADD_HTLC_TLVS, ((0, "path_key"), (106823, "accountable"))),
    Layout(UpdateFulfillHtlc, (
        ("channel_id", CHANNEL_ID), ("id", U64), ("payment_preimage", PAYMENT_PREIMAGE)),
        UPDATE_FULFILL_HTLC_TLVS, ((1, "attribution_data"),)),
    Layout(UpdateFailHtlc, (
        ("channel_id", CHANNEL_ID), ("id", U64), ("reason", LEN_PREFIXED)),
        UPDATE_FAIL_HTLC_TLVS, ((1, "attribution_data"),)),
    Layout(UpdateFailMalformedHtlc, (
        ("channel_id", CHANNEL_ID), ("id", U64), ("sha256_of_onion", SHA256),
        ("failure_code", U16)),
        UPDATE_FAIL_MALFORMED_HTLC_TLVS, ()),
    Layout(WireOnionMessage, (
        ("path_key", POINT), ("onion_message_packet", LEN_PREFIXED)),
        ONION_MESSAGE_TLVS, ()),
)}
_BY_CLASS = {layout.cls: layout for layout in LAYOUTS.values()}
MESSAGE_NAMES = {t: layout.cls.name for t, layout in LAYOUTS.items()}


def layout_of(msg_class: type[Any]) -> Layout:
    layout = _BY_CLASS.get(msg_class)
    if layout is None:
        raise EncodeError(f"{msg_class.__name__} is not a message this codec writes",
                          field="type", reason="unknown_message_type")
    return layout


# --- reading -------------------------------------------------------------------------------


def _read_field(data: bytes, pos: int, name: str, codec: Codec[Any] | LengthPrefixed
                ) -> tuple[Any, int]:
    """One fixed field at `pos`: (value, position after it)."""
    left = len(data) - pos
    if isinstance(codec, LengthPrefixed):
        if left < 2:
            raise WireError(f"{name}: its u16 len needs 2 bytes, {left} left at offset {pos}",
                            field="len", offset=pos, reason="truncated")
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length > left - 2:
            raise WireError(f"{name}: len {length} runs past the end ({left - 2} bytes left)",
                            field=name, offset=pos + 2, reason="truncated")
        return data[pos + 2:pos + 2 + length], pos + 2 + length
    size = codec.min_len
    if size > left:
        raise WireError(f"{name}: needs {size} bytes, {left} left at offset {pos}",
                        field=name, offset=pos, reason="truncated")
    try:
        return codec.decode(data[pos:pos + size], pos), pos + size
    except DecodeError as exc:
        raise WireError(f"{name}: {exc.message}", field=name, offset=pos,
                        reason=exc.reason) from None


def _check_badonion(failure_code: int, offset: int) -> None:
    # BOLT 2 › Removing an HTLC › Requirements: a receiver of update_fail_malformed_htlc whose
    # failure_code lacks the BADONION bit MUST fail the channel.
    if not failure_code & BADONION:
        raise WireError(f"failure_code 0x{failure_code:04x} lacks the BADONION bit (0x8000): "
                        "the receiver must fail the channel", field="failure_code",
                        offset=offset, reason="badonion_bit_missing")


def _message_type(data: bytes) -> Layout:
    if len(data) > MAX_MESSAGE_SIZE:
        raise WireError(f"message of {len(data)} bytes is longer than the {MAX_MESSAGE_SIZE} a "
                        "transport frame holds", field="message", offset=MAX_MESSAGE_SIZE,
                        reason="message_too_long")
    if len(data) < 2:
        raise WireError(f"message of {len(data)} bytes has no u16 type", field="type",
                        offset=0, reason="truncated")
    mtype = int.from_bytes(data[:2], "big")
    layout = LAYOUTS.get(mtype)
    if layout is None:
        known = ", ".join(f"{t} {n}" for t, n in MESSAGE_NAMES.items())
        raise WireError(f"message type {mtype} is none of {known}", field="type", offset=0,
                        reason="unknown_message_type")
    return layout


def decode_message(data: bytes) -> WireMessage:
    """One whole message (u16 type first) of the five types above, or `WireError`."""
    data = bytes(data)
    layout = _message_type(data)
    pos, values = 2, {}
    for name, codec in layout.fields:
        start = pos
        values[name], pos = _read_field(data, pos, name, codec)
        if name == "failure_code":
            _check_badonion(values[name], start)
    try:
        tlvs = layout.tlvs.decode(memoryview(data)[pos:], base=pos)
    except TlvError as exc:
        raise WireError(f"{layout.tlvs.name}: {exc.message}", field=exc.field,
                        offset=exc.offset, tlv_type=exc.tlv_type, reason=exc.reason) from None
    for rtype, attr in layout.records:
        values[attr] = tlvs.values.get(rtype)
    msg: WireMessage = layout.cls(**values, unknown_tlvs=tlvs.unknown)
    return msg


# --- writing -------------------------------------------------------------------------------


def _write_field(name: str, codec: Codec[Any] | LengthPrefixed, value: Any) -> bytes:
    want_int = isinstance(codec, UInt)
    if (isinstance(value, int) and not isinstance(value, bool)) != want_int or (
            not want_int and not isinstance(value, bytes)):
        raise EncodeError(f"{name} must be {'an integer' if want_int else 'bytes'}",
                          field=name, reason="wrong_type")
    if isinstance(codec, LengthPrefixed):
        if len(value) > 0xFFFF:
            raise EncodeError(f"{name} of {len(value)} bytes does not fit its u16 len",
                              field=name, reason="range")
        return len(value).to_bytes(2, "big") + bytes(value)
    try:
        encoded: bytes = codec.encode(value)
    except EncodeError as exc:
        raise EncodeError(f"{name}: {exc.message}", field=name, reason=exc.reason) from None
    return encoded


def _write_tlvs(layout: Layout, msg: Any) -> bytes:
    values: dict[int, Any] = {}
    for rtype, attr in layout.records:
        value = getattr(msg, attr)
        if value is not None:
            spec = layout.tlvs.specs[rtype]
            _write_field(attr, spec.codec, value)  # the type and range checks
            values[rtype] = value
    for rec in msg.unknown_tlvs:
        # A writer must not emit what its own reader refuses: a known type twice, or an even
        # type this codec does not know (BOLT 1 › Type-Length-Value Format: "it's ok to be odd").
        if rec.type in layout.tlvs.specs or not rec.type & 1:
            raise EncodeError(f"unknown_tlvs: type {rec.type} is "
                              f"{'known' if rec.type in layout.tlvs.specs else 'even'} in "
                              f"{layout.tlvs.name}", field="unknown_tlvs",
                              tlv_type=rec.type, reason="unknown_even_type")
    return layout.tlvs.encode(values, msg.unknown_tlvs)


def encode_message(msg: WireMessage) -> bytes:
    """The message's bytes, u16 type first; `EncodeError` for a value no reader accepts."""
    layout = layout_of(type(msg))
    parts = [layout.cls.type.to_bytes(2, "big")]
    for name, codec in layout.fields:
        parts.append(_write_field(name, codec, getattr(msg, name)))
    if isinstance(msg, UpdateFailMalformedHtlc) and not msg.failure_code & BADONION:
        raise EncodeError(f"failure_code 0x{msg.failure_code:04x} lacks the BADONION bit "
                          "(0x8000), which BOLT 2 requires", field="failure_code",
                          reason="badonion_bit_missing")
    parts.append(_write_tlvs(layout, msg))
    out = b"".join(parts)
    if len(out) > MAX_MESSAGE_SIZE:
        raise EncodeError(f"message of {len(out)} bytes is longer than {MAX_MESSAGE_SIZE}",
                          field="message", reason="message_too_long")
    return out


__all__ = [
    "LAYOUTS",
    "MAX_MESSAGE_SIZE",
    "MESSAGE_NAMES",
    "UpdateAddHtlc",
    "UpdateFailHtlc",
    "UpdateFailMalformedHtlc",
    "UpdateFulfillHtlc",
    "WireMessage",
    "WireOnionMessage",
    "decode_message",
    "encode_message",
]
