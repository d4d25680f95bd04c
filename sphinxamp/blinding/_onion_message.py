"""Onion messages (BOLT 4 › Onion Messages; › The `onion_message` Message): the packet, the
`onionmsg_tlv` payload, building a message along a blinded path, and processing it at every
node, the last included.

Every onion message travels a blinded path: each hop is peeled with the `path_key` that came
with the message, and `encrypted_recipient_data` names the next peer. A message is never
answered with an error; a bad one is dropped, and `process_onion_message` says why with a
`Dropped` result holding the typed error, for the caller to log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, overload

from sphinxamp.blinding._path import (
    BlindedHop,
    BlindedPath,
    EncryptedData,
    create_blinded_path,
)
from sphinxamp.blinding._unblind import check_data, unblind
from sphinxamp.errors import (
    ContentNotTlvStream,
    DecodeError,
    EncodeError,
    InvalidArgument,
    InvalidReplyPath,
    MalformedBlindedPath,
    MalformedOnionMessage,
    MalformedOnionMessagePayload,
    PathIdAtForwardingHop,
    PolicyError,
    SphinxampError,
    TlvError,
    TooManyPayloadFields,
    UnexpectedPayloadField,
)
from sphinxamp.messages._codec import WireOnionMessage
from sphinxamp.onion._sphinx import (
    ONION_MESSAGE_PAYLOAD_AREA,
    PAYMENT_PAYLOAD_AREA,
    OnionPacket,
    build_onion,
    frame_size,
    peel_onion,
)
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import NodeKey
from sphinxamp.wire._tlv import (
    BYTES,
    RecordSpec,
    ShortChannelId,
    TlvRecord,
    TlvSchema,
    iter_records,
)

ONION_MESSAGE_TYPE = 513
PAYLOAD_AREAS = (PAYMENT_PAYLOAD_AREA, ONION_MESSAGE_PAYLOAD_AREA)  # 1366 or 32834 bytes

ONIONMSG_RECORDS = (
    RecordSpec(2, "reply_path", BYTES, "a blinded path to send the answer along"),
    RecordSpec(4, "encrypted_recipient_data", BYTES,
               "this node's route blinding data (encrypted_data_tlv)"),
    RecordSpec(64, "invoice_request", BYTES, "BOLT 12 invoice_request, a TLV stream"),
    RecordSpec(66, "invoice", BYTES, "BOLT 12 invoice, a TLV stream"),
    RecordSpec(68, "invoice_error", BYTES, "BOLT 12 invoice_error, a TLV stream"),
)
ONIONMSG_SCHEMA = TlvSchema("onionmsg_tlv", ONIONMSG_RECORDS)
_TYPE_OF = {spec.name: spec.type for spec in ONIONMSG_RECORDS}
_NAME_OF = {spec.type: spec.name for spec in ONIONMSG_RECORDS}
_FIRST_CONTENT_TYPE = 64  # types from 64 on are final-hop content (BOLT 4 › Onion Messages)


def _take(data: bytes, pos: int, size: int, what: str) -> bytes:
    if pos + size > len(data):
        raise MalformedBlindedPath(f"blinded_path ends inside {what}", field=what, offset=pos,
                                   reason="truncated")
    return data[pos:pos + size]


def decode_blinded_path(data: bytes) -> BlindedPath:
    """A whole `blinded_path` (BOLT 4 › Route Blinding): `sciddir_or_pubkey first_node_id`
    (a point, or 0/1 ‖ short_channel_id: kept as its 9 bytes), `first_path_key`, `num_hops`
    and the hops, nothing after them. Points are checked; no length is trusted before the
    bytes are there."""
    data = bytes(data)
    first = _take(data, 0, 1, "first_node_id")
    size = 9 if first[0] in (0, 1) else 33
    node = _take(data, 0, size, "first_node_id")
    path_key = _take(data, size, 33, "first_path_key")
    for at, point in ((size, path_key),) + (((0, node),) if size == 33 else ()):
        if crypto.parse_point(point) is None:
            raise MalformedBlindedPath("not a valid point", field="blinded_path", offset=at,
                                       reason="invalid_point")
    pos = size + 33
    count = _take(data, pos, 1, "num_hops")[0]
    pos += 1
    hops = []
    for _ in range(count):
        blinded = _take(data, pos, 33, "blinded_node_id")
        if crypto.parse_point(blinded) is None:
            raise MalformedBlindedPath("blinded_node_id is not a valid point",
                                       field="blinded_node_id", offset=pos,
                                       reason="invalid_point")
        length = int.from_bytes(_take(data, pos + 33, 2, "enclen"), "big")
        hops.append(BlindedHop(blinded, _take(data, pos + 35, length,
                                              "encrypted_recipient_data")))
        pos += 35 + length
    if count == 0 or pos != len(data):
        raise MalformedBlindedPath("no hops" if count == 0 else "bytes after the last hop",
                                   field="blinded_path", offset=pos,
                                   reason="no_hops" if count == 0 else "trailing_bytes")
    return BlindedPath(node, path_key, tuple(hops))


@dataclass(frozen=True, slots=True)
class OnionMessagePayload:
    """A decoded `onionmsg_tlv`; the BOLT 12 contents and reply_path are kept as bytes."""

    reply_path: bytes | None = None
    encrypted_recipient_data: bytes | None = None
    invoice_request: bytes | None = None
    invoice: bytes | None = None
    invoice_error: bytes | None = None
    unknown_records: tuple[TlvRecord, ...] = ()

    def encode(self) -> bytes:
        values = {_TYPE_OF[n]: getattr(self, n) for n in _TYPE_OF if getattr(self, n) is not None}
        if any(r.type in _NAME_OF for r in self.unknown_records):
            raise EncodeError("an unknown record uses a known type", field="unknown_records",
                              reason="range")
        return ONIONMSG_SCHEMA.encode(values, self.unknown_records)

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> OnionMessagePayload:
        try:
            decoded = ONIONMSG_SCHEMA.decode(data, base)
        except TlvError as exc:
            raise MalformedOnionMessagePayload(
                f"onionmsg_tlv: {exc.message}", field=exc.field, offset=exc.offset,
                tlv_type=exc.tlv_type, reason=exc.reason) from None
        values = {_NAME_OF[t]: v for t, v in decoded.values.items()}
        return cls(**values, unknown_records=decoded.unknown)

    def types(self) -> list[int]:
        return sorted([_TYPE_OF[n] for n in _TYPE_OF if getattr(self, n) is not None]
                      + [r.type for r in self.unknown_records])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {n: getattr(self, n).hex() for n in _TYPE_OF
                               if getattr(self, n) is not None}
        out.update({f"unknown_tag_{r.type}": r.value.hex() for r in self.unknown_records})
        return out


_TLV_STREAM_CONTENTS = ("invoice_request", "invoice", "invoice_error")


def check_contents(raw: bytes, base: int = 0) -> None:
    """The values of a decoded `onionmsg_tlv` are what BOLT 4 › Onion Messages defines:
    `reply_path` a `blinded_path`, and 64, 66, 68 BOLT 12's `invoice_request`, `invoice` and
    `invoice_error`, each a `tlv_stream` (BOLT 1 › Type-Length-Value Format: minimal
    BigSize types and lengths, strictly increasing types, lengths within the bytes left).
    Else the result "is not a valid `onionmsg_tlv`" and the reader MUST ignore the message.
    What the BOLT 12 records say is for BOLT 12's reader, not this one."""
    for rtype, _, start, end in iter_records(raw):
        name, value = _NAME_OF.get(rtype), raw[start:end]
        if name == "reply_path":
            try:
                decode_blinded_path(value)
            except DecodeError as exc:
                raise InvalidReplyPath(
                    f"reply_path (type 2) is not a blinded_path ({exc.reason}): {exc.message}",
                    field=name, offset=base + start + (exc.offset or 0), tlv_type=rtype,
                    reason="invalid_reply_path") from None
        elif name in _TLV_STREAM_CONTENTS:
            try:
                iter_records(value, base + start)
            except TlvError as exc:
                raise ContentNotTlvStream(
                    f"{name} (type {rtype}) is not a TLV stream ({exc.reason}): {exc.message}",
                    field=name, offset=exc.offset, tlv_type=rtype,
                    reason="content_not_tlv_stream") from None


@dataclass(frozen=True, slots=True)
class OnionMessage:
    """The `onion_message` (type 513): the path key for the receiving node and the packet."""

    path_key: bytes
    packet: OnionPacket

    def to_bytes(self) -> bytes:
        packet = self.packet.to_bytes()
        return b"".join((ONION_MESSAGE_TYPE.to_bytes(2, "big"), self.path_key,
                         len(packet).to_bytes(2, "big"), packet))

    @classmethod
    def parse(cls, data: bytes) -> OnionMessage:
        """Frame the message; the packet's version and key are checked by `OnionPacket`."""
        data = bytes(data)
        if len(data) < 2 + 33 + 2:
            raise MalformedOnionMessage(f"onion_message of {len(data)} bytes is too short",
                                        field="onion_message", offset=len(data),
                                        reason="truncated")
        if int.from_bytes(data[:2], "big") != ONION_MESSAGE_TYPE:
            raise MalformedOnionMessage("not an onion_message (type 513)", field="type",
                                        offset=0, reason="message_type")
        length = int.from_bytes(data[35:37], "big")
        if length != len(data) - 37:
            raise MalformedOnionMessage(f"len {length} but {len(data) - 37} bytes follow",
                                        field="len", offset=35, reason="length_mismatch")
        return cls(data[2:35], OnionPacket.parse(data[37:], payload_area=None))


def choose_payload_area(payloads: Iterable[bytes], requested: int | None = None) -> int:
    """The payload area asked for, else the smallest of 1300 and 32768 that holds every
    hop's frame (BOLT 4 › Onion Messages: len SHOULD be 1366 or 32834)."""
    needed = sum(frame_size(len(p)) for p in payloads)
    if requested is not None:
        return requested
    for area in PAYLOAD_AREAS:
        if needed <= area:
            return area
    raise EncodeError(f"the message needs {needed} bytes of payload area, more than "
                      f"{PAYLOAD_AREAS[-1]}", field="payloads", reason="route_too_long")


def prefix_path(path: BlindedPath, prefix: Sequence[bytes], prefix_session_key: bytes
                ) -> BlindedPath:
    """`path` reached through `prefix` (real node ids, first to last): the sender blinds
    them itself, each naming the next node, the last handing on the path's first_path_key as
    next_path_key_override (BOLT 4 › Route Blinding: concatenating blinded routes)."""
    nxt = [*prefix[1:], path.first_node_id]
    datas = [EncryptedData(next_node_id=n, next_path_key_override=(
        path.first_path_key if i == len(prefix) - 1 else None)) for i, n in enumerate(nxt)]
    head = create_blinded_path(prefix_session_key, list(zip(prefix, datas, strict=True)))
    return BlindedPath(head.first_node_id, head.first_path_key, head.hops + path.hops)


def build_onion_message(
    session_key: bytes, path: BlindedPath, payload: OnionMessagePayload | None = None, *,
    prefix: Sequence[bytes] = (), prefix_session_key: bytes | None = None,
    payload_area: int | None = None,
) -> OnionMessage:
    """An onion message along `path` whose last hop reads `payload` (its
    encrypted_recipient_data is filled in). Every hop is encrypted to its blinded node id,
    the first one included: the message goes to the first node with the first path key.
    `prefix` (with the path-key secret `prefix_session_key`) reaches the path first."""
    if prefix:
        if prefix_session_key is None:
            raise InvalidArgument("a prefix needs prefix_session_key, the secret of its first "
                                  "path key", field="prefix_session_key", reason="missing")
        path = prefix_path(path, prefix, prefix_session_key)
    if not path.hops:
        raise EncodeError("the blinded path has no hops", field="path", reason="empty_path")
    last = payload or OnionMessagePayload()
    payloads = [OnionMessagePayload(encrypted_recipient_data=h.encrypted_recipient_data)
                for h in path.hops[:-1]]
    payloads.append(OnionMessagePayload(**{**{n: getattr(last, n) for n in _TYPE_OF},
                                           "encrypted_recipient_data":
                                           path.hops[-1].encrypted_recipient_data,
                                           "unknown_records": last.unknown_records}))
    raw = [p.encode() for p in payloads]
    area = choose_payload_area(raw, payload_area)
    hops = [(h.blinded_node_id, r) for h, r in zip(path.hops, raw, strict=True)]
    built = build_onion(session_key, hops, b"", area, min_payload_length=0)
    return OnionMessage(path.first_path_key, built.packet)


@dataclass(frozen=True, slots=True)
class ProcessedMessage:
    """An onion message this node accepted: to forward (`next_packet`) or, at the last node,
    delivered (`next_packet` None; `encrypted_data.path_id` tells which path it came by)."""

    payload: OnionMessagePayload
    raw_payload: bytes
    encrypted_data: EncryptedData
    shared_secret: bytes
    next_path_key: bytes
    next_packet: OnionPacket | None

    @property
    def final(self) -> bool:
        return self.next_packet is None

    @property
    def next_node_id(self) -> bytes | None:
        return None if self.final else self.encrypted_data.next_node_id

    @property
    def next_short_channel_id(self) -> ShortChannelId | None:
        """The channel that names the next peer: only when next_node_id is absent (BOLT 4 ›
        Onion Messages, the reader: "if `next_node_id` is present: the *next peer* is the
        peer with that node id. otherwise, if `short_channel_id` is present …")."""
        if self.final or self.encrypted_data.next_node_id is not None:
            return None
        return self.encrypted_data.short_channel_id

    def next_message(self) -> OnionMessage | None:
        return None if self.next_packet is None else OnionMessage(self.next_path_key,
                                                                  self.next_packet)

    @property
    def next_wire_message(self) -> WireOnionMessage | None:
        """The `onion_message` to send the next peer, as it travels (None when delivered)."""
        return None if self.next_packet is None else WireOnionMessage(
            self.next_path_key, self.next_packet.to_bytes())


@dataclass(frozen=True, slots=True)
class Dropped:
    """A message the node ignores: `reason` is the machine-readable reason, `error` the typed
    error behind it (a `DecodeError` or `PolicyError` subclass), for the log."""

    reason: str
    error: SphinxampError

    @property
    def message(self) -> str:
        return self.error.message


@overload
def process_onion_message(message: WireOnionMessage, node_key: bytes | NodeKey, *,
                          known_features: Iterable[int] = ()) -> ProcessedMessage | Dropped: ...


@overload
def process_onion_message(message: bytes | OnionMessage, node_key: bytes | NodeKey, *,
                          path_key: bytes | None = None, known_features: Iterable[int] = (),
                          ) -> ProcessedMessage | Dropped: ...


def process_onion_message(
    message: bytes | OnionMessage | WireOnionMessage, node_key: bytes | NodeKey, *,
    path_key: bytes | None = None, known_features: Iterable[int] = (),
) -> ProcessedMessage | Dropped:
    """What the node holding `node_key` does with an onion message (BOLT 4 › Onion Messages ›
    Requirements, the reader). `message` is the whole `onion_message` (bytes, or decoded as a
    `WireOnionMessage`, whose path key and packet are used: a `path_key` beside it is an
    `InvalidArgument`), or the bare packet when `path_key` is given. The result's
    `next_wire_message` is the message to forward. A bad message comes back as `Dropped`,
    never as an exception; only a caller's own bad value (an unusable node key) raises."""
    if isinstance(message, WireOnionMessage) and path_key is not None:
        raise InvalidArgument("path_key is read from the onion_message itself",
                              field="path_key", reason="context_from_message")
    try:
        return _process(message, node_key, path_key, known_features)
    except (DecodeError, PolicyError) as exc:
        return Dropped(exc.reason or type(exc).__name__, exc)


def _process(message: bytes | OnionMessage | WireOnionMessage, node_key: bytes | NodeKey,
             path_key: bytes | None, known_features: Iterable[int]) -> ProcessedMessage:
    if isinstance(message, OnionMessage):
        path_key, packet = message.path_key, message.packet
    elif isinstance(message, WireOnionMessage):
        path_key = message.path_key
        packet = OnionPacket.parse(message.onion_message_packet, payload_area=None)
    elif path_key is None:
        parsed = OnionMessage.parse(message)
        path_key, packet = parsed.path_key, parsed.packet
    else:
        packet = OnionPacket.parse(bytes(message), payload_area=None)
    peeled = peel_onion(packet, node_key, b"", payload_area=None, path_key=path_key,
                        min_payload_length=0)
    payload = OnionMessagePayload.decode(peeled.payload, peeled.payload_offset)
    final = peeled.is_final
    extra = [t for t in payload.types() if t != _TYPE_OF["encrypted_recipient_data"]]
    if not final and extra:
        raise UnexpectedPayloadField(
            f"a forwarding hop's payload holds type(s) {extra} besides "
            "encrypted_recipient_data", field="onionmsg_tlv", tlv_type=extra[0],
            reason="unexpected_payload_field")
    check_contents(peeled.payload, peeled.payload_offset)
    unblinded = unblind(node_key, path_key, payload.encrypted_recipient_data,
                        peeled.blinding_secret)
    data = unblinded.data
    check_data(data, final=final, payment=False, known_features=known_features)
    if not final and data.path_id is not None:
        raise PathIdAtForwardingHop("path_id at a forwarding hop", field="path_id", tlv_type=6,
                                    reason="path_id_at_forwarding_hop")
    content = [t for t in payload.types() if t >= _FIRST_CONTENT_TYPE]
    if final and len(content) > 1:
        raise TooManyPayloadFields(f"more than one payload field: {content}",
                                   field="onionmsg_tlv", tlv_type=content[1],
                                   reason="too_many_payload_fields")
    return ProcessedMessage(payload, peeled.payload, data, peeled.shared_secret,
                            unblinded.next_path_key, peeled.next_packet)


__all__ = [
    "ONIONMSG_SCHEMA",
    "Dropped",
    "OnionMessage",
    "OnionMessagePayload",
    "ProcessedMessage",
    "build_onion_message",
    "decode_blinded_path",
    "process_onion_message",
]
