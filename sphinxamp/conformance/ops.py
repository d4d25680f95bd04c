"""The ops: each a registry entry with its BOLT rule, what a comparison looks at, and
sphinxamp's reference implementation (what `sphinxamp conformance adapter` answers and what an
adapter's answers are compared with).

An op whose library module is not part of this build answers unsupported (`run` is None).
"""

from __future__ import annotations

from typing import Any

from sphinxamp._codes import INVALID_ONION_BLINDING
from sphinxamp._payload import CURRENT_PATH_KEY, decode_hop_payload
from sphinxamp.conformance.ops_blinding import BLINDING_OPS
from sphinxamp.conformance.ops_failure import FAILURE_OPS
from sphinxamp.conformance.ops_trampoline import TRAMPOLINE_OPS
from sphinxamp.conformance.protocol import (
    Answer,
    Op,
    Request,
    bad_request,
    error_answer,
    hexin,
    hexopt,
)
from sphinxamp.errors import DecodeError, SphinxampError
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, build_onion, frame_size, peel_onion
from sphinxamp.payments._amp import derive_child
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire._bigsize import decode_bigsize, encode_bigsize
from sphinxamp.wire._tlv import RawBytes, RecordSpec, TlvSchema, decode_stream


def records_json(records: Any) -> list[dict[str, Any]]:
    return [{"type": r.type, "value": r.value.hex()} for r in records]


def _bigsize_decode(req: Request, profile: str) -> Answer:
    value, end = decode_bigsize(hexin(req, "bytes"), 0)
    return {"value": value, "length": end}


def _tlv_decode(req: Request, profile: str) -> Answer:
    stream = hexin(req, "stream")
    known = req.get("known_types")
    if known is None:  # a bare split: parity is the namespace's business (BOLT 1 › TLV)
        return {"records": records_json(decode_stream(stream))}
    schema = TlvSchema("request", [RecordSpec(int(t), f"type_{t}", RawBytes()) for t in known])
    decoded = schema.decode(stream)
    records = sorted([(t, v) for t, v in decoded.values.items()]
                     + [(r.type, r.value) for r in decoded.unknown])
    return {"records": [{"type": t, "value": bytes(v).hex()} for t, v in records]}


def _payload_decode(req: Request, profile: str) -> Answer:
    payload = hexin(req, "payload")
    final, path_key = bool(req["final"]), bool(req.get("path_key", False))
    try:
        _, role = decode_hop_payload(payload, final=final, path_key_from_htlc=path_key,
                                     profile=str(req.get("profile", profile)))
    except SphinxampError as exc:
        if not _blinding_error(payload, final, path_key):
            raise
        # BOLT 4 › Failure Messages › Requirements: with `path_key` from update_add_htlc, or
        # `current_path_key` at a node that is not final, the node "MUST return an
        # `invalid_onion_blinding` error" (its data is sha256_of_onion: no type, no offset).
        out = error_answer(exc)
        out["error"].update(failure_code=INVALID_ONION_BLINDING, tlv_type=None, offset=None)
        return out
    return {"role": role.value, "records": records_json(decode_stream(payload))}


def _blinding_error(payload: bytes, final: bool, path_key: bool) -> bool:
    """Whether the text requires invalid_onion_blinding: a path key came with the HTLC, or the
    payload of a hop that is not final sets `current_path_key` (a valid point: a record that
    is not one sets nothing, and then the payload's own failure stands)."""
    if path_key:
        return True
    if final:
        return False
    try:
        keys = [r.value for r in decode_stream(payload) if r.type == CURRENT_PATH_KEY]
        return bool(keys) and crypto.parse_point(keys[0]) is not None
    except (DecodeError, ValueError):
        return False


def _onion_build(req: Request, profile: str) -> Answer:
    hops = [(hexin(h, "pubkey"), hexin(h, "payload")) for h in req["hops"]]
    built = build_onion(hexin(req, "session_key"), hops, hexin(req, "associated_data"),
                        int(req.get("payload_area", PAYMENT_PAYLOAD_AREA)))
    return {"onion": built.to_bytes().hex(),
            "shared_secrets": [s.hex() for s in built.shared_secrets]}


def _onion_peel(req: Request, profile: str) -> Answer:
    hop = peel_onion(hexin(req, "onion"), hexin(req, "node_key"), hexin(req, "associated_data"),
                     payload_area=int(req.get("payload_area", PAYMENT_PAYLOAD_AREA)),
                     path_key=hexopt(req, "path_key"))
    nxt = None if hop.next_packet is None else hop.next_packet.to_bytes().hex()
    return {"payload": hop.payload.hex(), "next_onion": nxt,
            "shared_secret": hop.shared_secret.hex()}


def _amp_derive_child(req: Request, profile: str) -> Answer:
    child = derive_child(hexin(req, "root"), hexin(req, "share"), int(req["child_index"]))
    return {"preimage": child.preimage.hex(), "hash": child.hash.hex()}


def _build_traits(req: Request) -> set[str]:
    """BOLT 4 › Filler Generation: the filler covers hops[:-1]; a route whose first and last
    frames differ in size tells a filler sized from other hops apart."""
    sizes = [frame_size(len(bytes.fromhex(h["payload"]))) for h in req["hops"]]
    if len(sizes) > 1 and sizes[0] < sizes[-1]:
        return {"last_frame_longer"}
    if len(sizes) > 1 and sizes[0] > sizes[-1]:
        return {"last_frame_shorter"}
    return set()


def _peel_traits(req: Request) -> set[str]:
    """Whether the payload this onion carries is a canonical TLV stream: an implementation
    that parses it and writes it again changes the bytes of one that is not (BOLT 1 › TLV)."""
    payload = answer({"op": "onion_peel", **req}).get("payload")
    if payload is None:
        return set()
    raw = bytes.fromhex(payload)
    try:
        canonical = b"".join(encode_bigsize(r.type) + encode_bigsize(len(r.value)) + r.value
                             for r in decode_stream(raw)) == raw
    except DecodeError:
        canonical = False
    return set() if canonical else {"payload_not_canonical_tlv"}


OPS: dict[str, Op] = {op.name: op for op in (
    Op("bigsize_decode", "BOLT 1 › Appendix A: BigSize", ("value", "length"),
       run=_bigsize_decode),
    Op("tlv_decode", "BOLT 1 › Type-Length-Value Format › Requirements", ("records",),
       run=_tlv_decode),
    Op("payload_decode", "BOLT 4 › Packet Structure › payload format › Requirements",
       ("records",), ("role",), run=_payload_decode),
    Op("onion_build", "BOLT 4 › Packet Construction; › Filler Generation", ("onion",),
       ("shared_secrets",), run=_onion_build, traits=_build_traits),
    Op("onion_peel", "BOLT 4 › Onion Decryption", ("payload", "next_onion"),
       ("shared_secret",), run=_onion_peel, traits=_peel_traits),
    *FAILURE_OPS,
    *BLINDING_OPS,
    Op("amp_derive_child", "lnd amp/child.go DeriveChild (no BOLT)", ("preimage", "hash"),
       run=_amp_derive_child),
    *TRAMPOLINE_OPS,
)}


def supported() -> list[str]:
    return [name for name, op in OPS.items() if op.run is not None]


def answer(req: Request, profile: str = "bolt") -> Answer:
    """The reference answer to one request (without its id)."""
    op = OPS.get(str(req.get("op")))
    if op is None or op.run is None:
        return {"unsupported": True}
    try:
        return op.run(req, profile)
    except SphinxampError as exc:
        return error_answer(exc)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        return bad_request(f"{type(exc).__name__}: {exc}")


def traits(req: Request) -> set[str]:
    op = OPS.get(str(req.get("op")))
    if op is None or op.traits is None:
        return set()
    try:
        return op.traits(req)
    except (KeyError, ValueError, TypeError, DecodeError):
        return set()
