"""`onionmsg_tlv` decoder (BOLT 4 › Onion Messages): the payload of an onion message.

Input: the payload stream.
Invariants: every refusal is `MalformedOnionMessagePayload`, for the same reason and offset as
the schema-less decoder when that refuses; unknown even types are refused, odd ones kept; an
accepted payload re-encodes to exactly the input; a reply_path is refused only with
`MalformedBlindedPath`, and one that parses re-encodes to its bytes; deterministic; memory
O(len).
"""

import _common

from sphinxamp.blinding._onion_message import (
    ONIONMSG_SCHEMA,
    OnionMessagePayload,
    decode_blinded_path,
)
from sphinxamp.errors import MalformedBlindedPath, MalformedOnionMessagePayload
from sphinxamp.wire._tlv import decode_stream


def test_one_input(data: bytes) -> None:
    plain = _common.call(decode_stream, data)
    got = _common.deterministic(len(data), OnionMessagePayload.decode, data)
    if got.error is not None:
        assert isinstance(got.error, MalformedOnionMessagePayload), type(got.error).__name__
        if plain.error is not None:
            assert (got.error.reason, got.error.offset) == (plain.error.reason,
                                                            plain.error.offset)
        else:
            assert got.error.reason in ("unknown_even_type",), got.error.reason
            assert got.error.tlv_type is not None and got.error.tlv_type % 2 == 0
        return
    assert plain.error is None
    for rec in got.value.unknown_records:
        assert rec.type % 2 == 1 and rec.type not in ONIONMSG_SCHEMA.specs
    assert got.value.encode() == data, f"round trip {data.hex()}"
    reply = got.value.reply_path
    if reply is not None:
        path = _common.deterministic(len(reply), decode_blinded_path, reply)
        if path.error is not None:
            assert isinstance(path.error, MalformedBlindedPath), type(path.error).__name__
        elif len(path.value.first_node_id) == 33:
            assert path.value.encode() == reply, "blinded_path round trip"


if __name__ == "__main__":
    _common.main(test_one_input)
