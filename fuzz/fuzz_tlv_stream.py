"""Schema-less TLV streams (BOLT 1 › Type-Length-Value Format › Requirements).

Input: any bytes, read as one stream.
Invariants: accept/refuse and the refusal reason agree with the spec-literal reader in
`_checks`; an accepted stream has strictly increasing types, record sizes that add up to the
input, and re-encodes to exactly the input; refusals are `TlvError`s whose offset lies inside
the input; deterministic; memory O(len) whatever the length fields claim.
"""

import itertools

import _common
from _checks import ref_stream

from sphinxamp.errors import TlvError
from sphinxamp.wire._bigsize import encode_bigsize
from sphinxamp.wire._tlv import decode_stream, encode_stream


def test_one_input(data: bytes) -> None:
    got = _common.deterministic(len(data), decode_stream, data)
    want = ref_stream(data)
    if got.error is not None:
        assert isinstance(got.error, TlvError), type(got.error).__name__
        assert isinstance(want, str), f"refused a valid stream: {got.error.reason}"
        assert got.error.reason == want, f"reason {got.error.reason}, spec says {want}"
        return
    records = got.value
    assert not isinstance(want, str), f"accepted a stream the spec refuses ({want})"
    assert [(r.type, r.value) for r in records] == want, "records differ from the spec reader"
    types = [r.type for r in records]
    assert all(a < b for a, b in itertools.pairwise(types)), "types not increasing"
    size = sum(len(encode_bigsize(r.type)) + len(encode_bigsize(len(r.value))) + len(r.value)
               for r in records)
    assert size == len(data), "records do not cover the input"
    assert encode_stream(records) == data, "TLV stream round trip is not exact"


if __name__ == "__main__":
    _common.main(test_one_input)
