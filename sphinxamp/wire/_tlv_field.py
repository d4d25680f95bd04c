"""How the fast TLV decoders read one known record's value (`Field`), and the checks every
value passes before it is written into a decoder's source (`_tlv_fast`)."""

from __future__ import annotations

import functools
import keyword
from collections.abc import Callable, Sequence
from typing import Any

from sphinxamp.errors import InvalidArgument
from sphinxamp.wire._tlv_codecs import (
    FixedBytes,
    RawBytes,
    ShortChannelId,
    ShortChannelIdCodec,
    Struct,
    TruncatedUInt,
    UInt,
)

# How a known record's value is read.
K_CALL, K_RAW, K_TU, K_UINT, K_SCID, K_STRUCT = range(6)
_KIND_NAMES = ("call", "raw", "tu", "uint", "scid", "struct")

# A BigSize length or type never exceeds 8 bytes (BOLT 1 › Appendix A).
_MAX = (1 << 64) - 1

class Field:
    """How one value is read: `kind`, length bounds (`hi` None = unbounded), the codec's
    decode (K_CALL), the value class (K_SCID, K_STRUCT) and, for K_STRUCT, its fields as
    (start, end or None for the rest, Field, slot setter), their names, and the class that
    fills them (`fill_class`; None: the slot setters do)."""

    def __init__(self, kind: int, lo: int, hi: int | None, decode: Callable[[bytes, int], Any],
                 cls: Any = None, parts: Sequence[tuple[int, int | None, Field, Any]] = (),
                 names: Sequence[str] = (), fill: type | None = None) -> None:
        self.kind, self.lo, self.hi, self.decode, self.cls = kind, lo, hi, decode, cls
        self.parts, self.names, self.fill = tuple(parts), tuple(names), fill


@functools.cache
def fill_class(cls: Any, names: tuple[str, ...]) -> type | None:
    """A plain class with the slots of `cls` (slotted, its slots exactly `names`), whose
    instances are filled by attribute stores and then given `cls` as their class: CPython
    lets an object change between classes of the same layout, and a store to a plain slot is
    one instruction where a frozen `cls` refuses it and its slot setters cost a call each.
    None when `cls` is no such class (the probe below is what CPython allows)."""
    slots = vars(cls).get("__slots__") if isinstance(cls, type) else None
    if (type(slots) is not tuple or slots != names or cls.__bases__ != (object,)
            or not all(plain_identifier(name) for name in names)):
        return None
    fill = type(f"{cls.__name__}Fill", (), {"__slots__": slots, "__module__": __name__})
    try:
        fill().__class__ = cls
    except TypeError:
        return None
    return fill


def fast_field(codec: Any) -> Field:
    """How the fast decoder reads a codec's values: inline for the plain codecs of
    `_tlv_codecs`, through `codec.decode` for any other."""
    kind: int = K_CALL
    cls: Any = None
    parts: list[tuple[int, int | None, Field, Any]] = []
    if type(codec) is TruncatedUInt:
        kind = K_TU
    elif type(codec) is UInt:
        kind = K_UINT
    elif type(codec) is ShortChannelIdCodec:
        kind, cls = K_SCID, ShortChannelId
    elif type(codec) in (RawBytes, FixedBytes) and getattr(codec, "_check", None) is None:
        kind = K_RAW
    elif type(codec) is Struct and codec._setters is not None:
        kind, cls = K_STRUCT, codec.factory
        parts = [(a, b, fast_field(c), put) for (a, b, _), (_, c), put
                 in zip(codec._layout, codec.fields, codec._setters, strict=True)]
        names = tuple(name for name, _ in codec.fields)
        return Field(kind, codec.min_len, codec.max_len, codec.decode, cls, parts, names,
                     fill_class(cls, names))
    return Field(kind, codec.min_len, codec.max_len, codec.decode, cls, parts)


# --- validation: nothing reaches generated source unchecked -------------------------------


def checked_count(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= _MAX:
        raise InvalidArgument(f"{what} must be an int in 0..2**64-1, not {value!r}",
                              field=what, reason="range")
    return value


def plain_identifier(name: object) -> str | None:
    """`name` when it may appear in source as it is (a function name part, a comment)."""
    if (type(name) is str and name.isascii() and name.isidentifier()
            and not keyword.iskeyword(name)):
        return name
    return None


def field_shape(f: Field, what: str) -> tuple[Any, ...]:
    """What of a field shapes the code, each value checked: kind, bounds, struct layout."""
    if type(f.kind) is not int or f.kind not in range(len(_KIND_NAMES)):
        raise InvalidArgument(f"{what}: unknown field kind {f.kind!r}", field=what,
                              reason="range")
    lo = checked_count(f.lo, f"{what} min_len")
    hi = None if f.hi is None else checked_count(f.hi, f"{what} max_len")
    if hi is not None and hi < lo:
        raise InvalidArgument(f"{what}: max_len {hi} below min_len {lo}", field=what,
                              reason="range")
    parts = tuple(
        (checked_count(a, f"{what} part {j} start"),
         None if b is None else checked_count(b, f"{what} part {j} end"),
         field_shape(part, f"{what} part {j}"))
        for j, (a, b, part, _) in enumerate(f.parts if f.kind == K_STRUCT else ()))
    if f.kind != K_STRUCT or f.fill is None:
        return (_KIND_NAMES[f.kind], lo, hi, parts)
    names = tuple(plain_identifier(name) for name in f.names)
    if len(names) != len(parts) or None in names:
        raise InvalidArgument(f"{what}: a filled struct needs a plain name per field",
                              field=what, reason="name")
    return (_KIND_NAMES[f.kind], lo, hi, parts, ("filled", names))
