"""Seeds of the `wire` target: each of the five messages built around the project's BOLT 4
vectors (the payment onion, a failure return packet and its attribution data, the success
attribution data, the onion_message as the vector writes it), and hand-made edge cases."""

from __future__ import annotations

import json
from typing import Any

import _common

from sphinxamp.messages._codec import (
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
    encode_message,
)
from sphinxamp.wire._tlv import TlvRecord

TARGETS = ("wire",)
_CHANNEL_ID = bytes(range(32))
_PATH_KEY = bytes.fromhex("024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766")


def _cases(name: str) -> dict[str, dict[str, Any]]:
    doc = json.loads((_common.REPO / "vectors" / name).read_text())
    return {case["id"]: case for case in doc["cases"]}


def _vector_messages() -> dict[str, bytes]:
    build = _cases("bolt04-onion.json")["build-5-hops"]
    onion, payment_hash = (bytes.fromhex(build["expect"]["onion"]),
                           bytes.fromhex(build["associated_data"]))
    attribution = _cases("bolt04-failure-attribution.json")
    hop = attribution["returning-errors"]["expect"]["hops"][0]
    success = attribution["returning-success"]["expect"]["hops"][0]
    om = _cases("bolt04-blinded-onion-message.json")["build"]["expect"]["onion_message"]
    add = UpdateAddHtlc(_CHANNEL_ID, 7, 15_000, payment_hash, 800_000, onion)
    return {
        "vec-update_add_htlc": encode_message(add),
        "vec-update_add_htlc-blinded": encode_message(UpdateAddHtlc(
            _CHANNEL_ID, 8, 15_000, payment_hash, 800_000, onion, path_key=_PATH_KEY,
            accountable=7, unknown_tlvs=(TlvRecord(106825, b"\x01"),))),
        "vec-update_fail_htlc": encode_message(UpdateFailHtlc(
            _CHANNEL_ID, 7, bytes.fromhex(hop["reason"]),
            bytes.fromhex(hop["attribution_data"]))),
        "vec-update_fulfill_htlc": encode_message(UpdateFulfillHtlc(
            _CHANNEL_ID, 7, b"\x41" * 32, bytes.fromhex(success["attribution_data"]))),
        "vec-update_fail_malformed_htlc": encode_message(UpdateFailMalformedHtlc(
            _CHANNEL_ID, 7, b"\x5a" * 32, 0xC005)),
        "vec-onion_message": bytes.fromhex(om),
    }


def _edges(vectors: dict[str, bytes]) -> dict[str, bytes]:
    malformed = vectors["vec-update_fail_malformed_htlc"]
    fulfill = vectors["vec-update_fulfill_htlc"]
    return {
        "edge-empty": b"", "edge-type-only": b"\x00\x80", "edge-unknown-type": b"\x00\x81",
        "edge-fail-empty-reason": b"\x00\x83" + bytes(40) + b"\x00\x00",
        "edge-fail-len-past-end": b"\x00\x83" + bytes(40) + b"\xff\xff\x00",
        "edge-malformed-no-badonion": malformed[:74] + b"\x40\x05",
        "edge-malformed-unknown-even": malformed + b"\x02\x00",
        "edge-malformed-unknown-odd": malformed + b"\x03\x01\xaa",
        "edge-fulfill-short-attribution": fulfill[:74] + b"\x01\xfd\x03\x97" + bytes(919),
        "edge-onion-message-bad-key": b"\x02\x01\x04" + bytes(32) + b"\x00\x00",
    }


def seeds() -> dict[str, dict[str, bytes]]:
    vectors = _vector_messages()
    return {"wire": {**vectors, **_edges(vectors)}}
