"""The fast path of a schema decode (`TlvSchema.decode`): one pass over a well-formed stream.

Each schema gets a decoder with one branch per known record, reading its value inline:
truncated and fixed-width integers, channel ids, opaque bytes and structs of those, with a
codec call only for values that need a check of their own (a point). A record's branch is
found by a few comparisons of its type (halving the known types, then equality tests), and
BigSizes are read inline, so a record costs no Python call but its value's constructors.

It accepts exactly what the checked decoder accepts and returns the same values; at the
first byte it does not like (any BOLT 1 rule broken, a length outside its record's bounds, a
value its codec refuses) it returns None, and the caller reruns the checked decoder, which
raises the precise error. Errors are rare; a valid stream never pays for them, and the
checked decoder stays the one statement of the rules.

Where a decoder comes from (`build_decoder`):

- The schemas the library defines use plain functions checked in as `_tlv_generated.py`,
  written from this module's `Plan.source` by `tools/generate_tlv_decoders.py`. Each is keyed
  by the schema's name and the fingerprint of everything that shapes its code (record types,
  codec kinds and length bounds, struct layouts, unknown-type rule), so a schema whose
  definition changed no longer matches its stale decoder.
- Any other schema (one a caller builds, or a library schema changed since the file was
  written) gets the same source generated at runtime, compiled under a stable pseudo-filename
  that is registered with `linecache`, so tracebacks show its lines.

Either way, every value is validated before it enters source: record types, lengths and
struct offsets must be `int` (not a subclass, not bool) within 0..2**64-1; a schema, record
or slot name appears (in a function name, a comment, a literal key, an attribute store) only
when it is a plain ASCII identifier. Everything else a decoder uses (codec decoders, value
classes, slot setters, other record keys) is an object among its globals, never written into
its source.
"""

from __future__ import annotations
import __future__

import builtins
import hashlib
import linecache
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any

from sphinxamp.errors import InvalidArgument
from sphinxamp.wire._tlv_field import (
    K_RAW,
    K_SCID,
    K_STRUCT,
    K_TU,
    K_UINT,
    Field,
    checked_count,
    field_shape,
    fill_class,
    plain_identifier,
)
from sphinxamp.wire._tlv_generated import DECODERS

# A prefixed BigSize (BOLT 1 › Appendix A): its first byte gives (bytes it takes with that
# byte, the least value that form may hold: anything less is not minimal).
_WIDE = {0xFD: (3, 0xFD), 0xFE: (5, 0x10000), 0xFF: (9, 0x100000000)}
# The known records are found by comparisons on the type: a run of at most this many equality
# tests, reached through `rtype < pivot` tests that halve the sorted known types.
_LEAF = 3
# The least value a truncated integer of n bytes may hold (BOLT 1 › Fundamental Types: no
# leading zero byte), n = 0..8.
_TU_LEAST = (0, *(1 << (8 * n - 8) for n in range(1, 9)))

Decoded = tuple[dict[Any, Any], list[Any], dict[int, int] | None, int]
Decoder = Callable[[bytes, int], Decoded | None]


@dataclass(frozen=True)
class Plan:
    """Everything a decoder is made of. `fields` holds the known records as (type, name,
    Field); values are keyed by type, or by name when `by_name`. `even_ok`: True lets every
    unknown type through (a schema-less read), a callable judges unknown even types, None
    refuses them. `record` builds an unknown record; `fallible` is the error a codec raises.
    Without `offsets` (a caller that needs them only for an error) they are not stored."""

    name: str
    fields: tuple[tuple[int, str, Field], ...]
    even_ok: Callable[[int], bool] | bool | None
    record: Callable[[int, bytes], Any]
    fallible: type[Exception]
    by_name: bool = False
    offsets: bool = True

    def even_rule(self) -> str:
        if self.even_ok is True:
            return "all"
        return "odd" if self.even_ok is None or self.even_ok is False else "judged"

    def slotted_record(self) -> bool:
        """A slotted two-field record class (type, value) is filled in through its slots."""
        fields = list(getattr(self.record, "__dataclass_fields__", ()))
        return fields == ["type", "value"] and "__slots__" in vars(self.record)

    def record_fill(self) -> type | None:
        """The class that fills an unknown record (`fill_class`), if it has one."""
        return fill_class(self.record, ("type", "value")) if self.slotted_record() else None

    def shape(self) -> tuple[Any, ...]:
        records = []
        last = -1
        for rtype, name, f in self.fields:
            checked_count(rtype, f"{self.name} record type")
            if rtype <= last:
                raise InvalidArgument(f"{self.name}: record types must strictly increase",
                                      field="type", reason="order")
            last = rtype
            records.append((rtype, plain_identifier(name), field_shape(f, f"{self.name}.{rtype}")))
        record = "filled" if self.record_fill() else self.slotted_record()
        return ("by_name" if self.by_name else "by_type", self.offsets, self.even_rule(),
                record, tuple(records))

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self.shape()).encode()).hexdigest()[:16]

    def function_name(self) -> str:
        keyed = "by_name" if self.by_name else "by_type"
        return f"{plain_identifier(self.name) or 'schema'}_{keyed}_{self.fingerprint()[:8]}"

    def namespace(self) -> dict[str, Any]:
        """The objects the decoder is handed, by the names its source uses."""
        ns: dict[str, Any] = {"WIDE": _WIDE, "TU_LEAST": _TU_LEAST, "from_bytes": int.from_bytes,
                              "new": object.__new__, "tuple_new": tuple.__new__,
                              "record": self.record, "even_ok": self.even_ok,
                              "fallible": self.fallible}
        if self.slotted_record():
            ns["set_type"] = vars(self.record)["type"].__set__
            ns["set_value"] = vars(self.record)["value"].__set__
            ns["fill_record"] = self.record_fill()
        for i, (rtype, name, f) in enumerate(self.fields):
            ns[f"K{i}"] = name if self.by_name else rtype
            _namespace(f, str(i), ns)
        return ns

    def source(self) -> str:
        """The decoder's source: a function that reads the objects of `namespace` as its
        globals (`build_decoder` binds them)."""
        self.shape()  # refuses a bad value before any of it is written out
        lines = [line[4:] for line in _decode_lines(self)]
        lines[0] = f"def {self.function_name()}(raw: bytes, base: int) -> Decoded | None:"
        return "\n".join(lines) + "\n"


def _namespace(f: Field, n: str, ns: dict[str, Any]) -> None:
    ns[f"C{n}"], ns[f"D{n}"], ns[f"F{n}"] = f.cls, f.decode, f.fill
    for j, (_, _, part, put) in enumerate(f.parts):
        ns[f"S{n}_{j}"] = put
        _namespace(part, f"{n}_{j}", ns)


# --- source --------------------------------------------------------------------------------


def _length_check(f: Field) -> str:
    if f.hi is not None and f.lo == f.hi:
        return f"length != {f.lo}"
    tests = [f"length < {f.lo}"] if f.lo else []
    if f.hi is not None:
        tests.append(f"length > {f.hi}")
    return " or ".join(tests)


def _value(f: Field, n: str, src: str, at: str, lines: list[str], ind: str,
           size: str | None = None) -> str:
    """Lines reading field `n` from the bytes expression `src` (at stream offset `at`, `size`
    bytes long when a name holds it); the expression of its value."""
    if f.kind == K_RAW:
        return src
    if f.kind == K_TU and size and f.hi is not None and f.hi < len(_TU_LEAST):
        # Minimal (BOLT 1: no leading zero byte) exactly when the value is at least the least
        # value of its length; the length was bounded just above.
        lines += [f"{ind}v{n} = from_bytes({src})", f"{ind}if v{n} < TU_LEAST[{size}]:",
                  f"{ind}    return None"]
        return f"v{n}"
    if f.kind in (K_TU, K_UINT):
        lines.append(f"{ind}v{n} = {src}")
        if f.kind == K_TU:  # a truncated integer with a leading zero is not minimal
            lines += [f"{ind}if v{n} and not v{n}[0]:", f"{ind}    return None"]
        return f"from_bytes(v{n})"
    if f.kind == K_SCID:  # BOLT 7 › short_channel_id: 3 bytes height, 3 index, 2 output
        parts = f"v{n} >> 40, (v{n} >> 16) & 0xFFFFFF, v{n} & 0xFFFF"
        lines += [f"{ind}v{n} = from_bytes({src})", f"{ind}v{n} = tuple_new(C{n}, ({parts}))"]
        return f"v{n}"
    if f.kind == K_STRUCT:
        filled = f.fill is not None  # stores to a plain twin's slots, then the class (fill_class)
        lines.append(f"{ind}o{n} = F{n}()" if filled else f"{ind}o{n} = new(C{n})")
        for j, (a, b, part, _) in enumerate(f.parts):
            m = f"{n}_{j}"
            start = f"{at} + {a}" if a else at
            stop = "stop" if b is None else f"{at} + {b}"
            got = _value(part, m, f"raw[{start}:{stop}]", start, lines, ind)
            lines.append(f"{ind}o{n}.{f.names[j]} = {got}" if filled else f"{ind}S{m}(o{n}, {got})")
        if filled:
            lines.append(f"{ind}o{n}.__class__ = C{n}")
        return f"o{n}"
    lines += [f"{ind}try:", f"{ind}    v{n} = D{n}({src}, base + {at})",
              f"{ind}except fallible:", f"{ind}    return None"]
    return f"v{n}"


def _branch(plan: Plan, i: int, ind: str) -> list[str]:
    """Known record `i`: its length bounds, its value, its bit in the mask."""
    _, name, f = plan.fields[i]
    # A record name that is a plain identifier is written as a literal key (a constant, not a
    # global read per record); any other key is the global K<i>.
    label = plain_identifier(name) if plan.by_name else None
    key = f'"{label}"' if label else f"K{i}"
    lines: list[str] = []
    check = _length_check(f)
    if check:
        lines += [f"{ind}if {check}:", f"{ind}    return None"]
    value = _value(f, str(i), "raw[pos:stop]", "pos", lines, ind, "length")
    return [*lines, f"{ind}values[{key}] = {value}", f"{ind}mask |= {1 << i}"]


def _unknown(plan: Plan, ind: str) -> list[str]:
    if not plan.slotted_record():
        return [f"{ind}unknown.append(record(rtype, raw[pos:stop]))"]
    if plan.record_fill() is not None:
        return [f"{ind}r = fill_record()", f"{ind}r.type = rtype",
                f"{ind}r.value = raw[pos:stop]", f"{ind}r.__class__ = record",
                f"{ind}unknown.append(r)"]
    return [f"{ind}r = new(record)", f"{ind}set_type(r, rtype)",
            f"{ind}set_value(r, raw[pos:stop])", f"{ind}unknown.append(r)"]


def _not_known(plan: Plan, ind: str, first: bool) -> list[str]:
    """A type no branch took: kept when the unknown-type rule lets it through (BOLT 1: it's
    ok to be odd), else refused."""
    rule = {"all": "", "odd": "rtype & 1", "judged": "rtype & 1 or even_ok(rtype)"}
    test = rule[plan.even_rule()]
    inner = ind if first else ind + "    "
    if not test:
        return _unknown(plan, inner) if first else [f"{ind}else:", *_unknown(plan, inner)]
    return [f"{ind}{'if' if first else 'elif'} {test}:", *_unknown(plan, ind + "    "),
            f"{ind}else:", f"{ind}    return None"]


def _tree(plan: Plan, lo: int, hi: int, ind: str) -> list[str]:
    """The dispatch over known records lo..hi-1 (sorted by type): halve by `rtype < pivot`
    until at most `_LEAF` remain, then test each for equality, then the unknown-type rule."""
    if hi - lo > _LEAF:
        mid = (lo + hi) // 2
        return [f"{ind}if rtype < {plan.fields[mid][0]}:", *_tree(plan, lo, mid, ind + "    "),
                f"{ind}else:", *_tree(plan, mid, hi, ind + "    ")]
    lines: list[str] = []
    for i in range(lo, hi):
        rtype, name, _ = plan.fields[i]
        label = plain_identifier(name)
        comment = f"  # {label}" if label else ""
        lines.append(f"{ind}{'elif' if lines else 'if'} rtype == {rtype}:{comment}")
        lines += _branch(plan, i, ind + "    ")
    return lines + _not_known(plan, ind, not lines)


def _bigsize(var: str, ind: str) -> list[str]:
    """Read the BigSize at `pos` into `var` and move `pos` past it: one byte inline, the
    prefixed forms checked for truncation and minimality (BOLT 1 › Appendix A)."""
    return [f"{ind}{var} = raw[pos]", f"{ind}if {var} < 0xFD:", f"{ind}    pos += 1",
            f"{ind}else:", f"{ind}    width, least = WIDE[{var}]", f"{ind}    nxt = pos + width",
            f"{ind}    if nxt > end:", f"{ind}        return None",
            f"{ind}    {var} = from_bytes(raw[pos + 1:nxt])", f"{ind}    if {var} < least:",
            f"{ind}        return None", f"{ind}    pos = nxt"]


def _decode_lines(plan: Plan) -> list[str]:
    """The decoder around the per-record dispatch: BOLT 1's stream rules. A stream that ends
    inside a record's type or length is found by the IndexError of reading past its end."""
    keep = plan.offsets
    ind = " " * 16
    return [
        "    def decode(raw: bytes, base: int) -> Decoded | None:",  # named by `Plan.source`
        "        end = len(raw)", "        pos = 0", "        last = -1",
        "        values: dict[Any, Any] = {}",
        *(["        offsets: dict[int, int] = {}"] if keep else []),
        "        unknown: list[Any] = []", "        mask = 0", "        try:",
        "            while pos < end:",
        *([f"{ind}start = pos"] if keep else []),
        *_bigsize("rtype", ind),
        f"{ind}if rtype <= last:", f"{ind}    return None",
        *([f"{ind}offsets[rtype] = base + start"] if keep else []),
        *_bigsize("length", ind),
        f"{ind}stop = pos + length", f"{ind}if stop > end:", f"{ind}    return None",
        *(_tree(plan, 0, len(plan.fields), ind) if plan.fields else _not_known(plan, ind, True)),
        f"{ind}pos = stop", f"{ind}last = rtype",
        "        except IndexError:  # the stream ended inside a type or a length",
        "            return None",
        f"        return values, unknown, {'offsets' if keep else 'None'}, mask",
    ]


# --- choosing the decoder ------------------------------------------------------------------


def _compile_fallback(plan: Plan, ns: dict[str, Any]) -> Decoder:
    source = plan.source()
    filename = f"<sphinxamp.wire tlv decoder {plan.function_name()}>"
    # With no modification time, `linecache.checkcache` keeps the entry: tracebacks and
    # debuggers show the decoder's lines for as long as the process runs.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec", flags=__future__.annotations.compiler_flag,
                   dont_inherit=True)
    exec(code, ns)
    decoder: Decoder = ns[plan.function_name()]
    return decoder


def build_decoder(plan: Plan) -> Decoder:
    """The checked-in decoder of `plan` when its name and fingerprint match one, else the same
    source compiled now. Either runs with the plan's objects as its globals: a decoder reads
    a dozen of them per record, and a global is read faster than a closure's cell is copied
    in on every call."""
    ns = plan.namespace()
    ns["__builtins__"] = builtins
    checked_in = DECODERS.get((plan.name, plan.fingerprint()))
    if checked_in is None:
        return _compile_fallback(plan, ns)
    ns["__name__"] = checked_in.__module__
    decoder: Decoder = FunctionType(checked_in.__code__, ns, checked_in.__name__)
    return decoder
