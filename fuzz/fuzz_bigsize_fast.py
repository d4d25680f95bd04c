"""BigSize and truncated integers, fast checks (BOLT 1 › Appendix A, Fundamental Types).

Input and corpus: those of `fuzz_bigsize.py` (`corpus/bigsize/`, `_targets.py`): the input
read as a BigSize at offset 0 and at offset 1; byte 0 picks a truncated-int width (2/4/8)
for the rest.
Invariants, one call each: totality (only `BigSizeError`, or `DecodeError` for a tu, with a
reason and an offset inside the input); an accepted BigSize re-encodes to the bytes it was
read from; an accepted tu re-encodes to the exact input. Memory bound on one input in 1024
(`_fast`). Not here: the spec-literal reader and determinism (`fuzz_bigsize.py`).
"""

import _common
import _fast

from sphinxamp.errors import BigSizeError, DecodeError
from sphinxamp.wire._bigsize import decode_bigsize, decode_tu, encode_bigsize, encode_tu

_WIDTHS = (2, 4, 8)


def _bigsize(data: bytes, offset: int) -> None:
    try:
        value, end = decode_bigsize(data, offset)
    except _common.REFUSALS as exc:
        _fast.refused(exc, len(data), BigSizeError)
        return
    assert encode_bigsize(value) == data[offset:end], "BigSize is not canonical"


def _tu(data: bytes, width: int) -> None:
    try:
        value = decode_tu(data, width)
    except _common.REFUSALS as exc:
        _fast.refused(exc, len(data), DecodeError)
        return
    assert encode_tu(value, width) == data, "truncated int is not canonical"


def _body(data: bytes) -> None:
    _bigsize(data, 0)
    if data:
        _bigsize(data, 1)
        _tu(data[1:], _WIDTHS[data[0] % 3])


test_one_input = _fast.harness(_body, "bigsize_fast")

if __name__ == "__main__":
    _common.main(test_one_input)
