"""Onion messages (BOLT 4 › Onion Messages): the official message at every node, building
along blinded paths (with and without a sender-blinded prefix), the payload-area choice, and
every reason a node drops a message instead of answering it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp import (
    BlindedPath,
    Dropped,
    EncryptedData,
    OnionMessagePayload,
    ProcessedMessage,
    ShortChannelId,
    build_onion,
    build_onion_message,
    create_blinded_path,
    process_onion_message,
)
from sphinxamp.blinding import BlindedHop, OnionMessage, choose_payload_area, decode_blinded_path
from sphinxamp.errors import EncodeError, InvalidArgument, MalformedBlindedPath
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire import TlvRecord, encode_stream

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
KEYS = [bytes([b]) * 32 for b in range(0x51, 0x5B)]
IDS = [crypto.public_key(k) for k in KEYS]
SESSION, PATH_SESSION = bytes([3]) * 32, bytes([1]) * 32
# BOLT 12 contents are TLV streams (an onionmsg_tlv whose 64/66/68 is not one is ignored)
INVREQ = encode_stream([TlvRecord(1, b"\x01" * 50)])
INVOICE = encode_stream([TlvRecord(1, b"inv")])
BIG_INVOICE = encode_stream([TlvRecord(1, bytes(2000))])


def official_cases() -> dict[str, Any]:
    doc = json.loads((VECTORS / "bolt04-blinded-onion-message.json").read_text())
    return {c["id"]: c for c in doc["cases"]}


def chain(datas: list[EncryptedData | bytes], payload: OnionMessagePayload | None = None,
          **kw: Any) -> OnionMessage:
    path = create_blinded_path(PATH_SESSION, list(zip(IDS, datas, strict=False)))
    return build_onion_message(SESSION, path, payload, **kw)


def forward_to(i: int) -> EncryptedData:
    return EncryptedData(next_node_id=IDS[i])


def walk(message: OnionMessage, keys: list[bytes]) -> ProcessedMessage | Dropped:
    result: ProcessedMessage | Dropped = Dropped("none", InvalidArgument("no hop"))
    for key in keys:
        result = process_onion_message(message.to_bytes(), key)
        if isinstance(result, Dropped) or result.final:
            return result
        nxt = result.next_message()
        assert nxt is not None
        message = nxt
    return result


def test_official_message_at_every_node() -> None:
    """blinded-onion-message-onion-test.json: Alice, Bob and Carol forward to the next node
    the file names, with the next onion_message the file holds; Dave reads the payload."""
    cases = official_cases()
    for name in ("peel-alice", "peel-bob", "peel-carol", "peel-dave"):
        case = cases[name]
        got = process_onion_message(bytes.fromhex(case["onion_message"]),
                                    bytes.fromhex(case["node_key"]))
        assert isinstance(got, ProcessedMessage)
        nxt = got.next_message()
        assert (None if nxt is None else nxt.to_bytes().hex()) == \
            case["expect"]["next_onion_message"]
        if got.final:
            assert got.payload.unknown_records == (TlvRecord(1, b"hello"),)


def test_build_reproduces_the_official_message() -> None:
    case = official_cases()["build"]
    path = case["path"]
    blinded = BlindedPath(bytes.fromhex(path["first_node_id"]),
                          bytes.fromhex(path["first_path_key"]),
                          tuple(BlindedHop(bytes.fromhex(h["blinded_node_id"]),
                                           bytes.fromhex(h["encrypted_recipient_data"]))
                                for h in path["hops"]))
    message = build_onion_message(
        bytes.fromhex(case["session_key"]), blinded,
        OnionMessagePayload(unknown_records=(TlvRecord(1, b"hello"),)),
        prefix=[bytes.fromhex(case["prefix"][0])],
        prefix_session_key=bytes.fromhex(case["prefix_session_key"]))
    assert message.to_bytes().hex() == case["expect"]["onion_message"]
    assert OnionMessage.parse(message.to_bytes()) == message
    with pytest.raises(InvalidArgument):
        build_onion_message(SESSION, blinded, prefix=[IDS[0]])


def test_reply_path_and_content_reach_the_last_node() -> None:
    reply = create_blinded_path(bytes([9]) * 32, [(IDS[5], forward_to(6)),
                                                  (IDS[6], EncryptedData(path_id=b"r"))])
    payload = OnionMessagePayload(reply_path=reply.encode(), invoice_request=INVREQ)
    message = chain([forward_to(1), EncryptedData(short_channel_id=ShortChannelId(1, 2, 3)),
                     EncryptedData(path_id=b"secret")], payload)
    first = process_onion_message(message, KEYS[0])
    assert isinstance(first, ProcessedMessage) and first.next_node_id == IDS[1]
    second = process_onion_message(first.next_message() or message, KEYS[1])
    assert isinstance(second, ProcessedMessage)
    assert second.next_short_channel_id == ShortChannelId(1, 2, 3)
    assert second.next_node_id is None
    last = process_onion_message(second.next_message() or message, KEYS[2])
    assert isinstance(last, ProcessedMessage) and last.final
    assert last.encrypted_data.path_id == b"secret"
    assert last.payload.reply_path == reply.encode()
    assert last.payload.invoice_request == INVREQ


def test_the_payload_area_is_the_smallest_that_fits_or_as_asked() -> None:
    small = chain([EncryptedData(path_id=b"x")])
    assert len(small.packet.to_bytes()) == 1366
    big = chain([EncryptedData(path_id=b"x")], OnionMessagePayload(invoice=BIG_INVOICE))
    assert len(big.packet.to_bytes()) == 32834
    got = walk(big, KEYS[:1])
    assert isinstance(got, ProcessedMessage) and got.payload.invoice == BIG_INVOICE
    assert choose_payload_area([b"x"], 500) == 500
    with pytest.raises(EncodeError):
        choose_payload_area([bytes(40_000)])


@pytest.mark.parametrize(("build", "keys", "reason"), [
    # a forwarding hop whose payload holds more than encrypted_recipient_data
    (lambda: build_onion(SESSION, [(create_blinded_path(PATH_SESSION, [
        (IDS[0], forward_to(1).encode())]).hops[0].blinded_node_id,
        OnionMessagePayload(encrypted_recipient_data=create_blinded_path(PATH_SESSION, [
            (IDS[0], forward_to(1).encode())]).hops[0].encrypted_recipient_data,
            invoice=b"x").encode()), (IDS[1], b"")], b"", 1300, min_payload_length=0),
     [0], "unexpected_payload_field"),
    (lambda: chain([EncryptedData(next_node_id=IDS[1], path_id=b"p"), forward_to(2)]), [0],
     "path_id_at_forwarding_hop"),
    (lambda: chain([forward_to(1), EncryptedData()],
                   OnionMessagePayload(invoice=b"", invoice_error=b"")), [0, 1],
     "too_many_payload_fields"),
    (lambda: chain([EncryptedData(), EncryptedData()]), [0], "no_next_hop"),
    (lambda: chain([bytes.fromhex("1000"), EncryptedData()]), [0], "unknown_even_type"),
    (lambda: chain([EncryptedData(allowed_features=b"\x01")]), [0], "unknown_feature"),
    (lambda: chain([forward_to(1), EncryptedData()]), [1], "hmac_mismatch"),
    (lambda: chain([forward_to(1), EncryptedData()],
                   OnionMessagePayload(unknown_records=(TlvRecord(70, b""),))), [0, 1],
     "unknown_even_type"),
])
def test_drop_reasons(build: Any, keys: list[int], reason: str) -> None:
    built = build()
    if not isinstance(built, OnionMessage):  # a raw packet for the first path key
        path_key = create_blinded_path(PATH_SESSION, [(IDS[0], b"")]).first_path_key
        built = OnionMessage(path_key, built.packet)
    got = walk(built, [KEYS[k] for k in keys])
    assert isinstance(got, Dropped), got
    assert got.reason == reason and got.message


@pytest.mark.parametrize(("wire", "reason"), [
    ("", "truncated"),
    ("0200" + "02" * 33 + "0000", "message_type"),
    ("0201" + "02" * 33 + "0005" + "00", "length_mismatch"),
    ("0201" + "02" * 33 + "0001" + "00", "packet_length"),
    ("0201" + "02" * 33 + "0043" + "01" + "02" * 33 + "00" * 33, "unknown_version"),
])
def test_malformed_messages_are_dropped(wire: str, reason: str) -> None:
    got = process_onion_message(bytes.fromhex(wire), KEYS[0])
    assert isinstance(got, Dropped) and got.reason == reason


def test_bare_packet_with_a_path_key_and_an_invalid_path_key() -> None:
    message = chain([EncryptedData(path_id=b"z")])
    got = process_onion_message(message.packet.to_bytes(), KEYS[0], path_key=message.path_key)
    assert isinstance(got, ProcessedMessage) and got.encrypted_data.path_id == b"z"
    bad = process_onion_message(message.packet.to_bytes(), KEYS[0], path_key=b"\x02" + bytes(32))
    assert isinstance(bad, Dropped)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 10), st.binary(max_size=30), st.integers(0, 10))
def test_random_paths_deliver(hops: int, path_id: bytes, prefix_len: int) -> None:
    """Any path of 1-10 hops, reached through a prefix the sender blinds itself, delivers the
    content and path_id to the last node; every hop hands on to the next node's id."""
    prefix_len = min(prefix_len, 10 - hops)
    keys = KEYS[prefix_len:prefix_len + hops]
    ids = [crypto.public_key(k) for k in keys]
    datas = [EncryptedData(next_node_id=ids[i + 1]) for i in range(hops - 1)]
    datas.append(EncryptedData(path_id=path_id))
    path = create_blinded_path(PATH_SESSION, list(zip(ids, datas, strict=True)), pad=True)
    message = build_onion_message(SESSION, path, OnionMessagePayload(invoice=INVOICE),
                                  prefix=IDS[:prefix_len],
                                  prefix_session_key=bytes([7]) * 32)
    all_keys = KEYS[:prefix_len] + keys
    for i, key in enumerate(all_keys):
        got = process_onion_message(message, key)
        assert isinstance(got, ProcessedMessage), got
        if i == len(all_keys) - 1:
            assert got.final and got.encrypted_data.path_id == path_id
            assert got.payload.invoice == INVOICE
            return
        assert got.next_node_id == crypto.public_key(all_keys[i + 1])
        message = got.next_message() or message
    raise AssertionError("never delivered")


def test_blinded_path_decodes_what_encode_wrote() -> None:
    path = create_blinded_path(bytes([9]) * 32, [(IDS[0], forward_to(1)),
                                                 (IDS[1], EncryptedData(path_id=b"r"))])
    assert decode_blinded_path(path.encode()) == path
    # first_node_id may be a direction byte and a short_channel_id (sciddir_or_pubkey)
    sciddir = b"\x01" + bytes(8) + path.encode()[33:]
    assert decode_blinded_path(sciddir).first_node_id == b"\x01" + bytes(8)


@pytest.mark.parametrize(("mangle", "reason"), [
    (lambda raw: raw[:-1], "truncated"),
    (lambda raw: raw + b"\x00", "trailing_bytes"),
    (lambda raw: raw[:66] + b"\x00", "no_hops"),
    (lambda raw: b"\x04" + raw[1:], "invalid_point"),
    (lambda raw: raw[:67] + b"\x05" + raw[68:], "invalid_point"),
    (lambda raw: b"", "truncated"),
])
def test_blinded_path_refusals(mangle: Any, reason: str) -> None:
    raw = create_blinded_path(bytes([9]) * 32, [(IDS[0], b"\x06\x00")]).encode()
    with pytest.raises(MalformedBlindedPath) as info:
        decode_blinded_path(mangle(raw))
    assert info.value.reason == reason
