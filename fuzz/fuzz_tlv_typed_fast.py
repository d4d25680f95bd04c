"""TLV streams against a schema, fast checks: BOLT 1 Appendix B's `n1`/`n2` and every
`TlvSchema` the library defines.

Input and corpus: those of `fuzz_tlv_typed.py` (`corpus/tlv_typed/`, `_targets.py`): byte 0
picks the namespace from the same list (`fuzz_tlv_typed.SCHEMAS`), the rest is the stream.
Invariants, one call: totality (only `TlvError`, with a reason and an offset inside the
stream); an accepted stream re-encodes through the schema to exactly the input. Memory bound
on one input in 1024 (`_fast`). Not here: agreement with the schema-less decoder, the codec
bounds and points checked one by one, determinism (`fuzz_tlv_typed.py`).
"""

import _common
import _fast
from fuzz_tlv_typed import SCHEMAS

from sphinxamp.errors import TlvError


def _body(data: bytes) -> None:
    if not data:
        return
    schema, stream = SCHEMAS[data[0] % len(SCHEMAS)], data[1:]
    try:
        decoded = schema.decode(stream)
    except _common.REFUSALS as exc:
        _fast.refused(exc, len(stream), TlvError)
        return
    again = schema.encode(decoded.values, decoded.unknown)
    assert again == stream, f"{schema.name} round trip: {stream.hex()} -> {again.hex()}"


test_one_input = _fast.harness(_body, "tlv_typed_fast")

if __name__ == "__main__":
    _common.main(test_one_input)
