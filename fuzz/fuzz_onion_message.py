"""Onion message processing (BOLT 4 › Onion Messages, the reader): never an exception, a
`Dropped` result with a reason instead.

Input: byte 0 picks the node key (the BOLT vectors' 0x41.. keys, modulo five); if its bit 7
is set the next 33 bytes are the path key and the rest the bare packet, else the rest is a
whole `onion_message` (type 513).
Invariants: `process_onion_message` returns (never raises); a drop carries a reason and a
`DecodeError` whose offset lies inside the input; an accepted message obeys the reader rules
(a forwarding hop's payload holds only encrypted_recipient_data and its data a next hop and
no path_id; the last node has at most one content field) and its next onion_message frames
and parses again; deterministic.
"""

import _blinding_checks as ref
import _common

from sphinxamp._errors import DecodeError
from sphinxamp._onion_message import (
    Dropped,
    OnionMessage,
    ProcessedMessage,
    process_onion_message,
)


def _check_accepted(got: ProcessedMessage) -> None:
    types = got.payload.types()
    data = got.encrypted_data
    if got.final:
        assert len([t for t in types if t >= 64]) <= 1
        return
    assert types == [4], types
    assert data.path_id is None
    assert (data.next_node_id is None) != (data.short_channel_id is None)
    nxt = got.next_message()
    assert nxt is not None and OnionMessage.parse(nxt.to_bytes()) == nxt


def test_one_input(data: bytes) -> None:
    if not data:
        return
    key = ref.NODE_KEYS[data[0] % len(ref.NODE_KEYS)]
    path_key = None
    body = data[1:]
    if data[0] & 0x80:
        path_key, body = body[:33], body[33:]
    first = process_onion_message(body, key, path_key=path_key)
    second = process_onion_message(body, key, path_key=path_key)
    if isinstance(first, Dropped):
        assert isinstance(second, Dropped) and second.reason == first.reason
        assert first.reason and isinstance(first.error, DecodeError)
        _common.check_error(first.error, len(data))
        return
    assert first == second
    _check_accepted(first)


if __name__ == "__main__":
    _common.main(test_one_input)
