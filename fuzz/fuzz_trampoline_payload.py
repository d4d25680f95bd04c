"""Trampoline payloads in both formats through `decode_trampoline_payload`.

Input: byte 0 picks the format (even: "trampoline", lightning/bolts#836; odd:
"trampoline-legacy", Eclair's and Electrum's types); the rest is one payload without its
length prefix.
Invariants: nothing but the library's refusals escape (`_common.REFUSALS`), and a refusal has
a reason and an offset inside the payload; the stream's framing is judged as a BOLT 1 reader
written from the text judges it (`_checks.ref_stream`), with the same reason; accepted ⇒
every even type is one the format defines (the tables below, written from the proposal's
Packet Structure and Eclair's PaymentOnionCodecs.onionTlvCodec, not from the library's
registry), `encode()` gives back exactly the input, every record is named by the profile
that defines it, and `carries_trampoline` sees the format's onion record exactly when the
stream holds it. Type 14 is outgoing_node_id in the proposal's format: accepted only as a
33-byte valid point (coincurve's own parser), kept as `outgoing_node_id`, never as an AMP
record; in the legacy format a type 14 is an unknown even type and never accepted. A
carried trampoline onion parses as a packet of any size or is refused. Deterministic; memory
bounded by the input.
"""

import _checks
import _common

from sphinxamp.onion._sphinx import OnionPacket
from sphinxamp.payments._trampoline import decode_trampoline_payload
from sphinxamp.payments._trampoline_peel import carries_trampoline
from sphinxamp.wire._records import PROFILE_SCHEMAS, profile_record

FORMATS = ("trampoline", "trampoline-legacy")
# The two formats' schemas get their decoders compiled at import; named here at module level,
# `_common.main` finds and instruments them (it looks for TlvSchema objects in the modules),
# so the fuzzer sees the records decoded and not only the code around them.
TRAMPOLINE_SCHEMA = PROFILE_SCHEMAS["trampoline"]
LEGACY_SCHEMA = PROFILE_SCHEMAS["trampoline-legacy"]
# BOLT 4 › Packet Structure's `payload` records every format keeps (lnd's AMP record 14 is
# not among them), and the types each format adds.
_BOLT4 = {2, 4, 6, 8, 10, 12, 16, 18}
KNOWN = {
    "trampoline": _BOLT4 | {14, 20, 21, 22},
    "trampoline-legacy": _BOLT4 | {66097, 66098, 66099, 66100, 66102},
}
ONION_TYPE = {"trampoline": 20, "trampoline-legacy": 66100}
# Records of fixed size whose value is a point (the proposal; Eclair's codecs).
POINT_TYPES = {"trampoline": {12, 14}, "trampoline-legacy": {12, 66098}}
# Even types outside BOLT 4 that readers know as raw custom records: lnd's keysend preimage
# (5482373484, record/experimental.go), Core Lightning / Eclair custom keysend TLVs.
RAW_EVEN = {5482373484, 7629168, 34349334}
_OUTGOING_NODE_ID = 14


def _check_refusal(profile: str, data: bytes, exc: _common.Refusal,
                   ref: list[tuple[int, bytes]] | str) -> None:
    if isinstance(ref, str):
        assert exc.reason == ref, f"{profile}: refused with {exc.reason}, BOLT 1 says {ref}"
    if exc.reason in _checks.STRUCTURAL_REASONS:
        assert isinstance(ref, str), f"{profile}: {exc.reason} for a stream that splits"


def _check_accepted(profile: str, data: bytes, payload: object,
                    ref: list[tuple[int, bytes]]) -> None:
    types = [t for t, _ in ref]
    for rtype, value in ref:
        if rtype % 2 == 0:
            assert rtype in KNOWN[profile] or rtype in RAW_EVEN, (
                f"{profile}: accepted unknown even type {rtype}")
        if rtype in POINT_TYPES[profile]:
            assert _checks.is_point(value), \
                f"{profile}: type {rtype} accepted without a valid point"
    assert payload.encode() == data, f"{profile}: does not re-encode to its bytes"  # type: ignore[attr-defined]
    named = {rtype: (name, by) for rtype, name, by in payload.named_records()}  # type: ignore[attr-defined]
    assert sorted(named) == types, (sorted(named), types)
    for rtype in types:
        want = profile_record(rtype, profile)
        assert named[rtype] == (want or ("unknown", "")), (rtype, named[rtype], want)
    if _OUTGOING_NODE_ID in types:
        assert profile == "trampoline", f"{profile}: accepted type 14"
        value = dict(ref)[_OUTGOING_NODE_ID]
        assert payload.outgoing_node_id == value, "type 14 is not outgoing_node_id"  # type: ignore[attr-defined]
        assert named[_OUTGOING_NODE_ID] == ("outgoing_node_id", "trampoline")
        assert not hasattr(payload, "amp"), "a trampoline payload has an AMP record"
    packet = payload.trampoline_onion_packet  # type: ignore[attr-defined]
    if packet is not None:
        assert packet == dict(ref)[ONION_TYPE[profile]]
        _common.call(OnionPacket.parse, packet, payload_area=None)


def check(profile: str, data: bytes) -> None:
    got = _common.deterministic(len(data), decode_trampoline_payload, data, profile)
    ref = _checks.ref_stream(data)
    carries = _common.call(carries_trampoline, data, profile)
    assert carries.ok, carries.error
    assert carries.value == (not isinstance(ref, str)
                             and any(t == ONION_TYPE[profile] for t, _ in ref)), "carries"
    if got.error is not None:
        _check_refusal(profile, data, got.error, ref)
        return
    assert not isinstance(ref, str), f"{profile}: accepted a stream BOLT 1 refuses ({ref})"
    payload, offsets = got.value
    assert sorted(offsets) == [t for t, _ in ref], "offsets name other records"
    _check_accepted(profile, data, payload, ref)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    check(FORMATS[data[0] % 2], data[1:])


if __name__ == "__main__":
    _common.main(test_one_input)
