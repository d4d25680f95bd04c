"""Schema-less TLV streams, fast checks (BOLT 1 › Type-Length-Value Format).

Input and corpus: those of `fuzz_tlv_stream.py` (`corpus/tlv_stream/`, `_targets.py`): any
bytes, read as one stream.
Invariants, one call: totality (only `TlvError`, with a reason and an offset inside the
input); the records of an accepted stream, written back as type ‖ length ‖ value in the order
decoded (`_fast.write_stream`, BOLT 1's writer in the harness, uninstrumented), give exactly
the input: every byte is in a record, none reordered or dropped. Memory bound on one input in
1024 (`_fast`). Not here: the spec-literal reader and its reasons, the library's
`encode_stream`, determinism (`fuzz_tlv_stream.py`).
"""

import _common
import _fast

from sphinxamp.errors import TlvError
from sphinxamp.wire._tlv import decode_stream


def _body(data: bytes) -> None:
    try:
        records = decode_stream(data)
    except _common.REFUSALS as exc:
        _fast.refused(exc, len(data), TlvError)
        return
    assert _fast.write_stream(records) == data, "TLV stream round trip is not exact"


test_one_input = _fast.harness(_body, "tlv_stream_fast")

if __name__ == "__main__":
    _common.main(test_one_input)
