"""The checked-in TLV fast decoders (sphinxamp/wire/_tlv_generated.py) and their fallback.

The file must be exactly what tools/generate_tlv_decoders.py writes from today's schemas;
every schema of the library must run its checked-in decoder; an error inside one must point at
a real line of that file; a schema the file does not know gets the same source compiled at
runtime, decoding as the checked loop does; and no bound that is not a plain int in range ever
reaches generated source.
"""

from __future__ import annotations

import importlib.util
import linecache
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp.errors import DecodeError, InvalidArgument
from sphinxamp.wire import (
    HOP_PAYLOAD_SCHEMA,
    POINT,
    SCID,
    TU32,
    U16,
    FixedBytes,
    RawBytes,
    RecordSpec,
    Struct,
    TlvSchema,
    UInt,
    _tlv_generated,
)
from sphinxamp.wire._records import HOP_PAYLOAD_RECORDS
from tests.strategies import ref_bigsize

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "sphinxamp" / "wire" / "_tlv_generated.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_tlv_decoders", REPO / "tools" / "generate_tlv_decoders.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def test_checked_in_file_is_what_the_generator_writes() -> None:
    text = GEN.render(GEN.library_plans())
    assert GENERATED.read_text(encoding="utf-8") == text, (
        "sphinxamp/wire/_tlv_generated.py is stale: run python tools/generate_tlv_decoders.py")


def test_every_module_level_schema_is_seen_by_the_generator() -> None:
    """A schema defined at module level anywhere in the package is in a module the generator
    imports, so it gets a checked-in decoder."""
    defining = set()
    for path in (REPO / "sphinxamp").rglob("*.py"):
        if re.search(r"^\w+(: [^=]+)? = TlvSchema\(", path.read_text(encoding="utf-8"), re.M):
            rel = path.relative_to(REPO).with_suffix("")
            defining.add(".".join(rel.parts))
    assert defining  # the pattern does find the library's schemas
    assert defining <= set(GEN.SCHEMA_MODULES)


def test_library_schemas_run_their_checked_in_decoders() -> None:
    schemas = GEN.library_schemas()
    names = {schema.name for _, schema in schemas}
    assert {"payload", "encrypted_data_tlv", "onionmsg_tlv", "update_add_htlc_tlvs"} <= names
    decoders = [d for _, s in schemas for d in (s._fast, s.fast_named)]
    for decoder in decoders:
        assert decoder.__code__.co_filename == _tlv_generated.__file__, decoder.__qualname__


def _last_frame(fn: Any, *args: Any) -> traceback.FrameSummary:
    with pytest.raises(TypeError) as info:
        fn(*args)
    return traceback.extract_tb(info.value.__traceback__)[-1]


def test_a_traceback_names_a_line_of_the_checked_in_file() -> None:
    frame = _last_frame(HOP_PAYLOAD_SCHEMA._fast, None, 0)  # len(None) inside the decoder
    assert frame.filename == str(GENERATED)
    assert frame.lineno is not None
    line = GENERATED.read_text(encoding="utf-8").splitlines()[frame.lineno - 1]
    assert line.strip() == frame.line == "end = len(raw)"


@dataclass(frozen=True, slots=True)
class Leg:
    node: bytes
    width: int


USER = TlvSchema("user_made", [
    RecordSpec(1, "count", U16), RecordSpec(2, "channel", SCID),
    RecordSpec(4, "leg", Struct([("node", POINT), ("width", TU32)], Leg)),
    RecordSpec(6, "tag", FixedBytes(2, lambda v: v != b"\xff\xff", "tag")),
    RecordSpec(300, "blob", RawBytes(1, 20)),
])


def test_other_schemas_compile_at_runtime_with_their_lines_shown() -> None:
    frame = _last_frame(USER._fast, None, 0)
    assert frame.filename.startswith("<sphinxamp.wire tlv decoder user_made_by_type_")
    assert frame.line == "end = len(raw)"  # linecache holds the runtime source
    # A library schema whose definition changed no longer matches its checked-in decoder.
    records = [r if r.type != 2 else RecordSpec(2, r.name, UInt(9)) for r in HOP_PAYLOAD_RECORDS]
    changed = TlvSchema("payload", records)
    assert not changed._fast.__code__.co_filename.endswith("_tlv_generated.py")
    assert HOP_PAYLOAD_SCHEMA._fast.__code__.co_filename.endswith("_tlv_generated.py")


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    try:
        got = fn(*args)
    except DecodeError as exc:
        return ("error", type(exc), exc.reason, exc.offset, exc.tlv_type, exc.field)
    return ("ok", got.values, got.unknown, got.offsets)


G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")


@st.composite
def user_streams(draw: st.DrawFn) -> bytes:
    types = draw(st.lists(st.sampled_from([0, 1, 2, 3, 4, 6, 8, 300, 301]), max_size=5))
    if draw(st.booleans()):
        types = sorted(set(types))
    out = b""
    for rtype in types:
        spec = USER.specs.get(rtype)
        lo = spec.codec.min_len if spec else 0
        hi = spec.codec.max_len if spec and spec.codec.max_len is not None else lo + 4
        length = draw(st.integers(max(0, lo - 1), hi + 1))
        value = draw(st.sampled_from([G[:1] + bytes(40), G + b"\x00\x01", b"\xff" * 40,
                                      b"\x00" * 40]))[:length]
        out += ref_bigsize(rtype) + ref_bigsize(length) + value.ljust(length, b"\x01")
    return out if draw(st.booleans()) else out + draw(st.binary(max_size=3))


@settings(max_examples=300, deadline=None)
@given(raw=user_streams(), base=st.integers(0, 50))
def test_runtime_decoder_decodes_as_the_checked_loop(raw: bytes, base: int) -> None:
    checked = outcome(USER._decode_checked, raw, base)
    assert outcome(USER.decode, raw, base) == checked
    fast = USER._fast(raw, base)
    assert (fast is None) == (checked[0] == "error")
    if fast is not None:
        assert (fast[0], tuple(fast[1]), fast[2]) == checked[1:]
        named = USER.fast_named(raw, base)
        assert named is not None
        assert named[0] == {USER.specs[t].name: v for t, v in checked[1].items()}


class Smuggled(int):
    """An int whose text is not a number: it must never be written into source."""

    def __repr__(self) -> str:
        return "0 or __import__('os')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)


@pytest.mark.parametrize("codec", [
    RawBytes(-1), RawBytes(0, -5), RawBytes(0, 1 << 64), RawBytes(3, 2), UInt(True),
    RawBytes(Smuggled(3)), RawBytes(0, 2.5),  # type: ignore[arg-type]
])
def test_a_bad_bound_is_refused_before_it_becomes_source(codec: Any) -> None:
    before = set(linecache.cache)
    with pytest.raises(InvalidArgument):
        TlvSchema("bad_bound", [RecordSpec(1, "x", codec)])
    assert set(linecache.cache) == before


def test_a_bad_record_type_or_struct_offset_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        TlvSchema("bad_type", [RecordSpec(Smuggled(1), "x", RawBytes())])
    leg = Struct([("node", POINT), ("width", TU32)], Leg)
    leg._layout = ((0, Smuggled(33), None), (33, None, leg._layout[1][2]))
    with pytest.raises(InvalidArgument):
        TlvSchema("bad_offset", [RecordSpec(4, "leg", leg)])
