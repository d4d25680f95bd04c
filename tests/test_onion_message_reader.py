"""The onion-message reader's rules on its own (BOLT 4 › Onion Messages › Requirements, "The
reader:"), where they differ from a payment's:

- a forwarding hop whose `encrypted_data_tlv` holds both `next_node_id` and
  `short_channel_id` forwards by `next_node_id` ("if `next_node_id` is present: the *next
  peer* is the peer with that node id. otherwise, if `short_channel_id` is present …"); the
  refusal of both belongs to payments (› `payload` format › Requirements, the reader: "MUST
  return an error if … `encrypted_recipient_data` contains both `short_channel_id` and
  `next_node_id`");
- a `reply_path` that is not a `blinded_path`, or an `invoice_request` (64), `invoice` (66)
  or `invoice_error` (68) that is not a TLV stream (BOLT 12: each is a `tlv_stream`; BOLT 1 ›
  Type-Length-Value Format: minimal BigSize types and lengths, strictly increasing types,
  lengths within the bytes left) makes the result "not a valid `onionmsg_tlv`": the reader
  MUST ignore the message.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sphinxamp import (
    Dropped,
    EncryptedData,
    OnionMessagePayload,
    PaymentRelay,
    ProcessedMessage,
    ShortChannelId,
    build_onion_message,
    create_blinded_path,
    process_onion_message,
)
from sphinxamp.blinding import OnionMessage
from sphinxamp.blinding._unblind import check_data
from sphinxamp.errors import ConflictingNextHop
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire import TlvRecord, encode_stream

KEYS = [bytes([b]) * 32 for b in range(0x61, 0x65)]
IDS = [crypto.public_key(k) for k in KEYS]
SCID = ShortChannelId(700_000, 12, 1)
SESSION, PATH_SESSION = bytes([5]) * 32, bytes([6]) * 32


def message(datas: list[EncryptedData], payload: OnionMessagePayload | None = None
            ) -> OnionMessage:
    path = create_blinded_path(PATH_SESSION, list(zip(IDS, datas, strict=False)))
    return build_onion_message(SESSION, path, payload)


def last_hop(datas: list[EncryptedData], payload: OnionMessagePayload
             ) -> ProcessedMessage | Dropped:
    """What the last node of the path does with the message (the others forward it)."""
    msg = message(datas, payload)
    for key in KEYS[: len(datas) - 1]:
        got = process_onion_message(msg, key)
        assert isinstance(got, ProcessedMessage) and not got.final, got
        nxt = got.next_message()
        assert nxt is not None
        msg = nxt
    return process_onion_message(msg, KEYS[len(datas) - 1])


# --- 3. both next-hop fields -----------------------------------------------------------------


def test_both_next_hops_forward_by_next_node_id() -> None:
    msg = message([EncryptedData(next_node_id=IDS[1], short_channel_id=SCID),
                   EncryptedData(path_id=b"p")], OnionMessagePayload())
    got = process_onion_message(msg, KEYS[0])
    assert isinstance(got, ProcessedMessage), got
    assert got.next_node_id == IDS[1]
    assert got.next_short_channel_id is None  # not consulted when next_node_id is present
    assert got.encrypted_data.short_channel_id == SCID  # still visible in the data
    nxt = got.next_message()
    assert nxt is not None
    last = process_onion_message(nxt, KEYS[1])
    assert isinstance(last, ProcessedMessage) and last.final
    assert last.encrypted_data.path_id == b"p"


def test_short_channel_id_alone_still_names_the_next_peer() -> None:
    got = process_onion_message(message([EncryptedData(short_channel_id=SCID),
                                         EncryptedData()]), KEYS[0])
    assert isinstance(got, ProcessedMessage)
    assert (got.next_node_id, got.next_short_channel_id) == (None, SCID)


def test_both_next_hops_at_the_final_node_are_delivered() -> None:
    got = last_hop([EncryptedData(next_node_id=IDS[1]),
                    EncryptedData(next_node_id=IDS[0], short_channel_id=SCID)],
                   OnionMessagePayload())
    assert isinstance(got, ProcessedMessage) and got.final


@pytest.mark.parametrize("final", [False, True])
def test_both_next_hops_are_still_refused_in_a_payment(final: bool) -> None:
    relay = PaymentRelay(cltv_expiry_delta=40, fee_proportional_millionths=1,
                         fee_base_msat=1)
    data = EncryptedData(next_node_id=IDS[1], short_channel_id=SCID,
                         payment_relay=None if final else relay)
    with pytest.raises(ConflictingNextHop):
        check_data(data, final=final)
    check_data(data, final=final, payment=False)


# --- 4. contents that are not what onionmsg_tlv says -----------------------------------------


FINAL = [EncryptedData(next_node_id=IDS[1]), EncryptedData(path_id=b"me")]
STREAM = encode_stream([TlvRecord(2, b"\x01" * 8), TlvRecord(80, b"offer"),
                        TlvRecord(0xFD00, b""), TlvRecord(1 << 32, b"x")])


def reply_path() -> bytes:
    return create_blinded_path(bytes([8]) * 32, [(IDS[2], EncryptedData(next_node_id=IDS[3])),
                                                 (IDS[3], EncryptedData(path_id=b"r"))]
                               ).encode()


@pytest.mark.parametrize(("mangle", "why"), [
    (lambda raw: raw[:-1], "truncated"),
    (lambda raw: raw + b"\x00", "trailing_bytes"),
    (lambda raw: raw[:66] + b"\x00", "no_hops"),
    (lambda raw: b"\x04" + raw[1:], "invalid_point"),
    (lambda raw: b"", "truncated"),
])
def test_a_reply_path_that_is_not_a_blinded_path_is_ignored(mangle: Any, why: str) -> None:
    got = last_hop(FINAL, OnionMessagePayload(reply_path=mangle(reply_path()),
                                              invoice_request=STREAM))
    assert isinstance(got, Dropped), got
    assert got.reason == "invalid_reply_path"
    assert got.error.tlv_type == 2 and got.error.field == "reply_path"
    assert "reply_path" in got.message and why in got.message


def content(field: str, value: bytes, reply: bytes | None = None) -> OnionMessagePayload:
    """A final payload whose BOLT 12 `field` holds `value`."""
    values: dict[str, Any] = {field: value}
    return replace(OnionMessagePayload(reply_path=reply), **values)


NOT_STREAMS = [
    ("0100" + "0100", "duplicate_type"),
    ("0300" + "0100", "not_strictly_increasing"),
    ("fd0001" + "00", "type_not_minimal"),
    ("01fd0001" + "00", "length_not_minimal"),
    ("0105" + "0102", "value_truncated"),
    ("01", "length_missing"),
    ("0101", "value_missing"),
    ("fd01", "type_truncated"),
    ("2a" + "fe0001", "length_truncated"),
]


@pytest.mark.parametrize("field", ["invoice_request", "invoice", "invoice_error"])
@pytest.mark.parametrize(("wire", "why"), NOT_STREAMS)
def test_bolt12_content_that_is_not_a_tlv_stream_is_ignored(field: str, wire: str,
                                                            why: str) -> None:
    got = last_hop(FINAL, content(field, bytes.fromhex(wire)))
    assert isinstance(got, Dropped), got
    assert got.reason == "content_not_tlv_stream"
    assert got.error.field == field
    assert got.error.tlv_type == {"invoice_request": 64, "invoice": 66, "invoice_error": 68}[field]
    assert field in got.message and why in got.message


@pytest.mark.parametrize("field", ["invoice_request", "invoice", "invoice_error"])
@pytest.mark.parametrize("value", [b"", STREAM, bytes.fromhex("0000")])
def test_bolt12_content_that_is_a_tlv_stream_is_delivered(field: str, value: bytes) -> None:
    """Any valid stream, the empty one included (BOLT 1: a stream may be empty); what the
    records mean is BOLT 12's business, not the onion layer's."""
    got = last_hop(FINAL, content(field, value, reply_path()))
    assert isinstance(got, ProcessedMessage) and got.final, got
    assert getattr(got.payload, field) == value
    assert got.payload.reply_path == reply_path()
