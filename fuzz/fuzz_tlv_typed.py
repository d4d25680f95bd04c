"""TLV streams decoded against a schema: BOLT 1 Appendix B's `n1`/`n2` and every `TlvSchema`
the library defines (the hop-payload namespace first).

Input: byte 0 picks the namespace (modulo their number), the rest is the stream.
Invariants: the schema decoder and the schema-less decoder agree on every structural refusal
(same reason, offset and type); an accepted stream has only known records or unknown odd ones
(or unknown even ones the namespace explicitly lets through), every known record's length
within its codec's bounds, every point on the curve (checked with coincurve's own parser),
and re-encodes to exactly the input; refusals carry the offending type; deterministic;
memory O(len).
"""

import sys
from typing import Any, NamedTuple, cast

import _common
import coincurve
from _checks import STRUCTURAL_REASONS

from sphinxamp.errors import TlvError
from sphinxamp.wire import _tlv as tlv
from sphinxamp.wire._tlv import POINT, SCID, TU32, TU64, U16, U64, RecordSpec, Struct, TlvSchema


class Tlv3(NamedTuple):
    node_id: bytes
    amount_msat_1: int
    amount_msat_2: int


N1 = TlvSchema("n1", [
    RecordSpec(1, "tlv1", TU64),
    RecordSpec(2, "tlv2", SCID),
    RecordSpec(3, "tlv3", Struct(
        [("node_id", POINT), ("amount_msat_1", U64), ("amount_msat_2", U64)], Tlv3)),
    RecordSpec(254, "tlv4", U16),
])
N2 = TlvSchema("n2", [RecordSpec(0, "tlv1", TU64), RecordSpec(11, "tlv2", TU32)])


def _library_schemas() -> list[TlvSchema]:
    """Every schema object the package exposes, in a stable order, so a namespace added to the
    library is fuzzed without touching this file."""
    found: dict[str, TlvSchema] = {}
    # `_common` imported the whole package, so every schema module is loaded by now.
    for mod_name in sorted(m for m in sys.modules if m.startswith("sphinxamp.")):
        for _, obj in sorted(vars(sys.modules[mod_name]).items()):
            if isinstance(obj, TlvSchema):
                found.setdefault(f"{obj.name}:{id(obj)}", obj)
    return sorted(found.values(), key=lambda s: (s.name != "payload", s.name))


SCHEMAS = [N1, N2, *_library_schemas()]

def _point_slices(codec: Any, raw: bytes) -> list[bytes]:
    if codec is POINT:
        return [raw]
    if isinstance(codec, Struct):
        out, pos = [], 0
        for _, field in codec.fields:
            if field is POINT:
                out.append(raw[pos:pos + 33])
            pos += field.min_len
        return out
    return []


def _check_accepted(schema: TlvSchema, decoded: Any, records: tuple[Any, ...], data: bytes) -> None:
    for rec in records:
        spec = schema.specs.get(rec.type)
        if spec is None:
            assert rec.type & 1 or (schema.even_ok and schema.even_ok(rec.type)), (
                f"{schema.name} accepted unknown even type {rec.type}")
            continue
        codec = spec.codec
        assert codec.min_len <= len(rec.value), f"type {rec.type} shorter than its codec"
        assert codec.max_len is None or len(rec.value) <= codec.max_len
        for point in _point_slices(codec, rec.value):
            key = coincurve.PublicKey(point)  # raises if the library let a bad point through
            assert key.format(compressed=True) == point
    assert set(decoded.values) | {r.type for r in decoded.unknown} == {r.type for r in records}
    again = schema.encode(decoded.values, decoded.unknown)
    assert again == data, f"{schema.name} round trip: {data.hex()} -> {again.hex()}"


def test_one_input(data: bytes) -> None:
    if not data:
        return
    schema, stream = SCHEMAS[data[0] % len(SCHEMAS)], data[1:]
    plain = _common.call(tlv.decode_stream, stream)
    got = _common.deterministic(len(stream), schema.decode, stream)
    if plain.error is not None:
        assert got.error is not None, f"{schema.name} accepted a malformed stream"
        assert _common.error_key(got.error) == _common.error_key(plain.error)
        return
    if got.error is not None:
        err = got.error
        assert isinstance(err, TlvError) and err.reason not in STRUCTURAL_REASONS, err.reason
        assert err.tlv_type in {r.type for r in plain.value}, "refusal names no record"
        _common.check_points_at_record(err, stream)
        if err.reason == "unknown_even_type":
            assert cast(int, err.tlv_type) % 2 == 0 and err.tlv_type not in schema.specs
        return
    _check_accepted(schema, got.value, plain.value, stream)


if __name__ == "__main__":
    _common.main(test_one_input)
