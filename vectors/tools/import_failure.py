"""Write the failure-onion vector files from the official BOLT 4 vectors.

Reads `onion-error-test.json` (the legacy five-hop failure) and
`extracted/bolt04-returning-errors-attribution.json` (the spec's "Returning Errors" and
"Returning success" vectors with attribution data) from a copy of `lightning/bolts` at the
commit below, and writes `bolt04-failure.json` and `bolt04-failure-attribution.json` next to
this folder, deterministically (sorted keys), so `--check` can compare the committed files
with a fresh run.

Expectations are official values. `onion-error-test.json` gives only every hop's shared
secret and `ammag` key, the erring node's `um` key and payload, and the packet the origin
receives; the obfuscation streams, the erring node's HMAC and the packet after each hop are
computed here with hashlib and `cryptography` (never with the library), listed under the
case's `derived`, and written only once the last one equals the official packet.

Hold times: the spec text pairs htlc_hold_time[i] with pubkey[i], but the bytes hold them the
other way round; the `hold_times` recorded here (route order, unit 100 ms) are the values in
the bytes (`htlc_hold_time_in_attribution_data`).

Usage: python vectors/tools/import_failure.py [--bolts DIR] [--out DIR] [--check]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tool import render, tool_main

SCHEMA = "sphinxamp-vectors/1"
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent
DEFAULT_BOLTS = HERE.parents[2] / "shared" / "vectors" / "bolts"
REPO, COMMIT = "lightning/bolts", "a3772650d8ebc06acf457fcadf97968ebfc4dfff"
ATTRIBUTION_FILE = "extracted/bolt04-returning-errors-attribution.json"

Doc = dict[str, Any]


def _key(kind: bytes, secret: str) -> str:
    return hmac.new(kind, bytes.fromhex(secret), hashlib.sha256).hexdigest()


def _stream(key: str, length: int) -> str:
    cipher = Cipher(algorithms.ChaCha20(bytes.fromhex(key), bytes(16)), None)
    return cipher.encryptor().update(bytes(length)).hex()


def _xor(a: str, b: str) -> str:
    return bytes(x ^ y for x, y in zip(bytes.fromhex(a), bytes.fromhex(b), strict=True)).hex()


def legacy(official: Doc) -> Doc:
    hops = official["generate"]["hops"]
    secrets = [h["hop_shared_secret"] for h in hops]
    erring = hops[-1]
    body = erring["payload"]  # failure_len ‖ failuremsg ‖ pad_len ‖ pad (HMAC omitted)
    message = body[4 : 4 + 2 * int(body[:4], 16)]
    assert message == official["generate"]["failure_message"]
    packet = hmac.new(bytes.fromhex(erring["um_key"]), bytes.fromhex(body),
                      hashlib.sha256).hexdigest() + body
    raw, steps = packet, []
    for index in reversed(range(len(hops))):
        hop = hops[index]
        assert _key(b"ammag", hop["hop_shared_secret"]) == hop["ammag_key"]
        stream = _stream(hop["ammag_key"], len(packet) // 2)
        packet = _xor(packet, stream)
        step = {"hop_index": index, "shared_secret": hop["hop_shared_secret"],
                "ammag": hop["ammag_key"], "obfuscation": stream, "reason": packet}
        if "um_key" in hop:
            step["um"] = hop["um_key"]
        steps.append(step)
    if packet != official["errorpacket"]:
        raise SystemExit("the layers computed from onion-error-test.json do not give its "
                         "errorpacket: refusing to record derived packets")
    cases = [
        {"id": "message-temporary-node-failure", "kind": "failure-message",
         "failure_message": message,
         "expect": {"failure_code": 0x2002, "failure_name": "temporary_node_failure",
                    "fields": {}, "tlv": []}},
        {"id": "return-five-hops", "kind": "failure-return", "shared_secrets": secrets,
         "erring_hop": len(hops) - 1, "failure_message": message, "pad_to": 256,
         "derived": ["expect.reason_before_ammag (its HMAC)", "expect.hops[*].obfuscation",
                     "expect.hops[0..3].reason"],
         "expect": {"reason_before_ammag": raw, "hops": steps,
                    "decrypted": {"hop_index": len(hops) - 1, "failure_code": 0x2002}}},
    ]
    return {"schema": SCHEMA, "description": "A failure returned by the last of five hops: "
            "the erring node's packet, each hop's ammag layer, the origin's decryption.",
            "source": {"file": "onion-error-test.json", "path": "bolt04/onion-error-test.json",
                       "repo": REPO, "commit": COMMIT,
                       "section": "04-onion-routing.md › Returning Errors"},
            "cases": cases}


def _holds(params: Doc) -> list[int]:
    return [h["htlc_hold_time_in_attribution_data"] for h in params["hops"]]


def attribution(official: Doc) -> Doc:
    params, erring, forwarding = official["params"], official["erring_node"], \
        official["forwarding"]
    secrets = [f["shared_secret"] for f in reversed(forwarding)]
    body = erring["payload"]
    message = body[4 : 4 + 2 * int(body[:4], 16)]
    fm = params["failure_message"]
    holds = _holds(params)
    steps = [{"hop_index": f["node_index"], "shared_secret": f["shared_secret"],
              "ammag": f["ammag_key"], "obfuscation": f["stream"], "reason": f["error_packet"],
              "attribution_data": f["attribution_data"]} for f in forwarding]
    steps[0]["um"] = erring["um_key"]
    verified = [{"hop_index": i, "hold_time": holds[i], "hmac_ok": True}
                for i in range(len(secrets))]
    cases = [
        {"id": "message-with-tlv", "kind": "failure-message", "failure_message": message,
         "expect": {"failure_code": fm["failure_code"], "failure_name": fm["name"],
                    "fields": fm["fields"],
                    "tlv": [{"type": r["type"], "value": r["value"]} for r in fm["tlv_records"]]}},
        {"id": "returning-errors", "kind": "failure-return", "shared_secrets": secrets,
         "erring_hop": params["failure_source_index"], "failure_message": message,
         "pad_to": len(body) // 2 - 4, "hold_times": holds, "attribution": True,
         "expect": {"reason_before_ammag": erring["raw_error_packet"], "hops": steps,
                    "decrypted": {"hop_index": params["failure_source_index"],
                                  "failure_code": fm["failure_code"],
                                  "attribution": verified}}},
        {"id": "returning-success", "kind": "attribution-success", "shared_secrets": secrets,
         "hold_times": holds,
         "expect": {"hops": [{"hop_index": s["node_index"],
                              "attribution_data": s["attribution_data"]}
                             for s in official["success"]["attribution_data"]],
                    "verified": verified}},
    ]
    return {"schema": SCHEMA, "description": "Attributable failures: the erring node's "
            "packet and attribution data, each hop's layer, the origin's verification; the "
            "same for a fulfilled HTLC. hold_times are the values in the bytes (route order).",
            "source": {"file": ATTRIBUTION_FILE, "repo": REPO, "commit": COMMIT,
                       "section": official["source"]["section"]},
            "cases": cases}


def documents(bolts: Path) -> dict[str, Doc]:
    def load(name: str) -> Doc:
        doc: Doc = json.loads((bolts / name).read_text())
        return doc

    return {"bolt04-failure.json": legacy(load("onion-error-test.json")),
            "bolt04-failure-attribution.json": attribution(load(ATTRIBUTION_FILE))}


def main(argv: list[str] | None = None) -> int:
    return tool_main(__doc__.splitlines()[0],
                     lambda bolts: {n: render(d) for n, d in documents(bolts).items()},
                     DEFAULT_BOLTS, DEFAULT_OUT, argv)


if __name__ == "__main__":
    sys.exit(main())
