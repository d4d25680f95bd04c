"""The generated suites are what they say: each malformed case breaks exactly one rule (checked
with the library's decoders where the rule can be checked), and every payload of the valid
suite is a valid TLV stream, minimal encodings included."""

from __future__ import annotations

from typing import Any

import pytest

from sphinxamp import Role
from sphinxamp._payload import decode_hop_payload
from sphinxamp.conformance.cases import Case
from sphinxamp.conformance.generate import valid_cases
from sphinxamp.conformance.malformed import malformed_cases
from sphinxamp.conformance.ops import answer
from sphinxamp.errors import SphinxampError
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire import (
    HOP_PAYLOAD_SCHEMA,
    RawBytes,
    RecordSpec,
    TlvSchema,
    decode_bigsize,
    decode_stream,
    encode_stream,
)
from sphinxamp.wire._records import _RULES

SEEDS = (1, 2, 3)
AREA = 1300


def valid_tlv(raw: bytes) -> bool:
    """BOLT 1 in the payload namespace (order, lengths, known values, unknown even types)
    and minimal BigSize types and lengths (written again, the bytes are the same)."""
    try:
        HOP_PAYLOAD_SCHEMA.decode(raw)
        return encode_stream(decode_stream(raw)) == raw
    except SphinxampError:
        return False


def payloads(case: Case) -> list[bytes]:
    req: dict[str, Any] = dict(case.request)
    if case.op == "payload_decode":
        return [bytes.fromhex(req["payload"])]
    if case.op == "onion_build":
        return [bytes.fromhex(h["payload"]) for h in req["hops"]]
    if case.op == "onion_peel":
        return [bytes.fromhex(answer({"op": case.op, **req})["payload"])]
    return []


@pytest.mark.parametrize("seed", SEEDS)
def test_every_valid_payload_is_a_valid_tlv_stream(seed: int) -> None:
    seen = 0
    for case in valid_cases(seed):
        for raw in payloads(case):
            assert valid_tlv(raw), (case.id, raw.hex())
            seen += 1
    assert seen > 100


def role_violations(raw: bytes, final: bool, path_key: bool) -> int:
    """How many of BOLT 4's reader rules on which records a role carries the payload breaks
    (a required one missing, a forbidden one present, `current_path_key` with a path key
    from update_add_htlc)."""
    types = {r.type for r in decode_stream(raw)}
    blinded = path_key or 10 in types
    role = {(False, False): Role.INTERMEDIATE, (True, False): Role.FINAL,
            (False, True): Role.BLINDED_INTERMEDIATE, (True, True): Role.BLINDED_FINAL}[
        (final, blinded)]
    required, forbidden, only, _ = _RULES[role]
    broken = len(required - types) + len(types & forbidden)
    if only is not None:
        broken += len({t for t in types if t < 1 << 16 and t not in only})
    return broken + (12 in types and path_key)


def check_payload(case: Case) -> None:
    req = case.request
    raw = bytes.fromhex(req["payload"])
    if valid_tlv(raw):  # the one broken rule is a role rule
        assert role_violations(raw, req["final"], bool(req.get("path_key"))) == 1, case.id
        return
    # A BOLT 1 rule inside the payload, at the stated record: without it, all is valid.
    at = case.expect["error"].get("offset")
    if at is None:
        return  # invalid_onion_blinding states no offset
    records = [r for r in decode_stream(raw) if r.type != case.expect["error"]["tlv_type"]]
    assert valid_tlv(encode_stream(records)), case.id


def check_tlv(case: Case) -> None:
    """The records before the one the violation is in form a valid stream in the case's
    namespace, and that record is the last: nothing else follows to break another rule."""
    stream = bytes.fromhex(case.request["stream"])
    known = case.request.get("known_types")
    schema = TlvSchema("t", [RecordSpec(t, f"t{t}", RawBytes()) for t in known or []],
                       even_ok=None if known is not None else (lambda t: True))
    offset = case.expect["error"]["offset"]
    start = max(k for k in range(offset + 1) if _decodes(schema, stream[:k]))
    assert offset - start <= 3, case.id  # the violation is in the record at `start`
    with pytest.raises(SphinxampError):
        schema.decode(stream)
    assert len(decode_stream(stream[:start])) <= 2


def _decodes(schema: TlvSchema, data: bytes) -> bool:
    try:
        schema.decode(data)
        return True
    except SphinxampError:
        return False


def check_bigsize(case: Case) -> None:
    """Either too short for its prefix or not minimal, never both."""
    raw = bytes.fromhex(case.request["bytes"])
    if not raw:
        return
    width = {0xFD: 2, 0xFE: 4, 0xFF: 8}[raw[0]]
    truncated = len(raw) - 1 < width
    if not truncated:
        value = int.from_bytes(raw[1:], "big")
        assert value < {2: 0xFD, 4: 0x10000, 8: 1 << 32}[width], case.id
    with pytest.raises(SphinxampError):
        decode_bigsize(raw, 0)


def unwrapped(req: Any) -> bytes:
    """The routing area as the node decrypts it."""
    onion = bytes.fromhex(req["onion"])
    ss = crypto.ecdh(bytes.fromhex(req["node_key"]), crypto.parse_point(onion[1:34]))
    stream = crypto.chacha20_stream(crypto.derive_key(crypto.KEY_RHO, ss), AREA)
    return crypto.xor(onion[34:34 + AREA], stream)


def check_peel(case: Case) -> None:
    req, name = dict(case.request), case.id.rsplit(":", 1)[1]
    onion = bytes.fromhex(req["onion"])
    if name == "version":  # the version byte alone is wrong
        assert "error" not in answer({"op": "onion_peel", **req, "onion": "00"
                                      + onion[1:].hex()})
    elif name == "hmac":  # one bit of the HMAC alone
        fixed = onion[:-1] + bytes((onion[-1] ^ 1,))
        assert "error" not in answer({"op": "onion_peel", **req, "onion": fixed.hex()})
    elif name == "payload-length-not-minimal":
        plain = unwrapped(req)
        assert plain[:2] == b"\xfd\x00"
        decode_hop_payload(plain[3:3 + plain[2]], final=True, path_key_from_htlc=False)
    elif name == "frame-past-area":
        plain = unwrapped(req)
        length, at = decode_bigsize(plain, 0)
        payload = plain[at:at + length]
        # The payload is inside the area and a valid forwarding payload; the frame (its HMAC)
        # runs past the area: the bound is the only rule broken.
        assert at + length <= AREA < at + length + 32
        assert valid_tlv(payload)
        decode_hop_payload(payload, final=False, path_key_from_htlc=False)


CHECKS = {"payload_decode": check_payload, "tlv_decode": check_tlv,
          "bigsize_decode": check_bigsize, "onion_peel": check_peel}


@pytest.mark.parametrize("seed", SEEDS)
def test_each_malformed_case_breaks_one_rule(seed: int) -> None:
    checked = set()
    for case in malformed_cases(seed):
        check = CHECKS.get(case.op)
        if check is not None:
            check(case)
            checked.add(case.id.rsplit(":", 1)[1] if case.op == "onion_peel" else case.op)
    assert {"payload_decode", "tlv_decode", "bigsize_decode", "version", "hmac",
            "frame-past-area", "payload-length-not-minimal"} <= checked
