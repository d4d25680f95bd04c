"""Write `vectors/amp.json`: AMP derivation, share sets and record encodings as lnd defines them.

lnd publishes no fixed AMP vectors (its tests draw random seeds), so these are the project's
own. Every expectation is computed here from lnd's definitions with hashlib, integer XOR and
hand-written TLV bytes, importing nothing from sphinxamp:

- amp/child.go: preimage = SHA256(root ‖ share ‖ uint32_be(index)), hash = SHA256(preimage);
- amp/sharer.go: the shares of a set XOR to the root;
- record/amp.go: type 14, share ‖ set_id ‖ tu32 child_index, length 64..68, minimal index;
- record/mpp.go: type 8, payment_addr ‖ tu64 total_msat, length 32..40;
- bLIP 3: keysend preimage, type 5482373484, 32 bytes; read as an opaque record (lnd).

Inputs are fixed labels hashed with SHA256, so the output is the same on every run; `--check`
compares with the committed file instead of writing it.

Usage: python vectors/tools/gen_amp.py [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

SCHEMA = "sphinxamp-vectors/1"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "amp.json"
LND_COMMIT = "90ea05d5a7f9239ede8eb4e2f36d9a66c39e67d5"
KEYSEND_TYPE_BYTES = bytes.fromhex("ff0000000146c6616c")  # BigSize(5482373484)

Case = dict[str, Any]


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def label(text: str) -> bytes:
    return sha(b"sphinxamp amp vectors/" + text.encode())


def index_of(text: str) -> int:
    return int.from_bytes(label(text)[:4], "big")


def child(root: bytes, share: bytes, index: int) -> tuple[bytes, bytes]:
    preimage = sha(root + share + index.to_bytes(4, "big"))
    return preimage, sha(preimage)


def xor(chunks: list[bytes]) -> bytes:
    acc = 0
    for c in chunks:
        acc ^= int.from_bytes(c, "big")
    return acc.to_bytes(32, "big")


def tu(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def tlv(rtype: int, value: bytes) -> bytes:
    """One record with a single-byte type and length (every type and length below is < 253,
    except keysend's, written out by the caller)."""
    assert rtype < 253 and len(value) < 253
    return bytes([rtype, len(value)]) + value


# --- derivation ----------------------------------------------------------------------------


def derive_cases() -> list[Case]:
    root, share = label("root"), label("share")
    inputs = [
        ("index zero", root, share, 0),
        ("index one", root, share, 1),
        ("index 2^24: big-endian, not little", root, share, 1 << 24),
        ("index 2^31", root, share, 1 << 31),
        ("largest index", root, share, 0xFFFFFFFF),
        ("random index", root, share, index_of("random index")),
        ("one-shard set: share is the root", root, root, index_of("one shard")),
        ("all-zero root and share", bytes(32), bytes(32), 0),
    ]
    cases = []
    for i, (name, r, s, idx) in enumerate(inputs, 1):
        preimage, hsh = child(r, s, idx)
        cases.append({"id": f"derive-{i:02d}", "kind": "amp-derive", "name": name,
                      "root": r.hex(), "share": s.hex(), "child_index": idx,
                      "expect": {"preimage": preimage.hex(), "hash": hsh.hex()}})
    return cases


# --- share sets ----------------------------------------------------------------------------


def make_set(n: int) -> tuple[bytes, list[dict[str, Any]], list[bytes]]:
    root = label(f"set {n} root")
    shares = [label(f"set {n} share {i}") for i in range(n - 1)]
    shares.append(xor([root, *shares]))
    shards, preimages = [], []
    for i, share in enumerate(shares):
        idx = index_of(f"set {n} index {i}")
        preimage, hsh = child(root, share, idx)
        shards.append({"share": share.hex(), "child_index": idx, "payment_hash": hsh.hex()})
        preimages.append(preimage)
    return root, shards, preimages


def set_cases() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, shards: list[dict[str, Any]], expect: dict[str, Any]) -> None:
        cases.append({"id": f"set-{len(cases) + 1:02d}", "kind": "amp-set", "name": name,
                      "shards": shards, "expect": expect})

    for n in (1, 2, 3, 16):
        root, shards, preimages = make_set(n)
        add(f"{n}-share set settles", shards,
            {"root": root.hex(), "preimages": [p.hex() for p in preimages]})
        if n > 1:
            # Without one share the XOR is another root: no child hash matches any more.
            add(f"{n}-share set missing its last shard", shards[:-1],
                {"error": "hash_mismatch"})
    root, shards, preimages = make_set(3)
    order = [2, 0, 1]
    add("3-share set in another arrival order", [shards[i] for i in order],
        {"root": root.hex(), "preimages": [preimages[i].hex() for i in order]})
    tampered = [dict(s) for s in shards]
    tampered[1]["child_index"] ^= 1
    add("3-share set with one child_index changed", tampered, {"error": "hash_mismatch"})
    return cases


# --- records -------------------------------------------------------------------------------

AMP_INDICES = [0, 1, 0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFFFF, 0x1000000, 0xFFFFFFFF]
MPP_TOTALS = [0, 1, 0x100, 1_000_000, 0xFFFFFFFFFFFFFFFF]


def record_cases() -> list[Case]:
    share, set_id, addr = label("record share"), label("record set_id"), label("record addr")
    cases: list[Case] = []
    for idx in AMP_INDICES:
        width = len(tu(idx))
        cases.append({"name": f"AMP child_index {idx:#x} ({width}-byte tu32)", "record": "amp",
                      "fields": {"root_share": share.hex(), "set_id": set_id.hex(),
                                 "child_index": idx},
                      "expect": {"bytes": tlv(14, share + set_id + tu(idx)).hex(),
                                 "length": 64 + width}})
    for total in MPP_TOTALS:
        cases.append({"name": f"MPP total_msat {total}", "record": "payment_data",
                      "fields": {"payment_secret": addr.hex(), "total_msat": total},
                      "expect": {"bytes": tlv(8, addr + tu(total)).hex(),
                                 "length": 32 + len(tu(total))}})
    preimage = label("keysend preimage")
    cases.append({"name": "keysend preimage (bLIP 3)", "record": "keysend_preimage",
                  "fields": {"keysend_preimage": preimage.hex()},
                  "expect": {"bytes": (KEYSEND_TYPE_BYTES + b"\x20" + preimage).hex(),
                             "length": 32}})
    for i, case in enumerate(cases, 1):
        case.update(id=f"record-{i:02d}", kind="amp-record")
    return cases


# --- whole payloads ------------------------------------------------------------------------

AMOUNT, CLTV = 1_000_000, 800_000
HEAD = tlv(2, tu(AMOUNT)) + tlv(4, tu(CLTV))
SCID = tlv(6, (700_000 << 40 | 12 << 16 | 1).to_bytes(8, "big"))
LND_AMP = tlv(14, b"\x12" * 32 + b"\x13" * 32 + b"\x09")  # htlcswitch/hop/payload_test.go
LND_MPP = tlv(8, b"\x11" * 32 + b"\x08")


def amp_value(index_bytes: bytes) -> bytes:
    return b"\x12" * 32 + b"\x13" * 32 + index_bytes


def accepted(name: str, data: bytes, role: str, records: dict[str, Any]) -> Case:
    full = {"amp": None, "payment_data": None, "payment_metadata": None,
            "keysend_preimage": None, **records}
    return {"name": name, "payload": data.hex(), "role": role,
            "expect": {"valid": True, "records": full}}


def refused(name: str, before: bytes, bad: bytes, after: bytes, role: str, tlv_type: int,
            error: str) -> Case:
    """`bad` is the offending record; the error points at its first byte."""
    return {"name": name, "payload": (before + bad + after).hex(), "role": role,
            "expect": {"valid": False, "error": error, "tlv_type": tlv_type,
                       "offset": len(before)}}


def lnd_only(case: Case) -> Case:
    """A refusal of lnd's reader (htlcswitch/hop/payload.go, ValidateParsedPayloadTypes:
    "Intermediate nodes should never receive MPP fields" / "... AMP fields"), which reports
    offset 0; BOLT 4's reader has no such rule, so the case is read under profile lnd."""
    case["profile"] = "lnd"
    case["expect"]["offset"] = 0
    return case


def payload_cases() -> list[Case]:
    amp9 = {"root_share": "12" * 32, "set_id": "13" * 32, "child_index": 9}
    mpp8 = {"payment_secret": "11" * 32, "total_msat": 8}
    preimage = label("keysend preimage")
    keysend = KEYSEND_TYPE_BYTES + b"\x20" + preimage
    cases = [
        accepted("lnd's AMP record without MPP: parsed (refused later, at the invoice layer)",
                 HEAD + LND_AMP, "final", {"amp": amp9}),
        accepted("lnd's MPP and AMP records together", HEAD + LND_MPP + LND_AMP, "final",
                 {"amp": amp9, "payment_data": mpp8}),
        accepted("AMP shard with payment_metadata and a tip note",
                 HEAD + LND_MPP + LND_AMP + tlv(16, b"meta") + bytes.fromhex("fe00746970")
                 + b"\x02hi", "final",
                 {"amp": amp9, "payment_data": mpp8, "payment_metadata": b"meta".hex()}),
        accepted("keysend preimage", HEAD + keysend, "final",
                 {"keysend_preimage": preimage.hex()}),
        lnd_only(refused("AMP on an intermediate hop", HEAD + SCID, LND_AMP, b"",
                         "intermediate", 14, "record_included")),
        lnd_only(refused("MPP on an intermediate hop", HEAD + SCID, LND_MPP, b"",
                         "intermediate", 8, "record_included")),
        refused("AMP record of 63 bytes", HEAD, tlv(14, b"\x12" * 63), b"", "final", 14,
                "length_below_fixed_size"),
        refused("AMP record of 69 bytes", HEAD, tlv(14, amp_value(b"\x01" * 5)), b"", "final",
                14, "length_above_fixed_size"),
        refused("AMP child_index 0x00: not minimal", HEAD, tlv(14, amp_value(b"\x00")), b"",
                "final", 14, "truncated_int_not_minimal"),
        refused("AMP child_index 0x0001: not minimal", HEAD, tlv(14, amp_value(b"\x00\x01")),
                b"", "final", 14, "truncated_int_not_minimal"),
        refused("AMP child_index 0 in 4 bytes: not minimal", HEAD,
                tlv(14, amp_value(bytes(4))), b"", "final", 14, "truncated_int_not_minimal"),
        refused("MPP record of 31 bytes", HEAD, tlv(8, b"\x11" * 31), LND_AMP, "final", 8,
                "length_below_fixed_size"),
        refused("MPP record of 41 bytes", HEAD, tlv(8, b"\x11" * 41), LND_AMP, "final", 8,
                "length_above_fixed_size"),
        refused("MPP total_msat 0x00ff: not minimal", HEAD, tlv(8, b"\x11" * 32 + b"\x00\xff"),
                LND_AMP, "final", 8, "truncated_int_not_minimal"),
        # lnd reads the keysend record as an opaque custom record; its length is judged by the
        # final hop's invoice layer (incorrect_or_unknown_payment_details), not by the parser.
        accepted("keysend preimage of 31 bytes: kept for the final hop to judge",
                 HEAD + KEYSEND_TYPE_BYTES + b"\x1f" + preimage[:31], "final",
                 {"keysend_preimage": preimage[:31].hex()}),
        accepted("keysend preimage of 33 bytes at a forwarding hop: ignored",
                 HEAD + SCID + KEYSEND_TYPE_BYTES + b"\x21" + preimage + b"\x00", "intermediate",
                 {"keysend_preimage": (preimage + b"\x00").hex()}),
        # BOLT 4 › `payload` format › Requirements: "MUST NOT include payment_data" binds the
        # writer; the reader has no such rule (nor any for lnd's AMP record).
        accepted("AMP on an intermediate hop: no rule of BOLT 4's reader", HEAD + SCID + LND_AMP,
                 "intermediate", {"amp": amp9}),
        accepted("MPP on an intermediate hop: a writer's MUST NOT only", HEAD + SCID + LND_MPP,
                 "intermediate", {"payment_data": mpp8}),
    ]
    for i, case in enumerate(cases, 1):
        case.update(id=f"payload-{i:02d}", kind="amp-payload")
    return cases


def build() -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "source": {"file": "generated", "generator": "vectors/tools/gen_amp.py",
                   "repo": "lightningnetwork/lnd", "commit": LND_COMMIT,
                   "section": "amp/child.go DeriveChild, amp/sharer.go, record/amp.go, "
                              "record/mpp.go; bLIP 3 keysend"},
        "description": "AMP as lnd speaks it: child derivation (root, share, index → preimage, "
                       "hash), 1/2/3/16-share sets (complete, incomplete, reordered, tampered), "
                       "AMP/MPP/keysend record encodings at every truncated-integer width, and "
                       "whole final/intermediate payloads, malformed ones with their error.",
        "cases": derive_cases() + set_cases() + record_cases() + payload_cases(),
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="file to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="compare with --out instead of writing")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        if not args.out.exists() or args.out.read_text() != text:
            print(f"differs: {args.out}")
            return 1
        return 0
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
