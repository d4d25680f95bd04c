#!/usr/bin/env python3
"""A sphinxamp conformance adapter for pyln-proto (Core Lightning's pure-Python
`pyln.proto.onion`): run it with `sphinxamp conformance run --adapter "python
examples/adapters/pyln_proto_adapter.py" --deviations examples/adapters/pyln-proto.deviations.json`.

Needs `pip install pyln-proto` (or, as this repository's tests do, `pip install --no-deps
pyln-proto base58 bitstring PySocks`). pyln-proto has no failure, blinding or AMP code and
builds only 1300-byte payment onions: everything else is answered unsupported. Its errors
are exceptions; the wire code is named where the exception says which check failed.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any

from pyln.proto.onion import (
    LegacyOnionPayload,
    RawPayload,
    RoutingOnion,
    SphinxHop,
    SphinxPath,
    TextField,
    TlvPayload,
    chacha20_stream,
)
from pyln.proto.primitives import PrivateKey, PublicKey, Secret, varint_decode

INVALID_ONION_HMAC, INVALID_ONION_KEY = 0xC005, 0xC006


def bigsize(n: int) -> bytes:
    """The length prefix pyln's SphinxHop wants in front of a payload."""
    for prefix, width, top in ((b"", 1, 0xFC), (b"\xfd", 2, 0xFFFF), (b"\xfe", 4, 0xFFFFFFFF)):
        if n <= top:
            return prefix + n.to_bytes(width, "big")
    return b"\xff" + n.to_bytes(8, "big")


class Refused(Exception):
    def __init__(self, message: str, failure_code: int | None = None) -> None:
        super().__init__(message)
        self.failure_code = failure_code


def bigsize_decode(req: dict[str, Any]) -> dict[str, Any]:
    stream = io.BytesIO(bytes.fromhex(req["bytes"]))
    value = varint_decode(stream)
    if value is None:
        raise Refused("no bytes")
    return {"value": value, "length": stream.tell()}


def tlv_decode(req: dict[str, Any]) -> dict[str, Any]:
    # pyln reads a bare stream with no namespace: `known_types` has nothing to apply to.
    fields = TlvPayload.from_bytes(bytes.fromhex(req["stream"]), skip_length=True).fields
    return {"records": [{"type": f.typenum, "value": (f.value.encode() if isinstance(
        f, TextField) else bytes(f.value)).hex()} for f in fields]}


def onion_build(req: dict[str, Any]) -> dict[str, Any] | None:
    if req.get("payload_area", 1300) != 1300:
        return None
    hops = []
    for hop in req["hops"]:
        payload = bytes.fromhex(hop["payload"])
        hops.append(SphinxHop(PublicKey(bytes.fromhex(hop["pubkey"])),
                              bigsize(len(payload)) + payload))
    path = SphinxPath(hops, bytes.fromhex(req["associated_data"]),
                      Secret(bytes.fromhex(req["session_key"])))
    return {"onion": bytes(path.compile().to_bin()).hex()}


def onion_peel(req: dict[str, Any]) -> dict[str, Any] | None:
    if req.get("payload_area", 1300) != 1300 or req.get("path_key") is not None:
        return None
    try:
        onion = RoutingOnion.from_bin(bytes.fromhex(req["onion"]))
    except ValueError as exc:  # coincurve refusing the ephemeral key
        raise Refused(str(exc), INVALID_ONION_KEY) from None
    try:
        payload, nxt = onion.unwrap(PrivateKey(bytes.fromhex(req["node_key"])),
                                    bytes.fromhex(req["associated_data"]))
    except ValueError as exc:
        raise Refused(str(exc), INVALID_ONION_HMAC if "HMAC" in str(exc) else None) from None
    assert isinstance(payload, TlvPayload | RawPayload | LegacyOnionPayload)
    return {"payload": bytes(payload.to_bytes(include_prefix=False)).hex(),
            "next_onion": None if nxt is None else bytes(nxt.to_bin()).hex()}


OPS: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    "bigsize_decode": bigsize_decode, "tlv_decode": tlv_decode,
    "onion_build": onion_build, "onion_peel": onion_peel,
}


def handle(req: dict[str, Any]) -> dict[str, Any]:
    if req.get("op") == "hello":
        # pyln.proto.onion reads neither keysend (5482373484) nor AMP (14): it judges no
        # payload record at all, so it declares no optional record and no feature.
        return {"protocol": "sphinxamp-conformance/2", "implementation": "pyln-proto",
                "version": metadata.version("pyln-proto"),
                "ops": sorted(OPS), "optional_records": [], "features": []}
    run = OPS.get(req.get("op", ""))
    try:
        out = None if run is None else run(req)
    except Refused as exc:
        return {"error": {"failure_code": exc.failure_code, "tlv_type": None, "offset": None,
                          "message": str(exc)}}
    except Exception as exc:  # pyln's own asserts and struct errors are refusals too
        return {"error": {"failure_code": None, "tlv_type": None, "offset": None,
                          "message": f"{type(exc).__name__}: {exc}"}}
    return {"unsupported": True} if out is None else out


def broken() -> str | None:
    """Why pyln-proto cannot judge anything here, if it cannot: its ChaCha20 works in place,
    which cryptography 51 and later refuse ("data and buf must not overlap"). Every peel would
    then fail and read as the peer's own refusal, so the adapter does not start."""
    try:
        chacha20_stream(bytes(32), bytearray(64))
    except Exception as exc:  # whatever pyln-proto raises here, it raises on every onion
        return f"{type(exc).__name__}: {exc}"
    return None


def main() -> None:
    reason = broken()
    if reason is not None:
        sys.exit(f"pyln-proto cannot run on this environment ({reason}); install the versions "
                 "examples/adapters/README.md names")
    for line in sys.stdin:
        req = json.loads(line)
        print(json.dumps({"id": req.get("id"), **handle(req)}), flush=True)


if __name__ == "__main__":
    main()
