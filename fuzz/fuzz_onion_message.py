"""Onion message processing (BOLT 4 › Onion Messages, the reader): never an exception, a
`Dropped` result with a reason instead.

Input: byte 0 picks the node key (the BOLT vectors' 0x41.. keys, modulo five); if its bit 7
is set the next 33 bytes are the path key and the rest the bare packet; else if bit 6 is set
the message is built here so the node can open it: byte 1 splits the rest into an
encrypted_data_tlv plaintext (sealed for the node) and records appended to the payload after
its encrypted_recipient_data, bit 5 adding a next hop; otherwise the rest is a whole
`onion_message` (type 513).
Invariants: `process_onion_message` returns (never raises); a drop carries a reason and a
refusal (`DecodeError` or `PolicyError`) whose offset lies inside the input; an accepted
message obeys the reader rules (a forwarding hop's payload holds only encrypted_recipient_data
and its data a next hop and no path_id; the last node has at most one content field, a
reply_path that is a blinded_path and BOLT 12 contents that are TLV streams) and its next
onion_message frames and parses again; deterministic.

Mutator (`_mutate_blinding.OnionMessageMutator`): a sealed message (bit 7, or a whole
onion_message) is opened with the picked node key; its onionmsg_tlv, or the
encrypted_recipient_data plaintext inside it, is mutated and both layers are sealed again.
Those inputs count for `_mutate.depth` as past the outer check when the Sphinx HMAC verified
(the drop, if any, is about the payload or the data behind it).
"""

import _blinding_checks as ref
import _checks
import _common
import _mutate
from _mutate_blinding import OnionMessageMutator

from sphinxamp.blinding._onion_message import (
    Dropped,
    OnionMessage,
    ProcessedMessage,
    choose_payload_area,
    decode_blinded_path,
    process_onion_message,
)
from sphinxamp.blinding._path import create_blinded_path
from sphinxamp.errors import (
    EncodeError,
    EncryptedDataError,
    InvalidOnionPayload,
    MalformedOnionMessage,
    OnionMessageError,
)
from sphinxamp.onion._sphinx import build_onion
from sphinxamp.wire._bigsize import encode_bigsize


def _check_accepted(got: ProcessedMessage) -> None:
    types = got.payload.types()
    data = got.encrypted_data
    if got.final:
        assert len([t for t in types if t >= 64]) <= 1
        if got.payload.reply_path is not None:
            decode_blinded_path(got.payload.reply_path)
        for content in (got.payload.invoice_request, got.payload.invoice,
                        got.payload.invoice_error):
            if content is not None:
                assert not isinstance(_checks.ref_stream(content), str), content.hex()
        return
    assert types == [4], types
    assert data.path_id is None
    # BOLT 4 › Onion Messages, the reader: next_node_id names the next peer when present,
    # else short_channel_id; both may be present.
    assert data.next_node_id is not None or data.short_channel_id is not None
    assert got.next_node_id == data.next_node_id
    assert got.next_short_channel_id == (None if data.next_node_id is not None
                                         else data.short_channel_id)
    nxt = got.next_message()
    assert nxt is not None and OnionMessage.parse(nxt.to_bytes()) == nxt


def _built(index: int, forward: bool, body: bytes) -> bytes | None:
    """An onion_message whose first layer the node opens, carrying the fuzzed data."""
    if not body:
        return None
    split = body[0]
    path_key, sealed = ref.seal(body[1:1 + split], index)
    payload = b"\x04" + encode_bigsize(len(sealed)) + sealed + body[1 + split:]
    blinded = create_blinded_path(ref.PATH_SESSION, [(ref.NODE_IDS[index], b"")])
    hops = [(blinded.hops[0].blinded_node_id, payload)]
    if forward:
        hops.append((ref.NODE_IDS[(index + 1) % len(ref.NODE_IDS)], b"\x04\x00"))
    try:
        built = build_onion(ref.SESSION, hops, b"", choose_payload_area(p for _, p in hops),
                            min_payload_length=0)
    except EncodeError:
        return None
    return OnionMessage(path_key, built.packet).to_bytes()


def _past_hmac(got: ProcessedMessage | Dropped) -> bool:
    """Whether the message got past the Sphinx HMAC: accepted, or dropped for its frame, its
    onionmsg_tlv or the encrypted data (not for its framing, version, keys or HMAC)."""
    if not isinstance(got, Dropped):
        return True
    after = InvalidOnionPayload | EncryptedDataError | OnionMessageError
    return isinstance(got.error, after) and not isinstance(got.error, MalformedOnionMessage)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    index = data[0] % len(ref.NODE_KEYS)
    key = ref.NODE_KEYS[index]
    path_key = None
    body = data[1:]
    if data[0] & 0x80:
        path_key, body = body[:33], body[33:]
    elif data[0] & 0x40:
        made = _built(index, bool(data[0] & 0x20), body)
        if made is None:
            return
        body = made
    first = process_onion_message(body, key, path_key=path_key)
    second = process_onion_message(body, key, path_key=path_key)
    if not data[0] & 0x40 or data[0] & 0x80:
        _mutate.depth(_past_hmac(first))
    if isinstance(first, Dropped):
        assert isinstance(second, Dropped) and second.reason == first.reason
        assert first.reason and _common.is_refusal(first.error)
        _common.check_error(first.error, len(body))
        return
    assert first == second
    _check_accepted(first)


if __name__ == "__main__":
    _common.main(test_one_input, structured=OnionMessageMutator())
