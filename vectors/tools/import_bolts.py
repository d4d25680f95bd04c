"""Write the project's vector files from the official BOLT vectors.

Reads the official files (a copy of `lightning/bolts` vectors: `onion-test.json`,
`onion-error-test.json` and the `extracted/` Appendix A/B/C data) and writes the
`sphinxamp-vectors/1` documents next to this folder. The output is deterministic (sorted keys,
the official case order), so running the script again reproduces the committed files byte for
byte; `--check` compares instead of writing.

Expectations come from the official files. The few values that do not exist there are derived
here from the spec's rules with code independent of the library (a BigSize reader a few lines
long), except the intermediate onion packets of the BOLT 4 peel chain, which are recorded by
peeling with `sphinxamp` and written only after building the route has reproduced the official
onion and peeling it has reproduced the official payloads, final flag and shared secrets.

Usage: python vectors/tools/import_bolts.py [--bolts DIR] [--out DIR] [--check]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tool import render, tool_main

SCHEMA = "sphinxamp-vectors/1"
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent
DEFAULT_BOLTS = HERE.parents[2] / "shared" / "vectors" / "bolts"

Doc = dict[str, Any]


def read_bigsize(data: bytes, pos: int) -> tuple[int, int] | None:
    """(value, end) of a minimal BigSize at `pos`, or None if it is truncated or not minimal."""
    if pos >= len(data):
        return None
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(data[pos], 0)
    if not size:
        return data[pos], pos + 1
    if pos + 1 + size > len(data):
        return None
    value = int.from_bytes(data[pos + 1 : pos + 1 + size], "big")
    minimum = {2: 0xFD, 4: 0x10000, 8: 0x100000000}[size]
    return (value, pos + 1 + size) if value >= minimum else None


def stream_types(hexstream: str) -> list[int]:
    """Types of a well-formed TLV stream, in order."""
    data, pos, types = bytes.fromhex(hexstream), 0, []
    while pos < len(data):
        rtype, pos = read_bigsize(data, pos) or (-1, -1)
        length, pos = read_bigsize(data, pos) or (-1, -1)
        if rtype < 0 or length < 0 or pos + length > len(data):
            raise ValueError(f"stream {hexstream} is not well formed")
        types.append(rtype)
        pos += length
    return types


def strip_length(framed_hex: str) -> str:
    """A hop payload without its BigSize length prefix; the prefix must match the rest."""
    data = bytes.fromhex(framed_hex)
    length, start = read_bigsize(data, 0) or (-1, -1)
    if length != len(data) - start:
        raise ValueError(f"payload length prefix {length} does not match {len(data) - start}")
    return data[start:].hex()


def source_of(src: Doc, file: str, **extra: Any) -> Doc:
    """Provenance of an extracted file: `file` is ours to name, `spec_file` is the BOLT text
    the data was extracted from."""
    info = src["source"]
    out = {"file": file, "repo": info["repo"], "commit": info["commit"],
           "section": info["section"], "spec_file": info["file"]}
    out.update(extra)
    return out


def bigsize_doc(bolts: Path) -> Doc:
    src = json.loads((bolts / "extracted" / "bolt01-bigsize.json").read_text())
    cases = []
    for i, c in enumerate(src["decode"], 1):
        expect = {"value": c["value"]} if c["error"] is None else {"error": c["error"]}
        cases.append({"id": f"decode-{i:02d}", "kind": "bigsize-decode", "name": c["name"],
                      "bytes": c["bytes"], "spec_error_string": c["spec_error_string"],
                      "expect": expect})
    for i, c in enumerate(src["encode"], 1):
        cases.append({"id": f"encode-{i:02d}", "kind": "bigsize-encode", "name": c["name"],
                      "value": c["value"], "expect": {"bytes": c["bytes"]}})
    return {"schema": SCHEMA, "source": source_of(src, "extracted/bolt01-bigsize.json"),
            "description": "BOLT 1 Appendix A: BigSize decoding (values, non-canonical "
            "encodings, short reads, empty input) and encoding.", "cases": cases}


def tlv_case(c: Doc) -> Doc:
    if c["valid"]:
        expect: Doc = {"valid": True, "records": c["decoded"]}
    else:
        expect = {"valid": False, "error": c["error"]}
        if "record" in c:
            expect["record"] = c["record"]
    case = {"id": c["id"], "kind": "tlv-decode", "namespaces": c["namespaces"],
            "stream": c["stream"], "spec_notation": c["spec_notation"], "group": c["group"],
            "expect": expect}
    if "note" in c:
        case["note"] = c["note"]
    return case


def tlv_doc(bolts: Path) -> Doc:
    src = json.loads((bolts / "extracted" / "bolt01-tlv.json").read_text())
    return {"schema": SCHEMA, "source": source_of(src, "extracted/bolt01-tlv.json"),
            "description": "BOLT 1 Appendix B: TLV stream decoding in the test namespaces n1 "
            "and n2 (failures, ignored records, decoded values, stream ordering). Each case "
            "holds in every namespace it lists.",
            "common": {"namespace_defs": src["namespaces"]},
            "cases": [tlv_case(c) for c in src["cases"]]}


def _invalid_expectation(invalid: Doc, prefix_max: int) -> Doc:
    """What valid ‖ invalid must fail with. When the invalid part's first type (if readable)
    exceeds the prefix's last type, its own error; otherwise the stream breaks two rules at
    once and BOLT 1 does not say which a reader reports first, so either is accepted."""
    first = read_bigsize(bytes.fromhex(invalid["stream"]), 0)
    if first is None or first[0] > prefix_max:
        return {"valid": False, "error": invalid["error"]}
    ordering = "duplicate_type" if first[0] == prefix_max else "not_strictly_increasing"
    return {"valid": False, "error_one_of": sorted({ordering, invalid["error"]})}


def _pick_prefix(valid: list[Doc], bad: Doc, turn: int) -> Doc:
    """A valid prefix for `bad`: one whose types all precede it when there is one."""
    first = read_bigsize(bytes.fromhex(bad["stream"]), 0)
    below = [c for c in valid
             if first is None or max(stream_types(c["stream"])) < first[0]]
    pool = below or valid
    return pool[turn % len(pool)]


def compose_doc(bolts: Path) -> Doc:
    src = json.loads((bolts / "extracted" / "bolt01-tlv.json").read_text())
    rules = {r["expect"]: r["rule"] for r in src["composition_rules"]}
    cases: list[Doc] = []
    for ns in sorted(src["namespaces"]):
        listed = [c for c in src["cases"] if ns in c["namespaces"]]
        valid = [c for c in listed if c["valid"] and c["stream"]]
        # Rule 1: every invalid stream after a valid one, prefixes taken in turn.
        for i, bad in enumerate(c for c in listed if not c["valid"]):
            good = _pick_prefix(valid, bad, i)
            expect = _invalid_expectation(bad, max(stream_types(good["stream"])))
            cases.append({"id": f"{ns}/{good['id']}+{bad['id']}", "kind": "tlv-compose",
                          "rule": rules["failure"], "namespaces": [ns],
                          "parts": [good["id"], bad["id"]],
                          "streams": [good["stream"], bad["stream"]], "expect": expect})
        # Rule 2: a valid stream followed by one whose types are all higher.
        for i, low in enumerate(valid):
            top = max(stream_types(low["stream"]))
            higher = [c for c in valid if min(stream_types(c["stream"])) > top]
            if not higher:
                continue
            high = higher[i % len(higher)]
            cases.append({"id": f"{ns}/{low['id']}+{high['id']}", "kind": "tlv-compose",
                          "rule": rules["success"], "namespaces": [ns],
                          "parts": [low["id"], high["id"]],
                          "streams": [low["stream"], high["stream"]],
                          "expect": {"valid": True, "records": low["decoded"] + high["decoded"]}})
    return {"schema": SCHEMA,
            "source": source_of(src, "generated", derived_from="extracted/bolt01-tlv.json",
                                section="Appendix B: Type-Length-Value Test Vectors "
                                "(composition rules)"),
            "description": "BOLT 1 Appendix B composition rules, instantiated on the Appendix B "
            "streams: valid ‖ invalid fails (with the invalid part's error, or an ordering "
            "error when its first type does not exceed the valid part's last); valid ‖ valid "
            "with strictly higher types decodes to both parts' records.",
            "common": {"namespace_defs": src["namespaces"]}, "cases": cases}


def message_extension_doc(bolts: Path) -> Doc:
    src = json.loads((bolts / "extracted" / "bolt01-message-extension.json").read_text())
    cases = [{"id": f"init-{i}-{c['reason']}", "kind": "message-extension",
              "message": c["message"], "expect": {"valid": c["valid"], "reason": c["reason"]}}
             for i, c in enumerate(src["cases"], 1)]
    return {"schema": SCHEMA,
            "source": source_of(src, "extracted/bolt01-message-extension.json"),
            "description": "BOLT 1 Appendix C: TLV extensions appended to an init message.",
            "common": {"base_message": src["base_message"],
                       "message_type": src["base_message_type"],
                       "message_name": src["base_message_name"],
                       "assumption": src["assumption"], "extension_records": []},
            "cases": cases}


def _library_chain(gen: Doc, payloads: list[str], onion: str, keys: list[str]) -> list[Any]:
    """Build the route with the library (it must give the official onion), then peel the
    official onion with every official key."""
    if str(HERE.parents[1]) not in sys.path:
        sys.path.insert(0, str(HERE.parents[1]))
    from sphinxamp.onion._sphinx import build_onion, peel_onion

    assoc = bytes.fromhex(gen["associated_data"])
    route = [(bytes.fromhex(h["pubkey"]), bytes.fromhex(p))
             for h, p in zip(gen["hops"], payloads, strict=True)]
    if build_onion(bytes.fromhex(gen["session_key"]), route, assoc).to_bytes().hex() != onion:
        raise SystemExit("building the route does not reproduce the official onion")
    packets, peeled = [bytes.fromhex(onion)], []
    for key in keys:
        hop = peel_onion(packets[-1], bytes.fromhex(key), assoc)
        peeled.append(hop)
        if hop.next_packet is not None:
            packets.append(hop.next_packet.to_bytes())
    return [packets, peeled]


def _shared_secrets(onion_src: Doc, error_src: Doc) -> list[str] | None:
    """onion-error-test.json lists the shared secrets of the same route (same session key and
    node keys); use them only when both really coincide."""
    gen, egen = onion_src["generate"], error_src["generate"]
    same = gen["session_key"] == egen["session_key"] and \
        [h["pubkey"] for h in gen["hops"]] == [h["pubkey"] for h in egen["hops"]]
    return [h["hop_shared_secret"] for h in egen["hops"]] if same else None


def onion_doc(bolts: Path) -> Doc:
    src = json.loads((bolts / "onion-test.json").read_text())
    esrc = json.loads((bolts / "onion-error-test.json").read_text())
    gen, keys = src["generate"], src["decode"]
    payloads = [strip_length(h["payload"]) for h in gen["hops"]]
    secrets = _shared_secrets(src, esrc)
    packets, peeled = _library_chain(gen, payloads, src["onion"], keys)
    last = len(keys) - 1
    for i, hop in enumerate(peeled):
        ok = hop.payload.hex() == payloads[i] and hop.is_final == (i == last)
        if not ok or (secrets is not None and hop.shared_secret.hex() != secrets[i]):
            raise SystemExit(f"peel chain does not reproduce the official vector at hop {i + 1}")
    build_expect: Doc = {"onion": src["onion"]}
    if secrets is not None:
        build_expect["shared_secrets"] = secrets
    cases: list[Doc] = [{
        "id": "build-5-hops", "kind": "onion-build", "session_key": gen["session_key"],
        "associated_data": gen["associated_data"], "payload_area": 1300,
        "hops": [{"pubkey": h["pubkey"], "payload": p, "payload_with_length": h["payload"]}
                 for h, p in zip(gen["hops"], payloads, strict=True)],
        "expect": build_expect}]
    for i, key in enumerate(keys):
        expect: Doc = {"payload": payloads[i], "payload_with_length": gen["hops"][i]["payload"],
                       "final": i == last,
                       "next_onion": None if i == last else packets[i + 1].hex()}
        if secrets is not None:
            expect["shared_secret"] = secrets[i]
        derived = (["onion"] if i else []) + ([] if i == last else ["expect.next_onion"])
        cases.append({"id": f"peel-hop-{i + 1}", "kind": "onion-peel", "hop": i + 1,
                      "onion": packets[i].hex(), "node_key": key,
                      "associated_data": gen["associated_data"], "payload_area": 1300,
                      "derived": derived, "expect": expect})
    return {"schema": SCHEMA,
            "source": {"file": "onion-test.json", "repo": "lightning/bolts",
                       "path": "bolt04/onion-test.json", "commit": COMMIT, "section": None,
                       "also": [{"file": "onion-error-test.json",
                                 "path": "bolt04/onion-error-test.json",
                                 "used_for": "per-hop shared secrets (same session key and "
                                 "node keys)"}]},
            "description": "BOLT 4 onion-test.json: build the 5-hop payment onion and peel it "
            "at every hop. Payloads are recorded without their BigSize length prefix "
            "(`payload`) and as the official file gives them (`payload_with_length`). The "
            "onion each later hop receives (fields listed in `derived`) is recorded from "
            "peeling, written only after the whole chain reproduced the official payloads, "
            "final flag and shared secrets.",
            "cases": cases}


def onion_errors_doc(bolts: Path) -> Doc:
    src = json.loads((bolts / "onion-test.json").read_text())
    onion, key = bytes.fromhex(src["onion"]), src["decode"][0]
    assoc = src["generate"]["associated_data"]

    def patch(data: bytes, **at: int) -> str:
        out = bytearray(data)
        for where, mask in at.items():
            index = {"version": 0, "key": 1, "payloads": 34 + 600, "hmac": len(data) - 1}[where]
            out[index] ^= mask
        return out.hex()

    # BOLT 4 › Onion Decryption: version, then public key, then HMAC, each with its code.
    # Key mask 0x06 turns the 0x02 prefix into 0x04, which no compressed point has.
    variants = [
        ("version-1", patch(onion, version=1), key, assoc, "invalid_onion_version"),
        ("version-and-key-bad", patch(onion, version=1, key=0x06), key, assoc,
         "invalid_onion_version"),
        ("key-prefix-04", patch(onion, key=0x06), key, assoc, "invalid_onion_key"),
        ("hop-payloads-bit", patch(onion, payloads=1), key, assoc, "invalid_onion_hmac"),
        ("hmac-bit", patch(onion, hmac=0x80), key, assoc, "invalid_onion_hmac"),
        ("associated-data", onion.hex(), key, "43" + assoc[2:], "invalid_onion_hmac"),
        ("wrong-node-key", onion.hex(), src["decode"][1], assoc, "invalid_onion_hmac"),
    ]
    codes = {"invalid_onion_version": 0xC004, "invalid_onion_hmac": 0xC005,
             "invalid_onion_key": 0xC006}
    cases = [{"id": name, "kind": "onion-peel", "onion": packet, "node_key": nkey,
              "associated_data": ad, "payload_area": 1300,
              "expect": {"error": err, "failure_code": codes[err]}}
             for name, packet, nkey, ad, err in variants]
    return {"schema": SCHEMA,
            "source": {"file": "generated", "derived_from": "onion-test.json",
                       "repo": "lightning/bolts", "commit": COMMIT,
                       "section": "04-onion-routing.md: Onion Decryption"},
            "description": "The official first-hop onion with one defect each: a reader checks "
            "the version, then the public key, then the HMAC, and answers "
            "invalid_onion_version (BADONION|PERM|4), invalid_onion_key (BADONION|PERM|6) or "
            "invalid_onion_hmac (BADONION|PERM|5).",
            "cases": cases}


# onion-test.json carries no provenance of its own; this is the snapshot it was taken from
# (SOURCES.md of the official copy), the same commit the extracted files name.
COMMIT = "a3772650d8ebc06acf457fcadf97968ebfc4dfff"

DOCUMENTS: dict[str, Callable[[Path], Doc]] = {
    "bolt01-bigsize.json": bigsize_doc,
    "bolt01-tlv.json": tlv_doc,
    "bolt01-tlv-compose.json": compose_doc,
    "bolt01-message-extension.json": message_extension_doc,
    "bolt04-onion.json": onion_doc,
    "bolt04-onion-errors.json": onion_errors_doc,
}




def build_all(bolts: Path) -> dict[str, str]:
    """File name → exact text of every project vector file."""
    return {name: render(make(bolts), ascii_only=True) for name, make in DOCUMENTS.items()}


def main(argv: list[str] | None = None) -> int:
    return tool_main(__doc__.splitlines()[0], build_all, DEFAULT_BOLTS, DEFAULT_OUT, argv)


if __name__ == "__main__":
    sys.exit(main())
