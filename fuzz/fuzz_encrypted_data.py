"""`encrypted_data_tlv` decoder (BOLT 4 › Route Blinding, Inside `encrypted_recipient_data`).

Input: the decrypted stream.
Invariants: every refusal is a `MalformedEncryptedData` (its `UnknownEvenEncryptedType` for an
unknown even type), a `DecodeError` answered invalid_onion_blinding, and a stream the
schema-less decoder refuses is refused for the same reason at the same offset; an accepted
stream re-encodes to exactly the input; the reader rules (`check_data`) agree with an oracle
written from the BOLT text, in every role, and refuse only with `EncryptedDataError`;
deterministic; memory O(len).
"""

import _blinding_checks as ref
import _common

from sphinxamp.blinding._path import EncryptedData
from sphinxamp.blinding._unblind import check_data
from sphinxamp.errors import EncryptedDataError, MalformedEncryptedData
from sphinxamp.wire._tlv import decode_stream


def test_one_input(data: bytes) -> None:
    plain = _common.call(decode_stream, data)
    got = _common.deterministic(len(data), EncryptedData.decode, data)
    if got.error is not None:
        assert isinstance(got.error, MalformedEncryptedData), type(got.error).__name__
        assert got.error.failure_name == "invalid_onion_blinding"
        if plain.error is not None:
            assert (got.error.reason, got.error.offset) == (plain.error.reason,
                                                            plain.error.offset)
        return
    assert plain.error is None, "accepted a stream BOLT 1 refuses"
    value = got.value
    assert value.encode() == data, f"round trip {data.hex()}"
    for final in (False, True):
        for payment in (False, True):
            outcome = _common.call(check_data, value, final=final, payment=payment)
            assert outcome.error is None or isinstance(outcome.error, EncryptedDataError)
            assert outcome.ok == ref.ref_reader_ok(value, final, payment), (final, payment)


if __name__ == "__main__":
    _common.main(test_one_input)
