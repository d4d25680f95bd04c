"""BigSize and truncated integers (BOLT 1 › Fundamental Types, Appendix A).

Every expected byte string below is written out from the spec's encoding table, not produced
by the code under test.
"""

from __future__ import annotations

import pytest

from sphinxamp.errors import BigSizeError, DecodeError, EncodeError
from sphinxamp.wire import decode_bigsize, decode_tu, encode_bigsize, encode_tu
from sphinxamp.wire._bigsize import bigsize_len

# (value, canonical encoding): the edges of each prefix class of BOLT 1 › Appendix A.
CANONICAL = [
    (0, "00"),
    (0xFC, "fc"),
    (0xFD, "fd00fd"),
    (0xFFFF, "fdffff"),
    (0x10000, "fe00010000"),
    (0xFFFFFFFF, "feffffffff"),
    (0x100000000, "ff0000000100000000"),
    (2**64 - 1, "ffffffffffffffffff"),
]


@pytest.mark.parametrize(("value", "hexed"), CANONICAL)
def test_encode_canonical(value: int, hexed: str) -> None:
    assert encode_bigsize(value).hex() == hexed
    assert bigsize_len(value) == len(hexed) // 2


@pytest.mark.parametrize(("value", "hexed"), CANONICAL)
def test_decode_canonical_returns_value_and_end(value: int, hexed: str) -> None:
    data = bytes.fromhex(hexed)
    assert decode_bigsize(data) == (value, len(data))


@pytest.mark.parametrize(("value", "hexed"), CANONICAL)
def test_decode_at_offset_ignores_surrounding_bytes(value: int, hexed: str) -> None:
    data = b"\xaa\xbb" + bytes.fromhex(hexed) + b"\xcc"
    assert decode_bigsize(data, 2) == (value, 2 + len(hexed) // 2)


@pytest.mark.parametrize(
    "hexed",
    [
        "fd00fc",  # 0xfc fits one byte
        "fd0000",
        "fe0000ffff",  # 0xffff fits the fd form
        "fe00000000",
        "ff00000000ffffffff",  # 0xffffffff fits the fe form
        "ff0000000000000000",
    ],
)
def test_non_canonical_is_refused(hexed: str) -> None:
    with pytest.raises(BigSizeError) as info:
        decode_bigsize(b"\x00" + bytes.fromhex(hexed), 1)
    assert info.value.reason == "non_canonical"
    assert info.value.offset == 1


@pytest.mark.parametrize("hexed", ["fd", "fd00", "fe", "feffff", "ff", "ffffffffffffffff"])
def test_truncated_is_refused(hexed: str) -> None:
    with pytest.raises(BigSizeError) as info:
        decode_bigsize(b"\x00\x00\x00" + bytes.fromhex(hexed), 3)
    assert info.value.reason == "truncated"
    assert info.value.offset == 3


@pytest.mark.parametrize(("data", "offset"), [(b"", 0), (b"\x01\x02", 2)])
def test_empty_input(data: bytes, offset: int) -> None:
    with pytest.raises(BigSizeError) as info:
        decode_bigsize(data, offset)
    assert info.value.reason == "empty_input"
    assert info.value.offset == offset


def test_bigsize_errors_are_decode_errors_without_failure_code() -> None:
    with pytest.raises(DecodeError) as info:
        decode_bigsize(b"\xfd\x00\x01")
    assert info.value.failure_code is None


def test_decode_accepts_memoryview() -> None:
    assert decode_bigsize(memoryview(b"\xfe\x00\x01\x00\x00")) == (0x10000, 5)


@pytest.mark.parametrize("value", [-1, 2**64, 2**70])
def test_encode_out_of_range(value: int) -> None:
    with pytest.raises(EncodeError) as info:
        encode_bigsize(value)
    assert info.value.reason == "range"


# --- truncated integers (tu16 / tu32 / tu64) -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "width", "hexed"),
    [
        (0, 2, ""),
        (0, 8, ""),
        (1, 2, "01"),
        (0xFF, 4, "ff"),
        (0x100, 4, "0100"),
        (0x10000, 4, "010000"),
        (0xFFFF, 2, "ffff"),
        (0xFFFFFFFF, 4, "ffffffff"),
        (0x0100000000, 8, "0100000000"),
        (2**64 - 1, 8, "ffffffffffffffff"),
    ],
)
def test_truncated_int_is_minimal(value: int, width: int, hexed: str) -> None:
    assert encode_tu(value, width).hex() == hexed
    assert decode_tu(bytes.fromhex(hexed), width) == value


def test_named_truncated_encoders() -> None:
    assert encode_tu(0x1234, 2).hex() == "1234"
    assert encode_tu(0x010203, 4).hex() == "010203"
    assert encode_tu(0x0100000000000000, 8).hex() == "0100000000000000"


@pytest.mark.parametrize(("value", "width"), [(2**16, 2), (2**32, 4), (2**64, 8), (-1, 8)])
def test_truncated_int_out_of_range(value: int, width: int) -> None:
    with pytest.raises(EncodeError):
        encode_tu(value, width)


@pytest.mark.parametrize(
    ("hexed", "width"),
    [("00", 8), ("0001", 8), ("0001000000000000", 8), ("00", 2), ("000000ff", 4)],
)
def test_truncated_int_leading_zero_refused(hexed: str, width: int) -> None:
    with pytest.raises(DecodeError) as info:
        decode_tu(bytes.fromhex(hexed), width, offset=7)
    assert info.value.reason == "truncated_int_not_minimal"
    assert info.value.offset == 7


@pytest.mark.parametrize(
    ("hexed", "width"), [("010000", 2), ("0100000000", 4), ("ff" * 9, 8)]
)
def test_truncated_int_wider_than_its_type_refused(hexed: str, width: int) -> None:
    with pytest.raises(DecodeError) as info:
        decode_tu(bytes.fromhex(hexed), width)
    assert info.value.reason == "length_above_fixed_size"
