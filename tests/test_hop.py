"""process_hop: one call per hop, with the context a node has (BOLT 4 › Onion Decryption,
`payload` requirements, Failure Messages; BOLT 2 › Removing an HTLC).

The blinded routes here are built from the BOLT text with coincurve and cryptography directly
(tests/blinded_route.py), not with the library's own route blinding, so the two can disagree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from coincurve import PrivateKey as CcKey

from sphinxamp import ProcessedHop, Role, build_onion, process_hop
from sphinxamp.errors import (
    InvalidOnionBlinding,
    InvalidOnionHmac,
    InvalidOnionKey,
    InvalidOnionPayload,
    InvalidOnionVersion,
    ReplayedOnion,
    SphinxampError,
)
from sphinxamp.onion import MemoryReplayLog
from sphinxamp.primitives import PrivateNodeKey
from tests.blinded_route import (
    BlindedHopSpec,
    blinded_route_onion,
    blinded_tlv,
    intermediate_data,
)

AD = bytes([0x42]) * 32
SESSION = bytes([0x41]) * 32
KEYS = [bytes([i]) * 32 for i in range(0x61, 0x61 + 6)]
PUBS = [CcKey(k).public_key.format() for k in KEYS]
SCID = "06 08 0000010000020003"
FORWARD = bytes.fromhex("020203e8 040190 " + SCID)
FINAL = bytes.fromhex("020203e8 040190")
# The HTLC a hop receives: enough for every forwarding hop's payment_relay, and for the final
# payloads here (amt_to_forward 1000, outgoing_cltv_value 144; 144 >= 100 + 18).
HTLC = {"incoming_amount_msat": 1_000_000, "incoming_cltv_expiry": 144,
        "current_block_height": 100}


class SignerKey:
    """A node key that never reveals its secret: it only answers ECDH (lightning-onion's
    SingleKeyECDH), computed with coincurve, not with the library."""

    def __init__(self, secret: bytes) -> None:
        self.__key = CcKey(secret)
        self.calls = 0

    def ecdh(self, point: bytes) -> bytes:
        self.calls += 1
        return self.__key.ecdh(point)


def walk(onion: bytes, keys: Sequence[object], path_keys: list[bytes | None] | None = None,
         **kw: object) -> list[ProcessedHop]:
    out = []
    packet: object = onion
    for i, key in enumerate(keys):
        pk = None if path_keys is None else path_keys[i]
        hop = process_hop(packet, key, AD, path_key=pk, **{**HTLC, **kw})  # type: ignore[call-overload]
        out.append(hop)
        packet = hop.next_packet
    return out


# --- unblinded ------------------------------------------------------------------------------


def test_unblinded_route_roles_secrets_and_payloads() -> None:
    built = build_onion(SESSION, [(PUBS[0], FORWARD), (PUBS[1], FORWARD), (PUBS[2], FINAL)], AD)
    hops = walk(built.to_bytes(), KEYS[:3])
    assert [h.role for h in hops] == [Role.INTERMEDIATE, Role.INTERMEDIATE, Role.FINAL]
    assert [h.shared_secret for h in hops] == list(built.shared_secrets)
    assert [h.raw_payload for h in hops] == [FORWARD, FORWARD, FINAL]
    assert hops[0].payload.amt_to_forward == 1000 and hops[2].next_packet is None
    assert not any(h.introduction_node for h in hops)


def test_key_object_gives_the_same_answers_as_raw_bytes() -> None:
    built = build_onion(SESSION, [(PUBS[0], FORWARD), (PUBS[1], FINAL)], AD)
    signers = [SignerKey(k) for k in KEYS[:2]]
    assert walk(built.to_bytes(), list(signers)) == walk(built.to_bytes(), list(KEYS[:2]))
    assert all(s.calls == 1 for s in signers)


def test_bad_hmac_is_answered_malformed_with_the_hash_of_the_onion() -> None:
    onion = bytearray(build_onion(SESSION, [(PUBS[0], FINAL)], AD).to_bytes())
    onion[-1] ^= 1
    with pytest.raises(InvalidOnionHmac) as info:
        process_hop(bytes(onion), KEYS[0], AD)
    err = info.value
    assert err.failure_code == 0xC005
    assert err.failure_message == "update_fail_malformed_htlc"
    assert err.sha256_of_onion == hashlib.sha256(bytes(onion)).digest()
    assert err.cause is None


def test_payload_violation_is_answered_in_update_fail_htlc() -> None:
    no_cltv = FINAL[:4]  # amt_to_forward alone: outgoing_cltv_value is required
    onion = build_onion(SESSION, [(PUBS[0], no_cltv)], AD).to_bytes()
    with pytest.raises(InvalidOnionPayload) as info:
        process_hop(onion, KEYS[0], AD, **HTLC)  # type: ignore[call-overload]
    err = info.value
    assert (err.failure_code, err.tlv_type, err.failure_message) == (0x4016, 4, "update_fail_htlc")
    assert err.sha256_of_onion is None and err.cause is None
    assert err.peeled is not None and err.peeled.payload == no_cltv


def test_a_path_key_with_an_unblinded_payload_is_refused_as_blinding() -> None:
    """BOLT 4 › `payload` reader: a path_key in update_add_htlc without
    encrypted_recipient_data is an error; inside a blinded route it is answered
    invalid_onion_blinding. (The onion layer is built to the blinded node id.)"""
    path_key = CcKey(bytes([0x33]) * 32).public_key.format()
    onion, _ = blinded_route_onion(SESSION, [], [BlindedHopSpec(KEYS[0], FINAL, None)],
                                   bytes([0x33]) * 32, first_is_introduction=False)
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(onion, KEYS[0], AD, path_key=path_key)
    assert isinstance(info.value.cause, InvalidOnionPayload)
    assert info.value.cause.tlv_type == 10


def test_replay_log_refuses_the_second_time() -> None:
    onion = build_onion(SESSION, [(PUBS[0], FINAL)], AD).to_bytes()
    log = MemoryReplayLog()
    context = {**HTLC, "incoming_cltv_expiry": 800}
    process_hop(onion, KEYS[0], AD, replay_log=log, **context)  # type: ignore[call-overload]
    with pytest.raises(ReplayedOnion) as info:
        process_hop(onion, KEYS[0], AD, replay_log=log, **context)  # type: ignore[call-overload]
    # lnd answers a replay with invalid_onion_version (htlcswitch/hop/iterator.go,
    # DecodeHopIterators), which update_fail_malformed_htlc can carry.
    assert info.value.failure_code == 0xC004 and info.value.reason == "replayed_onion"
    assert info.value.failure_message == "update_fail_malformed_htlc"
    assert info.value.sha256_of_onion == hashlib.sha256(onion).digest()


def test_replay_log_without_cltv_is_a_caller_error() -> None:
    onion = build_onion(SESSION, [(PUBS[0], FINAL)], AD).to_bytes()
    with pytest.raises(ValueError):
        process_hop(onion, KEYS[0], AD, replay_log=MemoryReplayLog())


def test_unknown_profile_is_a_caller_error() -> None:
    onion = build_onion(SESSION, [(PUBS[0], FINAL)], AD).to_bytes()
    with pytest.raises(ValueError):
        process_hop(onion, KEYS[0], AD, profile="eclair")


# --- blinded --------------------------------------------------------------------------------


def blinded_route(signers: bool = False) -> tuple[bytes, list[bytes | None], list[object]]:
    """Two clear hops, then an introduction node and two blinded hops (the last final)."""
    clear = [(PUBS[0], FORWARD), (PUBS[1], FORWARD)]
    blinded = [
        BlindedHopSpec(KEYS[2], b"", intermediate_data()),
        BlindedHopSpec(KEYS[3], b"", intermediate_data()),
        BlindedHopSpec(KEYS[4], bytes.fromhex("020203e8 040190 1203 0f4240"),
                       blinded_tlv({6: b"\x77" * 32})),
    ]
    onion, path_keys = blinded_route_onion(SESSION, clear, blinded, bytes([0x33]) * 32)
    keys: list[object] = [SignerKey(k) if signers else k for k in KEYS[:5]]
    return onion, [None, None, None, *path_keys[1:]], keys


@pytest.mark.parametrize("signers", [False, True], ids=["raw", "key-object"])
def test_blinded_route_walks_with_introduction_node(signers: bool) -> None:
    onion, path_keys, keys = blinded_route(signers)
    hops = walk(onion, keys, path_keys)
    assert [h.role for h in hops] == [
        Role.INTERMEDIATE, Role.INTERMEDIATE, Role.BLINDED_INTERMEDIATE,
        Role.BLINDED_INTERMEDIATE, Role.BLINDED_FINAL]
    assert [h.introduction_node for h in hops] == [False, False, True, False, False]
    assert hops[2].path_key is not None and hops[2].payload.current_path_key == hops[2].path_key
    assert hops[4].next_packet is None and hops[4].payload.total_amount_msat == 1_000_000


def test_path_key_in_both_places_is_refused_on_type_12() -> None:
    """lnd htlcswitch/hop/payload.go, ValidateParsedPayloadTypes: a blinding point in the
    payload when update_add_htlc also carried one is an IncludedViolation of type 12; inside a
    blinded route the wire answer is invalid_onion_blinding (update_fail_malformed_htlc)."""
    path_key_session = bytes([0x34]) * 32
    own_point = CcKey(path_key_session).public_key.format()
    blinded = [BlindedHopSpec(KEYS[0], bytes.fromhex("0c21") + own_point, intermediate_data())]
    onion, path_keys = blinded_route_onion(SESSION, [], blinded, path_key_session,
                                           first_is_introduction=False)
    for profile in ("bolt", "lnd"):
        with pytest.raises(InvalidOnionBlinding) as info:
            process_hop(onion, KEYS[0], AD, path_key=path_keys[0], profile=profile)
        err = info.value
        assert err.failure_code == 0xC018
        assert err.failure_message == "update_fail_malformed_htlc"
        assert err.sha256_of_onion == hashlib.sha256(onion).digest()
        assert isinstance(err.cause, InvalidOnionPayload) and err.cause.tlv_type == 12


def test_introduction_node_is_accepted_in_both_profiles() -> None:
    """lnd accepts a payload with encrypted data and a blinding point when the HTLC carried
    none (htlcswitch/hop/payload.go, ValidateParsedPayloadTypes): the introduction node."""
    onion, _, _ = blinded_route()
    first = walk(onion, list(KEYS[:2]))[-1].next_packet
    for profile in ("bolt", "lnd"):
        hop = process_hop(first, KEYS[2], AD, profile=profile, **HTLC)  # type: ignore[call-overload]
        assert hop.introduction_node and hop.role is Role.BLINDED_INTERMEDIATE


@pytest.mark.parametrize("kind", ["hmac", "payload", "replay", "version", "key"])
def test_every_error_inside_a_blinded_route_is_invalid_onion_blinding(kind: str) -> None:
    extra = b"" if kind != "payload" else bytes.fromhex(SCID)  # scid: not allowed when blinded
    blinded = [BlindedHopSpec(KEYS[0], extra, intermediate_data()),
               BlindedHopSpec(KEYS[1], FINAL, blinded_tlv({6: b"\x01" * 32}))]
    onion, path_keys = blinded_route_onion(SESSION, [], blinded, bytes([0x35]) * 32,
                                           first_is_introduction=False)
    packet = bytearray(onion)
    if kind == "hmac":
        packet[-1] ^= 1
    if kind == "version":
        packet[0] = 1
    if kind == "key":
        packet[1] = 0x05  # no compressed point starts with 05
    log = MemoryReplayLog()
    if kind == "replay":
        process_hop(bytes(packet), KEYS[0], AD, path_key=path_keys[0], replay_log=log,  # type: ignore[call-overload]
                    **HTLC)
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(bytes(packet), KEYS[0], AD, path_key=path_keys[0], replay_log=log,  # type: ignore[call-overload]
                    **HTLC)
    err = info.value
    assert err.failure_code == 0xC018
    assert err.failure_message == "update_fail_malformed_htlc"
    assert err.sha256_of_onion == hashlib.sha256(bytes(packet)).digest()
    cause = {"hmac": InvalidOnionHmac, "payload": InvalidOnionPayload,
             "replay": ReplayedOnion, "version": InvalidOnionVersion,
             "key": InvalidOnionKey}[kind]
    assert isinstance(err.cause, cause)


def test_non_final_introduction_node_answers_blinding_in_update_fail_htlc() -> None:
    """BOLT 4 › Failure Messages: a non-final node whose payload had current_path_key uses
    invalid_onion_blinding for any error, sent in update_fail_htlc (BOLT 2)."""
    blinded = [BlindedHopSpec(KEYS[0], bytes.fromhex("10 02 abcd"), intermediate_data()),
               BlindedHopSpec(KEYS[1], FINAL, blinded_tlv({6: b"\x01" * 32}))]
    onion, _ = blinded_route_onion(SESSION, [], blinded, bytes([0x36]) * 32)
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(onion, KEYS[0], AD)
    err = info.value
    assert err.failure_message == "update_fail_htlc"
    assert err.sha256_of_onion == hashlib.sha256(onion).digest()
    assert isinstance(err.cause, InvalidOnionPayload) and err.cause.tlv_type == 16


def test_errors_are_library_errors() -> None:
    with pytest.raises(SphinxampError):
        process_hop(b"\x00" * 10, KEYS[0], AD)


@pytest.mark.parametrize(("key", "reason"), [(b"\x01" * 31, "wrong_length"),
                                              (bytes(32), "invalid_secret")])
def test_a_bad_raw_node_key_is_named(key: bytes, reason: str) -> None:
    onion = build_onion(SESSION, [(PUBS[0], FINAL)], AD).to_bytes()
    with pytest.raises(SphinxampError) as info:
        process_hop(onion, key, AD)
    assert info.value.reason == reason and info.value.field == "node_key"
    if reason == "wrong_length":
        assert "must be 32 bytes" in info.value.message


def test_a_callers_bad_key_object_is_not_turned_into_a_wire_failure() -> None:
    """A key object answering garbage is the caller's bug, not an onion to refuse: even inside
    a blinded route it comes back as InvalidArgument, with no failure code to send."""

    class Broken:
        def ecdh(self, point: bytes) -> bytes:
            return b"short"

    onion, path_keys = blinded_route_onion(
        SESSION, [], [BlindedHopSpec(KEYS[0], b"", intermediate_data()),
                      BlindedHopSpec(KEYS[1], FINAL, blinded_tlv({6: b"\x01" * 32}))],
        bytes([0x38]) * 32, first_is_introduction=False)
    with pytest.raises(ValueError) as info:
        process_hop(onion, Broken(), AD, path_key=path_keys[0])
    assert not isinstance(info.value, InvalidOnionBlinding)
    assert getattr(info.value, "failure_code", None) is None


def test_a_blinded_hop_does_each_ecdh_once() -> None:
    """Inside a blinded route the node needs ECDH(path_key) for the blinding factor and for
    its encrypted_recipient_data, and ECDH(ephemeral key) for the onion: two, not three."""
    onion, path_keys, _ = blinded_route()
    hops = walk(onion, list(KEYS[:3]))
    signer = SignerKey(KEYS[3])
    packet = hops[-1].next_packet
    assert packet is not None
    hop = process_hop(packet, signer, AD, path_key=hops[-1].next_path_key,  # type: ignore[call-overload]
                      **HTLC)
    assert hop.role is Role.BLINDED_INTERMEDIATE and signer.calls == 2
    assert hops[-1].next_path_key == path_keys[3]


def test_private_node_key_is_a_node_key_that_hides_its_secret() -> None:
    built = build_onion(SESSION, [(PUBS[0], FORWARD), (PUBS[1], FINAL)], AD)
    key = PrivateNodeKey(KEYS[0])
    assert key.public_key == PUBS[0] and KEYS[0].hex() not in repr(key)
    assert process_hop(built.to_bytes(), key, AD) == process_hop(built.to_bytes(), KEYS[0], AD)
    with pytest.raises(ValueError):
        key.ecdh(b"\x05" * 33)  # not a point


@pytest.mark.parametrize(("key", "reason"), [(object(), "invalid_key_object"),
                                              (SignerKey(b"\x01" * 32), None)])
def test_a_node_key_that_is_no_key_is_a_caller_error(key: object, reason: str | None) -> None:
    onion = build_onion(SESSION, [(PUBS[0], FINAL)], AD).to_bytes()
    if reason is None:  # a key object whose ecdh answers something other than 32 bytes
        key.ecdh = lambda point: b"\x00" * 31  # type: ignore[attr-defined]
        reason = "invalid_ecdh_result"
    with pytest.raises(ValueError) as info:
        process_hop(onion, key, AD)  # type: ignore[call-overload]
    assert getattr(info.value, "reason", None) == reason
