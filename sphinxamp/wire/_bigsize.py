"""BigSize varints and truncated integers (BOLT 1 › Type-Length-Value Format, Fundamental Types).

BigSize is big-endian and MUST be minimal: a reader that accepted a longer form would give two
encodings to one stream and break canonical round trips (BOLT 1 › Appendix A).
"""

from __future__ import annotations

from sphinxamp.errors import BigSizeError, DecodeError, EncodeError

U64_MAX = (1 << 64) - 1

# The smallest value each prefix may carry; anything below belongs to a shorter form.
_PREFIX = {0xFD: (3, 0xFD), 0xFE: (5, 0x10000), 0xFF: (9, 0x100000000)}


def encode_bigsize(value: int) -> bytes:
    if value < 0xFD:
        if value < 0:
            raise EncodeError(f"BigSize cannot encode {value}", field="bigsize", reason="range")
        return bytes((value,))
    if value <= 0xFFFF:
        return b"\xfd" + value.to_bytes(2, "big")
    if value <= 0xFFFFFFFF:
        return b"\xfe" + value.to_bytes(4, "big")
    if value <= U64_MAX:
        return b"\xff" + value.to_bytes(8, "big")
    raise EncodeError(f"BigSize cannot encode {value}", field="bigsize", reason="range")


def bigsize_len(value: int) -> int:
    """Bytes `encode_bigsize(value)` takes, without building it."""
    if value < 0xFD:
        return 1
    if value <= 0xFFFF:
        return 3
    return 5 if value <= 0xFFFFFFFF else 9


def decode_bigsize(
    data: bytes | memoryview, offset: int = 0, field: str = "bigsize"
) -> tuple[int, int]:
    """Read one BigSize at `offset`; return (value, offset just past it)."""
    if offset >= len(data):
        raise BigSizeError(
            f"{field}: no bytes left", field=field, offset=offset, reason="empty_input"
        )
    first = data[offset]
    if first < 0xFD:
        return first, offset + 1
    size, minimum = _PREFIX[first]
    end = offset + size
    if end > len(data):
        raise BigSizeError(
            f"{field}: BigSize needs {size} bytes, {len(data) - offset} present",
            field=field,
            offset=offset,
            reason="truncated",
        )
    value = int.from_bytes(data[offset + 1 : end], "big")
    if value < minimum:
        raise BigSizeError(
            f"{field}: BigSize {value} is not minimally encoded",
            field=field,
            offset=offset,
            reason="non_canonical",
        )
    return value, end


def encode_tu(value: int, width: int) -> bytes:
    """A truncated integer of at most `width` bytes: leading zero bytes omitted, 0 is empty."""
    if value < 0 or value >= 1 << (8 * width):
        raise EncodeError(
            f"tu{8 * width} cannot encode {value}", field=f"tu{8 * width}", reason="range"
        )
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def decode_tu(
    data: bytes | memoryview, width: int, field: str = "", offset: int = 0
) -> int:
    """Read a whole truncated integer; reject a leading zero byte or more than `width` bytes."""
    name = field or f"tu{8 * width}"
    if len(data) > width:
        raise DecodeError(
            f"{name}: {len(data)} bytes exceed tu{8 * width}",
            field=name,
            offset=offset,
            reason="length_above_fixed_size",
        )
    if data and data[0] == 0:
        raise DecodeError(
            f"{name}: truncated integer has a leading zero byte",
            field=name,
            offset=offset,
            reason="truncated_int_not_minimal",
        )
    return int.from_bytes(data, "big")
