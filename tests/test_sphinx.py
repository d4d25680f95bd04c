"""BOLT 4 Sphinx: build, peel, and the mapping of every failure to its typed error.

Expected secrets, keys and byte positions are derived independently: shared secrets and key
blinding with coincurve/hashlib (tests/strategies.py), packets with hand-chosen plaintexts
sealed by the reference helper, sizes from the layout in BOLT 4 › Packet Structure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from coincurve import PublicKey

import sphinxamp.onion._sphinx
import sphinxamp.primitives._crypto
from sphinxamp import OnionPacket, Role, build_onion, decode_payload
from sphinxamp.errors import (
    BadOnionError,
    DecodeError,
    EncodeError,
    InvalidOnionBlinding,
    InvalidOnionHmac,
    InvalidOnionKey,
    InvalidOnionPayload,
    InvalidOnionVersion,
    InvalidSecret,
    SphinxampError,
)
from sphinxamp.onion import peel_onion
from tests.strategies import (
    CURVE_ORDER,
    FIELD_P,
    pubkey_of,
    ref_key,
    ref_shared_secret,
    seal_packet,
)

SESSION_KEY = bytes([0x41]) * 32
AD = bytes([0x42]) * 32
NODE_KEYS = [bytes([i]) * 32 for i in range(0x51, 0x51 + 30)]
NODE_PUBS = [pubkey_of(k) for k in NODE_KEYS]

# BOLT 4 › Packet Structure: 1 + 33 + 1300 + 32.
PACKET_LEN = 1366
HMAC_OFFSET = 1334
# Minimal payloads (BOLT 4 › `payload` format): tu64/tu32 zero is the empty value.
MIN_INTERMEDIATE = bytes.fromhex("0200 0400 0608 0000010000020003")  # 14 bytes, frame 47
MIN_FINAL = bytes.fromhex("0200 0400")  # 4 bytes, frame 37


def peel_all(packet: bytes, keys: list[bytes], ad: bytes = AD, **kw: object) -> list[Any]:
    hops = []
    current: bytes | OnionPacket = packet
    for key in keys:
        hop = peel_onion(current, key, ad, **kw)  # type: ignore[arg-type]
        hops.append(hop)
        if hop.next_packet is None:
            break
        current = hop.next_packet
    return hops


def not_on_curve_x() -> bytes:
    """An x coordinate with no point on secp256k1 (x³ + 7 not a square mod p)."""
    x = 1
    while pow((x**3 + 7) % FIELD_P, (FIELD_P - 1) // 2, FIELD_P) == 1:
        x += 1
    return x.to_bytes(32, "big")


def two_hop_packet() -> bytes:
    payloads = [MIN_INTERMEDIATE, MIN_FINAL]
    return build_onion(SESSION_KEY, list(zip(NODE_PUBS, payloads, strict=False)), AD).to_bytes()


# --- round trip ------------------------------------------------------------------------------


def test_five_hop_round_trip_with_independent_secrets_and_keys() -> None:
    payloads = [MIN_INTERMEDIATE, b"\x02\x01\x07" * 20, bytes(300), MIN_INTERMEDIATE, MIN_FINAL]
    built = build_onion(SESSION_KEY, list(zip(NODE_PUBS, payloads, strict=False)), AD)
    raw = built.to_bytes()
    assert len(raw) == PACKET_LEN
    assert raw[0] == 0
    assert raw[1:34] == pubkey_of(SESSION_KEY)

    packet: bytes | OnionPacket = raw
    epk = pubkey_of(SESSION_KEY)
    for i, payload in enumerate(payloads):
        hop = peel_onion(packet, NODE_KEYS[i], AD)
        ss = ref_shared_secret(NODE_KEYS[i], epk)
        assert hop.shared_secret == ss == built.shared_secrets[i]
        assert hop.payload == payload
        assert hop.is_final == (i == len(payloads) - 1)
        if hop.next_packet is None:
            break
        # BOLT 4 › Blinding Ephemeral Onion Keys: E_{i+1} = SHA256(E_i ‖ ss_i) · E_i.
        epk = PublicKey(epk).multiply(hashlib.sha256(epk + ss).digest()).format()
        assert hop.next_packet.public_key == epk
        assert len(hop.next_packet.to_bytes()) == PACKET_LEN
        packet = hop.next_packet
    assert hop.is_final


def test_payload_offset_is_past_the_length_prefix() -> None:
    payloads = [bytes(300), MIN_FINAL]
    raw = build_onion(SESSION_KEY, list(zip(NODE_PUBS, payloads, strict=False)), AD).to_bytes()
    hops = peel_all(raw, NODE_KEYS[:2])
    assert [h.payload_offset for h in hops] == [3, 1]


def test_parse_splits_fields_and_round_trips() -> None:
    raw = two_hop_packet()
    packet = OnionPacket.parse(raw)
    assert packet.version == 0
    assert packet.public_key == raw[1:34]
    assert packet.hop_payloads == raw[34:1334]
    assert packet.hmac == raw[1334:]
    assert packet.payload_area == 1300
    assert len(packet) == PACKET_LEN
    assert packet.to_bytes() == raw
    assert peel_onion(packet, NODE_KEYS[0], AD).payload == MIN_INTERMEDIATE


# --- failure codes and their order ------------------------------------------------------------


def test_failure_codes_are_the_bolt4_values() -> None:
    assert InvalidOnionVersion.failure_code == 0xC004
    assert InvalidOnionHmac.failure_code == 0xC005
    assert InvalidOnionKey.failure_code == 0xC006
    assert InvalidOnionBlinding.failure_code == 0xC018
    assert InvalidOnionPayload.failure_code == 0x4016
    names = {
        InvalidOnionVersion: "invalid_onion_version",
        InvalidOnionHmac: "invalid_onion_hmac",
        InvalidOnionKey: "invalid_onion_key",
        InvalidOnionPayload: "invalid_onion_payload",
    }
    for cls, name in names.items():
        assert cls("x").failure_name == name
        assert cls("x").failure_name == name


def with_bytes(raw: bytes, at: int, new: bytes) -> bytes:
    return raw[:at] + new + raw[at + len(new) :]


@pytest.mark.parametrize("version", [1, 2, 0x80, 0xFF])
def test_bad_version(version: int) -> None:
    raw = with_bytes(two_hop_packet(), 0, bytes([version]))
    with pytest.raises(InvalidOnionVersion) as info:
        peel_onion(raw, NODE_KEYS[0], AD)
    assert (info.value.failure_code, info.value.offset) == (0xC004, 0)


@pytest.mark.parametrize("bad_key", ["prefix04", "prefix00", "off_curve", "x_above_p"])
def test_bad_key(bad_key: str) -> None:
    raw = two_hop_packet()
    key = {
        "prefix04": b"\x04" + raw[2:34],
        "prefix00": b"\x00" + raw[2:34],
        "off_curve": b"\x02" + not_on_curve_x(),
        "x_above_p": b"\x02" + (FIELD_P + 1).to_bytes(32, "big"),
    }[bad_key]
    with pytest.raises(InvalidOnionKey) as info:
        peel_onion(with_bytes(raw, 1, key), NODE_KEYS[0], AD)
    assert (info.value.failure_code, info.value.offset) == (0xC006, 1)


def test_version_is_checked_before_key() -> None:
    raw = with_bytes(two_hop_packet(), 0, b"\x01\x04")
    with pytest.raises(InvalidOnionVersion):
        peel_onion(raw, NODE_KEYS[0], AD)


def test_key_is_checked_before_hmac() -> None:
    raw = two_hop_packet()
    raw = with_bytes(raw, 1, b"\x02" + not_on_curve_x())
    raw = with_bytes(raw, HMAC_OFFSET, bytes(32))
    with pytest.raises(InvalidOnionKey):
        peel_onion(raw, NODE_KEYS[0], AD)


def test_version_and_key_checked_on_a_constructed_packet_too() -> None:
    raw = two_hop_packet()
    bad_version = OnionPacket(1, raw[1:34], raw[34:1334], raw[1334:])
    with pytest.raises(InvalidOnionVersion):
        peel_onion(bad_version, NODE_KEYS[0], AD)
    bad_key = OnionPacket(0, b"\x02" + not_on_curve_x(), raw[34:1334], raw[1334:])
    with pytest.raises(InvalidOnionKey):
        peel_onion(bad_key, NODE_KEYS[0], AD)


@pytest.mark.parametrize(
    "tamper", ["hmac", "hop_payloads_first", "hop_payloads_last", "key_parity", "ad", "node"]
)
def test_bad_hmac(tamper: str) -> None:
    raw = two_hop_packet()
    ad, node = AD, NODE_KEYS[0]
    if tamper == "hmac":
        raw = with_bytes(raw, HMAC_OFFSET + 31, bytes([raw[-1] ^ 1]))
    elif tamper == "hop_payloads_first":
        raw = with_bytes(raw, 34, bytes([raw[34] ^ 0x80]))
    elif tamper == "hop_payloads_last":
        raw = with_bytes(raw, 1333, bytes([raw[1333] ^ 1]))
    elif tamper == "key_parity":  # 02 ↔ 03 is still a valid point, just another one
        raw = with_bytes(raw, 1, bytes([raw[1] ^ 1]))
    elif tamper == "ad":
        ad = bytes(32)
    else:
        node = NODE_KEYS[1]
    with pytest.raises(InvalidOnionHmac) as info:
        peel_onion(raw, node, ad)
    assert (info.value.failure_code, info.value.offset) == (0xC005, HMAC_OFFSET)


def test_hmac_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real: Callable[[bytes, bytes], bool] = sphinxamp.onion._sphinx._hmac.compare_digest  # type: ignore[attr-defined]

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(sphinxamp.onion._sphinx._hmac, "compare_digest", spy)  # type: ignore[attr-defined]
    raw = two_hop_packet()
    peel_onion(raw, NODE_KEYS[0], AD)
    assert [b for _, b in calls] == [raw[HMAC_OFFSET:]]


def test_bad_onion_errors_share_a_base() -> None:
    for cls in (InvalidOnionVersion, InvalidOnionHmac, InvalidOnionKey, InvalidOnionBlinding):
        assert issubclass(cls, BadOnionError)
        assert issubclass(cls, DecodeError)
    assert not issubclass(InvalidOnionPayload, BadOnionError)


# --- packet size ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 65, 66, 1365, 1367, 32834])
def test_wrong_packet_size(size: int) -> None:
    with pytest.raises(DecodeError) as info:
        peel_onion(bytes(size), NODE_KEYS[0], AD)
    assert not isinstance(info.value, BadOnionError)
    assert info.value.reason == "packet_length"


@pytest.mark.parametrize("size", [0, 1, 65])
def test_variable_size_packet_shorter_than_fixed_fields(size: int) -> None:
    with pytest.raises(DecodeError) as info:
        OnionPacket.parse(bytes(size), payload_area=None)
    assert info.value.reason == "packet_length"


def test_size_is_checked_before_version() -> None:
    with pytest.raises(DecodeError) as info:
        peel_onion(b"\x01" + bytes(1364), NODE_KEYS[0], AD)
    assert not isinstance(info.value, InvalidOnionVersion)


# --- the hop's frame (BOLT 4 › Onion Decryption step 7) ---------------------------------------


def sealed(plaintext: bytes, ad: bytes = AD) -> bytes:
    return seal_packet(SESSION_KEY, NODE_PUBS[0], plaintext, ad)


@pytest.mark.parametrize("length", [0, 1])
def test_payload_length_below_two(length: int) -> None:
    raw = sealed(bytes([length]) + bytes(1299))
    with pytest.raises(InvalidOnionPayload) as info:
        peel_onion(raw, NODE_KEYS[0], AD)
    assert info.value.failure_code == 0x4016
    assert (info.value.offset, info.value.reason) == (0, "payload_too_short")


def test_payload_length_zero_allowed_when_minimum_is_zero() -> None:
    hop = peel_onion(sealed(bytes(1300)), NODE_KEYS[0], AD, min_payload_length=0)
    assert hop.payload == b""
    assert hop.is_final


def test_frame_exactly_filling_the_area_is_final() -> None:
    # 3-byte length (0x04f1 = 1265) + 1265 + 32 zero hmac = 1300.
    payload = bytes(range(256)) * 4 + bytes(241)
    hop = peel_onion(sealed(b"\xfd\x04\xf1" + payload + bytes(32)), NODE_KEYS[0], AD)
    assert hop.payload == payload
    assert hop.payload_offset == 3
    assert hop.is_final


@pytest.mark.parametrize(
    ("prefix", "offset"),
    [
        ("fd04f2", 3),  # 3 + 1266 + 32 = 1301
        ("fd0514", 3),  # payload fits, its hmac does not
        ("fe00010000", 5),
        ("ffffffffffffffffff", 9),
    ],
)
def test_frame_past_the_routing_area(prefix: str, offset: int) -> None:
    head = bytes.fromhex(prefix)
    raw = sealed(head + bytes(1300 - len(head)))
    with pytest.raises(InvalidOnionPayload) as info:
        peel_onion(raw, NODE_KEYS[0], AD)
    assert (info.value.offset, info.value.reason) == (offset, "payload_past_routing_area")


@pytest.mark.parametrize("prefix", ["fd00fc", "fe0000ffff", "ff00000000ffffffff"])
def test_non_minimal_payload_length(prefix: str) -> None:
    head = bytes.fromhex(prefix)
    with pytest.raises(InvalidOnionPayload) as info:
        peel_onion(sealed(head + bytes(1300 - len(head))), NODE_KEYS[0], AD)
    assert info.value.offset == 0


def test_truncated_payload_length_in_a_tiny_area() -> None:
    raw = seal_packet(SESSION_KEY, NODE_PUBS[0], b"\xfd\x01", AD)
    with pytest.raises(InvalidOnionPayload):
        peel_onion(raw, NODE_KEYS[0], AD, payload_area=None)


def test_empty_area_has_no_payload() -> None:
    raw = seal_packet(SESSION_KEY, NODE_PUBS[0], b"", AD)
    assert len(raw) == 66
    with pytest.raises(InvalidOnionPayload):
        peel_onion(raw, NODE_KEYS[0], AD, payload_area=None)


# --- keys --------------------------------------------------------------------------------------


BAD_SECRETS = [
    bytes(32),
    CURVE_ORDER.to_bytes(32, "big"),
    (2**256 - 1).to_bytes(32, "big"),
    bytes([0x51]) * 31,
    bytes([0x51]) * 33,
    b"",
]


@pytest.mark.parametrize("node_key", BAD_SECRETS)
def test_invalid_node_key_is_a_typed_error(node_key: bytes) -> None:
    with pytest.raises(SphinxampError) as info:
        peel_onion(two_hop_packet(), node_key, AD)
    assert isinstance(info.value, InvalidSecret)
    assert not isinstance(info.value, ValueError)


@pytest.mark.parametrize("session_key", BAD_SECRETS)
def test_invalid_session_key_is_a_typed_error(session_key: bytes) -> None:
    with pytest.raises(InvalidSecret):
        build_onion(session_key, [(NODE_PUBS[0], MIN_FINAL)], AD)


@pytest.mark.parametrize(
    "pubkey", [b"\x04" + bytes(32), b"\x02" + bytes(31), b"", b"\x02" + bytes(32)]
)
def test_invalid_hop_pubkey_is_an_encode_error(pubkey: bytes) -> None:
    hops = [(NODE_PUBS[0], MIN_INTERMEDIATE), (pubkey, MIN_FINAL)]
    with pytest.raises(EncodeError) as info:
        build_onion(SESSION_KEY, hops, AD)
    assert (info.value.reason, info.value.field) == ("invalid_point", "hops[1].pubkey")


def test_empty_route_is_refused() -> None:
    with pytest.raises(EncodeError) as info:
        build_onion(SESSION_KEY, [], AD)
    assert info.value.reason == "empty_route"


@pytest.mark.parametrize("length", [0, 1])
def test_build_refuses_payment_payload_below_two(length: int) -> None:
    with pytest.raises(EncodeError) as info:
        build_onion(SESSION_KEY, [(NODE_PUBS[0], bytes(length))], AD)
    assert info.value.reason == "payload_too_short"


# --- route length ------------------------------------------------------------------------------


def test_single_hop_exactly_full() -> None:
    payload = bytes([7]) * 1265  # 3 + 1265 + 32 = 1300
    hop = peel_onion(build_onion(SESSION_KEY, [(NODE_PUBS[0], payload)], AD).to_bytes(),
                     NODE_KEYS[0], AD)
    assert hop.payload == payload
    assert hop.is_final


def test_single_hop_one_byte_over() -> None:
    with pytest.raises(EncodeError) as info:
        build_onion(SESSION_KEY, [(NODE_PUBS[0], bytes(1266))], AD)
    assert info.value.reason == "route_too_long"


def test_two_hops_exactly_full() -> None:
    # frames: 1 + 100 + 32 = 133, then 3 + 1132 + 32 = 1167; 133 + 1167 = 1300.
    payloads = [bytes([1]) * 100, bytes([2]) * 1132]
    raw = build_onion(SESSION_KEY, list(zip(NODE_PUBS, payloads, strict=False)), AD).to_bytes()
    hops = peel_all(raw, NODE_KEYS[:2])
    assert [h.payload for h in hops] == payloads
    assert [h.is_final for h in hops] == [False, True]


def minimal_route(hops: int) -> list[tuple[bytes, bytes]]:
    return [(NODE_PUBS[i], MIN_INTERMEDIATE) for i in range(hops - 1)] + [
        (NODE_PUBS[hops - 1], MIN_FINAL)
    ]


def test_27_minimal_hops_fit_and_peel() -> None:
    # 26 × 47 + 37 = 1259 ≤ 1300.
    route = minimal_route(27)
    raw = build_onion(SESSION_KEY, route, AD).to_bytes()
    hops = peel_all(raw, NODE_KEYS[:27])
    assert len(hops) == 27
    assert [h.payload for h in hops] == [p for _, p in route]
    assert [h.is_final for h in hops] == [False] * 26 + [True]
    for h in hops[:-1]:
        assert decode_payload(h.payload, Role.INTERMEDIATE, base=h.payload_offset)
    assert decode_payload(hops[-1].payload, Role.FINAL).amt_to_forward == 0


def test_28_minimal_hops_overflow() -> None:
    # 27 × 47 + 37 = 1306 > 1300.
    with pytest.raises(EncodeError) as info:
        build_onion(SESSION_KEY, minimal_route(28), AD)
    assert info.value.reason == "route_too_long"


# --- variable payload areas -----------------------------------------------------------------


def test_onion_message_size_with_empty_payloads() -> None:
    payloads = [b"\x04\x03abc", b"", b"\x01\x00"]
    built = build_onion(SESSION_KEY, list(zip(NODE_PUBS, payloads, strict=False)), b"",
                        payload_area=32768, min_payload_length=0)
    raw = built.to_bytes()
    assert len(raw) == 32834
    hops = peel_all(raw, NODE_KEYS[:3], ad=b"", payload_area=None, min_payload_length=0)
    assert [h.payload for h in hops] == payloads
    assert [h.is_final for h in hops] == [False, False, True]
    assert all(len(h.next_packet.to_bytes()) == 32834 for h in hops[:2])
    assert peel_onion(raw, NODE_KEYS[0], b"", payload_area=32768,
                      min_payload_length=0).payload == payloads[0]


def test_onion_message_size_refused_at_payment_size() -> None:
    raw = build_onion(SESSION_KEY, [(NODE_PUBS[0], b"ab")], b"", payload_area=32768).to_bytes()
    with pytest.raises(DecodeError) as info:
        peel_onion(raw, NODE_KEYS[0], b"")
    assert info.value.reason == "packet_length"


@pytest.mark.parametrize("area", [100, 101, 133, 257])
def test_odd_payload_area_round_trip(area: int) -> None:
    # Two 2-byte payloads take 2 × 35 = 70 bytes.
    payloads = [b"\x01\x00", b"\x03\x00"]
    raw = build_onion(SESSION_KEY, list(zip(NODE_PUBS, payloads, strict=False)), AD,
                      payload_area=area).to_bytes()
    assert len(raw) == 66 + area
    hops = peel_all(raw, NODE_KEYS[:2], payload_area=area)
    assert [h.payload for h in hops] == payloads
    assert hops[-1].is_final
    assert peel_onion(raw, NODE_KEYS[0], AD, payload_area=None).payload == payloads[0]


def test_odd_payload_area_overflow() -> None:
    # Three 2-byte payloads need 105 bytes.
    with pytest.raises(EncodeError) as info:
        build_onion(SESSION_KEY, [(p, b"\x01\x00") for p in NODE_PUBS[:3]], AD, payload_area=100)
    assert info.value.reason == "route_too_long"


def test_hmac_offset_follows_the_area() -> None:
    raw = build_onion(SESSION_KEY, [(NODE_PUBS[0], b"\x01\x00")], AD, payload_area=100).to_bytes()
    with pytest.raises(InvalidOnionHmac) as info:
        peel_onion(raw, NODE_KEYS[0], bytes(32), payload_area=100)
    assert info.value.offset == 134


# --- the final hop ------------------------------------------------------------------------------


def test_final_hop_never_computes_a_next_key(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = two_hop_packet()
    first = peel_onion(raw, NODE_KEYS[0], AD)
    assert first.next_packet is not None

    def boom(*args: object) -> object:
        raise AssertionError("next ephemeral key computed")

    monkeypatch.setattr(sphinxamp.primitives._crypto, "point_mul", boom)
    last = peel_onion(first.next_packet, NODE_KEYS[1], AD)
    assert last.is_final
    assert last.payload == MIN_FINAL
    with pytest.raises(AssertionError):  # the patch is live for a hop that forwards
        peel_onion(raw, NODE_KEYS[0], AD)


# --- blinded peel (BOLT 4 › Onion Decryption step 4) ------------------------------------------


def test_peel_with_path_key_uses_the_blinded_node_key() -> None:
    path_secret = bytes([0x61]) * 32
    path_key = pubkey_of(path_secret)
    # B = HMAC256("blinded_node_id", SHA256(e · N)) · N
    factor = ref_key(b"blinded_node_id", ref_shared_secret(path_secret, NODE_PUBS[0]))
    blinded_id = PublicKey(NODE_PUBS[0]).multiply(factor).format()
    raw = build_onion(SESSION_KEY, [(blinded_id, MIN_FINAL)], AD).to_bytes()
    hop = peel_onion(raw, NODE_KEYS[0], AD, path_key=path_key)
    assert hop.payload == MIN_FINAL
    with pytest.raises(InvalidOnionHmac):
        peel_onion(raw, NODE_KEYS[0], AD)


@pytest.mark.parametrize("path_key", [b"\x04" + bytes(32), b"", b"\x02" + bytes(32)])
def test_invalid_path_key(path_key: bytes) -> None:
    with pytest.raises(InvalidOnionBlinding) as info:
        peel_onion(two_hop_packet(), NODE_KEYS[0], AD, path_key=path_key)
    assert info.value.failure_code == 0xC018


class CountingStream:
    """Wraps the rho keystream to count the bytes a peel draws from it."""

    def __init__(self, inner: object, log: list[int]) -> None:
        self.inner, self.log = inner, log

    def update(self, data: bytes) -> bytes:
        self.log.append(len(data))
        return self.inner.update(data)  # type: ignore[attr-defined,no-any-return]


def count_keystream(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    log: list[int] = []
    real = sphinxamp.primitives._crypto.chacha20_encryptor
    monkeypatch.setattr(sphinxamp.primitives._crypto, "chacha20_encryptor",
                        lambda key: CountingStream(real(key), log))
    return log


def test_frame_past_the_area_reads_nothing_beyond_it(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = sealed(b"\xfd\x04\xf2" + bytes(1297))
    log = count_keystream(monkeypatch)
    with pytest.raises(InvalidOnionPayload):
        peel_onion(raw, NODE_KEYS[0], AD)
    assert sum(log) == 1300


def test_forwarding_hop_draws_only_its_frame_beyond_the_area(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = two_hop_packet()
    log = count_keystream(monkeypatch)
    hop = peel_onion(raw, NODE_KEYS[0], AD)
    assert hop.next_packet is not None
    # the frame is 1 + 14 + 32 = 47 bytes: the next hop_payloads need 47 fresh keystream bytes
    assert sum(log) == 1300 + 47
