"""Differential tests against pyln-proto's pure-Python Sphinx (`pyln.proto.onion`).

pyln-proto is a loose second implementation: it agrees with sphinxamp on well-formed input
when its filler bug cannot bite, and is laxer than BOLT 4 elsewhere. Every divergence below
was observed on pyln-proto 26.06.9 (coincurve 21) and is asserted by a test, so a change on
either side shows up here.

Divergences (pyln-proto behaviour → what BOLT 4 / sphinxamp do):

D1 Filler sized from the wrong hops (04 › Filler Generation). `SphinxPath.get_filler` allocates
   Σ frames of hops[1:] instead of hops[:-1] (the last hop never obfuscates).
   - last frame longer than the first: the onion is wrong. Its first hop peels fine; the second
     hop's HMAC fails, in sphinxamp and in pyln's own `unwrap`. Its onion for the official
     vector differs from the published one (first payload 19 bytes, last 275).
   - last frame shorter than the first: `xor_inplace` raises AssertionError (seen on the
     official vector's route reversed).
   - equal first/last frames (or one hop): byte-identical to sphinxamp's onion.
D2 No minimal-encoding checks (01 › BigSize; 04 › Onion Decryption step 7). A non-canonical
   payload length (`fd0012`) is accepted; its TLV reader accepts non-minimal types and
   lengths, unordered types and duplicates (01 › Type-Length-Value Format › Requirements).
   sphinxamp refuses each (invalid_onion_payload / TlvError).
D3 HMACs compared with `!=` (04 › Onion Decryption step 5 says constant time). Not observable
   in outcomes: a bad HMAC raises ValueError in pyln, InvalidOnionHmac in sphinxamp. Checked
   in pyln's source text so the note stays true.
D4 Observed beyond the list above:
   - no version check (step 1): a version-1 packet is unwrapped;
   - payload_length 0 is read as a legacy 32-byte `hop_data` and forwarded, length 1 as a
     RawPayload (step 7 requires ≥ 2);
   - a frame past the 1300-byte area (step 7) is not refused as such: forwarding trips an
     assert on the next packet's size (AssertionError);
   - a payload that is not a valid TLV stream silently becomes a RawPayload (accepted);
   - an invalid public key raises ValueError from coincurve when the packet is framed;
   - a truncated BigSize in a bare TLV stream raises struct.error, not ValueError;
   - TLV type 34349334 is decoded as UTF-8 text: invalid UTF-8 raises UnicodeDecodeError.
"""

from __future__ import annotations

import hashlib
import inspect
import struct

import coincurve
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sphinxamp import build_onion
from sphinxamp.errors import DecodeError, InvalidOnionHmac
from sphinxamp.onion import peel_onion
from sphinxamp.wire import decode_stream
from tests.pyln_compat import (
    onion_module,
    payload_bytes,
    pyln_build,
    pyln_tlv_records,
    pyln_unwrap,
)
from tests.reference_peeler import (
    VEC_ASSOCIATED_DATA,
    VEC_NODE_KEYS,
    VEC_ONION_SHA256,
    VEC_SESSION_KEY,
    frame_length,
    reference_build,
    seal_plaintext,
    vector_hops,
    write_bigsize,
)

pytestmark = pytest.mark.pyln  # every test here runs pyln-proto (see pyln_compat.py)
TEXT_TYPE = 34349334  # pyln's `noise_message_body`, decoded as UTF-8 text
BOUNDARY_TYPES = (0, 1, 2, 252, 253, 254, 0xFFFF, 0x10000, TEXT_TYPE, 2**32 - 1, 2**32, 2**64 - 1)
scalars = st.integers(1, 2**255).map(lambda k: k.to_bytes(32, "big"))


def pubkey(secret: bytes) -> bytes:
    return coincurve.PublicKey.from_secret(secret).format(compressed=True)


def is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def encode_records(records: list[tuple[int, bytes]]) -> bytes:
    return b"".join(write_bigsize(t) + write_bigsize(len(v)) + v for t, v in records)


@st.composite
def tlv_records(draw: st.DrawFn, min_size: int = 1) -> list[tuple[int, bytes]]:
    types = draw(st.lists(st.integers(0, 40) | st.sampled_from(BOUNDARY_TYPES)
                          | st.integers(0, 2**64 - 1), min_size=min_size, max_size=4, unique=True))
    # At most 4 × (9 + 3 + 260) bytes: any one payload fits in the 1300-byte area.
    values = st.binary(max_size=40) | st.binary(min_size=253, max_size=260)
    return [(t, draw(values)) for t in sorted(types)]


@st.composite
def tlv_of_length(draw: st.DrawFn, length: int) -> bytes:
    """A canonical TLV stream of exactly `length` (≥ 2) bytes, 1-byte types and lengths."""
    out, rtype = b"", draw(st.integers(0, 100))
    while len(out) < length:
        left = length - len(out)
        size = left - 2 if left <= 254 else min(250, left - 4)
        out += bytes((rtype, size)) + draw(st.binary(min_size=size, max_size=size))
        rtype += draw(st.integers(1, 5))
    return out


Route = tuple[bytes, list[bytes], list[tuple[bytes, bytes]], bytes]


@st.composite
def pyln_routes(draw: st.DrawFn, equal_ends: bool) -> Route:
    """(session key, node keys, hops, associated data); with `equal_ends` the last payload
    has the first payload's length, so D1 cannot bite."""
    count = draw(st.integers(1 if equal_ends else 2, 8))
    payloads = [encode_records(draw(tlv_records())) for _ in range(count - 1)]
    last = draw(tlv_of_length(len(payloads[0]))) if equal_ends and payloads else None
    payloads.append(last or encode_records(draw(tlv_records())))
    while len(payloads) > 1 and sum(map(frame_length, payloads)) > 1300:
        del payloads[-2 if len(payloads) > 2 else 0]  # keep the first and last hops
    keys = [draw(scalars) for _ in payloads]
    hops = [(pubkey(k), p) for k, p in zip(keys, payloads, strict=True)]
    return draw(scalars), keys, hops, draw(st.binary(min_size=32, max_size=32))


@settings(deadline=None)
@given(pyln_routes(equal_ends=True))
def test_equal_ended_routes_build_alike_and_peel_in_both(route: Route) -> None:
    session_key, keys, hops, ad = route
    assume(frame_length(hops[0][1]) == frame_length(hops[-1][1]))
    pyln = onion_module()
    packet = build_onion(session_key, hops, ad).to_bytes()
    # Same inputs, same bytes: with D1 out of the way both builders follow 04 › Packet
    # Construction exactly (pad stream start, shift, rho, filler, mu), so what pyln builds
    # is what sphinxamp peels and the other way round.
    assert pyln_build(session_key, hops, ad) == packet
    for i, (key, (_, payload)) in enumerate(zip(keys, hops, strict=True)):
        theirs, their_next = pyln_unwrap(packet, key, ad)
        ours = peel_onion(packet, key, ad)
        # D4: a type-34349334 value that is not UTF-8 makes pyln fall back to RawPayload.
        texts = [r.value for r in decode_stream(payload) if r.type == TEXT_TYPE]
        raw = any(not is_utf8(v) for v in texts)
        assert isinstance(theirs, pyln.RawPayload if raw else pyln.TlvPayload)
        assert payload_bytes(theirs) == ours.payload == payload
        assert their_next == (None if ours.next_packet is None else ours.next_packet.to_bytes())
        assert (their_next is None) == (i == len(hops) - 1)
        packet = their_next or b""


@settings(deadline=None)
@given(pyln_routes(equal_ends=False))
def test_d1_filler_from_wrong_hops(route: Route) -> None:
    session_key, keys, hops, ad = route
    first, last = frame_length(hops[0][1]), frame_length(hops[-1][1])
    assume(first != last)
    if last < first:
        with pytest.raises(AssertionError):
            pyln_build(session_key, hops, ad)
        return
    theirs = pyln_build(session_key, hops, ad)
    assert theirs != build_onion(session_key, hops, ad).to_bytes()
    # The outer layer is consistent, so hop 0 peels; the tail hop 0 forwards is not the one
    # pyln MACed for hop 1 (04 › Filler Generation), in either implementation.
    hop0 = peel_onion(theirs, keys[0], ad)
    assert hop0.payload == hops[0][1] and hop0.next_packet is not None
    with pytest.raises(InvalidOnionHmac):
        peel_onion(hop0.next_packet, keys[1], ad)
    _, forwarded = pyln_unwrap(theirs, keys[0], ad)
    assert forwarded == hop0.next_packet.to_bytes()
    with pytest.raises(ValueError, match="HMAC does not match"):
        pyln_unwrap(forwarded, keys[1], ad)


def test_d1_on_the_official_vector() -> None:
    ad = VEC_ASSOCIATED_DATA
    wrong = pyln_build(VEC_SESSION_KEY, vector_hops(), ad)
    assert hashlib.sha256(wrong).hexdigest() != VEC_ONION_SHA256
    hop0 = peel_onion(wrong, VEC_NODE_KEYS[0], ad)
    assert hop0.payload == vector_hops()[0][1] and hop0.next_packet is not None
    with pytest.raises(InvalidOnionHmac):
        peel_onion(hop0.next_packet, VEC_NODE_KEYS[1], ad)
    with pytest.raises(AssertionError):  # last payload now shorter than the first
        pyln_build(VEC_SESSION_KEY, vector_hops()[::-1], ad)
    # pyln's *peeler* is right on the published onion: every hop, every payload.
    packet: bytes | None = reference_build(VEC_SESSION_KEY, vector_hops(), ad)[0]
    for i, (key, (_, payload)) in enumerate(zip(VEC_NODE_KEYS, vector_hops(), strict=True)):
        assert packet is not None
        theirs, packet = pyln_unwrap(packet, key, ad)
        assert payload_bytes(theirs) == payload
        assert (packet is None) == (i == 4)


NODE_KEY = bytes([0x33]) * 32
SESSION_KEY = bytes([0x44]) * 32
AD = bytes([0x42]) * 32


def sealed(frame: bytes, tail: bytes = b"") -> bytes:
    """A packet for NODE_KEY whose hop_payloads decrypt to frame ‖ tail ‖ 0x5a…, valid HMAC."""
    plain = (frame + tail + b"\x5a" * 1300)[:1300]
    return seal_plaintext(plain, pubkey(NODE_KEY), SESSION_KEY, AD)


def sphinxamp_code(packet: bytes) -> int | None:
    try:
        peel_onion(packet, NODE_KEY, AD)
    except DecodeError as exc:
        return exc.failure_code
    return None


def test_d2_non_canonical_payload_length() -> None:
    stream = encode_records([(2, b"\x05"), (4, b"\x01\x00"), (6, bytes(8))])
    packet = sealed(b"\xfd" + len(stream).to_bytes(2, "big") + stream + bytes(32))
    assert sphinxamp_code(packet) == 0x4016  # BigSize must be minimal (01 › Appendix A)
    theirs, nxt = pyln_unwrap(packet, NODE_KEY, AD)
    assert isinstance(theirs, onion_module().TlvPayload) and nxt is None
    assert payload_bytes(theirs) == stream


@pytest.mark.parametrize(
    ("stream", "pyln_reads"),
    [
        ("fd00020105", [(2, "05")]),  # type 2 as fd0002
        ("02fd000105", [(2, "05")]),  # length 1 as fd0001
        ("040100020105", [(4, "00"), (2, "05")]),  # types not increasing
        ("020105020106", [(2, "05"), (2, "06")]),  # duplicate type
    ],
)
def test_d2_tlv_stream_laxities(stream: str, pyln_reads: list[tuple[int, str]]) -> None:
    with pytest.raises(DecodeError):
        decode_stream(bytes.fromhex(stream))
    assert pyln_tlv_records(bytes.fromhex(stream)) == [(t, bytes.fromhex(v)) for t, v in pyln_reads]


def test_d3_hmac_compare_is_not_constant_time_but_refuses() -> None:
    source = inspect.getsource(onion_module().RoutingOnion.unwrap)
    assert "hh != self.hmac" in source and "compare_digest" not in source
    packet = bytearray(sealed(b"\x03\x02\x01\x05" + bytes(32)))
    packet[-1] ^= 1
    with pytest.raises(ValueError, match="HMAC does not match"):
        pyln_unwrap(bytes(packet), NODE_KEY, AD)
    assert sphinxamp_code(bytes(packet)) == 0xC005


def test_d4_version_not_checked() -> None:
    packet = sealed(b"\x03\x02\x01\x05" + bytes(32))
    assert sphinxamp_code(b"\x01" + packet[1:]) == 0xC004
    theirs, nxt = pyln_unwrap(b"\x01" + packet[1:], NODE_KEY, AD)
    assert payload_bytes(theirs) == b"\x02\x01\x05" and nxt is None


def test_d4_short_payload_lengths_accepted() -> None:
    legacy = sealed(b"\x00" + bytes(32) + b"\x11" * 32)
    assert sphinxamp_code(legacy) == 0x4016
    theirs, nxt = pyln_unwrap(legacy, NODE_KEY, AD)
    assert isinstance(theirs, onion_module().LegacyOnionPayload) and nxt is not None
    one = sealed(b"\x01\x07" + bytes(32))
    assert sphinxamp_code(one) == 0x4016
    theirs, nxt = pyln_unwrap(one, NODE_KEY, AD)
    assert isinstance(theirs, onion_module().RawPayload)
    assert payload_bytes(theirs) == b"\x07" and nxt is None


def test_d4_frame_past_the_routing_area() -> None:
    # 3 + 1280 + 32 = 1315 > 1300: the next hmac lies partly in the zero-extended tail.
    packet = sealed(b"\xfd\x05\x00" + b"\x02\x01\x05" + b"\x00" * 1277)
    assert sphinxamp_code(packet) == 0x4016
    with pytest.raises(AssertionError):
        pyln_unwrap(packet, NODE_KEY, AD)


def test_d4_invalid_tlv_payload_becomes_raw() -> None:
    packet = sealed(b"\x03\x02\x03\x05" + bytes(32))  # record claims 3 bytes, has 1
    theirs, nxt = pyln_unwrap(packet, NODE_KEY, AD)
    assert isinstance(theirs, onion_module().RawPayload)
    assert payload_bytes(theirs) == b"\x02\x03\x05"
    assert nxt is None
    assert peel_onion(packet, NODE_KEY, AD).payload == b"\x02\x03\x05"  # peel is framing only
    with pytest.raises(DecodeError):
        decode_stream(b"\x02\x03\x05")


def test_d4_invalid_public_key() -> None:
    packet = sealed(b"\x03\x02\x01\x05" + bytes(32))
    for bad_key in (b"\x02" + bytes(32), b"\x04" + packet[2:34]):
        mutated = packet[:1] + bad_key + packet[34:]
        assert sphinxamp_code(mutated) == 0xC006
        with pytest.raises(ValueError):
            onion_module().RoutingOnion.from_bin(mutated)


@pytest.mark.parametrize(
    ("stream", "error"),
    [("020105fd00", struct.error), ("02fd00", struct.error), ("fe020c211602fffe", ValueError)],
)
def test_d4_tlv_reader_exceptions(stream: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        pyln_tlv_records(bytes.fromhex(stream))
    if error is ValueError:  # type 34349334 with invalid UTF-8: a valid stream for BOLT 1
        assert [(r.type, r.value) for r in decode_stream(bytes.fromhex(stream))] == [
            (TEXT_TYPE, b"\xff\xfe")]
    else:
        with pytest.raises(DecodeError):
            decode_stream(bytes.fromhex(stream))


@settings(deadline=None)
@given(tlv_records(min_size=0), st.data())
def test_tlv_streams_decode_alike(records: list[tuple[int, bytes]], data: st.DataObject) -> None:
    stream = encode_records(records)
    assert [(r.type, r.value) for r in decode_stream(stream)] == records
    if not any(t == TEXT_TYPE for t, _ in records):
        assert pyln_tlv_records(stream) == records
    # Mutated streams: whatever sphinxamp accepts, pyln (laxer, D2) reads identically.
    mutated = bytearray(stream + data.draw(st.binary(max_size=4)))
    for _ in range(data.draw(st.integers(0, 3))):
        if mutated:
            mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(
                st.sampled_from((0x00, 0x01, 0xFC, 0xFD, 0xFE, 0xFF)) | st.integers(0, 255))
    try:
        ours = [(r.type, r.value) for r in decode_stream(bytes(mutated))]
    except DecodeError:
        return
    try:
        theirs = pyln_tlv_records(bytes(mutated))
    except UnicodeDecodeError:  # D4: only for the text type
        assert any(t == TEXT_TYPE for t, _ in ours)
        return
    assert theirs == ours
