"""Whole messages as fields: `update_add_htlc` (128), `update_fulfill_htlc` (130),
`update_fail_htlc` (131), `update_fail_malformed_htlc` (135) (BOLT 2 › Normal Operation) and
`onion_message` (513) (BOLT 4 › The `onion_message` Message): the u16 type, every field by
its spec name, then the TLV stream (BOLT 1 › Lightning Message Format), read by the layouts
of `sphinxamp.messages`, whose decoder gives the verdict.

What a message carries is explained in place: the onion (decrypted with the node's key, and
processed as the node would), the failure `reason` (with the route's shared secrets, as the
origin reads it) and `attribution_data` (verified with the shared secrets).
"""

from __future__ import annotations

from typing import Any

from sphinxamp._explain._failure import _code_meaning
from sphinxamp._explain._kinds import Keys
from sphinxamp._explain._message_parts import explain_attribution_in, explain_reason, peel_note
from sphinxamp._explain._onion import onion_field
from sphinxamp._explain._tlv import tlv_fields
from sphinxamp._explain._tree import Explanation, Field, error_from
from sphinxamp.errors import DecodeError, WireError
from sphinxamp.messages._codec import (
    LAYOUTS,
    MESSAGE_NAMES,
    LengthPrefixed,
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
    WireMessage,
    WireOnionMessage,
    decode_message,
)
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA
from sphinxamp.primitives._crypto import is_valid_point
from sphinxamp.wire._tlv import UInt

_FORMAT = "BOLT 1 › Lightning Message Format"
_ADD = "BOLT 2 › Adding an HTLC: update_add_htlc"
_REMOVE = "BOLT 2 › Removing an HTLC: update_fulfill_htlc, update_fail_htlc, and " \
          "update_fail_malformed_htlc"
_ONION_MESSAGE = "BOLT 4 › The `onion_message` Message"
_SECTIONS = {128: _ADD, 130: _REMOVE, 131: _REMOVE, 135: _REMOVE, 513: _ONION_MESSAGE}

# What each field is, in the words of BOLT 2 › Normal Operation and BOLT 4.
_MEANINGS = {
    "channel_id": "the channel",
    "id": "HTLC id, counting from 0 per direction",
    "amount_msat": "amount offered",
    "payment_hash": "SHA256 of the payment preimage",
    "cltv_expiry": "block height at which the HTLC times out",
    "payment_preimage": "the preimage whose SHA256 is the payment hash",
    "sha256_of_onion": "SHA256 of the onion the node could not process",
    "path_key": "path key for the receiving node (blinded route)",
}


def _err(reason: str, message: str) -> DecodeError:
    return DecodeError(message, reason=reason)


def _fixed_field(name: str, raw: bytes, offset: int, codec: Any) -> Field:
    f = Field(name, offset, raw, _MEANINGS.get(name, ""))
    if isinstance(codec, UInt):
        f.value = int.from_bytes(raw, "big")
        f.meaning = f"u{8 * codec.width} = {f.value}" + (f": {f.meaning}" if f.meaning else "")
        if name == "failure_code":
            f.meaning = f"u16 0x{f.value:04x}: {_code_meaning(f.value)}"
    elif name == "path_key" and not is_valid_point(raw):
        f.meaning = "NOT a valid secp256k1 point"
    return f


def _fields(data: bytes, mtype: int, msg: Field, ex: Explanation) -> int | None:
    """The fixed fields after the type, in wire order; the position after them, or None
    where the message ends inside one (the error is recorded)."""
    pos = 2
    for name, codec in LAYOUTS[mtype].fields:
        if isinstance(codec, LengthPrefixed):
            if len(data) - pos < 2:
                _truncated(data, pos, "len", msg, ex, mtype)
                return None
            length = int.from_bytes(data[pos : pos + 2], "big")
            msg.children.append(Field("len", pos, data[pos : pos + 2], f"u16 = {length}: the "
                                      f"length of {name}", length))
            pos += 2
            size = length
        else:
            size = codec.min_len
        if len(data) - pos < size:
            _truncated(data, pos, name, msg, ex, mtype)
            return None
        msg.children.append(_fixed_field(name, data[pos : pos + size], pos, codec))
        pos += size
    return pos


def _truncated(data: bytes, pos: int, name: str, msg: Field, ex: Explanation,
               mtype: int) -> None:
    msg.children.append(Field(name, pos, data[pos:], f"truncated: {len(data) - pos} bytes"))
    ex.fail(error_from(_err("truncated", f"the message ends inside {name}"), pos,
                       _SECTIONS[mtype]))


def explain_wire_message(data: bytes, keys: Keys, ex: Explanation) -> None:
    """One whole message, u16 type first."""
    if len(data) < 2:
        ex.fields.append(Field("type", 0, data, "truncated u16 type"))
        ex.fail(error_from(_err("truncated", "no u16 message type"), 0, _FORMAT))
        return
    mtype = int.from_bytes(data[:2], "big")
    known = ", ".join(f"{t} ({n})" for t, n in MESSAGE_NAMES.items())
    if mtype not in LAYOUTS:
        ex.fields.append(Field("type", 0, data[:2], f"u16 message type = {mtype}: none of "
                               f"{known}", mtype))
        ex.fail(error_from(_err("message_type", f"type {mtype}"), 0, _FORMAT))
        return
    layout = LAYOUTS[mtype]
    msg = Field(layout.cls.name, 0, data, f"message type {mtype}, {len(data)} bytes")
    ex.fields.append(msg)
    msg.children.append(Field("type", 0, data[:2], f"u16 message type = {mtype} "
                              f"({layout.cls.name})", mtype))
    pos = _fields(data, mtype, msg, ex)
    if pos is None:
        return
    tlvs = Field(layout.tlvs.name, pos, data[pos:], "TLV stream" if pos < len(data)
                 else "TLV stream (empty)")
    tlvs.children = tlv_fields(data[pos:], pos, layout.tlvs, ex)
    msg.children.append(tlvs)
    try:
        decoded = decode_message(data)
    except WireError as exc:
        ex.fail(error_from(exc, exc.offset if exc.offset is not None else 0, _SECTIONS[mtype]))
        return
    _inside(decoded, msg, keys, ex)


def _child(msg: Field, name: str) -> Field:
    return next(f for f in msg.children if f.name == name)


def _record_value(msg: Field, stream: str, name: str) -> Field | None:
    for rec in _child(msg, stream).children:
        if rec.name == name and len(rec.children) == 3:
            return rec.children[2]
    return None


def _inside(decoded: WireMessage, msg: Field, keys: Keys, ex: Explanation) -> None:
    """What the message carries, explained where it sits."""
    stream = LAYOUTS[decoded.type].tlvs.name
    if isinstance(decoded, UpdateAddHtlc):
        _onion_in(msg, "onion_routing_packet", keys, ex, path_key=decoded.path_key,
                  assoc=decoded.payment_hash)
        peel_note(decoded, keys, ex)
    elif isinstance(decoded, WireOnionMessage):
        _onion_in(msg, "onion_message_packet", keys, ex, path_key=decoded.path_key, assoc=b"")
    elif isinstance(decoded, UpdateFailMalformedHtlc):
        ex.notes.append("the onion could not be processed: the origin's side converts this "
                        "into a failure of its own (BOLT 2 › Removing an HTLC)")
    if isinstance(decoded, UpdateFailHtlc):
        explain_reason(_child(msg, "reason"), decoded, keys, ex)
    if isinstance(decoded, UpdateFailHtlc | UpdateFulfillHtlc):
        value = _record_value(msg, stream, "attribution_data")
        if value is not None:
            explain_attribution_in(value, decoded, keys, ex)


def _onion_in(msg: Field, name: str, keys: Keys, ex: Explanation, *, path_key: bytes | None,
              assoc: bytes) -> None:
    """The onion inside, as an onion: decrypted with the node key (the message gives the
    associated data and the path key)."""
    at = next(i for i, f in enumerate(msg.children) if f.name == name)
    old = msg.children[at]
    payment = name == "onion_routing_packet"
    inner = Keys(keys.node_key, assoc, path_key, keys.shared_secrets,
                 PAYMENT_PAYLOAD_AREA if payment else None, keys.profile)
    packet = onion_field(old.raw, old.offset, inner, ex, path_key, assoc, message=not payment)
    packet.name = name
    msg.children[at] = packet


__all__ = ["explain_wire_message"]
