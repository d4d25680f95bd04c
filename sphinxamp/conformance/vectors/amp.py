"""Conformance handlers for the `amp-*` vector kinds (`vectors/amp.json`).

Each handler takes one case of a `sphinxamp-vectors/1` document and returns (passed, detail);
`conformance.py` dispatches to them through `AMP_KIND_HANDLERS`.

- `amp-derive`: root, share, child_index → preimage and hash (lnd amp/child.go).
- `amp-set`: the shards of a set (share, child_index, payment_hash) → the root and one
  preimage per shard, or `hash_mismatch` when a re-derived hash differs from its HTLC's.
- `amp-record`: one record's fields ↔ its TLV bytes, both directions.
- `amp-payload`: a whole hop payload read in a role (under `profile`, default bolt) → its
  AMP/MPP/keysend records, or the error reason, TLV type and offset.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

from sphinxamp._payload import (
    HOP_PAYLOAD_SCHEMA,
    AmpRecord,
    HopPayload,
    PaymentData,
    decode_payload,
)
from sphinxamp.errors import InvalidOnionPayload
from sphinxamp.payments._amp import derive_child, reconstruct_children, reconstruct_root

Case = Mapping[str, Any]


def _mismatch(what: str, expected: object, got: object) -> str:
    return f"{what}: expected {expected!r}, got {got!r}"


def amp_derive(case: Case) -> tuple[bool, str]:
    child = derive_child(bytes.fromhex(case["root"]), bytes.fromhex(case["share"]),
                         int(case["child_index"]))
    got = {"preimage": child.preimage.hex(), "hash": child.hash.hex()}
    want = {k: case["expect"][k] for k in got}
    return (True, f"hash {got['hash'][:16]}…") if got == want else \
        (False, _mismatch("derived", want, got))


def amp_set(case: Case) -> tuple[bool, str]:
    shards = case["shards"]
    descs = [(bytes.fromhex(s["share"]), int(s["child_index"])) for s in shards]
    children = reconstruct_children(descs)
    matches = [hmac.compare_digest(c.hash, bytes.fromhex(s["payment_hash"]))
               for c, s in zip(children, shards, strict=True)]
    expect = case["expect"]
    if not all(matches):
        got_error = "hash_mismatch"
        if expect.get("error") == got_error:
            return True, f"refused: {sum(not m for m in matches)} of {len(matches)} differ"
        return False, _mismatch("set", expect, got_error)
    got = {"root": reconstruct_root(d[0] for d in descs).hex(),
           "preimages": [c.preimage.hex() for c in children]}
    if "error" in expect:
        return False, _mismatch("set", expect["error"], "settled")
    want = {"root": expect["root"], "preimages": list(expect["preimages"])}
    return (True, f"{len(shards)} shard(s) settle") if got == want else \
        (False, _mismatch("set", want, got))


def _record_value(record: str, fields: Mapping[str, Any]) -> Any:
    if record == "amp":
        return AmpRecord(bytes.fromhex(fields["root_share"]), bytes.fromhex(fields["set_id"]),
                         int(fields["child_index"]))
    if record == "payment_data":
        return PaymentData(bytes.fromhex(fields["payment_secret"]), int(fields["total_msat"]))
    return bytes.fromhex(fields[record])


def amp_record(case: Case) -> tuple[bool, str]:
    record, want = str(case["record"]), case["expect"]["bytes"]
    value = _record_value(record, case["fields"])
    encoded = HopPayload(**{record: value}).encode().hex()
    if encoded != want:
        return False, _mismatch("encoded", want, encoded)
    decoded = decode_payload(bytes.fromhex(want))
    if getattr(decoded, record) != value:
        return False, _mismatch("decoded", value, getattr(decoded, record))
    spec = HOP_PAYLOAD_SCHEMA.by_name[record]
    return True, f"type {spec.type}, {case['expect']['length']}-byte value"


def _json(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, AmpRecord | PaymentData):
        return {k: _json(getattr(value, k)) for k in value.__slots__}
    return value


def amp_payload(case: Case) -> tuple[bool, str]:
    expect = case["expect"]
    try:
        payload = decode_payload(bytes.fromhex(case["payload"]), case["role"],
                                 profile=case.get("profile", "bolt"))
    except InvalidOnionPayload as exc:
        got_err = {"error": exc.reason, "tlv_type": exc.tlv_type, "offset": exc.offset}
        if expect.get("valid", True):
            return False, f"expected success, got {exc.reason}: {exc}"
        want_err = {k: expect.get(k) for k in got_err}
        return (True, f"rejected: {exc.reason}") if got_err == want_err else \
            (False, _mismatch("error", want_err, got_err))
    if not expect.get("valid", True):
        return False, _mismatch("error", expect.get("error"), "success")
    got = {name: _json(getattr(payload, name)) for name in expect["records"]}
    if got != dict(expect["records"]):
        return False, _mismatch("records", expect["records"], got)
    return True, "accepted"


AMP_KIND_HANDLERS: Mapping[str, Callable[[Case], tuple[bool, str]]] = {
    "amp-derive": amp_derive,
    "amp-set": amp_set,
    "amp-record": amp_record,
    "amp-payload": amp_payload,
}
