"""BigSize and truncated integers (BOLT 1 › Appendix A, Fundamental Types).

Input: any bytes. The whole input is read as a BigSize at offset 0 and at offset 1; byte 0
also picks a truncated-int width (2/4/8) for the rest of the input.
Invariants: accept/refuse exactly as the spec-literal reader in `_checks`; an accepted BigSize
re-encodes to the bytes it was read from (so non-minimal forms cannot be accepted), is below
2^64 and used 1, 3, 5 or 9 bytes; an accepted tu re-encodes to the exact input; refusals are
`DecodeError`s with a reason and an in-range offset; deterministic; memory O(len).
"""

import _common
from _checks import ref_bigsize

from sphinxamp.errors import BigSizeError
from sphinxamp.wire._bigsize import decode_bigsize, decode_tu, encode_bigsize, encode_tu

_WIDTHS = (2, 4, 8)


def _check_bigsize(data: bytes, offset: int) -> None:
    got = _common.deterministic(len(data), decode_bigsize, data, offset)
    want = ref_bigsize(data, offset)
    if got.error is not None:
        assert isinstance(got.error, BigSizeError), type(got.error).__name__
        assert isinstance(want, str), f"refused a BigSize the spec accepts: {got.error.reason}"
        return
    value, end = got.value
    assert not isinstance(want, str), f"accepted a BigSize the spec refuses ({want})"
    assert (value, end) == want, f"read {(value, end)}, spec reads {want}"
    assert end - offset in (1, 3, 5, 9) and 0 <= value < 1 << 64
    assert encode_bigsize(value) == data[offset:end], "BigSize is not canonical"


def _check_tu(data: bytes, width: int) -> None:
    got = _common.deterministic(len(data), decode_tu, data, width)
    spec_ok = len(data) <= width and (not data or data[0] != 0)
    if got.error is not None:
        assert not spec_ok, f"refused a valid tu{8 * width}: {data.hex()}"
        return
    assert spec_ok, f"accepted an invalid tu{8 * width}: {data.hex()}"
    assert encode_tu(got.value, width) == data, "truncated int is not canonical"


def test_one_input(data: bytes) -> None:
    _check_bigsize(data, 0)
    if data:
        _check_bigsize(data, 1)
        _check_tu(data[1:], _WIDTHS[data[0] % 3])


if __name__ == "__main__":
    _common.main(test_one_input)
