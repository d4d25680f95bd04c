"""`explain` (library) against the BOLT vectors: the fields it reports are the vectors' bytes,
and a malformed input is pinpointed at the record the spec's reader refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import FailureMessage, explain
from sphinxamp.debug import Field
from sphinxamp.errors import InvalidArgument
from sphinxamp.onion import peel_onion

ROOT = Path(__file__).resolve().parent.parent
# bolt04/onion-test.json: node i's private key is the byte 0x41+i repeated, the associated
# data 0x42 repeated.
NODE_KEYS = [bytes([0x41 + i]) * 32 for i in range(5)]
ASSOC = bytes([0x42]) * 32


def _records() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "vectors" / "bolt04-onion.json").read_text())
    return data


def _vector_onion() -> tuple[bytes, list[bytes]]:
    """The onion of bolt04 onion-test (as vectors/ records it) and every hop's payload."""
    case = next(c for c in _records()["cases"] if c["id"] == "build-5-hops")
    return bytes.fromhex(case["expect"]["onion"]), [
        bytes.fromhex(h["payload"]) for h in case["hops"]]


def find(fields: list[Field], name: str) -> Field:
    for f in fields:
        if f.name == name:
            return f
        try:
            return find(f.children, name)
        except LookupError:
            continue
    raise LookupError(name)


def test_onion_every_hop_decrypts_to_the_vector_payload() -> None:
    onion, payloads = _vector_onion()
    packet: Any = onion
    for i, want in enumerate(payloads):
        key, assoc = NODE_KEYS[i], ASSOC
        wire = packet if isinstance(packet, bytes) else packet.to_bytes()
        ex = explain(wire, node_key=key, assoc_data=assoc)
        assert ex.kind == "onion" and ex.error is None, ex.error
        payload = find(ex.fields, "payload")
        assert payload.raw == want
        assert payload.offset == 34 + (1 if len(want) < 0xFD else 3) and payload.decrypted
        final = find(ex.fields, "next_hmac").raw == bytes(32)
        assert final == (i == len(payloads) - 1)
        packet = peel_onion(wire, key, assoc).next_packet


def test_onion_without_keys_lays_out_the_packet() -> None:
    onion, _ = _vector_onion()
    ex = explain(onion)
    assert ex.kind == "onion" and "1366" in (ex.guess or "")
    names = [(c.name, c.offset, c.length) for c in ex.fields[0].children]
    assert names == [("version", 0, 1), ("public_key", 1, 33), ("hop_payloads", 34, 1300),
                     ("hmac", 1334, 32)]


def test_wrong_hmac_is_pinpointed_at_the_hmac() -> None:
    onion, _ = _vector_onion()
    bad = onion[:-1] + bytes([onion[-1] ^ 1])
    ex = explain(bad, "onion", node_key=NODE_KEYS[0], assoc_data=ASSOC)
    assert ex.error is not None and ex.error.offset == 1334
    assert ex.error.reason == "hmac_mismatch" and "Onion Decryption" in ex.error.section
    assert find(ex.fields, "hmac").error


def test_bad_version_and_key() -> None:
    onion, _ = _vector_onion()
    ex = explain(b"\x01" + onion[1:], "onion")
    assert ex.error is not None and (ex.error.offset, ex.error.reason) == (0, "unknown_version")
    ex = explain(onion[:1] + b"\x05" + onion[2:], "onion")
    assert ex.error is not None and (ex.error.offset, ex.error.reason) == (1, "invalid_point")


def _spec_split(stream: bytes) -> int:
    """Start of the first record a plain reading of BOLT 1 cannot complete (independent of
    the library): types and lengths as BigSize, values as long as the length says."""
    def bigsize(pos: int) -> tuple[int, int] | None:
        if pos >= len(stream):
            return None
        size = {0xFD: 3, 0xFE: 5, 0xFF: 9}.get(stream[pos], 1)
        if pos + size > len(stream):
            return None
        value = stream[pos] if size == 1 else int.from_bytes(stream[pos + 1 : pos + size], "big")
        minimum = {1: 0, 3: 0xFD, 5: 0x10000, 9: 0x100000000}[size]
        return (value, pos + size) if value >= minimum else None

    pos, last = 0, -1
    while pos < len(stream):
        t = bigsize(pos)
        if t is None or t[0] <= last:
            return pos
        n = bigsize(t[1])
        if n is None or n[1] + n[0] > len(stream):
            return pos
        pos, last = n[1] + n[0], t[0]
    return pos


TLV_CASES = [c for c in json.loads((ROOT / "vectors" / "bolt01-tlv.json").read_text())["cases"]
             if c.get("kind") == "tlv-decode"]


@pytest.mark.parametrize("case", TLV_CASES, ids=[c["id"] for c in TLV_CASES])
def test_bolt1_tlv_vectors(case: dict[str, Any]) -> None:
    stream = bytes.fromhex(case["stream"])
    ex = explain(stream, "tlv")
    want = case["expect"]
    structural = want.get("error") in {
        "type_truncated", "type_not_minimal", "length_missing", "length_truncated",
        "length_not_minimal", "value_missing", "value_truncated", "duplicate_type",
        "not_strictly_increasing"}
    if want.get("valid") or not structural:
        assert ex.error is None
        return
    assert ex.error is not None
    assert ex.error.reason == want["error"]
    assert ex.error.offset == _spec_split(stream)
    assert "BOLT 1" in ex.error.section
    assert ex.to_json()["error"]["offset"] == ex.error.offset


def test_payload_names_come_from_the_registry() -> None:
    from sphinxamp.wire._records import HOP_PAYLOAD_SCHEMA

    payload = bytes.fromhex("02023a98040205dc06080000000000000001")
    ex = explain(payload)
    assert ex.kind == "payload" and ex.error is None
    names = [f.name for f in ex.fields]
    assert names == [HOP_PAYLOAD_SCHEMA.name_of(t) for t in (2, 4, 6)]
    assert find(ex.fields, "amt_to_forward").children[2].value == 0x3A98


def test_payload_nested_payment_data() -> None:
    secret = bytes(range(32))
    payload = bytes.fromhex("020203e8040190") + bytes([8, 34]) + secret + b"\x03\xe8"
    ex = explain(payload, "payload")
    assert ex.error is None
    value = find(ex.fields, "payment_data").children[2]
    assert [c.name for c in value.children] == ["payment_secret", "total_msat"]
    assert value.children[0].raw == secret and value.children[1].value == 1000


def test_unknown_even_type_at_its_record() -> None:
    payload = bytes.fromhex("020203e8040190") + bytes.fromhex("0a00") + bytes.fromhex("3300")
    ex = explain(payload[:7] + bytes.fromhex("3200"), "payload")
    assert ex.error is not None and ex.error.reason == "unknown_even_type"
    assert ex.error.offset == 7


def test_failure_message_from_the_code_table() -> None:
    msg = FailureMessage.create("incorrect_or_unknown_payment_details",
                                {"htlc_msat": 1000, "height": 800000}).encode()
    ex = explain(msg)
    assert ex.kind == "failure" and ex.error is None
    f = ex.fields[0]
    assert [c.name for c in f.children] == ["failure_code", "htlc_msat", "height"]
    assert f.children[1].value == 1000 and f.children[2].value == 800000
    assert "incorrect_or_unknown_payment_details" in f.children[0].meaning
    truncated = explain(msg[:5], "failure")
    assert truncated.error is not None and truncated.error.offset == 2


def test_failure_return_packet_with_secrets() -> None:
    cases = json.loads((ROOT / "vectors" / "bolt04-failure.json").read_text())["cases"]
    case = next(c for c in cases if c["id"] == "return-five-hops")
    secrets = [bytes.fromhex(s) for s in case["shared_secrets"]]
    packet = bytes.fromhex(next(h for h in case["expect"]["hops"] if h["hop_index"] == 0)
                           ["reason"])
    ex = explain(packet, "failure", shared_secrets=secrets)
    assert ex.error is None
    assert find(ex.fields, "failuremsg").raw == bytes.fromhex(case["failure_message"])
    assert any(f"erring hop: {case['erring_hop']}" in n for n in ex.notes)
    assert explain(packet, shared_secrets=secrets[:2]).error is not None


def test_auto_never_raises_on_odd_inputs() -> None:
    for data in (b"", b"\x00", b"\xff" * 9, bytes(1366), bytes(920), bytes(300), b"\x02\x01"):
        ex = explain(data)
        assert ex.kind in {"tlv", "onion", "attribution", "failure", "payload"}
        json.dumps(ex.to_json())


def test_bad_arguments_are_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match="must be 32 bytes"):
        explain(b"", "onion", node_key=b"\x01" * 31)
    with pytest.raises(InvalidArgument):
        explain(b"", "nonsense")


def test_payload_with_its_length_prefix() -> None:
    """The vector files write payloads with their frame's BigSize length (onion-test.json's
    `payload_with_length`): explain reads the length, then the records after it."""
    case = next(c for c in _records()["cases"] if c["id"] == "build-5-hops")
    for hop in case["hops"]:
        data = bytes.fromhex(hop["payload_with_length"])
        ex = explain(data)
        assert ex.kind == "payload" and ex.error is None
        assert ex.fields[0].name == "length" and ex.fields[0].value == len(
            bytes.fromhex(hop["payload"]))
        body = b"".join(f.raw for f in ex.fields[1:])
        assert body.hex() == hop["payload"]
