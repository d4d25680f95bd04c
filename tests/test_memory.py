"""A length read from the wire never drives an allocation before it is checked.

Each case declares a length far larger than the bytes that follow it; the parser must refuse
it while tracemalloc's peak stays orders of magnitude below the declared size. Lengths of
2^26 are chosen so that an implementation which did allocate them would visibly do so (and
2^63 so that it could not even try).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

from sphinxamp import Role, decode_payload
from sphinxamp.errors import DecodeError, InvalidOnionPayload, TlvError
from sphinxamp.onion import peel_onion
from sphinxamp.wire import HOP_PAYLOAD_SCHEMA, decode_stream
from tests.strategies import pubkey_of, seal_packet

LIMIT = 1 << 20  # 1 MiB: generous for the parser's own work, tiny next to the declared sizes
SESSION = bytes([0x41]) * 32
NODE = bytes([0x51]) * 32
AD = bytes([0x42]) * 32


def failing_peak(fn: Callable[[], object], expected: type[DecodeError]) -> tuple[int, DecodeError]:
    tracemalloc.start()
    try:
        fn()
    except expected as exc:
        _, peak = tracemalloc.get_traced_memory()
        return peak, exc
    finally:
        tracemalloc.stop()
    raise AssertionError("the declared length was accepted")


# type 1, then a length, then a few value bytes
HUGE_LENGTHS = [
    (bytes.fromhex("ff8000000000000000"), 2**63),
    (bytes.fromhex("ffffffffffffffffff"), 2**64 - 1),
    (bytes.fromhex("fe04000000"), 2**26),
]


@pytest.mark.parametrize(("length_bytes", "declared"), HUGE_LENGTHS)
def test_stream_with_huge_length(length_bytes: bytes, declared: int) -> None:
    stream = b"\x01" + length_bytes + b"\xaa\xbb\xcc"
    peak, exc = failing_peak(lambda: decode_stream(stream), TlvError)
    assert peak < LIMIT < declared
    assert (exc.reason, exc.tlv_type, exc.offset) == ("value_truncated", 1, 1 + len(length_bytes))


@pytest.mark.parametrize(("length_bytes", "declared"), HUGE_LENGTHS)
def test_stream_with_huge_length_and_no_value(length_bytes: bytes, declared: int) -> None:
    peak, exc = failing_peak(lambda: decode_stream(b"\x01" + length_bytes), TlvError)
    assert peak < LIMIT
    assert exc.reason == "value_missing"


@pytest.mark.parametrize(("length_bytes", "declared"), HUGE_LENGTHS)
def test_schema_and_payload_with_huge_known_record(length_bytes: bytes, declared: int) -> None:
    # type 10 (encrypted_recipient_data) is a known, unbounded record
    stream = bytes.fromhex("0200 0400") + b"\x0a" + length_bytes + bytes(16)
    peak, exc = failing_peak(lambda: HOP_PAYLOAD_SCHEMA.decode(stream), TlvError)
    assert peak < LIMIT
    assert (exc.reason, exc.tlv_type) == ("value_truncated", 10)
    peak, exc = failing_peak(lambda: decode_payload(stream, Role.FINAL), InvalidOnionPayload)
    assert peak < LIMIT
    assert (exc.reason, exc.tlv_type, exc.offset) == ("value_truncated", 10, 5 + len(length_bytes))


@pytest.mark.parametrize(("length_bytes", "declared"), HUGE_LENGTHS)
@pytest.mark.parametrize("area", [1300, 32768])
def test_peel_with_huge_payload_length(length_bytes: bytes, declared: int, area: int) -> None:
    plaintext = length_bytes + bytes(area - len(length_bytes))
    raw = seal_packet(SESSION, pubkey_of(NODE), plaintext, AD)
    peak, exc = failing_peak(lambda: peel_onion(raw, NODE, AD, payload_area=None),
                             InvalidOnionPayload)
    assert peak < LIMIT
    assert (exc.reason, exc.offset) == ("payload_past_routing_area", len(length_bytes))


def test_peel_of_a_32k_onion_message_allocates_at_most_four_times_its_size() -> None:
    """Peeling an onion message with the large payload area (BOLT 4 › Onion Messages: 32768
    bytes) must not hold many copies of the packet at once: its peak of Python allocations
    stays at most 4x the packet's size (the next packet alone is one size)."""
    from sphinxamp.onion._sphinx import ONION_MESSAGE_PAYLOAD_AREA, build_onion

    hops = [(pubkey_of(NODE), bytes(200)), (pubkey_of(SESSION), bytes(300))]
    packet = build_onion(SESSION, hops, AD, ONION_MESSAGE_PAYLOAD_AREA,
                         min_payload_length=0).to_bytes()
    assert len(packet) == 32834
    peel_onion(packet, NODE, AD, payload_area=None, min_payload_length=0)  # warm caches
    tracemalloc.start()
    try:
        peeled = peel_onion(packet, NODE, AD, payload_area=None, min_payload_length=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peeled.payload == bytes(200) and peeled.next_packet is not None
    assert peak <= 4 * len(packet), f"peak {peak} bytes for a {len(packet)}-byte packet"
