"""Failure messages (BOLT 4 › Failure Messages): u16 code ‖ the code's fields ‖ TLV stream.

Input: any bytes, read as one `failuremsg`.
Invariants: refusals are `DecodeError`s with a reason and an offset inside the input, and
only for a message shorter than its code or fields (a table code whose fixed fields are
present always decodes); an accepted message re-encodes to exactly the input (fields, TLV
records and kept bytes lose nothing); an unknown code keeps every byte after the code; the
fields are the table's, in its order; deterministic; memory O(len).
"""

import _common

from sphinxamp._codes import FAILURE_CODES
from sphinxamp.errors import DecodeError
from sphinxamp.failures._message import FailureMessage

# Minimum size of each fixed field; the variable ones are checked by the round trip.
_MIN = {"sha256": 32, "u16": 2, "u32": 4, "u64": 8, "bigsize": 1, "channel_update": 2}


def test_one_input(data: bytes) -> None:
    got = _common.deterministic(len(data), FailureMessage.decode, data)
    if got.error is not None:
        assert isinstance(got.error, DecodeError)
        spec = FAILURE_CODES.get(int.from_bytes(data[:2], "big")) if len(data) >= 2 else None
        assert len(data) < 2 or spec is not None, "unknown code refused"
        return
    message = got.value
    assert message.code == int.from_bytes(data[:2], "big")
    spec = FAILURE_CODES.get(message.code)
    if spec is None:
        assert message.extra == data[2:] and not message.fields and not message.tlv
    else:
        assert list(message.fields) == [name for name, _ in spec.fields]
        assert len(data) >= 2 + sum(_MIN[wire] for _, wire in spec.fields)
        assert not (message.tlv and message.extra), "both a TLV stream and kept bytes"
    assert message.encode() == data, "failure message round trip is not exact"


if __name__ == "__main__":
    _common.main(test_one_input)
