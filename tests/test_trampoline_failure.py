"""Trampoline failure messages and packets against the proposal's definitions
(lightning/bolts#836 › Failure Messages: NODE|25, NODE|26 with fee_base_msat u32,
fee_proportional_millionths u32, cltv_expiry_delta u16, PERM|27; Eclair FailureMessage.scala:
NODE|51, NODE|52) and the obfuscation order of › Returning Errors, written here with
cryptography's ChaCha20 and hmac, independently of the library."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from sphinxamp.errors import (
    InvalidArgument,
    InvalidOnionPayload,
    TemporaryTrampolineFailure,
    UnknownNextTrampoline,
)
from sphinxamp.failures import (
    TRAMPOLINE_FAILURE_CODES,
    create_trampoline_failure,
    decrypt_trampoline_failure,
    read_trampoline_failure,
    trampoline_failure_from_error,
    trampoline_failure_message,
    wrap_trampoline_failure,
)

INNER, OUTER = bytes([1]) * 32, bytes([2]) * 32


def _key(kind: bytes, secret: bytes) -> bytes:
    return hmac.new(kind, secret, hashlib.sha256).digest()


def _xor_stream(secret: bytes, data: bytes) -> bytes:
    stream = Cipher(algorithms.ChaCha20(_key(b"ammag", secret), bytes(16)), None).encryptor()
    return bytes(a ^ b for a, b in zip(data, stream.update(bytes(len(data))), strict=True))


def test_codes_and_fields_are_the_proposals() -> None:
    names = {c.code: c.name for c in TRAMPOLINE_FAILURE_CODES.values()}
    assert names == {0x2019: "temporary_trampoline_failure",
                     0x201A: "trampoline_fee_or_expiry_insufficient",
                     0x401B: "unknown_next_trampoline",
                     0x2033: "trampoline_fee_insufficient",
                     0x2034: "trampoline_expiry_too_soon"}
    message = trampoline_failure_message("trampoline_fee_or_expiry_insufficient",
                                         fee_base_msat=1000, fee_proportional_millionths=100,
                                         cltv_expiry_delta=144)
    assert message.encode().hex() == "201a" "000003e8" "00000064" "0090"
    assert read_trampoline_failure(message) == (
        "trampoline_fee_or_expiry_insufficient",
        {"fee_base_msat": 1000, "fee_proportional_millionths": 100, "cltv_expiry_delta": 144})
    with pytest.raises(InvalidArgument):
        trampoline_failure_message("trampoline_fee_or_expiry_insufficient")
    with pytest.raises(InvalidArgument):
        trampoline_failure_message("temporary_node_failure")


def test_double_wrap_is_trampoline_then_outer() -> None:
    message = trampoline_failure_message("unknown_next_trampoline")
    packet = create_trampoline_failure(INNER, OUTER, message)
    inner = _xor_stream(INNER, _xor_stream(OUTER, packet))
    body = inner[32:]
    assert hmac.compare_digest(inner[:32], hmac.new(_key(b"um", INNER), body,
                                                    hashlib.sha256).digest())
    assert body[:4].hex() == "0002" "401b"
    legacy = create_trampoline_failure(INNER, OUTER, message, profile="trampoline-legacy")
    plain = _xor_stream(OUTER, legacy)
    assert plain[:32] == hmac.new(_key(b"um", OUTER), plain[32:], hashlib.sha256).digest()
    assert wrap_trampoline_failure(b"\x00" * 8, INNER, OUTER) == _xor_stream(
        OUTER, _xor_stream(INNER, b"\x00" * 8))


def test_origin_names_the_layer_and_checks_its_arguments() -> None:
    packet = create_trampoline_failure(INNER, OUTER, trampoline_failure_message(
        "temporary_trampoline_failure"))
    failure = decrypt_trampoline_failure(packet, [OUTER], [INNER], outer_nodes=[b"o"],
                                         trampoline_nodes=[b"t"])
    assert (failure.layer, failure.index, failure.node_id) == ("trampoline", 0, b"t")
    assert failure.failure_code == 0x2019 and failure.name == "temporary_trampoline_failure"
    nobody = decrypt_trampoline_failure(bytes(300), [OUTER], [INNER])
    assert (nobody.layer, nobody.index, nobody.message) == (None, None, None)
    with pytest.raises(InvalidArgument):
        decrypt_trampoline_failure(packet, [OUTER], [INNER], outer_nodes=[])
    with pytest.raises(InvalidArgument):
        create_trampoline_failure(INNER, OUTER, b"\x20\x02", profile="bolt")


def test_errors_answer_with_their_codes() -> None:
    assert trampoline_failure_from_error(TemporaryTrampolineFailure("busy")).encode() == \
        bytes.fromhex("2019")
    assert trampoline_failure_from_error(UnknownNextTrampoline("who")).encode() == \
        bytes.fromhex("401b")
    payload = InvalidOnionPayload("bad", tlv_type=14, offset=7)
    assert trampoline_failure_from_error(payload).encode() == bytes.fromhex("4016" "0e" "0007")
