"""Trampoline payload decoding as the fuzzers see it: a hypothesis property over arbitrary
bytes and record streams (a value, or the library's DecodeError), and the
`trampoline_payload` harness (fuzz/fuzz_trampoline_payload.py) catching planted faults, so
its invariants can fail.

Facts the property holds the decoder to, from the two formats' definitions: under
"trampoline" (lightning/bolts#836 › Packet Structure) type 14 is outgoing_node_id, a 33-byte
point; under "trampoline-legacy" (Eclair PaymentOnionCodecs.onionTlvCodec) type 14 is no
record, so an even unknown type (BOLT 1 › TLV: "MUST fail to parse").
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import coincurve
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp.errors import DecodeError
from sphinxamp.payments import TrampolinePayload, decode_trampoline_payload
from tests.reference_peeler import write_bigsize  # BOLT 1 › BigSize, written there

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))  # harnesses import their helpers as top-level modules
harness = importlib.import_module("fuzz_trampoline_payload")
FORMATS = ("trampoline", "trampoline-legacy")
POINT = coincurve.PrivateKey(b"\x07" * 32).public_key.format(True)


_TYPES = st.sampled_from([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 21, 22, 23, 66097, 66098, 66099,
                          66100, 66101, 66102, 5482373484])
_VALUES = st.one_of(st.binary(max_size=80), st.just(POINT), st.just(b"\x00" + POINT + bytes(32)))


@st.composite
def streams(draw: Any) -> bytes:
    records = draw(st.dictionaries(_TYPES, _VALUES, max_size=6))
    return b"".join(write_bigsize(t) + write_bigsize(len(v)) + v
                    for t, v in sorted(records.items()))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), streams()), st.sampled_from(FORMATS))
def test_every_input_is_a_value_or_a_decode_error(data: bytes, profile: str) -> None:
    try:
        payload, offsets = decode_trampoline_payload(data, profile)
    except DecodeError as exc:
        assert exc.reason
        assert exc.offset is None or 0 <= exc.offset <= len(data)
        return
    assert isinstance(payload, TrampolinePayload) and payload.encode() == data
    if 14 in offsets:
        assert profile == "trampoline"
        assert payload.outgoing_node_id is not None and len(payload.outgoing_node_id) == 33
        coincurve.PublicKey(payload.outgoing_node_id)  # a valid point, by coincurve


@settings(max_examples=200, deadline=None)
@given(streams(), st.sampled_from(FORMATS))
def test_the_harness_holds_on_generated_streams(data: bytes, profile: str) -> None:
    harness.test_one_input(bytes((FORMATS.index(profile),)) + data)


def _node_payload(rtype: int) -> bytes:
    return bytes.fromhex("02021388040203e8") + write_bigsize(rtype) + b"\x21" + POINT


def test_type_14_in_each_format() -> None:
    payload, _ = decode_trampoline_payload(_node_payload(14), "trampoline")
    assert payload.outgoing_node_id == POINT
    with pytest.raises(DecodeError) as err:
        decode_trampoline_payload(_node_payload(14), "trampoline-legacy")
    assert (err.value.tlv_type, err.value.reason) == (14, "unknown_even_type")


class _Wrong:
    """A decoded payload that breaks one invariant."""

    def __init__(self, real: Any, **changes: Any) -> None:
        self.real, self.changes = real, changes

    def __getattr__(self, name: str) -> Any:
        if name in self.changes:
            return self.changes[name]
        return getattr(self.real, name)


# fault → what the harness says when it meets it.
FAULTS = {"node_id_dropped": "type 14 is not outgoing_node_id",
          "amp_attribute": "has an AMP record",
          "bad_encode": "does not re-encode",
          "accepts_legacy_14": "accepted unknown even type 14",
          "foreign_error": "not a library refusal"}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_harness_catches_a_planted_fault(fault: str, monkeypatch: Any) -> None:
    real = decode_trampoline_payload
    seen: dict[tuple[bytes, str], Any] = {}  # the same answer twice: deterministic

    def planted(data: bytes, profile: str = "trampoline", **kw: Any) -> Any:
        if fault == "foreign_error":
            raise ValueError("not a library refusal")
        if (data, profile) not in seen:
            if fault == "accepts_legacy_14":
                payload, offsets = real(data, "trampoline", **kw)
                seen[data, profile] = (_Wrong(payload, profile=profile), offsets)
            else:
                payload, offsets = real(data, profile, **kw)
                table: dict[str, dict[str, Any]] = {
                    "node_id_dropped": {"outgoing_node_id": POINT[::-1]},
                    "amp_attribute": {"amp": b"x"},
                    "bad_encode": {"encode": lambda: data + b"\x00"}}
                changes = table[fault]
                seen[data, profile] = (_Wrong(payload, **changes), offsets)
        return seen[data, profile]

    monkeypatch.setattr(harness, "decode_trampoline_payload", planted)
    data = bytes((1 if fault == "accepts_legacy_14" else 0,)) + _node_payload(14)
    with pytest.raises((AssertionError, ValueError), match=FAULTS[fault]):
        harness.test_one_input(data)
