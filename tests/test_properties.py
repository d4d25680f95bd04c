"""Properties over random routes, packets, streams and payloads.

Example counts come from the hypothesis profile (tests/conftest.py); expected outcomes come
from the reference helpers in tests/strategies.py or from the inputs themselves.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from sphinxamp import (
    AmpRecord,
    HopPayload,
    OnionPacket,
    PaymentData,
    Role,
    ShortChannelId,
    build_onion,
    decode_payload,
)
from sphinxamp._payload import CUSTOM_RECORD_START, KEYSEND_TYPE
from sphinxamp.errors import (
    DecodeError,
    EncodeError,
    InvalidOnionHmac,
    InvalidOnionKey,
    InvalidOnionPayload,
    InvalidOnionVersion,
)
from sphinxamp.onion import peel_onion
from sphinxamp.primitives._crypto import chacha20_encryptor, chacha20_reposition
from sphinxamp.wire import (
    HOP_PAYLOAD_SCHEMA,
    TlvRecord,
    decode_bigsize,
    decode_stream,
    decode_tu,
    encode_stream,
)
from tests.strategies import (
    U64_MAX,
    bigsize_values,
    is_compressed_point,
    private_keys,
    pubkey_of,
    ref_bigsize,
    ref_frame_size,
    ref_keystream,
    ref_shared_secret,
    ref_stream,
    route_payload_sizes,
    seal_packet,
    tlv_records,
    xor_bytes,
)

AD = bytes([0x42]) * 32
SESSION = bytes([0x41]) * 32
NODE = bytes([0x51]) * 32
NODE_PUB = pubkey_of(NODE)

T = TypeVar("T")


# --- random routes ----------------------------------------------------------------------------


def peel_route(raw: bytes, keys: list[bytes], ad: bytes, **kw: object) -> list[Any]:
    hops: list[Any] = []
    current: bytes | OnionPacket = raw
    for key in keys:
        hop = peel_onion(current, key, ad, **kw)  # type: ignore[arg-type]
        hops.append(hop)
        if hop.next_packet is None:
            break
        current = hop.next_packet
    return hops


@given(st.data())
def test_random_route_peels_to_every_payload(data: st.DataObject) -> None:
    sizes = data.draw(route_payload_sizes(), label="sizes")
    keys = data.draw(st.lists(private_keys, min_size=len(sizes), max_size=len(sizes)))
    payloads = [data.draw(st.binary(min_size=n, max_size=n)) for n in sizes]
    session = data.draw(private_keys, label="session")
    ad = data.draw(st.binary(max_size=64), label="ad")
    built = build_onion(session, [(pubkey_of(k), p) for k, p in zip(keys, payloads, strict=True)],
                        ad)
    raw = built.to_bytes()
    assert len(raw) == 1366
    hops = peel_route(raw, keys, ad)
    assert [h.payload for h in hops] == payloads
    assert [h.is_final for h in hops] == [False] * (len(keys) - 1) + [True]
    assert [h.shared_secret for h in hops] == list(built.shared_secrets)
    assert hops[0].shared_secret == ref_shared_secret(keys[0], raw[1:34])


@given(st.data())
def test_random_route_any_payload_area(data: st.DataObject) -> None:
    area = data.draw(st.one_of(st.integers(33, 700), st.sampled_from([1300, 32768])))
    sizes = data.draw(route_payload_sizes(max_hops=6, area=area, min_len=0))
    keys = data.draw(st.lists(private_keys, min_size=len(sizes), max_size=len(sizes)))
    payloads = [data.draw(st.binary(min_size=n, max_size=n)) for n in sizes]
    built = build_onion(SESSION, [(pubkey_of(k), p) for k, p in zip(keys, payloads, strict=True)],
                        b"", payload_area=area, min_payload_length=0)
    raw = built.to_bytes()
    assert len(raw) == 66 + area
    hops = peel_route(raw, keys, b"", payload_area=None, min_payload_length=0)
    assert [h.payload for h in hops] == payloads
    assert hops[-1].is_final and len(hops) == len(keys)


@given(sizes=route_payload_sizes(max_hops=3), extra=st.integers(1, 300))
def test_overflowing_route_is_refused(sizes: list[int], extra: int) -> None:
    # Grow the last payload until the frames no longer fit the 1300 bytes.
    used = sum(ref_frame_size(n) for n in sizes[:-1])
    last = sizes[-1]
    while used + ref_frame_size(last) <= 1300:
        last += extra
    route = [(NODE_PUB, bytes(n)) for n in sizes[:-1]] + [(NODE_PUB, bytes(last))]
    with pytest.raises(EncodeError) as info:
        build_onion(SESSION, route, AD)
    assert info.value.reason == "route_too_long"


# --- single bit flips -------------------------------------------------------------------------


@functools.cache
def sample_packet(area: int) -> bytes:
    route = [(NODE_PUB, b"\x02\x01\x01\x04\x01\x02\x06\x08" + bytes(8)),
             (pubkey_of(bytes([0x52]) * 32), b"\x02\x00\x04\x00")]
    return build_onion(SESSION, route, AD, payload_area=area).to_bytes()


def expected_flip_error(raw: bytes, flipped: bytes, byte: int,
                        ) -> type[InvalidOnionVersion | InvalidOnionHmac | InvalidOnionKey]:
    if byte == 0:
        return InvalidOnionVersion
    if byte < 34:
        return InvalidOnionHmac if is_compressed_point(flipped[1:34]) else InvalidOnionKey
    return InvalidOnionHmac


def flip(raw: bytes, bit: int) -> bytes:
    out = bytearray(raw)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def check_flip(raw: bytes, bit: int, area: int) -> None:
    flipped = flip(raw, bit)
    expected = expected_flip_error(raw, flipped, bit // 8)
    try:
        peel_onion(flipped, NODE, AD, payload_area=area)
    except DecodeError as exc:
        assert type(exc) is expected, (bit, type(exc), expected)
        assert exc.failure_code == {InvalidOnionVersion: 0xC004, InvalidOnionHmac: 0xC005,
                                    InvalidOnionKey: 0xC006}[expected]
    else:
        raise AssertionError(f"bit {bit} flipped and the packet still peeled")


@given(data=st.data(), area=st.sampled_from([1300, 100, 32768]))
def test_any_single_bit_flip_gives_the_right_bad_onion_error(
    data: st.DataObject, area: int
) -> None:
    raw = sample_packet(area)
    bit = data.draw(st.integers(0, len(raw) * 8 - 1), label="bit")
    check_flip(raw, bit, area)


def test_every_header_and_hmac_bit_flip() -> None:
    raw = sample_packet(1300)
    header_bits = range(34 * 8)
    hmac_bits = range((len(raw) - 32) * 8, len(raw) * 8)
    for bit in [*header_bits, *hmac_bits]:
        check_flip(raw, bit, 1300)


# --- TLV identity --------------------------------------------------------------------------------


@given(tlv_records())
def test_tlv_encode_decode_encode_is_identity(records: list[tuple[int, bytes]]) -> None:
    expected = ref_stream(records)
    encoded = encode_stream([TlvRecord(t, v) for t, v in records])
    assert encoded == expected
    decoded = decode_stream(encoded)
    assert [(r.type, r.value) for r in decoded] == records
    assert encode_stream(decoded) == encoded


@given(st.data())
def test_tlv_concatenation_of_higher_types_stays_valid(data: st.DataObject) -> None:
    low = data.draw(tlv_records(), label="low")
    floor = low[-1][0] + 1 if low else 0
    assume(floor <= U64_MAX)
    types = sorted(data.draw(st.lists(st.integers(floor, U64_MAX), unique=True, max_size=5)))
    high = [(t, data.draw(st.binary(max_size=20))) for t in types]
    decoded = decode_stream(ref_stream(low) + ref_stream(high))
    assert [(r.type, r.value) for r in decoded] == low + high


@given(bigsize_values)
def test_bigsize_round_trip(value: int) -> None:
    encoded = ref_bigsize(value)
    assert decode_bigsize(encoded) == (value, len(encoded))


@given(st.integers(0, U64_MAX))
def test_truncated_u64_round_trip(value: int) -> None:
    minimal = value.to_bytes((value.bit_length() + 7) // 8, "big")
    assert decode_tu(minimal, 8) == value


@st.composite
def hop_payloads(draw: st.DrawFn) -> HopPayload:
    opt = functools.partial(draw_optional, draw)
    custom_types = draw(st.lists(
        st.integers(CUSTOM_RECORD_START, U64_MAX).filter(lambda t: t != KEYSEND_TYPE),
        unique=True, max_size=3))
    unknown_types = draw(st.lists(st.integers(0, 0x7FFF).map(lambda t: 2 * t + 1), unique=True,
                                  max_size=3))
    return HopPayload(
        amt_to_forward=opt(st.integers(0, U64_MAX)),
        outgoing_cltv_value=opt(st.integers(0, 2**32 - 1)),
        short_channel_id=opt(st.builds(ShortChannelId, st.integers(0, 2**24 - 1),
                                       st.integers(0, 2**24 - 1), st.integers(0, 2**16 - 1))),
        payment_data=opt(st.builds(PaymentData, st.binary(min_size=32, max_size=32),
                                   st.integers(0, U64_MAX))),
        encrypted_recipient_data=opt(st.binary(min_size=16, max_size=40)),  # holds its tag
        current_path_key=opt(private_keys.map(pubkey_of)),
        amp=opt(st.builds(AmpRecord, st.binary(min_size=32, max_size=32),
                          st.binary(min_size=32, max_size=32), st.integers(0, 2**32 - 1))),
        payment_metadata=opt(st.binary(max_size=40)),
        total_amount_msat=opt(st.integers(0, U64_MAX)),
        keysend_preimage=opt(st.binary(min_size=32, max_size=32)),
        custom_records=tuple(TlvRecord(t, draw(st.binary(max_size=8)))
                             for t in sorted(custom_types)),
        unknown_records=tuple(TlvRecord(t, draw(st.binary(max_size=8)))
                              for t in sorted(unknown_types)),
    )


def draw_optional(draw: st.DrawFn, strategy: st.SearchStrategy[T]) -> T | None:
    return draw(st.one_of(st.none(), strategy))


@given(hop_payloads())
def test_hop_payload_encode_decode_is_identity(payload: HopPayload) -> None:
    encoded = payload.encode()
    # lnd's profile keeps every custom record (even ones too); BOLT's refuses an unknown even.
    decoded = decode_payload(encoded, profile="lnd")
    assert decoded == payload
    assert decoded.encode() == encoded
    assert [r.type for r in decode_stream(encoded)] == sorted(payload.present_types())


# --- parsers of untrusted bytes raise nothing but DecodeError -----------------------------------


def only_decode_errors(fn: Callable[[], object]) -> None:
    with contextlib.suppress(DecodeError):
        fn()


@st.composite
def near_valid_streams(draw: st.DrawFn) -> bytes:
    """Valid streams, then cut, spliced or with one byte changed, to reach deep paths."""
    stream = ref_stream(draw(tlv_records(max_records=5, max_value=40)))
    how = draw(st.sampled_from(["as_is", "cut", "byte", "append"]))
    if how == "cut" and stream:
        stream = stream[: draw(st.integers(0, len(stream) - 1))]
    elif how == "byte" and stream:
        i = draw(st.integers(0, len(stream) - 1))
        stream = stream[:i] + bytes([draw(st.integers(0, 255))]) + stream[i + 1 :]
    elif how == "append":
        stream += draw(st.binary(max_size=12))
    return stream


untrusted = st.one_of(st.binary(max_size=300), near_valid_streams())


@given(untrusted, st.integers(0, 20))
def test_bigsize_decode_raises_only_decode_errors(data: bytes, offset: int) -> None:
    only_decode_errors(lambda: decode_bigsize(data, offset))


@given(untrusted)
def test_stream_decode_raises_only_decode_errors(data: bytes) -> None:
    only_decode_errors(lambda: decode_stream(data))
    only_decode_errors(lambda: HOP_PAYLOAD_SCHEMA.decode(data))


@given(untrusted, st.sampled_from(list(Role)), st.sampled_from([None, True, False]))
def test_payload_decode_raises_only_invalid_onion_payload(
    data: bytes, role: Role, path_key: bool | None
) -> None:
    with contextlib.suppress(InvalidOnionPayload):
        decode_payload(data, role, path_key_from_htlc=path_key)


@given(st.binary(max_size=1500), st.sampled_from([None, 1300, 100]))
def test_packet_parse_raises_only_decode_errors(data: bytes, area: int | None) -> None:
    only_decode_errors(lambda: OnionPacket.parse(data, area))


@st.composite
def packet_bytes(draw: st.DrawFn) -> bytes:
    version = draw(st.one_of(st.just(0), st.integers(0, 255)))
    key = draw(st.one_of(private_keys.map(pubkey_of), st.binary(min_size=33, max_size=33)))
    body = draw(st.binary(min_size=1332, max_size=1332))
    return bytes([version]) + key + body


@given(packet_bytes())
def test_peel_of_arbitrary_packet_raises_only_decode_errors(raw: bytes) -> None:
    only_decode_errors(lambda: peel_onion(raw, NODE, AD))


@given(st.binary(max_size=1500))
def test_peel_of_arbitrary_length_raises_only_decode_errors(raw: bytes) -> None:
    only_decode_errors(lambda: peel_onion(raw, NODE, AD, payload_area=None))


def ref_read_bigsize(data: bytes) -> tuple[int, int] | None:
    """(value, size) of a canonical BigSize at the start of `data`, else None."""
    if not data:
        return None
    size = {0xFD: 3, 0xFE: 5, 0xFF: 9}.get(data[0], 1)
    if len(data) < size:
        return None
    value = data[0] if size == 1 else int.from_bytes(data[1:size], "big")
    return (value, size) if ref_bigsize(value) == data[:size] else None


@st.composite
def hop_plaintexts(draw: st.DrawFn) -> bytes:
    """A decrypted hop_payloads: a (possibly bad) length, payload, next hmac, filler."""
    length = draw(st.one_of(st.integers(0, 1300), st.sampled_from([0, 1, 2, 252, 253, 1265,
                                                                   1266, U64_MAX])))
    prefix = draw(st.one_of(
        st.just(ref_bigsize(min(length, U64_MAX))),
        st.sampled_from([b"\xfd\x00\x10", b"\xfe\x00\x00\x00\x10", b"\xfd", b"\xff\x00"]),
    ))
    body = prefix + draw(st.binary(max_size=40)) + bytes(draw(st.integers(0, 1300)))
    body = body[:1300]
    return body + draw(st.binary(min_size=1300 - len(body), max_size=1300 - len(body)))


@given(hop_plaintexts())
def test_peel_of_any_authentic_plaintext_follows_the_frame_rules(plaintext: bytes) -> None:
    raw = seal_packet(SESSION, NODE_PUB, plaintext, AD)
    read = ref_read_bigsize(plaintext)
    fits = read is not None and read[0] >= 2 and read[1] + read[0] + 32 <= 1300
    event("frame fits" if fits else "frame refused")
    try:
        hop = peel_onion(raw, NODE, AD)
    except InvalidOnionPayload:
        assert not fits
        return
    assert fits and read is not None
    length, start = read
    assert hop.payload == plaintext[start : start + length]
    assert hop.payload_offset == start
    next_hmac = plaintext[start + length : start + length + 32]
    assert hop.is_final == (next_hmac == bytes(32))
    if hop.next_packet is not None:
        assert hop.next_packet.hmac == next_hmac


@given(key=st.binary(min_size=32, max_size=32), offset=st.integers(0, 3000),
       data=st.binary(max_size=200))
def test_chacha20_encryptor_seeks_into_the_keystream(key: bytes, offset: int, data: bytes) -> None:
    stream = ref_keystream(key, offset + len(data))[offset:]
    assert chacha20_encryptor(key, offset).update(data) == xor_bytes(data, stream)
    used = chacha20_encryptor(key)
    used.update(bytes(77))  # a context already part-way through its stream
    assert chacha20_reposition(used, key, offset).update(data) == xor_bytes(data, stream)
