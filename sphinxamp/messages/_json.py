"""The JSON form of a message (`sphinxamp wire decode --json`, `wire encode`): one object with
`type`, `name` and the fields under their BOLT names, bytes as hex, the known TLV records under
the attribute that holds them (null when absent) and `unknown_tlvs` as `[{type, value}]`.
Fields with a u16 length before them (`update_fail_htlc.reason`,
`onion_message.onion_message_packet`) also show it as `len`.

Reading JSON is reading input from outside: anything missing, extra or of the wrong kind is an
`InvalidArgument` naming the field.
"""

from __future__ import annotations

from typing import Any

from sphinxamp.errors import InvalidArgument
from sphinxamp.messages._codec import (
    LAYOUTS,
    MESSAGE_NAMES,
    Layout,
    LengthPrefixed,
    WireMessage,
    encode_message,
)
from sphinxamp.wire._tlv import TlvRecord, UInt


def _kinds(layout: Layout) -> dict[str, str]:
    """attribute → "int", "bytes" or "len_bytes" (a field with a u16 len before it)."""
    kinds = {name: "len_bytes" if isinstance(codec, LengthPrefixed)
             else "int" if isinstance(codec, UInt) else "bytes"
             for name, codec in layout.fields}
    for rtype, attr in layout.records:
        kinds[attr] = "int" if isinstance(layout.tlvs.specs[rtype].codec, UInt) else "bytes"
    return kinds


def message_to_json(msg: WireMessage) -> dict[str, Any]:
    layout = LAYOUTS[msg.type]
    out: dict[str, Any] = {"type": msg.type, "name": msg.name}
    for attr, kind in _kinds(layout).items():
        value = getattr(msg, attr)
        if kind == "len_bytes":
            out["len"] = len(value)
        out[attr] = value.hex() if isinstance(value, bytes) else value
    out["unknown_tlvs"] = [{"type": r.type, "value": r.value.hex()} for r in msg.unknown_tlvs]
    return out


def _bad(field: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"{field}: {why}", field=field, reason="bad_json_field")


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(field, f"expected an integer, got {type(value).__name__}")
    return value


def _hex(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise _bad(field, f"expected a hex string, got {type(value).__name__}")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise _bad(field, "not hex") from None


def _layout(obj: dict[str, Any]) -> Layout:
    mtype, name = obj.get("type"), obj.get("name")
    if mtype is None and name is None:
        raise _bad("type", "the message needs a type (or a name)")
    if mtype is None:
        by_name = {n: t for t, n in MESSAGE_NAMES.items()}
        if name not in by_name:
            raise _bad("name", f"{name!r} is none of {', '.join(by_name)}")
        mtype = by_name[name]
    layout = LAYOUTS.get(_int(mtype, "type"))
    if layout is None:
        raise _bad("type", f"{mtype} is none of {', '.join(map(str, MESSAGE_NAMES))}")
    if name is not None and name != layout.cls.name:
        raise _bad("name", f"{name!r} is not the name of type {mtype} ({layout.cls.name})")
    return layout


def _unknown(value: Any) -> tuple[TlvRecord, ...]:
    if not isinstance(value, list):
        raise _bad("unknown_tlvs", "expected a list of {type, value}")
    out = []
    for i, rec in enumerate(value):
        field = f"unknown_tlvs[{i}]"
        if not isinstance(rec, dict) or set(rec) != {"type", "value"}:
            raise _bad(field, "expected an object with type and value")
        out.append(TlvRecord(_int(rec["type"], f"{field}.type"),
                             _hex(rec["value"], f"{field}.value")))
    return tuple(out)


def message_from_json(obj: Any) -> WireMessage:
    """The message an object of `message_to_json`'s form describes, checked by encoding it
    (so a value no reader accepts is refused here)."""
    if not isinstance(obj, dict):
        raise _bad("message", "expected a JSON object")
    layout = _layout(obj)
    kinds = _kinds(layout)
    optional = {attr for _, attr in layout.records}
    extra = set(obj) - set(kinds) - {"type", "name", "len", "unknown_tlvs"}
    if extra:
        raise _bad(sorted(extra)[0], f"not a field of {layout.cls.name}")
    values: dict[str, Any] = {}
    for attr, kind in kinds.items():
        value = obj.get(attr)
        if value is None:
            if attr not in optional:
                raise _bad(attr, f"missing ({layout.cls.name} needs it)")
            values[attr] = None
            continue
        values[attr] = _int(value, attr) if kind == "int" else _hex(value, attr)
        if kind == "len_bytes" and "len" in obj and _int(obj["len"], "len") != len(
                values[attr]):
            raise _bad("len", f"{obj['len']} but {attr} holds {len(values[attr])} bytes")
    if "len" in obj and "len_bytes" not in kinds.values():
        raise _bad("len", f"not a field of {layout.cls.name}")
    msg: WireMessage = layout.cls(**values, unknown_tlvs=_unknown(obj.get("unknown_tlvs", [])))
    encode_message(msg)
    return msg


__all__ = ["message_from_json", "message_to_json"]
