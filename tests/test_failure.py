"""Failure messages, return packets and the origin's decryption (BOLT 4 › Returning Errors,
› Failure Messages), checked against bytes written out by hand from the spec's tables and
against the official onion-error-test.json."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import (
    FailureMessage,
    build_onion,
    create_failure,
    decrypt_failure,
    process_hop,
    public_key,
    wrap_failure,
)
from sphinxamp._codes import FAILURE_CODES
from sphinxamp.errors import (
    DecodeError,
    EncodeError,
    InvalidArgument,
    InvalidOnionHmac,
    InvalidOnionPayload,
    SphinxampError,
)
from sphinxamp.failures import failure_from_error, failure_from_malformed
from sphinxamp.failures._packet import ORIGIN_ITERATIONS, build_return_packet
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire import TlvRecord
from tests.official import SHARED

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def legacy_case() -> dict[str, Any]:
    doc = json.loads((VECTORS / "bolt04-failure.json").read_text())
    case: dict[str, Any] = doc["cases"][1]
    return case


def official_legacy() -> dict[str, Any]:
    """onion-error-test.json, or (without the official copy) the values recorded from it."""
    if SHARED.is_dir():
        doc: dict[str, Any] = json.loads((SHARED / "onion-error-test.json").read_text())
        return doc
    case = legacy_case()
    steps = {s["hop_index"]: s for s in case["expect"]["hops"]}
    hops = [{"ammag_key": steps[i]["ammag"]} for i in range(5)]
    hops[4].update(um_key=steps[4]["um"], payload=case["expect"]["reason_before_ammag"][64:])
    return {"generate": {"hops": hops}, "errorpacket": steps[0]["reason"]}


SECRETS = [bytes.fromhex(s) for s in legacy_case()["shared_secrets"]]


# --- failure messages ----------------------------------------------------------------------

HAND_MADE = [
    # (code name, fields, bytes per BOLT 4 › Failure Messages)
    ("temporary_node_failure", {}, "2002"),
    ("invalid_onion_hmac", {"sha256_of_onion": bytes(range(32))}, "c005" + bytes(range(32)).hex()),
    ("temporary_channel_failure", {"channel_update": b"\xaa\xbb"}, "1007" "0002" "aabb"),
    ("amount_below_minimum", {"htlc_msat": 1000, "channel_update": b""},
     "100b" "00000000000003e8" "0000"),
    ("incorrect_cltv_expiry", {"cltv_expiry": 700000, "channel_update": b"\x01"},
     "100d" "000aae60" "0001" "01"),
    ("incorrect_or_unknown_payment_details", {"htlc_msat": 100, "height": 800000},
     "400f" "0000000000000064" "000c3500"),
    ("final_incorrect_htlc_amount", {"incoming_htlc_amt": 2**64 - 1}, "0013" + "ff" * 8),
    ("channel_disabled", {"disabled_flags": 0, "channel_update": b""}, "1014" "0000" "0000"),
    ("invalid_onion_payload", {"type": 0xFD00, "offset": 5}, "4016" "fdfd00" "0005"),
    ("invalid_onion_payload", {"type": 2, "offset": 300}, "4016" "02" "012c"),
]


@pytest.mark.parametrize(("name", "fields", "wire"), HAND_MADE)
def test_messages_match_the_spec_layout(name: str, fields: dict[str, Any], wire: str) -> None:
    message = FailureMessage.create(name, fields)
    assert message.encode().hex() == wire
    decoded = FailureMessage.decode(bytes.fromhex(wire))
    assert decoded.name == name and dict(decoded.fields) == fields
    assert decoded.tlv == () and decoded.extra == b""


def test_every_code_in_the_table_round_trips() -> None:
    samples: dict[str, int | bytes] = {
        "sha256": b"\x11" * 32, "channel_update": b"\x01\x02\x03", "u16": 0x1234,
        "u32": 0x12345678, "u64": 0x123456789A, "bigsize": 0x10000}
    for code in FAILURE_CODES.values():
        fields = {n: samples[t] for n, t in code.fields}
        data = FailureMessage.create(code.name, fields).encode()
        assert data[:2] == code.code.to_bytes(2, "big")
        assert dict(FailureMessage.decode(data).fields) == fields


def test_tlv_extension_follows_the_fixed_fields() -> None:
    tlv = (TlvRecord(34001, b"\x80" * 300),)
    data = FailureMessage.create(0x400F, {"htlc_msat": 100, "height": 800000}, tlv).encode()
    assert data.hex().startswith("400f0000000000000064000c3500" "fd84d1" "fd012c8080")
    assert FailureMessage.decode(data).tlv == tlv


def test_unknown_code_keeps_its_bytes() -> None:
    message = FailureMessage.decode(bytes.fromhex("7777aabbccdd"))
    assert (message.code, message.name, message.known) == (0x7777, None, False)
    assert message.extra == bytes.fromhex("aabbccdd") and message.fields == {}
    assert message.encode().hex() == "7777aabbccdd"


def test_bytes_after_the_fields_that_are_no_tlv_stream_are_kept_not_refused() -> None:
    message = FailureMessage.decode(bytes.fromhex("2002" "05ff"))  # length 255 runs past
    assert message.code == 0x2002 and message.tlv == () and message.extra == b"\x05\xff"


@pytest.mark.parametrize(("wire", "field"), [
    ("", "failure_code"), ("20", "failure_code"), ("c005" + "00" * 31, "sha256_of_onion"),
    ("1007" "0005" "aabb", "channel_update"), ("400f" "00", "htlc_msat"),
    ("4016" "fe", "type"), ("4016" "fd0001", "type"), ("4016" "02" "00", "offset"),
])
def test_truncated_messages_are_decode_errors(wire: str, field: str) -> None:
    with pytest.raises(DecodeError) as info:
        FailureMessage.decode(bytes.fromhex(wire))
    assert info.value.field == field and info.value.reason


def test_create_refuses_wrong_fields() -> None:
    with pytest.raises(InvalidArgument):
        FailureMessage.create("incorrect_or_unknown_payment_details", {"htlc_msat": 1})
    with pytest.raises(InvalidArgument):
        FailureMessage.create("temporary_node_failure", {"height": 1})
    with pytest.raises(InvalidArgument):
        FailureMessage.create("no_such_failure")
    with pytest.raises(EncodeError):
        FailureMessage.create("incorrect_or_unknown_payment_details",
                              {"htlc_msat": -1, "height": 0}).encode()
    # Defaults: an empty channel_update and disabled_flags 0.
    assert FailureMessage.create("expiry_too_soon").encode().hex() == "100e0000"


def test_receiver_fail_message() -> None:
    """What the AMP receiver's Fail turns into on the wire (BOLT 4: PERM|15 carries the
    HTLC amount and the current block height)."""
    data = FailureMessage.create("incorrect_or_unknown_payment_details",
                                 {"htlc_msat": 5000, "height": 840000}).encode()
    assert data == b"\x40\x0f" + (5000).to_bytes(8, "big") + (840000).to_bytes(4, "big")


# --- return packets ------------------------------------------------------------------------


def _packet(secret: bytes, message: bytes, pad_to: int = 256) -> bytes:
    """The erring node's packet alone (no attribution data)."""
    return create_failure(secret, message, attribution=False, pad_to=pad_to).packet


def _wrap(secret: bytes, packet: bytes) -> bytes:
    return wrap_failure(secret, packet, attribution=False).packet


def test_official_legacy_packet_layer_by_layer() -> None:
    """onion-error-test.json: the erring node's payload and every hop's ammag key, then the
    packet the origin receives; the HMAC is recomputed with hashlib."""
    official = official_legacy()
    hops = official["generate"]["hops"]
    erring = hops[4]
    raw = build_return_packet(SECRETS[4], bytes.fromhex("2002"))
    um = bytes.fromhex(erring["um_key"])
    assert raw[32:].hex() == erring["payload"]
    assert raw[:32] == hmac.digest(um, raw[32:], "sha256")
    packet = _packet(SECRETS[4], bytes.fromhex("2002"))
    for i in (3, 2, 1, 0):
        assert crypto.derive_key(crypto.KEY_AMMAG, SECRETS[i]).hex() == hops[i]["ammag_key"]
        packet = _wrap(SECRETS[i], packet)
    assert packet.hex() == official["errorpacket"]
    result = decrypt_failure(bytes.fromhex(official["errorpacket"]), SECRETS)
    assert result.hop_index == 4 and result.message is not None
    assert result.message.name == "temporary_node_failure"


def test_packet_sizes() -> None:
    assert len(build_return_packet(SECRETS[0], b"\x20\x02")) == 32 + 2 + 256 + 2 - 0
    long = FailureMessage.create("temporary_node_failure",
                                 tlv=(TlvRecord(1, b"\x00" * 990),)).encode()
    assert len(long) > 256
    packet = _packet(SECRETS[0], long, pad_to=1024)
    assert len(packet) == 32 + 2 + 1024 + 2
    result = decrypt_failure(packet, SECRETS[:1])
    assert result.hop_index == 0 and result.failure_message == long
    unpadded = _packet(SECRETS[0], long)  # longer than 256: no padding
    assert len(unpadded) == 32 + 2 + len(long) + 2
    with pytest.raises(InvalidArgument):
        _packet(SECRETS[0], b"\x20\x02", pad_to=100)


@pytest.mark.parametrize("size", [0, 1, 31, 32, 33, 35, 292, 2000])
def test_garbage_is_unattributable_not_raised(size: int) -> None:
    result = decrypt_failure(bytes([0x5A]) * size, SECRETS)
    assert result.hop_index is None and result.message is None and not result.attributable


def test_verified_packet_with_a_bad_length_names_the_hop_and_the_error() -> None:
    """The HMAC covers failure_len: a packet that verifies but whose length runs past its
    end is the erring node's fault and is reported, not raised."""
    body = (300).to_bytes(2, "big") + b"\x20\x02"
    um = crypto.derive_key(crypto.KEY_UM, SECRETS[1])
    raw = hmac.digest(um, body, "sha256") + body
    packet = _wrap(SECRETS[0], _wrap(SECRETS[1], raw))
    result = decrypt_failure(packet, SECRETS)
    assert result.hop_index == 1 and result.message is None
    assert result.error is not None and result.error.reason == "truncated"


def test_origin_does_27_iterations_whatever_the_route(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = crypto.hmac_sha256

    def counting(key: bytes, msg: bytes) -> bytes:
        calls.append(1)
        return real(key, msg)

    for hops in (1, 5, 20):
        packet = _packet(SECRETS[0], b"\x20\x02")
        monkeypatch.setattr(crypto, "hmac_sha256", counting)
        calls.clear()
        decrypt_failure(packet, (SECRETS * 4)[:hops])
        monkeypatch.setattr(crypto, "hmac_sha256", real)
        assert len(calls) == 27 == ORIGIN_ITERATIONS


# --- update_fail_malformed_htlc and process_hop errors -------------------------------------


def test_from_malformed_is_the_upstream_nodes_failure() -> None:
    sha = hashlib.sha256(b"onion").digest()
    packet = failure_from_malformed(SECRETS[2], sha, 0xC005)
    relayed = _wrap(SECRETS[0], _wrap(SECRETS[1], packet))
    result = decrypt_failure(relayed, SECRETS)
    assert result.hop_index == 2 and result.message is not None
    assert result.failure_message == b"\xc0\x05" + sha
    with pytest.raises(InvalidArgument):
        failure_from_malformed(SECRETS[2], sha, "temporary_node_failure")
    with pytest.raises(InvalidArgument):
        failure_from_malformed(SECRETS[2], sha[:31], 0xC005)


NODE_KEYS = [bytes([i + 1]) * 32 for i in range(3)]
ASSOC = b"\x42" * 32


def _route(final_payload: bytes) -> tuple[bytes, tuple[bytes, ...]]:
    forward = bytes.fromhex("0203" "0186a0" "0403" "0927c0" "0608" "0000000000000001")
    hops = [(public_key(NODE_KEYS[0]), forward), (public_key(NODE_KEYS[1]), final_payload)]
    built = build_onion(b"\x41" * 32, hops, ASSOC)
    return built.to_bytes(), built.shared_secrets


def test_failure_from_a_payload_error_carries_type_and_offset() -> None:
    # The final payload lacks outgoing_cltv_value (type 4): invalid_onion_payload.
    onion, secrets = _route(bytes.fromhex("0203" "0186a0"))
    first = process_hop(onion, NODE_KEYS[0], ASSOC)
    assert first.next_packet is not None
    with pytest.raises(InvalidOnionPayload) as info:
        process_hop(first.next_packet, NODE_KEYS[1], ASSOC)
    exc = info.value
    packet = failure_from_error(exc, secrets[1])
    result = decrypt_failure(_wrap(secrets[0], packet), secrets)
    assert result.hop_index == 1 and result.message is not None
    assert result.message.code == 0x4016
    assert dict(result.message.fields) == {"type": exc.tlv_type, "offset": exc.offset}
    assert exc.tlv_type == 4


def test_failure_from_a_bad_onion_carries_its_hash() -> None:
    onion, _ = _route(bytes.fromhex("0203" "0186a0" "0403" "0927c0"))
    damaged = onion[:-1] + bytes([onion[-1] ^ 1])
    with pytest.raises(InvalidOnionHmac) as info:
        process_hop(damaged, NODE_KEYS[0], ASSOC)
    message = FailureMessage.from_error(info.value)
    assert message.fields == {"sha256_of_onion": hashlib.sha256(damaged).digest()}
    assert message.code == 0xC005


def test_failure_from_a_payment_error_takes_amount_and_height() -> None:
    exc = SphinxampError("unknown payment hash", failure_code=0x400F)
    message = FailureMessage.from_error(exc, htlc_msat=7, height=9)
    assert message.encode() == bytes.fromhex("400f" "0000000000000007" "00000009")
    with pytest.raises(InvalidArgument):
        FailureMessage.from_error(SphinxampError("no code"))


def test_route_shared_secrets_are_the_official_ones() -> None:
    """The secrets the origin decrypts with are those `build_onion` returns: building over
    onion-error-test.json's session key and node ids gives its hop_shared_secret values."""
    official = json.loads((SHARED / "onion-error-test.json").read_text()) if SHARED.is_dir() \
        else None
    pubkeys = [public_key(bytes([0x41 + i]) * 32) for i in range(5)]
    if official is not None:
        assert [h["pubkey"] for h in official["generate"]["hops"]] == [k.hex() for k in pubkeys]
    built = build_onion(b"\x41" * 32, [(k, b"\x02\x01\x01") for k in pubkeys], ASSOC)
    assert list(built.shared_secrets) == SECRETS
