"""What the commands show: JSON-ready values and the annotated hex dump.

A dump is a list of spans (offset, bytes, label) printed as
`offset  hex (16 bytes a line)  label`, so a person can lay the bytes of a packet or a TLV
stream next to the fields the spec gives them. Long spans are elided in the middle: the hex
of a 1300-byte routing area helps nobody, its offset and size do.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sphinxamp import HopPayload, OnionPacket, ProcessedHop, ShortChannelId
from sphinxamp.cli import _custom_records as custom_records
from sphinxamp.errors import DecodeError
from sphinxamp.failures import HopAttribution
from sphinxamp.onion import HMAC_SIZE
from sphinxamp.wire import HOP_PAYLOAD_SCHEMA, TlvRecord, TlvSchema, check_length, iter_records

BYTES_PER_LINE = 16


@dataclass(frozen=True, slots=True)
class Span:
    offset: int
    data: bytes
    label: str


# --- values --------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A decoded record value as JSON: ints stay numbers, bytes become hex, a
    short_channel_id its BOLT 7 `BxTxO` form, a struct (payment_data, amp) an object."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, ShortChannelId):
        return str(value)
    if isinstance(value, TlvRecord):
        return {"type": value.type, "value": value.value.hex()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def human_value(value: Any) -> str:
    """One-line rendering of a decoded value for labels."""
    if isinstance(value, bytes):
        return value.hex() if len(value) <= 32 else f"{value[:16].hex()}… ({len(value)} bytes)"
    if isinstance(value, ShortChannelId):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:120]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return " ".join(f"{f.name}={human_value(getattr(value, f.name))}"
                        for f in dataclasses.fields(value))
    return str(value)


def typed_value(schema: TlvSchema, rtype: int, value: bytes, offset: int) -> Any | None:
    """The record decoded with the schema's codec, or None when the type is not in the
    schema or its value does not parse (the caller reports the reason elsewhere). In a hop
    payload a well-known custom record is rendered as its registry entry says."""
    spec = schema.specs.get(rtype)
    if spec is None:
        if schema is not HOP_PAYLOAD_SCHEMA:
            return None
        return custom_records.describe(rtype, value).get("value")
    try:
        check_length(spec, len(value), offset)
        return spec.codec.decode(value, offset)
    except DecodeError:
        return None


def name_of(schema: TlvSchema | None, rtype: int) -> str | None:
    if schema is None:
        return None
    name = schema.name_of(rtype)
    if name is None and schema is HOP_PAYLOAD_SCHEMA:
        name = custom_records.name_of(rtype)
    return name


def payload_fields(payload: HopPayload | None) -> dict[str, Any] | None:
    """The typed fields present, as JSON (absent records and empty record lists left out)."""
    if payload is None:
        return None
    present = ((f.name, getattr(payload, f.name)) for f in dataclasses.fields(payload))
    return {name: jsonable(value) for name, value in present if value is not None and value != ()}


def record_kind(rtype: int) -> str:
    """How the hop payload registry treats a type: known, custom (≥ 2^16) or unknown."""
    if rtype in HOP_PAYLOAD_SCHEMA.specs:
        return "known"
    return "custom" if rtype >= 1 << 16 else "unknown"


# --- TLV records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordView:
    """One record of a stream with its position: `offset` is where its type starts, `length`
    the length of its value, both as the caller's `base` places the stream."""

    type: int
    offset: int
    value_offset: int
    raw: bytes
    value: bytes

    def name(self, schema: TlvSchema | None) -> str | None:
        return name_of(schema, self.type)

    def to_json(self, schema: TlvSchema | None, *, decode: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "name": self.name(schema),
            "value": self.value.hex(),
            "offset": self.offset,
            "length": len(self.value),
        }
        if decode and schema is not None:
            out["kind"] = record_kind(self.type)
            out["decoded"] = jsonable(typed_value(schema, self.type, self.value,
                                                  self.value_offset))
        return out


def record_views(data: bytes, base: int = 0) -> list[RecordView]:
    """Schema-less split of a TLV stream; raises `TlvError` where BOLT 1 says it must."""
    return [
        RecordView(t, base + start, base + v0, data[start:v1], data[v0:v1])
        for t, start, v0, v1 in iter_records(data, base)
    ]


def record_label(view: RecordView, schema: TlvSchema | None) -> str:
    """`type 2 amt_to_forward len 3 = 10000`."""
    name = view.name(schema)
    parts = [f"type {view.type}"]
    if name:
        parts.append(name)
    elif schema is not None:
        parts.append(f"({record_kind(view.type)}, {'odd' if view.type & 1 else 'even'})")
    parts.append(f"len {len(view.value)}")
    label = " ".join(parts)
    if schema is not None and name:
        decoded = typed_value(schema, view.type, view.value, view.value_offset)
        label += " = " + (human_value(decoded) if decoded is not None else "(does not parse)")
    return label


def record_spans(views: Iterable[RecordView], schema: TlvSchema | None) -> list[Span]:
    return [Span(v.offset, v.raw, record_label(v, schema)) for v in views]


# --- packets -------------------------------------------------------------------------------


def packet_spans(packet: OnionPacket) -> list[Span]:
    """BOLT 4 › Packet Structure: version ‖ public_key ‖ hop_payloads ‖ hmac."""
    area = packet.payload_area
    return [
        Span(0, bytes((packet.version,)), f"version {packet.version}"),
        Span(1, packet.public_key, "public_key (ephemeral)"),
        Span(34, packet.hop_payloads, f"hop_payloads ({area} bytes, encrypted)"),
        Span(34 + area, packet.hmac, "hmac"),
    ]


def frame_spans(
    length_prefix: bytes, views: Sequence[RecordView], payload_end: int, next_hmac: bytes,
    schema: TlvSchema | None,
) -> list[Span]:
    """A decrypted hop frame: BigSize length ‖ payload records ‖ the HMAC for the next hop."""
    final = next_hmac == bytes(HMAC_SIZE)
    spans = [Span(0, length_prefix, f"length {payload_end - len(length_prefix)}")]
    spans += record_spans(views, schema)
    label = "hmac (all zero: final hop)" if final else "hmac (for the next hop)"
    spans.append(Span(payload_end, next_hmac, label))
    return spans


# --- the dump ------------------------------------------------------------------------------


def dump(spans: Iterable[Span], max_lines: int = 4) -> list[str]:
    """The annotated hex dump; a span of more than `max_lines` lines keeps its first
    `max_lines - 1` and says how many bytes it leaves out."""
    out = [f"{'offset':>6}  {'bytes':<{2 * BYTES_PER_LINE}}  field"]
    for span in spans:
        chunks = [span.data[i : i + BYTES_PER_LINE]
                  for i in range(0, len(span.data), BYTES_PER_LINE)] or [b""]
        shown = chunks if len(chunks) <= max_lines else chunks[: max(1, max_lines - 1)]
        for i, chunk in enumerate(shown):
            label = span.label if i == 0 else ""
            line = f"{span.offset + i * BYTES_PER_LINE:>6}  {chunk.hex():<{2 * BYTES_PER_LINE}}"
            out.append(f"{line}  {label}".rstrip())
        if len(shown) < len(chunks):
            left = len(span.data) - len(shown) * BYTES_PER_LINE
            out.append(f"{'':>6}  … {left} more bytes")
    return out


# --- colour --------------------------------------------------------------------------------


class Style:
    """ANSI colour for a terminal, nothing otherwise: plain when stdout is not a terminal,
    when NO_COLOR is set (https://no-color.org) or with --no-color. A handful of SGR codes
    is all a dump needs, so no rendering library is pulled in for it."""

    _CODES: ClassVar[dict[str, str]] = {"dim": "2", "name": "36", "value": "32", "bad": "1;31",
                                        "head": "1"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: Any, no_color: bool = False) -> Style:
        import os

        isatty = getattr(stream, "isatty", None)
        tty = bool(isatty is not None and isatty())
        return cls(tty and not no_color and not os.environ.get("NO_COLOR"))

    def __call__(self, kind: str, text: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{self._CODES[kind]}m{text}\x1b[0m"


# --- explain trees -------------------------------------------------------------------------

SHOWN_BYTES = 16
ERROR_MARK = "=>"


def tree_lines(fields: Sequence[Any], style: Style, depth: int = 0,
               profile: str | None = None) -> list[str]:
    """One line per field: marker, offset, length, the first bytes, the indented name and
    its meaning, and the profile that names it where that differs from its parent's (a
    record of BOLT 4 as written says nothing). The field where parsing failed carries the
    `=>` marker."""
    out: list[str] = []
    for f in fields:
        shown = f.raw[:SHOWN_BYTES].hex() + ("…" if f.length > SHOWN_BYTES else "")
        mark = ERROR_MARK if f.error else "  "
        name = f"{'  ' * depth}{f.name}"
        meaning = f.meaning + (" [decrypted]" if f.decrypted else "")
        own = getattr(f, "profile", None)
        if own is not None and own != (profile or "bolt"):
            meaning += f" [profile {own}]"
        line = (f"{style('bad', mark) if f.error else mark}{style('dim', f'{f.offset:>6}')} "
                f"{f.length:>5}  {shown:<{2 * SHOWN_BYTES + 1}}  {style('name', name)}")
        if meaning:
            line += ": " + (style("bad", meaning) if f.error else meaning)
        out.append(line)
        out += tree_lines(f.children, style, depth + 1, own or profile)
    return out


def explanation_lines(ex: Any, style: Style) -> list[str]:
    """The whole human dump of an `Explanation`: heading, field tree, notes, verdict."""
    head = f"{ex.kind}, {len(ex.data)} bytes"
    if ex.guess:
        head += f" (guessed: {ex.guess})"
    lines = [style("head", head),
             style("dim", f"  {'offset':>6} {'len':>5}  {'bytes':<{2 * SHOWN_BYTES + 1}}  field")]
    lines += tree_lines(ex.fields, style)
    lines += [f"note: {n}" for n in ex.notes]
    err = ex.error
    if err is None:
        lines.append(style("value", "every byte parsed"))
    else:
        byte = ex.data[err.offset : err.offset + 1].hex() or "end of input"
        lines.append(style("bad", f"error at offset {err.offset} (byte {byte}): {err.rule}"))
        lines.append(f"  {err.message} [{err.section}]")
    return lines


# --- what `onion peel` adds at a hop inside a blinded route ------------------------------


def blinding_json(hop: ProcessedHop | None) -> dict[str, Any]:
    """The route-blinding fields of `onion peel --json` (null outside a blinded route, or
    when the hop was refused)."""
    data = None if hop is None else hop.encrypted_data
    return {
        "encrypted_data": None if data is None else data.to_json(),
        "next_path_key": (None if hop is None or hop.next_path_key is None
                          else hop.next_path_key.hex()),
        "amt_to_forward": None if hop is None else hop.amt_to_forward,
        "outgoing_cltv_value": None if hop is None else hop.outgoing_cltv_value,
    }


def blinding_text(hop: ProcessedHop | None) -> list[str]:
    fields = blinding_json(hop)
    if fields["encrypted_data"] is None:
        return []
    return [f"{name}: {value}" for name, value in fields.items()]


def attribution_json(hops: tuple[HopAttribution, ...] | None) -> list[dict[str, Any]] | None:
    if hops is None:
        return None
    return [{"hop_index": h.hop_index, "hold_time_ms": h.hold_time_ms, "hmac_ok": h.hmac_ok}
            for h in hops]
