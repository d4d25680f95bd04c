"""Whole messages (BOLT 2 › Adding an HTLC, › Removing an HTLC; BOLT 4 › The `onion_message`
Message): u16 type ‖ the type's fields ‖ a TLV stream (BOLT 1 › Lightning Message Format).

Input: any bytes, read as one message by `decode_message`.
Invariants: refusals are `WireError`s only, with the reason a reader written here from the BOLT
text gives (the first rule broken, in wire order: size, type, each field — a point by
coincurve's own parser, failure_code's BADONION bit — then the stream's structure, then each
record: unknown even, length, value) and, for a record, its type and first byte; an accepted
message holds exactly the fields and records that reader finds, re-encodes to exactly the
input, and comes back equal from its JSON form; deterministic; memory O(len).
"""

from typing import Any

import _common
from _checks import is_point, ref_stream

from sphinxamp.errors import WireError
from sphinxamp.messages._codec import decode_message, encode_message
from sphinxamp.messages._json import message_from_json, message_to_json

# type → (name, fields as (attribute, size | "len" | "u16"/"u32"/"u64" | "point"))
LAYOUTS: dict[int, tuple[str, tuple[tuple[str, Any], ...]]] = {
    128: ("update_add_htlc", (("channel_id", 32), ("id", "u64"), ("amount_msat", "u64"),
                              ("payment_hash", 32), ("cltv_expiry", "u32"),
                              ("onion_routing_packet", 1366))),
    130: ("update_fulfill_htlc", (("channel_id", 32), ("id", "u64"),
                                  ("payment_preimage", 32))),
    131: ("update_fail_htlc", (("channel_id", 32), ("id", "u64"), ("reason", "len"))),
    135: ("update_fail_malformed_htlc", (("channel_id", 32), ("id", "u64"),
                                         ("sha256_of_onion", 32), ("failure_code", "u16"))),
    513: ("onion_message", (("path_key", "point"), ("onion_message_packet", "len"))),
}
# type → {TLV type: (attribute, value length, value is a point)}
RECORDS: dict[int, dict[int, tuple[str, int, bool]]] = {
    128: {0: ("path_key", 33, True), 106823: ("accountable", 1, False)},
    130: {1: ("attribution_data", 920, False)},
    131: {1: ("attribution_data", 920, False)},
    135: {},
    513: {},
}
_INTS = {"u16": 2, "u32": 4, "u64": 8}


class Refused(Exception):
    def __init__(self, reason: str, tlv_type: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.tlv_type = reason, tlv_type


def ref_fields(data: bytes) -> tuple[dict[str, Any], int]:
    """The fixed fields and where the TLV stream starts, or `Refused`."""
    if len(data) > 65535:
        raise Refused("message_too_long")
    if len(data) < 2:
        raise Refused("truncated")
    mtype = int.from_bytes(data[:2], "big")
    if mtype not in LAYOUTS:
        raise Refused("unknown_message_type")
    pos = 2
    fields: dict[str, Any] = {}
    for name, kind in LAYOUTS[mtype][1]:
        if kind == "len":  # u16 len ‖ len bytes
            if len(data) - pos < 2:
                raise Refused("truncated")
            width = 2 + int.from_bytes(data[pos:pos + 2], "big")
        else:
            width = _INTS.get(kind, 33 if kind == "point" else kind)
        if len(data) - pos < width:
            raise Refused("truncated")
        raw = data[pos:pos + width]
        if kind == "point" and not is_point(raw):
            raise Refused("invalid_point")
        if kind in _INTS:
            fields[name] = int.from_bytes(raw, "big")
        else:
            fields[name] = raw[2:] if kind == "len" else raw
        if name == "failure_code" and not fields[name] & 0x8000:
            raise Refused("badonion_bit_missing")
        pos += width
    return fields, pos


def ref_message(data: bytes) -> dict[str, Any]:
    """Every attribute of the message the BOLT text reads in `data`, or `Refused`."""
    fields, start = ref_fields(data)
    mtype = int.from_bytes(data[:2], "big")
    records = ref_stream(data[start:])
    if isinstance(records, str):
        raise Refused(records)
    known = RECORDS[mtype]
    fields.update({attr: None for attr, _, _ in known.values()})
    unknown = []
    for rtype, value in records:
        if rtype not in known:
            if not rtype & 1:
                raise Refused("unknown_even_type", rtype)
            unknown.append((rtype, value))
            continue
        attr, size, point = known[rtype]
        if len(value) != size:
            reason = "below" if len(value) < size else "above"
            raise Refused(f"length_{reason}_fixed_size", rtype)
        if point and not is_point(value):
            raise Refused("invalid_point", rtype)
        fields[attr] = value[0] if size == 1 else value
    fields["unknown_tlvs"] = unknown
    return fields


def test_one_input(data: bytes) -> None:
    got = _common.deterministic(len(data), decode_message, data)
    try:
        want = ref_message(data)
    except Refused as refused:
        assert got.error is not None, f"accepted a message the BOLT text refuses ({refused})"
        assert isinstance(got.error, WireError), type(got.error).__name__
        assert got.error.reason == refused.reason, (
            f"reason {got.error.reason}, the BOLT text says {refused.reason}")
        if refused.tlv_type is not None:
            assert got.error.tlv_type == refused.tlv_type
            _common.check_points_at_record(got.error, data)
        return
    assert got.error is None, f"refused a valid message: {got.error}"
    msg = got.value
    have = {name: getattr(msg, name) for name in want}
    have["unknown_tlvs"] = [(r.type, r.value) for r in msg.unknown_tlvs]
    assert have == want, "fields differ from the BOLT text's reading"
    assert encode_message(msg) == data, "message round trip is not exact"
    assert message_from_json(message_to_json(msg)) == msg, "JSON round trip lost something"


if __name__ == "__main__":
    _common.main(test_one_input)
