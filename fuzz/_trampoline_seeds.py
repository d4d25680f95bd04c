"""Seeds of the `trampoline_payload` target (byte 0 picks the format: 0 the proposal's, 1
the legacy one; the rest is a payload): every trampoline payload the recorded vectors hold
(vectors/trampoline-*.json: the payloads inside the trampoline onions, the ones the
trampoline nodes find, Eclair's and LDK's encodings), the outer payloads that carry the
vectors' trampoline onions, and hand-made edges around type 14 and the onion records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import _common

from sphinxamp.wire._bigsize import encode_bigsize

TARGETS = ("trampoline_payload",)
_FORMAT = {"trampoline": 0, "trampoline-legacy": 1}
_POINT = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")


def _tlv(rtype: int, value: bytes) -> bytes:
    return encode_bigsize(rtype) + encode_bigsize(len(value)) + value


def _cases() -> Iterator[dict[str, Any]]:
    for path in sorted((_common.REPO / "vectors").glob("trampoline-*.json")):
        yield from json.loads(path.read_text()).get("trampoline_cases", [])


def _vector_payloads() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for case in _cases():
        profile = case.get("profile", "trampoline")
        tag = bytes((_FORMAT.get(profile, 0),))
        if case["kind"] == "trampoline-payload":
            out[f"vec-{case['id']}"] = tag + bytes.fromhex(case["payload"])
        for i, hop in enumerate(case.get("trampoline_hops", ())):
            out[f"vec-{case['id']}-hop{i}"] = tag + bytes.fromhex(hop["payload"])
        payload = case.get("expect", {}).get("payload")
        if case["kind"] == "trampoline-process" and payload:
            out[f"vec-{case['id']}-payload"] = tag + bytes.fromhex(payload)
        onion = case.get("expect", {}).get("trampoline_onion")
        if onion:
            # The outer payload a trampoline node finds: amount, expiry, the onion.
            outer = _tlv(2, b"\x01\x00") + _tlv(4, b"\x0c\x35") + _tlv(
                20 if profile == "trampoline" else 66100, bytes.fromhex(onion))
            out[f"vec-{case['id']}-outer"] = tag + outer
    return out


def _edges() -> dict[str, bytes]:
    amount, cltv = _tlv(2, b"\x27\x10"), _tlv(4, b"\x0c\x35")
    return {
        "edge-empty-proposal": b"\x00",
        "edge-empty-legacy": b"\x01",
        "edge-14-node-id": b"\x00" + amount + cltv + _tlv(14, _POINT),
        "edge-14-not-point": b"\x00" + amount + cltv + _tlv(14, b"\x05" * 33),
        "edge-14-amp-sized": b"\x00" + amount + cltv + _tlv(14, b"\x11" * 68),
        "edge-14-legacy": b"\x01" + amount + cltv + _tlv(14, _POINT),
        "edge-66098-legacy": b"\x01" + amount + cltv + _tlv(66098, _POINT),
        "edge-20-short": b"\x00" + amount + cltv + _tlv(20, bytes(65)),
        "edge-20-bolt-minimum": b"\x00" + amount + cltv + _tlv(20, b"\x00" + _POINT + bytes(32)),
        "edge-66100-minimum": b"\x01" + amount + cltv + _tlv(66100, b"\x00" + _POINT + bytes(32)),
        "edge-22-truncated": b"\x00" + amount + cltv + _tlv(22, b"\x02" + _POINT[1:10]),
        "edge-66102-in-proposal": b"\x00" + amount + _tlv(66102, b"\x01"),
    }


def seeds() -> dict[str, dict[str, bytes]]:
    return {"trampoline_payload": {**_vector_payloads(), **_edges()}}
