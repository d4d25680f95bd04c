"""TLV streams (BOLT 1 › Type-Length-Value Format) and the typed-record schema built on them.

`decode_stream` enforces the structural rules every reader MUST apply (truncation, minimal
BigSize, strictly increasing types); `TlvSchema` adds typed codecs per known type and the
"it's ok to be odd" rule. Every length read from the wire is compared with the bytes actually
present before anything is sliced, so a hostile length never drives an allocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sphinxamp.errors import DecodeError, EncodeError, TlvError
from sphinxamp.wire._bigsize import encode_bigsize
from sphinxamp.wire._tlv_codecs import (
    BYTES,
    POINT,
    SCID,
    SHA256,
    TU16,
    TU32,
    TU64,
    U16,
    U32,
    U64,
    Codec,
    FixedBytes,
    RawBytes,
    ShortChannelId,
    ShortChannelIdCodec,
    Struct,
    TruncatedUInt,
    UInt,
)
from sphinxamp.wire._tlv_fast import Plan, build_decoder
from sphinxamp.wire._tlv_field import fast_field, fill_class


@dataclass(frozen=True, slots=True)
class TlvRecord:
    type: int
    value: bytes


# A prefixed BigSize (BOLT 1 › Appendix A): its first byte gives (bytes it takes with that
# byte, the least value that form may hold: anything less is not minimal).
_WIDE = {0xFD: (3, 0xFD), 0xFE: (5, 0x10000), 0xFF: (9, 0x100000000)}
# The words a refused type or length is described by, per reason (BOLT 1 › Appendix B names).
_WORDS = {
    "type_truncated": "truncated",
    "type_not_minimal": "not minimal",
    "length_missing": "missing",
    "length_truncated": "truncated",
    "length_not_minimal": "not minimal",
}


def _bigsize_refused(reason: str, at: int, rtype: int | None = None) -> TlvError:
    """The error of a type (`rtype` None) or a length that is not a valid BigSize at `at`."""
    what = "type" if rtype is None else "length"
    owner = "" if rtype is None else f" of type {rtype}"
    return TlvError(f"TLV {what}{owner}: {_WORDS[reason]} at offset {at}", field=what,
                    offset=at, tlv_type=rtype, reason=reason)


def _wide(data: bytes | memoryview, pos: int, base: int,
          rtype: int | None = None) -> tuple[int, int]:
    """The prefixed BigSize at `pos` (a type when `rtype` is None, else the length of that
    type), checked for truncation, then minimality; (value, offset just past it)."""
    width, least = _WIDE[data[pos]]
    nxt = pos + width
    if nxt > len(data):
        raise _bigsize_refused("type_truncated" if rtype is None else "length_truncated",
                               base + pos, rtype)
    value = int.from_bytes(data[pos + 1:nxt], "big")
    if value < least:
        raise _bigsize_refused("type_not_minimal" if rtype is None else "length_not_minimal",
                               base + pos, rtype)
    return value, nxt


def iter_records(data: bytes | memoryview, base: int = 0) -> list[tuple[int, int, int, int]]:
    """Split a stream into (type, record_start, value_start, value_end), enforcing BOLT 1.

    `base` is added to every offset reported in errors, so a caller that holds the stream at a
    position inside a larger buffer reports positions in that buffer.
    """
    return _walk(data, base, False)


def _walk(data: bytes | memoryview, base: int, records: bool) -> list[Any]:
    """`iter_records`, or with `records` the records themselves (a `TlvRecord` per record,
    its value a slice of `data`): one pass that stops at the first broken rule and raises it."""
    out: list[Any] = []
    pos, end, last = 0, len(data), -1
    while pos < end:
        start = pos
        # Nearly every type and length fits the one-byte BigSize form: read it in place, the
        # prefixed forms through `_wide`. Each refusal is one error built where it is found.
        rtype = data[pos]
        if rtype < 0xFD:
            pos += 1
        else:
            rtype, pos = _wide(data, pos, base)
        if rtype <= last:
            raise TlvError(
                f"type {rtype} after type {last}: types must strictly increase",
                field="type",
                offset=base + start,
                tlv_type=rtype,
                reason="duplicate_type" if rtype == last else "not_strictly_increasing",
            )
        try:  # no test on the way in: a stream that ends here is rare
            length = data[pos]
        except IndexError:
            raise _bigsize_refused("length_missing", base + pos, rtype) from None
        if length < 0xFD:
            pos += 1
        else:
            length, pos = _wide(data, pos, base, rtype)
        stop = pos + length
        if stop > end:
            reason = "value_missing" if pos == end else "value_truncated"
            raise TlvError(
                f"type {rtype}: length {length} runs past the end ({end - pos} bytes left)",
                field="value",
                offset=base + pos,
                tlv_type=rtype,
                reason=reason,
            )
        if records:  # filled through a plain twin of its slots (`fill_class`)
            rec = _RecordFill()
            rec.type = rtype
            rec.value = data[pos:stop]
            rec.__class__ = TlvRecord
            out.append(rec)
        else:
            out.append((rtype, start, pos, stop))
        pos = stop
        last = rtype
    return out


# Unknown records are filled as a plain twin of TlvRecord and then given its class
# (`fill_class`): one slot store each instead of a frozen setter call.
_RecordFill: Any = fill_class(TlvRecord, ("type", "value"))


def decode_stream(data: bytes | memoryview, base: int = 0) -> tuple[TlvRecord, ...]:
    """Schema-less decode: every record kept, parity not judged (the schema's job).

    One checked pass: most streams a reader refuses are refused once, where the rule breaks,
    rather than by a fast pass and then a checked one."""
    raw = bytes(data)
    if _RecordFill is None:  # a TlvRecord CPython would not let a twin become
        return tuple(TlvRecord(t, raw[v0:v1]) for t, _, v0, v1 in _walk(raw, base, False))
    return tuple(_walk(raw, base, True))


def encode_stream(records: Iterable[TlvRecord]) -> bytes:
    parts: list[bytes] = []
    last = -1
    for rec in records:
        if rec.type <= last:
            raise EncodeError(
                f"type {rec.type} after {last}: types must strictly increase",
                field="type",
                tlv_type=rec.type,
                reason="duplicate_type" if rec.type == last else "not_strictly_increasing",
            )
        parts += (encode_bigsize(rec.type), encode_bigsize(len(rec.value)), rec.value)
        last = rec.type
    return b"".join(parts)


# --- schema --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """One registry entry: a TLV type, its spec name, the codec of its value, and what it
    holds in words (shown by `explain`)."""

    type: int
    name: str
    codec: Codec[Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class DecodedTlv:
    """A stream decoded against a schema; `offsets` holds where every record (known or not)
    starts, for errors that point at a record after decoding succeeded."""

    values: dict[int, Any]
    unknown: tuple[TlvRecord, ...]
    offsets: dict[int, int] = field(default_factory=dict)


def check_length(spec: RecordSpec, length: int, offset: int) -> None:
    codec = spec.codec
    if length < codec.min_len or (codec.max_len is not None and length > codec.max_len):
        reason = "length_below_fixed_size" if length < codec.min_len else "length_above_fixed_size"
        raise TlvError(
            f"{spec.name} (type {spec.type}): length {length} outside "
            f"{codec.min_len}..{codec.max_len if codec.max_len is not None else 'any'}",
            field=spec.name, offset=offset, tlv_type=spec.type, reason=reason,
        )


class TlvSchema:
    """A namespace of known records: decode applies codecs, refuses unknown even types."""

    def __init__(self, name: str, specs: Iterable[RecordSpec],
                 even_ok: Callable[[int], bool] | None = None) -> None:
        self.name = name
        self.specs: dict[int, RecordSpec] = {s.type: s for s in specs}
        self.by_name: dict[str, RecordSpec] = {s.name: s for s in self.specs.values()}
        # What the decode loop needs per type, looked up once: spec, length bounds, decoder.
        self._table = {
            t: (s, s.codec.min_len, 1 << 64 if s.codec.max_len is None else s.codec.max_len,
                s.codec.decode)
            for t, s in self.specs.items()
        }
        # Some namespaces let a higher layer judge unknown even types (lnd's custom range).
        self.even_ok = even_ok
        fields = tuple((t, self.specs[t].name, fast_field(self.specs[t].codec))
                       for t in sorted(self.specs))
        self._bits = {t: 1 << i for i, (t, _, _) in enumerate(fields)}
        self._plans = (Plan(name, fields, even_ok, TlvRecord, DecodeError),
                       Plan(name, fields, even_ok, TlvRecord, DecodeError, by_name=True,
                            offsets=False))
        self._fast = build_decoder(self._plans[0])
        # `decode_named`'s fast path, for a hot caller that falls back to `decode_named` itself
        # when it returns None (bytes in; offsets left to `offsets`).
        self.fast_named = build_decoder(self._plans[1])

    def name_of(self, rtype: int) -> str | None:
        spec = self.specs.get(rtype)
        return spec.name if spec else None

    def decode(self, data: bytes | memoryview, base: int = 0) -> DecodedTlv:
        raw = bytes(data)
        fast = self._fast(raw, base)
        if fast is None:  # something is wrong: the checked decoder says exactly what
            return self._decode_checked(raw, base)
        values, unknown, offsets, _ = fast
        return DecodedTlv(values, tuple(unknown), offsets or {})

    def decode_named(
        self, data: bytes | memoryview, base: int = 0
    ) -> tuple[dict[str, Any], list[TlvRecord], dict[int, int] | None, int]:
        """`decode` with the known values under their record names, for a caller that builds
        an object of them: (values by name, unknown records, record offsets by type or None
        (then `offsets` gives them), the mask of the known types present: `bit(type)` for
        each)."""
        raw = bytes(data)
        fast = self.fast_named(raw, base)
        if fast is not None:
            return fast
        checked = self._decode_checked(raw, base)
        named = {self.specs[t].name: v for t, v in checked.values.items()}
        mask = sum(self.bit(t) for t in checked.values)
        return named, list(checked.unknown), checked.offsets, mask

    @staticmethod
    def offsets(data: bytes | memoryview, base: int = 0) -> dict[int, int]:
        """Where each record of a well-formed stream starts (plus `base`), by type."""
        return {t: base + start for t, start, _, _ in iter_records(data)}

    def bit(self, rtype: int) -> int:
        """The bit of a known type in `decode_named`'s mask (its rank among the known types);
        0 for a type the schema does not know."""
        return self._bits.get(rtype, 0)

    def _decode_checked(self, raw: bytes, base: int) -> DecodedTlv:
        values: dict[int, Any] = {}
        offsets: dict[int, int] = {}
        unknown: list[TlvRecord] = []
        table = self._table
        for rtype, start, v0, v1 in _walk(raw, base, False):
            offsets[rtype] = base + start
            entry = table.get(rtype)
            if entry is None:
                if not rtype & 1 and not (self.even_ok and self.even_ok(rtype)):
                    raise TlvError(
                        f"unknown even type {rtype} in {self.name}",
                        field="type", offset=base + start, tlv_type=rtype,
                        reason="unknown_even_type",
                    )
                unknown.append(TlvRecord(rtype, raw[v0:v1]))
                continue
            spec, lo, hi, decode = entry
            if not lo <= v1 - v0 <= hi:
                check_length(spec, v1 - v0, base + start)
            try:
                values[rtype] = decode(raw[v0:v1], base + v0)
            except DecodeError as exc:
                raise TlvError(
                    f"{spec.name} (type {rtype}): {exc.message}", field=spec.name,
                    offset=base + start, tlv_type=rtype, reason=exc.reason,
                ) from None
        return DecodedTlv(values, tuple(unknown), offsets)

    def encode(self, values: Mapping[int, Any], unknown: Iterable[TlvRecord] = ()) -> bytes:
        records = []
        for rtype, value in values.items():
            spec = self.specs.get(rtype)
            if spec is None:
                raise EncodeError(f"type {rtype} is not a record of {self.name}",
                                  field="type", tlv_type=rtype, reason="unknown_type")
            records.append(TlvRecord(rtype, spec.codec.encode(value)))
        records.extend(unknown)
        records.sort(key=lambda r: r.type)
        return encode_stream(records)


__all__ = [
    "BYTES",
    "POINT",
    "SCID",
    "SHA256",
    "TU16",
    "TU32",
    "TU64",
    "U16",
    "U32",
    "U64",
    "Codec",
    "DecodedTlv",
    "FixedBytes",
    "RawBytes",
    "RecordSpec",
    "ShortChannelId",
    "ShortChannelIdCodec",
    "Struct",
    "TlvRecord",
    "TlvSchema",
    "TruncatedUInt",
    "UInt",
    "check_length",
    "decode_stream",
    "encode_stream",
    "iter_records",
]
