"""TLV streams (BOLT 1 › Type-Length-Value Format) and the typed-record schema built on them.

`decode_stream` enforces the structural rules every reader MUST apply (truncation, minimal
BigSize, strictly increasing types); `TlvSchema` adds typed codecs per known type and the
"it's ok to be odd" rule. Every length read from the wire is compared with the bytes actually
present before anything is sliced, so a hostile length never drives an allocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

from ._bigsize import decode_bigsize, decode_tu, encode_bigsize, encode_tu
from ._crypto import is_valid_point
from ._errors import BigSizeError, DecodeError, EncodeError, TlvError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class TlvRecord:
    type: int
    value: bytes


# BigSize failure reason → stream failure reason, per position (BOLT 1 › Appendix B names).
_TYPE_REASON = {"truncated": "type_truncated", "non_canonical": "type_not_minimal"}
_LENGTH_REASON = {
    "empty_input": "length_missing",
    "truncated": "length_truncated",
    "non_canonical": "length_not_minimal",
}


def _bigsize_in_stream(
    data: bytes | memoryview, pos: int, what: str, reasons: Mapping[str, str], base: int,
    rtype: int | None = None,
) -> tuple[int, int]:
    try:
        return decode_bigsize(data, pos, what)
    except BigSizeError as exc:
        reason = reasons[exc.reason or ""]
        owner = "" if rtype is None else f" of type {rtype}"
        raise TlvError(
            f"TLV {what}{owner}: {reason.split('_', 1)[1].replace('_', ' ')} at offset "
            f"{base + pos}",
            field=what,
            offset=base + pos,
            tlv_type=rtype,
            reason=reason,
        ) from None


def iter_records(data: bytes | memoryview, base: int = 0) -> list[tuple[int, int, int, int]]:
    """Split a stream into (type, record_start, value_start, value_end), enforcing BOLT 1.

    `base` is added to every offset reported in errors, so a caller that holds the stream at a
    position inside a larger buffer reports positions in that buffer.
    """
    out: list[tuple[int, int, int, int]] = []
    pos, end, last = 0, len(data), -1
    while pos < end:
        start = pos
        # Nearly every type and length fits the one-byte BigSize form: read it in place and
        # leave the prefixed forms, and every error, to the full reader.
        rtype = data[pos]
        if rtype < 0xFD:
            pos += 1
        else:
            rtype, pos = _bigsize_in_stream(data, pos, "type", _TYPE_REASON, base)
        if rtype <= last:
            reason = "duplicate_type" if rtype == last else "not_strictly_increasing"
            raise TlvError(
                f"type {rtype} after type {last}: types must strictly increase",
                field="type",
                offset=base + start,
                tlv_type=rtype,
                reason=reason,
            )
        if pos < end and data[pos] < 0xFD:
            length = data[pos]
            pos += 1
        else:
            length, pos = _bigsize_in_stream(data, pos, "length", _LENGTH_REASON, base, rtype)
        if length > end - pos:
            reason = "value_missing" if pos == end else "value_truncated"
            raise TlvError(
                f"type {rtype}: length {length} runs past the end ({end - pos} bytes left)",
                field="value",
                offset=base + pos,
                tlv_type=rtype,
                reason=reason,
            )
        out.append((rtype, start, pos, pos + length))
        pos += length
        last = rtype
    return out


def decode_stream(data: bytes | memoryview, base: int = 0) -> tuple[TlvRecord, ...]:
    """Schema-less decode: every record kept, parity not judged (the schema's job)."""
    raw = bytes(data)
    return tuple(TlvRecord(t, raw[v0:v1]) for t, _, v0, v1 in iter_records(raw, base))


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


# --- typed field codecs (BOLT 1 › Fundamental Types) ---------------------------------------


class Codec(Protocol[T]):
    """Decodes a whole record value (already length-checked) and encodes it back."""

    @property
    def min_len(self) -> int: ...

    @property
    def max_len(self) -> int | None: ...

    def decode(self, value: bytes, offset: int) -> T: ...

    def encode(self, value: T) -> bytes: ...


def _value_error(msg: str, offset: int, reason: str) -> DecodeError:
    return DecodeError(msg, field="value", offset=offset, reason=reason)


class RawBytes:
    """Opaque bytes (encrypted_recipient_data, payment_metadata, custom records)."""

    def __init__(self, min_len: int = 0, max_len: int | None = None) -> None:
        self.min_len, self.max_len = min_len, max_len

    def decode(self, value: bytes, offset: int) -> bytes:
        return value

    def encode(self, value: bytes) -> bytes:
        return bytes(value)


class FixedBytes(RawBytes):
    def __init__(self, size: int, check: Callable[[bytes], bool] | None = None,
                 what: str = "bytes") -> None:
        super().__init__(size, size)
        self._check, self._what = check, what

    def decode(self, value: bytes, offset: int) -> bytes:
        if self._check is not None and not self._check(value):
            raise _value_error(f"not a valid {self._what}", offset, f"invalid_{self._what}")
        return value

    def encode(self, value: bytes) -> bytes:
        if len(value) != self.min_len:
            raise EncodeError(f"{self._what} must be {self.min_len} bytes", reason="range")
        # A writer must not emit what every reader is bound to refuse (e.g. an invalid point).
        if self._check is not None and not self._check(value):
            raise EncodeError(f"not a valid {self._what}", reason=f"invalid_{self._what}")
        return bytes(value)


class UInt:
    """Fixed-width big-endian unsigned integer (u16/u32/u64)."""

    def __init__(self, width: int) -> None:
        self.min_len = self.max_len = width
        self.width = width

    def decode(self, value: bytes, offset: int) -> int:
        return int.from_bytes(value, "big")

    def encode(self, value: int) -> bytes:
        if not 0 <= value < 1 << (8 * self.width):
            raise EncodeError(f"u{8 * self.width} cannot hold {value}", reason="range")
        return value.to_bytes(self.width, "big")


class TruncatedUInt:
    """tu16/tu32/tu64: only ever the last field of a record, its length delimits it."""

    def __init__(self, width: int) -> None:
        self.min_len, self.max_len, self.width = 0, width, width

    def decode(self, value: bytes, offset: int) -> int:
        return decode_tu(value, self.width, offset=offset)

    def encode(self, value: int) -> bytes:
        return encode_tu(value, self.width)


class ShortChannelId(NamedTuple):
    """BOLT 7 short_channel_id: block height, transaction index, output index."""

    block_height: int
    tx_index: int
    output_index: int

    def __str__(self) -> str:
        return f"{self.block_height}x{self.tx_index}x{self.output_index}"

    def to_int(self) -> int:
        return (self.block_height << 40) | (self.tx_index << 16) | self.output_index

    @classmethod
    def from_int(cls, value: int) -> ShortChannelId:
        return cls(value >> 40, (value >> 16) & 0xFFFFFF, value & 0xFFFF)


class ShortChannelIdCodec:
    min_len = max_len = 8

    def decode(self, value: bytes, offset: int) -> ShortChannelId:
        return ShortChannelId.from_int(int.from_bytes(value, "big"))

    def encode(self, value: ShortChannelId) -> bytes:
        if not (value.block_height < 1 << 24 and value.tx_index < 1 << 24
                and value.output_index < 1 << 16) or min(value) < 0:
            raise EncodeError(f"short_channel_id {value} out of range", reason="range")
        return value.to_int().to_bytes(8, "big")


POINT = FixedBytes(33, is_valid_point, "point")
SHA256 = FixedBytes(32, what="sha256")
U16, U32, U64 = UInt(2), UInt(4), UInt(8)
TU16, TU32, TU64 = TruncatedUInt(2), TruncatedUInt(4), TruncatedUInt(8)
SCID = ShortChannelIdCodec()
BYTES = RawBytes()


class Struct:
    """A record of several fields; only the last may vary in size (BOLT 1 › Requirements).

    `factory` builds the value (usually a frozen dataclass) from the decoded fields in order;
    encoding reads them back by attribute name.
    """

    def __init__(
        self, fields: Sequence[tuple[str, Codec[Any]]], factory: Callable[..., Any]
    ) -> None:
        self.fields = tuple(fields)
        self.factory = factory
        self._fixed = sum(c.min_len for _, c in self.fields[:-1])
        last = self.fields[-1][1]
        self.min_len: int = self._fixed + last.min_len
        self.max_len: int | None = None if last.max_len is None else self._fixed + last.max_len
        # Where each field sits (the last runs to the end) and its decoder; bytes that need no
        # check are taken as slices without a call.
        layout: list[tuple[int, int | None, Callable[[bytes, int], Any] | None]] = []
        pos = 0
        for i, (_, codec) in enumerate(self.fields):
            end = None if i == len(self.fields) - 1 else pos + codec.min_len
            plain = type(codec) in (RawBytes, FixedBytes) and getattr(codec, "_check", None) is None
            layout.append((pos, end, None if plain else codec.decode))
            pos = end if end is not None else pos
        self._layout = tuple(layout)

    def decode(self, value: bytes, offset: int) -> Any:
        return self.factory(*[value[a:b] if dec is None else dec(value[a:b], offset + a)
                              for a, b, dec in self._layout])

    def encode(self, value: Any) -> bytes:
        return b"".join(codec.encode(getattr(value, name)) for name, codec in self.fields)


# --- schema --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """One registry entry: a TLV type, its spec name, and the codec of its value."""

    type: int
    name: str
    codec: Codec[Any]


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

    def name_of(self, rtype: int) -> str | None:
        spec = self.specs.get(rtype)
        return spec.name if spec else None

    def decode(self, data: bytes | memoryview, base: int = 0) -> DecodedTlv:
        raw = bytes(data)
        values: dict[int, Any] = {}
        offsets: dict[int, int] = {}
        unknown: list[TlvRecord] = []
        table = self._table
        for rtype, start, v0, v1 in iter_records(raw, base):
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
