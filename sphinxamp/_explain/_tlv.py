"""TLV streams as fields (BOLT 1 › Type-Length-Value Format): every record with its BigSize
type and length and its value, typed by the schema's codec when the registry knows the type.

The verdict is the library's own (`iter_records`, `TlvSchema.decode`); this module only lays
the records out and, on a refusal, points at the record that failed.
"""

from __future__ import annotations

from typing import Any

from sphinxamp._explain._tree import Explanation, Field, error_from
from sphinxamp.errors import DecodeError, SphinxampError
from sphinxamp.primitives._crypto import is_valid_point
from sphinxamp.wire._bigsize import decode_bigsize
from sphinxamp.wire._records import HOP_PAYLOAD_SCHEMA, HOP_RECORDS_BY_TYPE
from sphinxamp.wire._tlv import ShortChannelId, TlvSchema, iter_records
from sphinxamp.wire._tlv_codecs import (
    FixedBytes,
    RawBytes,
    ShortChannelIdCodec,
    Struct,
    TruncatedUInt,
    UInt,
)


def bigsize_field(name: str, data: bytes, pos: int, base: int) -> tuple[Field, int]:
    """One BigSize at `pos` (raises the library's BigSizeError when it does not read)."""
    value, end = decode_bigsize(data, pos, name)
    form = {1: "1 byte", 3: "0xfd + u16", 5: "0xfe + u32", 9: "0xff + u64"}[end - pos]
    return Field(name, base + pos, bytes(data[pos:end]), f"BigSize ({form}) = {value}",
                 value), end


def _codec_value(codec: Any, raw: bytes, offset: int, decrypted: bool) -> Field:
    """A value laid out by its codec: integers with their value, points checked, a struct
    split into its fields."""
    f = Field("value", offset, raw, decrypted=decrypted)
    if isinstance(codec, Struct):
        pos = 0
        for i, (name, part) in enumerate(codec.fields):
            # A value shorter than the struct (refused by the schema) is split as far as it
            # goes: no part reaches past it.
            end = len(raw) if i == len(codec.fields) - 1 else min(pos + part.min_len, len(raw))
            pos = min(pos, len(raw))
            child = _codec_value(part, raw[pos:end], offset + pos, decrypted)
            child.name = name
            f.children.append(child)
            pos = end
        f.meaning = "struct of " + ", ".join(n for n, _ in codec.fields)
        return f
    kind, value = _scalar(codec, raw)
    f.meaning, f.value = kind, value
    return f


# The widest integer of the BOLTs is 8 bytes (u64, tu64, short_channel_id). A record longer
# than its codec allows is refused by the schema but still laid out first, and its bytes may
# run to the whole input: past 8 bytes no integer is meant, and Python refuses to print one
# over 4,300 decimal digits (sys.int_info.default_max_str_digits), so it is shown in hex.
_WIDEST_INT = 8
_HEX_SHOWN = 32


def _too_wide(codec: Any, raw: bytes) -> tuple[str, Any]:
    shown = raw[:_HEX_SHOWN].hex() + ("…" if len(raw) > _HEX_SHOWN else "")
    kind = ("short_channel_id" if isinstance(codec, ShortChannelIdCodec) else
            f"{'tu' if isinstance(codec, TruncatedUInt) else 'u'}{8 * codec.width}")
    return (f"{kind}, {len(raw)} bytes: wider than {_WIDEST_INT} bytes, no integer "
            f"(hex 0x{shown})"), "0x" + raw.hex()


def _scalar(codec: Any, raw: bytes) -> tuple[str, Any]:
    integer = isinstance(codec, TruncatedUInt | UInt | ShortChannelIdCodec)
    if integer and len(raw) > _WIDEST_INT:
        return _too_wide(codec, raw)
    if isinstance(codec, TruncatedUInt):
        value = int.from_bytes(raw, "big")
        note = " (leading zero: not minimal)" if raw[:1] == b"\0" else ""
        return f"tu{8 * codec.width}, {len(raw)} bytes = {value}{note}", value
    if isinstance(codec, UInt):
        value = int.from_bytes(raw, "big")
        return f"u{8 * codec.width} = {value}", value
    if isinstance(codec, ShortChannelIdCodec):
        scid = ShortChannelId.from_int(int.from_bytes(raw, "big"))
        return f"short_channel_id {scid} (block x tx x output)", str(scid)
    if isinstance(codec, FixedBytes) and codec.min_len == 33 and len(raw) == 33:
        ok = is_valid_point(raw)
        return ("secp256k1 point, compressed" if ok else "NOT a valid secp256k1 point"), None
    if isinstance(codec, FixedBytes | RawBytes):
        return f"{len(raw)} bytes", None
    return f"{len(raw)} bytes", None


def _text(raw: bytes) -> str | None:
    """A well-known custom record's bytes as text, when they are printable UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text or not text.isprintable():
        return None
    return f"UTF-8 text {text[:80]!r}" + ("…" if len(text) > 80 else "")


def record_name(schema: TlvSchema | None, rtype: int) -> str:
    name = None if schema is None else schema.name_of(rtype)
    if name is None and schema is HOP_PAYLOAD_SCHEMA and rtype in HOP_RECORDS_BY_TYPE:
        name = HOP_RECORDS_BY_TYPE[rtype].name
    if name is not None:
        return name
    if schema is None:
        return f"type {rtype}"
    parity = "odd: may be ignored" if rtype & 1 else "even: must be understood"
    kind = "custom" if rtype >= 1 << 16 else "unknown"
    return f"type {rtype} ({kind}, {parity})"


def _describe(schema: TlvSchema | None, rtype: int) -> str:
    if schema is HOP_PAYLOAD_SCHEMA and rtype in HOP_RECORDS_BY_TYPE:
        return HOP_RECORDS_BY_TYPE[rtype].description
    if schema is None:
        return ""
    spec = schema.specs.get(rtype)
    if spec is not None:
        return spec.description
    # BOLT 1 › Requirements: types from 2^16 up are left to custom records.
    return "a custom record" if rtype >= 1 << 16 else f"not a record of {schema.name}"


def _record(data: bytes, start: int, base: int, schema: TlvSchema | None,
            decrypted: bool) -> tuple[Field, int, int] | Field:
    """One record: (field, its type, the offset past it), or the partial field when its type,
    length or value does not read."""
    rec = Field("record", base + start, b"", decrypted=decrypted)
    try:
        tfield, pos = bigsize_field("type", data, start, base)
        tfield.decrypted = decrypted
        rec.children.append(tfield)
        rtype = tfield.value
        rec.name = record_name(schema, rtype)
        lfield, pos = bigsize_field("length", data, pos, base)
        lfield.decrypted = decrypted
        rec.children.append(lfield)
    except DecodeError:
        rec.raw = bytes(data[start:])
        return rec
    length = lfield.value
    if length > len(data) - pos:
        rec.raw = bytes(data[start:])
        return rec
    raw = bytes(data[pos : pos + length])
    spec = None if schema is None else schema.specs.get(rtype)
    value = (_codec_value(spec.codec, raw, base + pos, decrypted) if spec is not None
             else Field("value", base + pos, raw, f"{length} bytes", decrypted=decrypted))
    if spec is None and schema is HOP_PAYLOAD_SCHEMA and rtype in HOP_RECORDS_BY_TYPE:
        value.meaning = _text(raw) or value.meaning
    if rec.name == "padding":
        zeros = "all zero" if not any(raw) else "NOT all zero"
        value.meaning = f"{length} bytes of padding ({zeros}): hides the data's length"
    rec.children.append(value)
    rec.raw = bytes(data[start : pos + length])
    rec.meaning = _describe(schema, rtype)
    return rec, rtype, pos + length


def tlv_fields(data: bytes, base: int, schema: TlvSchema | None, ex: Explanation, *,
               decrypted: bool = False) -> list[Field]:
    """The records of a stream at `base` in the input; a refusal goes to `ex.fail` at the
    start of the record concerned (the failing record is shown as far as it read)."""
    fields: list[Field] = []
    pos, last = 0, -1
    while pos < len(data):
        got = _record(data, pos, base, schema, decrypted)
        if isinstance(got, Field):
            fields.append(got)
            break
        rec, rtype, end = got
        fields.append(rec)
        if rtype <= last:
            break
        pos, last = end, rtype
    _verdict(data, base, schema, pos, ex, decrypted)
    return fields


def _verdict(data: bytes, base: int, schema: TlvSchema | None, stop: int, ex: Explanation,
             decrypted: bool) -> None:
    """The library's judgment of the stream; the error goes at the failing record's start."""
    try:
        iter_records(data, base)
    except SphinxampError as exc:
        ex.fail(error_from(exc, base + stop, decrypted=decrypted))
        return
    if schema is None:
        return
    try:
        schema.decode(data, base)
    except SphinxampError as exc:
        offset = exc.offset if exc.offset is not None else base
        ex.fail(error_from(exc, offset, decrypted=decrypted))
