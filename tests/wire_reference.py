"""Messages written and cut up straight from the BOLT text, never through the codecs,
and the vector values the wire tests wrap in messages.

Layouts: BOLT 2 › Adding an HTLC (`update_add_htlc`), › Removing an HTLC (the three answers),
BOLT 4 › The `onion_message` Message; the trailing TLV stream: BOLT 1 › Lightning Message
Format. Every field is big-endian; `len` is a u16 before the bytes it counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.strategies import ref_stream

VECTORS = Path(__file__).resolve().parent.parent / "vectors"

# (message type, [(field, size in bytes, or "len" for u16-length-prefixed bytes, or "int"
# suffix for integers)]) as the BOLT tables list them.
LAYOUTS: dict[str, tuple[int, list[tuple[str, int | str]]]] = {
    "update_add_htlc": (128, [("channel_id", 32), ("id", "u64"), ("amount_msat", "u64"),
                              ("payment_hash", 32), ("cltv_expiry", "u32"),
                              ("onion_routing_packet", 1366)]),
    "update_fulfill_htlc": (130, [("channel_id", 32), ("id", "u64"),
                                  ("payment_preimage", 32)]),
    "update_fail_htlc": (131, [("channel_id", 32), ("id", "u64"), ("reason", "len")]),
    "update_fail_malformed_htlc": (135, [("channel_id", 32), ("id", "u64"),
                                         ("sha256_of_onion", 32), ("failure_code", "u16")]),
    "onion_message": (513, [("path_key", 33), ("onion_message_packet", "len")]),
}
# Where each known record lives: message → {TLV type: attribute}.
RECORDS: dict[str, dict[int, str]] = {
    "update_add_htlc": {0: "path_key", 106823: "accountable"},
    "update_fulfill_htlc": {1: "attribution_data"},
    "update_fail_htlc": {1: "attribution_data"},
    "update_fail_malformed_htlc": {},
    "onion_message": {},
}
_INT_SIZES = {"u16": 2, "u32": 4, "u64": 8}


def ref_message(name: str, fields: dict[str, Any], records: list[tuple[int, bytes]]) -> bytes:
    """type ‖ fields ‖ TLV stream (records already in increasing type order)."""
    mtype, layout = LAYOUTS[name]
    out = mtype.to_bytes(2, "big")
    for field, size in layout:
        value = fields[field]
        if size == "len":
            out += len(value).to_bytes(2, "big") + value
        elif isinstance(size, str):
            out += value.to_bytes(_INT_SIZES[size], "big")
        else:
            assert len(value) == size
            out += value
    return out + ref_stream(records)


def ref_fixed_end(name: str, data: bytes) -> int:
    """Where the fixed fields of a well-formed message end (its TLV stream starts)."""
    pos = 2
    for _, size in LAYOUTS[name][1]:
        if size == "len":
            pos += 2 + int.from_bytes(data[pos:pos + 2], "big")
        else:
            pos += _INT_SIZES[size] if isinstance(size, str) else size
    return pos


def _vector(file: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / file).read_text())["cases"]
    return cases


def bolt04_onion() -> tuple[bytes, bytes]:
    """The 1366-byte onion of BOLT 4's onion-test.json and its associated data (the payment
    hash it commits to)."""
    case = _vector("bolt04-onion.json")[0]
    return bytes.fromhex(case["expect"]["onion"]), bytes.fromhex(case["associated_data"])


def attribution_case() -> tuple[bytes, bytes, bytes]:
    """From the attributable-failure vectors: a return packet with its attribution data, and
    the attribution data of a fulfill (BOLT 4 › Returning Errors; › Returning success)."""
    cases = {c["id"]: c for c in _vector("bolt04-failure-attribution.json")}
    hop = cases["returning-errors"]["expect"]["hops"][0]
    success = cases["returning-success"]["expect"]["hops"][0]
    return (bytes.fromhex(hop["reason"]), bytes.fromhex(hop["attribution_data"]),
            bytes.fromhex(success["attribution_data"]))


def onion_message_case() -> tuple[bytes, bytes]:
    """The whole onion_message of BOLT 4's blinded onion-message vector, and its packet."""
    case = {c["id"]: c for c in _vector("bolt04-blinded-onion-message.json")}["build"]
    return (bytes.fromhex(case["expect"]["onion_message"]),
            bytes.fromhex(case["expect"]["onion_message_packet"]))


FIRST_PATH_KEY = bytes.fromhex(
    "024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766")  # route-blinding
