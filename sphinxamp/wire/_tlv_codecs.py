"""Typed field codecs (BOLT 1 › Fundamental Types) and the struct of several fields, on
which `TlvSchema` (`_tlv.py`) decodes records. `_tlv` re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from sphinxamp.errors import DecodeError, EncodeError
from sphinxamp.primitives._crypto import is_valid_point
from sphinxamp.wire._bigsize import decode_tu, encode_tu

T = TypeVar("T")


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


_new = object.__new__
_tuple_new = tuple.__new__


def _slot_setters(factory: Any, names: Sequence[str]) -> tuple[Any, ...] | None:
    """For a slotted dataclass whose fields are exactly `names`, in order: each slot's setter,
    so a decoded value is filled in directly. Its generated `__init__` would only store the
    same arguments, through `object.__setattr__` when frozen, at twice the cost; anything else
    (a class with `__post_init__` or its own `__init__`) keeps being called."""
    fields = getattr(factory, "__dataclass_fields__", None)
    if (fields is None or "__slots__" not in vars(factory) or list(fields) != list(names)
            or hasattr(factory, "__post_init__")):
        return None
    return tuple(vars(factory)[name].__set__ for name in names)


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
        self._setters = _slot_setters(factory, [name for name, _ in self.fields])

    def decode(self, value: bytes, offset: int) -> Any:
        parts = [value[a:b] if dec is None else dec(value[a:b], offset + a)
                 for a, b, dec in self._layout]
        setters = self._setters
        if setters is None:
            return self.factory(*parts)
        obj = _new(self.factory)  # type: ignore[arg-type]  # a class when setters exist
        for put, part in zip(setters, parts, strict=True):
            put(obj, part)
        return obj

    def encode(self, value: Any) -> bytes:
        return b"".join(codec.encode(getattr(value, name)) for name, codec in self.fields)
