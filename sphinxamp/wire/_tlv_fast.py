"""The fast path of a schema decode (`TlvSchema.decode`): one pass over a well-formed stream.

For each schema a decoder is generated (as `dataclasses` and `namedtuple` generate their
methods) with one branch per known record, reading its value inline: truncated and
fixed-width integers, channel ids, opaque bytes and structs of those, with a codec call only
for values that need a check of their own (a point). It accepts exactly what the checked
decoder accepts and returns the same values; at the first byte it does not like (any BOLT 1
rule broken, a length outside its record's bounds, a value its codec refuses) it returns
None, and the caller reruns the checked decoder, which raises the precise error. Errors are
rare; a valid stream never pays for them, and the checked decoder stays the one statement of
the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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

_MIN_WIDE = {0xFD: (2, 0xFD), 0xFE: (4, 0x10000), 0xFF: (8, 0x100000000)}


def _wide(raw: bytes, pos: int, end: int) -> tuple[int, int]:
    """A BigSize in its prefixed form at `pos`: (value, next position), or (0, -1) when it is
    truncated or not minimal (BOLT 1 › Appendix A)."""
    width, least = _MIN_WIDE[raw[pos]]
    nxt = pos + 1 + width
    if nxt > end:
        return 0, -1
    value = int.from_bytes(raw[pos + 1 : nxt])
    return (value, nxt) if value >= least else (0, -1)


class Field:
    """How one value is read: `kind`, length bounds (`hi` None = unbounded), the codec's
    decode (K_CALL), the value class (K_SCID, K_STRUCT) and, for K_STRUCT, its fields as
    (start, end or None for the rest, Field, slot setter)."""

    def __init__(self, kind: int, lo: int, hi: int | None, decode: Callable[[bytes, int], Any],
                 cls: Any = None, parts: Sequence[tuple[int, int | None, Field, Any]] = ()
                 ) -> None:
        self.kind, self.lo, self.hi, self.decode, self.cls = kind, lo, hi, decode, cls
        self.parts = tuple(parts)


def _length_check(f: Field, length: str) -> str:
    if f.hi is not None and f.lo == f.hi:
        return f"{length} != {f.lo}"
    tests = [f"{length} < {f.lo}"] if f.lo else []
    if f.hi is not None:
        tests.append(f"{length} > {f.hi}")
    return " or ".join(tests)


def _value(f: Field, n: str, src: str, at: str, lines: list[str], ind: str) -> str:
    """Lines reading field `n` from the bytes expression `src` (at stream offset `at`); the
    expression of its value."""
    if f.kind == K_RAW:
        return src
    if f.kind in (K_TU, K_UINT):
        lines.append(f"{ind}v{n} = {src}")
        if f.kind == K_TU:  # a truncated integer with a leading zero is not minimal
            lines.append(f"{ind}if v{n} and not v{n}[0]: return None")
        return f"from_bytes(v{n})"
    if f.kind == K_SCID:
        lines.append(f"{ind}v{n} = from_bytes({src})")
        return f"tuple_new(C{n}, (v{n} >> 40, (v{n} >> 16) & 0xFFFFFF, v{n} & 0xFFFF))"
    if f.kind == K_STRUCT:
        lines.append(f"{ind}o{n} = new(C{n})")
        for j, (a, b, part, _) in enumerate(f.parts):
            m = f"{n}_{j}"
            stop = "stop" if b is None else f"{at} + {b}"
            got = _value(part, m, f"raw[{at} + {a}:{stop}]", f"{at} + {a}", lines, ind)
            lines.append(f"{ind}S{m}(o{n}, {got})")
        return f"o{n}"
    lines += [f"{ind}try: v{n} = D{n}({src}, base + {at})", f"{ind}except fallible: return None"]
    return f"v{n}"


def _namespace(f: Field, n: str, ns: dict[str, Any]) -> None:
    ns[f"C{n}"], ns[f"D{n}"] = f.cls, f.decode
    for j, (_, _, part, put) in enumerate(f.parts):
        ns[f"S{n}_{j}"] = put
        _namespace(part, f"{n}_{j}", ns)


def _unknown_record(record: Any, ns: dict[str, Any]) -> list[str]:
    """Lines appending an unknown record; a slotted two-field record class (type, value) is
    filled in directly, as `_value` fills structs."""
    fields = list(getattr(record, "__dataclass_fields__", ()))
    if fields != ["type", "value"] or "__slots__" not in vars(record):
        return ["            unknown.append(record(rtype, raw[pos:stop]))"]
    ns["set_type"], ns["set_value"] = vars(record)["type"].__set__, vars(record)["value"].__set__
    return ["            r = new(record); set_type(r, rtype); set_value(r, raw[pos:stop])",
            "            unknown.append(r)"]


def _loop(body: list[str], unknown: list[str], unknown_ok: str, offsets: bool) -> str:
    """The decoder's source around the per-record branches `body`: BOLT 1's stream rules (one-
    byte BigSizes inline, the prefixed forms through `wide`), then the record's branch, or
    `unknown` when `unknown_ok` holds. Without `offsets` (a caller that needs them only for an
    error) the lines storing them are left out."""
    keep = "" if offsets else "# "
    return "\n".join([
        "def decode(raw, base):",
        "    end = len(raw); pos = 0; last = -1",
        f"    values = {{}}; offsets = {{}} if {offsets} else None; unknown = []; mask = 0",
        "    while pos < end:",
        "        rtype = raw[pos]",
        "        if rtype < 0xFD:",
        f"            {keep}offsets[rtype] = base + pos",
        "            pos += 1",
        "        else:",
        "            start = pos",
        "            rtype, pos = wide(raw, pos, end)",
        "            if pos < 0: return None",
        f"            {keep}offsets[rtype] = base + start",
        "        if rtype <= last or pos >= end: return None",
        "        length = raw[pos]",
        "        if length < 0xFD: pos += 1",
        "        else:",
        "            length, pos = wide(raw, pos, end)",
        "            if pos < 0: return None",
        "        stop = pos + length",
        "        if stop > end: return None",
        "        if rtype in KNOWN:",
        *(body or ["            pass"]),
        f"        elif {unknown_ok}:",
        *unknown,
        "        else:",
        "            return None",
        "        pos = stop; last = rtype",
        "    return values, unknown, offsets, mask",
    ])


def compile_decoder(
    fields: dict[int, tuple[Any, Field]], even_ok: Callable[[int], bool] | bool | None,
    record: Callable[[int, bytes], Any], fallible: type[Exception], *, offsets: bool = True,
) -> Callable[[bytes, int], tuple[dict[Any, Any], list[Any], dict[int, int] | None, int] | None]:
    """A decoder for the known records `fields` = {type: (key, Field)}: (values by key,
    unknown records in order, record offsets by type (None unless `offsets`), the mask of the
    known types present: bit i for the i-th smallest known type), or None to fall back. An
    unknown even type falls back unless `even_ok` lets it through (True: every type, a
    schema-less read)."""
    ns: dict[str, Any] = {"wide": _wide, "from_bytes": int.from_bytes, "new": object.__new__,
                          "tuple_new": tuple.__new__, "record": record, "even_ok": even_ok,
                          "fallible": fallible, "KNOWN": frozenset(fields)}
    body: list[str] = []
    for i, (rtype, (key, f)) in enumerate(sorted(fields.items())):
        body.append(f"            {'if' if i == 0 else 'elif'} rtype == {rtype}:")
        check = _length_check(f, "length")
        if check:
            body.append(f"                if {check}: return None")
        value = _value(f, str(i), "raw[pos:stop]", "pos", body, " " * 16)
        ns[f"K{i}"] = key
        body.append(f"                values[K{i}] = {value}; mask |= {1 << i}")
        _namespace(f, str(i), ns)
    unknown_ok = ("True" if even_ok is True else "rtype & 1" if even_ok is None or even_ok is False
                  else "rtype & 1 or even_ok(rtype)")
    src = _loop(body, _unknown_record(record, ns), unknown_ok, offsets)
    exec(compile(src, "<sphinxamp.wire._tlv_fast decoder>", "exec"), ns)
    decode: Callable[[bytes, int], Any] = ns["decode"]
    return decode


def fast_field(codec: Any) -> Field:
    """How the generated fast decoder reads a codec's values: inline for the plain codecs of
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
    return Field(kind, codec.min_len, codec.max_len, codec.decode, cls, parts)
