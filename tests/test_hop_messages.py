"""process_hop and process_onion_message from whole wire messages (BOLT 2 › Adding an HTLC;
› Removing an HTLC; BOLT 4 › The `onion_message` Message): the context read from the message
gives the decision of the bare onion, and the answer is the exact message the node sends."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp import (
    EncryptedData,
    HtlcAnswer,
    ProcessedHop,
    ProcessedMessage,
    build_onion,
    build_onion_message,
    create_blinded_path,
    decode_message,
    decrypt_failure,
    encode_message,
    process_hop,
    process_onion_message,
    public_key,
    trace_route,
    wrap_failure,
)
from sphinxamp.cli._route_file import parse_route
from sphinxamp.errors import InvalidArgument, SphinxampError
from sphinxamp.failures import failure_from_error
from sphinxamp.messages import (
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    WireOnionMessage,
)
from sphinxamp.onion import MemoryReplayLog, peel_onion

ROOT = Path(__file__).resolve().parent.parent
VECTOR = json.loads((ROOT / "vectors" / "bolt04-onion.json").read_text())["cases"][0]
ONION = bytes.fromhex(VECTOR["expect"]["onion"])
AD = bytes.fromhex(VECTOR["associated_data"])
KEYS = [bytes([0x41 + i]) * 32 for i in range(5)]  # the vector's hop private keys
SECRETS = [bytes.fromhex(s) for s in VECTOR["expect"]["shared_secrets"]]
PAYLOADS = [bytes.fromhex(h["payload"]) for h in VECTOR["hops"]]
CHANNEL = bytes(range(32))
HEIGHT = 900  # the final payload asks outgoing_cltv_value 1000 >= 900 + 18
# What the first hop receives: its payload forwards 15000 msat at expiry 1500.
FIRST = {"amount_msat": 15_500, "cltv_expiry": 1_550}
BADONION_HMAC, INVALID_ONION_BLINDING = 0xC005, 0xC018


def add_htlc(onion: bytes, amount_msat: int, cltv_expiry: int, **kw: Any) -> UpdateAddHtlc:
    return UpdateAddHtlc(CHANNEL, 7, amount_msat, AD, cltv_expiry, onion, **kw)


def bare(msg: UpdateAddHtlc, key: bytes) -> ProcessedHop:
    return process_hop(msg.onion_routing_packet, key, msg.payment_hash, path_key=msg.path_key,
                       incoming_amount_msat=msg.amount_msat,
                       incoming_cltv_expiry=msg.cltv_expiry, current_block_height=HEIGHT)


def bare_error(msg: UpdateAddHtlc, key: bytes) -> SphinxampError:
    with pytest.raises(SphinxampError) as err:
        bare(msg, key)
    return err.value


def test_bolt4_vector_peels_from_the_message_as_from_the_onion() -> None:
    wire = encode_message(add_htlc(ONION, **FIRST))
    for i, key in enumerate(KEYS):
        msg = decode_message(wire)  # what hop i receives, byte for byte
        assert isinstance(msg, UpdateAddHtlc)
        answer = process_hop(msg, key, current_block_height=HEIGHT)
        expected = bare(msg, key)
        assert isinstance(answer, HtlcAnswer) and answer.accepted and answer.error is None
        assert answer.hop == expected
        assert answer.hop.shared_secret == SECRETS[i] and answer.hop.raw_payload == PAYLOADS[i]
        if i == len(KEYS) - 1:
            assert answer.message is None and expected.next_packet is None
            break
        forward = answer.message
        assert isinstance(forward, UpdateAddHtlc) and expected.next_packet is not None
        assert forward.onion_routing_packet == expected.next_packet.to_bytes()
        assert (forward.amount_msat, forward.cltv_expiry) == (
            expected.payload.amt_to_forward, expected.payload.outgoing_cltv_value)
        assert (forward.payment_hash, forward.path_key, forward.accountable) == (AD, None, None)
        # The default outgoing channel and id the docstring names.
        assert (forward.channel_id, forward.id) == (bytes(32), 0)
        wire = encode_message(forward)
        assert decode_message(wire) == forward


def _wrapped_to_origin(reply: UpdateFailHtlc, at: int) -> tuple[bytes, bytes | None]:
    """The failure as it reaches the origin: every upstream hop adds its layer."""
    packet, data = reply.reason, reply.attribution_data
    for j in range(at - 1, -1, -1):
        relayed = wrap_failure(SECRETS[j], packet, data)
        packet, data = relayed.packet, relayed.attribution_data
    return packet, data


def _message_at(hop: int, onion: bytes = ONION) -> UpdateAddHtlc:
    """The update_add_htlc hop `hop` of the vector route receives."""
    msg = add_htlc(onion, **FIRST)
    for key in KEYS[:hop]:
        answer = process_hop(msg, key, current_block_height=HEIGHT)
        assert isinstance(answer.message, UpdateAddHtlc)
        msg = answer.message
    return msg


def test_a_refusing_final_hop_answers_update_fail_htlc_the_origin_reads() -> None:
    msg = _message_at(4)
    short = add_htlc(msg.onion_routing_packet, 9_999, msg.cltv_expiry)  # below 10000
    error = bare_error(short, KEYS[4])
    answer = process_hop(short, KEYS[4], current_block_height=HEIGHT, hold_time=3)
    assert answer.hop is None and answer.error is not None
    assert type(answer.error) is type(error) and answer.error.failure_code == 19
    reply = answer.message
    assert isinstance(reply, UpdateFailHtlc)
    assert (reply.channel_id, reply.id) == (short.channel_id, short.id)
    assert reply.attribution_data is not None
    packet, data = _wrapped_to_origin(reply, 4)
    origin = decrypt_failure(packet, SECRETS, data)
    assert origin.hop_index == 4 and origin.message is not None
    assert origin.message.code == error.failure_code
    assert origin.message.fields == {"incoming_htlc_amt": 9_999}
    assert origin.attribution is not None and origin.attribution[4].hold_time_ms == 300


def test_an_invalid_payload_is_answered_with_its_type_and_offset() -> None:
    # hop 1's payload lacks outgoing_cltv_value (BOLT 4: a forwarding hop requires it).
    hops = [(public_key(k), p) for k, p in zip(KEYS, PAYLOADS, strict=True)]
    hops[1] = (hops[1][0], bytes.fromhex("020236b006080000000000000002"))
    onion = build_onion(bytes([0x41]) * 32, hops, AD).to_bytes()
    msg = _message_at(1, onion)
    error = bare_error(msg, KEYS[1])
    answer = process_hop(msg, KEYS[1], attribution=False)
    reply = answer.message
    assert isinstance(reply, UpdateFailHtlc) and reply.attribution_data is None
    # Without attribution data the reason is exactly the one-call packet of the bare error.
    assert reply.reason == failure_from_error(error, SECRETS[1])
    packet, _ = _wrapped_to_origin(reply, 1)
    origin = decrypt_failure(packet, SECRETS)
    assert origin.hop_index == 1 and origin.message is not None
    assert origin.message.code == error.failure_code == 0x4016
    assert origin.message.fields["type"] == error.tlv_type == 4


def test_a_bad_hmac_answers_update_fail_malformed_htlc() -> None:
    msg = _message_at(2)
    onion = bytearray(msg.onion_routing_packet)
    onion[100] ^= 1
    tampered = add_htlc(bytes(onion), msg.amount_msat, msg.cltv_expiry)
    error = bare_error(tampered, KEYS[2])
    answer = process_hop(tampered, KEYS[2])
    reply = answer.message
    assert isinstance(reply, UpdateFailMalformedHtlc)
    assert reply.failure_code == error.failure_code == BADONION_HMAC
    assert reply.sha256_of_onion == hashlib.sha256(bytes(onion)).digest()
    assert (reply.channel_id, reply.id) == (CHANNEL, 7)
    assert decode_message(encode_message(reply)) == reply


def test_a_replay_is_answered_as_the_bare_path_refuses_it() -> None:
    log = MemoryReplayLog()
    msg = add_htlc(ONION, **FIRST)
    assert process_hop(msg, KEYS[0], replay_log=log).accepted
    again = process_hop(msg, KEYS[0], replay_log=log)
    assert isinstance(again.message, UpdateFailMalformedHtlc) and again.error is not None
    assert again.message.failure_code == again.error.failure_code
    assert again.message.sha256_of_onion == hashlib.sha256(ONION).digest()


@pytest.mark.parametrize("incoming, outgoing", [(None, None), (7, 7), (0, 0), (3, 0),
                                                (0xFF, 7), (0xF8, 0)])
def test_the_accountable_signal_is_relayed_as_blip4_says(incoming: int | None,
                                                         outgoing: int | None) -> None:
    msg = add_htlc(ONION, **FIRST, accountable=incoming)
    answer = process_hop(msg, KEYS[0], next_channel_id=bytes([9]) * 32, next_htlc_id=41)
    forward = answer.message
    assert isinstance(forward, UpdateAddHtlc) and forward.accountable == outgoing
    assert (forward.channel_id, forward.id) == (bytes([9]) * 32, 41)


@pytest.mark.parametrize("extra", [{"associated_data": AD}, {"incoming_amount_msat": 1},
                                   {"incoming_cltv_expiry": 1}, {"path_key": public_key(KEYS[0])},
                                   {"cltv_expiry": 1}])
def test_context_the_message_carries_is_refused_beside_it(extra: dict[str, Any]) -> None:
    msg = add_htlc(ONION, **FIRST)
    with pytest.raises(InvalidArgument) as err:
        process_hop(msg, KEYS[0], **extra)
    assert err.value.field == next(iter(extra))


@pytest.mark.parametrize("extra", [{"next_channel_id": bytes(32)}, {"next_htlc_id": 1},
                                   {"attribution": False}, {"hold_time": 1}])
def test_answer_options_need_a_message(extra: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        process_hop(ONION, KEYS[0], AD, **extra)


def test_a_final_hop_without_the_height_is_the_callers_error() -> None:
    with pytest.raises(InvalidArgument) as err:
        process_hop(_message_at(4), KEYS[4])
    assert err.value.field == "current_block_height"


# --- blinded routes: examples/route-blinded.json through the message path --------------------


def _blinded_route() -> tuple[Any, list[bytes]]:
    spec, _ = parse_route((ROOT / "examples" / "route-blinded.json").read_text())
    return spec, [h.node_key for h in (*spec.hops, *spec.blinded)]


def _blinded_messages() -> tuple[list[UpdateAddHtlc], list[bytes], int]:
    spec, keys = _blinded_route()
    trace = trace_route(spec)
    msg = UpdateAddHtlc(CHANNEL, 0, spec.amount_msat, spec.associated_data, spec.cltv_expiry,
                        trace.onion)
    received = [msg]
    for key in keys[:-1]:
        answer = process_hop(msg, key, current_block_height=spec.height)
        assert isinstance(answer.message, UpdateAddHtlc)
        msg = answer.message
        received.append(msg)
    assert process_hop(msg, keys[-1], current_block_height=spec.height).message is None
    return received, keys, spec.height


def test_tlv0_is_set_exactly_inside_the_blinded_route() -> None:
    received, _, _ = _blinded_messages()
    # Bob (clear), Carol (introduction: her path key is in her payload), Dave, Eve.
    assert [m.path_key is not None for m in received] == [False, False, True, True]


def test_inside_a_blinded_route_a_refusal_is_malformed_invalid_onion_blinding() -> None:
    received, keys, height = _blinded_messages()
    dave = received[2]
    late = UpdateAddHtlc(dave.channel_id, dave.id, dave.amount_msat, dave.payment_hash,
                         900_001, dave.onion_routing_packet, dave.path_key)  # > max_cltv_expiry
    with pytest.raises(SphinxampError) as err:
        process_hop(late.onion_routing_packet, keys[2], late.payment_hash,
                    path_key=late.path_key, incoming_amount_msat=late.amount_msat,
                    incoming_cltv_expiry=late.cltv_expiry, current_block_height=height)
    answer = process_hop(late, keys[2], current_block_height=height)
    reply = answer.message
    assert isinstance(reply, UpdateFailMalformedHtlc)
    assert reply.failure_code == err.value.failure_code == INVALID_ONION_BLINDING
    assert reply.sha256_of_onion == hashlib.sha256(late.onion_routing_packet).digest()


def test_an_introduction_node_answers_invalid_onion_blinding_in_update_fail_htlc() -> None:
    received, keys, height = _blinded_messages()
    carol = received[1]
    late = UpdateAddHtlc(carol.channel_id, carol.id, carol.amount_msat, carol.payment_hash,
                         900_100, carol.onion_routing_packet)
    answer = process_hop(late, keys[1], current_block_height=height)
    reply = answer.message
    assert isinstance(reply, UpdateFailHtlc) and answer.error is not None
    assert answer.error.failure_code == INVALID_ONION_BLINDING
    secret = process_hop(carol, keys[1], current_block_height=height).hop
    assert secret is not None
    origin = decrypt_failure(reply.reason, [secret.shared_secret])
    assert origin.hop_index == 0 and origin.message is not None
    assert origin.message.code == INVALID_ONION_BLINDING
    assert origin.message.fields["sha256_of_onion"] == hashlib.sha256(
        carol.onion_routing_packet).digest()


# --- property: the message path and the bare path agree --------------------------------------

PAYLOAD = st.builds(lambda amount, cltv, scid: bytes.fromhex(
    "0208" + amount.to_bytes(8, "big").hex() + "0404" + cltv.to_bytes(4, "big").hex()
    + "0608" + scid.to_bytes(8, "big").hex()), st.integers(0, 2**64 - 1),
    st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1))


@settings(max_examples=25, deadline=None)
@given(st.lists(PAYLOAD, min_size=1, max_size=4), st.integers(0, 2**64 - 1),
       st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_random_routes_agree_on_both_paths(payloads: list[bytes], amount: int, cltv: int,
                                           height: int) -> None:
    # The last hop reads a forwarding payload: a final node refuses short_channel_id, which
    # the bare path must refuse with the same code.
    hops = [(public_key(k), p) for k, p in zip(KEYS, payloads, strict=False)]
    msg = add_htlc(build_onion(bytes([0x41]) * 32, hops, AD).to_bytes(), amount, cltv)
    for key in KEYS[:len(hops)]:
        answer = process_hop(msg, key, current_block_height=height, attribution=False)
        try:
            expected = process_hop(msg.onion_routing_packet, key, AD,
                                   incoming_amount_msat=msg.amount_msat,
                                   incoming_cltv_expiry=msg.cltv_expiry,
                                   current_block_height=height)
        except SphinxampError as exc:
            assert answer.error is not None and answer.hop is None
            assert (type(answer.error), answer.error.failure_code) == (type(exc),
                                                                      exc.failure_code)
            reply = answer.message
            if isinstance(reply, UpdateFailMalformedHtlc):
                assert reply.failure_code == exc.failure_code
            else:
                assert isinstance(reply, UpdateFailHtlc)
                read = decrypt_failure(reply.reason, [expected_secret(msg, key)])
                assert read.message is not None and read.message.code == exc.failure_code
            return
        assert answer.hop == expected
        if expected.next_packet is None:
            assert answer.message is None
            return
        assert isinstance(answer.message, UpdateAddHtlc)
        assert answer.message.onion_routing_packet == expected.next_packet.to_bytes()
        msg = answer.message


def expected_secret(msg: UpdateAddHtlc, key: bytes) -> bytes:
    return peel_onion(msg.onion_routing_packet, key, msg.payment_hash).shared_secret


# --- onion_message ------------------------------------------------------------------------


OM_KEYS = [bytes([b]) * 32 for b in range(0x51, 0x54)]
OM_IDS = [public_key(k) for k in OM_KEYS]


def test_onion_message_from_the_wire_message_forwards_the_wire_message() -> None:
    datas = [EncryptedData(next_node_id=OM_IDS[1]), EncryptedData(next_node_id=OM_IDS[2]),
             EncryptedData(path_id=bytes(32))]
    path = create_blinded_path(bytes([1]) * 32, list(zip(OM_IDS, datas, strict=True)))
    built = build_onion_message(bytes([3]) * 32, path)
    wire = built.to_bytes()
    for i, key in enumerate(OM_KEYS):
        msg = decode_message(wire)
        assert isinstance(msg, WireOnionMessage)
        result = process_onion_message(msg, key)
        assert isinstance(result, ProcessedMessage)
        assert result == process_onion_message(wire, key)  # the bare form agrees
        forward = result.next_wire_message
        if i == len(OM_KEYS) - 1:
            assert forward is None and result.encrypted_data.path_id == bytes(32)
            break
        nxt = result.next_message()
        assert forward is not None and nxt is not None
        wire = encode_message(forward)
        assert wire == nxt.to_bytes()


def test_onion_message_path_key_beside_the_message_is_refused() -> None:
    msg = WireOnionMessage(OM_IDS[0], bytes(100))
    with pytest.raises(InvalidArgument):
        process_onion_message(msg, OM_KEYS[0], path_key=OM_IDS[1])  # type: ignore[call-overload]
    dropped = process_onion_message(msg, OM_KEYS[0])
    assert not isinstance(dropped, ProcessedMessage)
