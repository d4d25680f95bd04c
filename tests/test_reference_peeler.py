"""The spec-literal reference peeler against the official BOLT 4 vector, then against the
production peeler on generated routes, bit-flipped packets and resealed plaintexts.

The production and reference implementations share no code, so every agreement asserted here
is between two independent readings of 04-onion-routing.md.
"""

from __future__ import annotations

import hashlib
import json

import coincurve
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sphinxamp import build_onion
from sphinxamp.errors import DecodeError
from sphinxamp.onion import peel_onion
from tests.official import SHARED
from tests.reference_peeler import (
    CURVE_ORDER,
    INVALID_ONION_BLINDING,
    VEC_ASSOCIATED_DATA,
    VEC_NODE_KEYS,
    VEC_ONION_HMAC,
    VEC_ONION_SHA256,
    VEC_PAYLOADS,
    VEC_PUBKEYS,
    VEC_SESSION_KEY,
    VEC_SHARED_SECRETS,
    RefResult,
    blinded_node_id,
    read_bigsize,
    reference_build,
    reference_peel,
    seal_plaintext,
    vector_hops,
    write_bigsize,
)

SHARED_VECTOR = SHARED / "onion-test.json"


def test_reference_builder_reproduces_bolt4_vector() -> None:
    packet, secrets = reference_build(VEC_SESSION_KEY, vector_hops(), VEC_ASSOCIATED_DATA)
    assert [s.hex() for s in secrets] == VEC_SHARED_SECRETS
    assert packet[-32:].hex() == VEC_ONION_HMAC
    assert hashlib.sha256(packet).hexdigest() == VEC_ONION_SHA256
    if SHARED_VECTOR.exists():  # the recorded values above must be the published ones
        published = json.loads(SHARED_VECTOR.read_text())
        gen = published["generate"]
        assert packet.hex() == published["onion"]
        assert [h["pubkey"] for h in gen["hops"]] == VEC_PUBKEYS
        assert [h["payload"] for h in gen["hops"]] == VEC_PAYLOADS
        assert published["decode"] == [k.hex() for k in VEC_NODE_KEYS]
        assert bytes.fromhex(gen["session_key"]) == VEC_SESSION_KEY
        assert bytes.fromhex(gen["associated_data"]) == VEC_ASSOCIATED_DATA


def test_reference_peeler_peels_bolt4_vector() -> None:
    packet, _ = reference_build(VEC_SESSION_KEY, vector_hops(), VEC_ASSOCIATED_DATA)
    if SHARED_VECTOR.exists():
        packet = bytes.fromhex(json.loads(SHARED_VECTOR.read_text())["onion"])
    for i, (key, (_, payload)) in enumerate(zip(VEC_NODE_KEYS, vector_hops(), strict=True)):
        result = reference_peel(packet, key, VEC_ASSOCIATED_DATA)
        assert result.accepted, (i, result.reason)
        assert result.payload == payload
        assert result.shared_secret == bytes.fromhex(VEC_SHARED_SECRETS[i])
        assert (result.next_packet is None) == (i == 4)
        packet = result.next_packet or b""
    # Another node's key derives another shared secret: step 5 must refuse it.
    first, _ = reference_build(VEC_SESSION_KEY, vector_hops(), VEC_ASSOCIATED_DATA)
    assert reference_peel(first, VEC_NODE_KEYS[1], VEC_ASSOCIATED_DATA).failure_code == 0xC005


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [  # BOLT 1 › Appendix A: BigSize Test Vectors (decoding), plus the position returned
        ("00", (0, 1)), ("fc", (252, 1)), ("fd00fd", (253, 3)), ("fdffff", (65535, 3)),
        ("fe00010000", (65536, 5)), ("feffffffff", (4294967295, 5)),
        ("ff0000000100000000", (4294967296, 9)), ("ffffffffffffffffff", (2**64 - 1, 9)),
        ("fd00fc", None), ("fe0000ffff", None), ("ff00000000ffffffff", None),
        ("fd00", None), ("feffff", None), ("ffffffffff", None), ("", None), ("fd", None),
    ],
)
def test_reference_bigsize_reader(encoded: str, expected: tuple[int, int] | None) -> None:
    assert read_bigsize(bytes.fromhex(encoded), 0) == expected
    if expected is not None:
        assert write_bigsize(expected[0]).hex() == encoded


# --- differential against production -------------------------------------------------------

def production_peel(
    packet: bytes, key: bytes, ad: bytes, size: int, min_len: int = 2,
    path_key: bytes | None = None, implied_size: bool = False,
) -> RefResult:
    try:
        hop = peel_onion(packet, key, ad, payload_area=None if implied_size else size,
                         path_key=path_key, min_payload_length=min_len)
    except DecodeError as exc:
        return RefResult(False, exc.failure_code, exc.reason or "")
    nxt = None if hop.next_packet is None else hop.next_packet.to_bytes()
    assert hop.is_final == (nxt is None)
    return RefResult(True, payload=hop.payload, shared_secret=hop.shared_secret, next_packet=nxt)


def assert_same_outcome(packet: bytes, key: bytes, ad: bytes, size: int, min_len: int = 2,
                        path_key: bytes | None = None, implied_size: bool = False) -> RefResult:
    ref = reference_peel(packet, key, ad, size, min_len, path_key)
    prod = production_peel(packet, key, ad, size, min_len, path_key, implied_size)
    assert prod.accepted == ref.accepted, (ref.reason, prod.reason)
    assert prod.failure_code == ref.failure_code, (ref.reason, prod.reason)
    assert (prod.payload, prod.shared_secret, prod.next_packet) == (
        ref.payload, ref.shared_secret, ref.next_packet)
    return ref


def test_production_builder_matches_reference_on_bolt4_vector() -> None:
    expected, _ = reference_build(VEC_SESSION_KEY, vector_hops(), VEC_ASSOCIATED_DATA)
    assert build_onion(VEC_SESSION_KEY, vector_hops(), VEC_ASSOCIATED_DATA).to_bytes() == expected


scalars = st.integers(1, CURVE_ORDER - 1).map(lambda k: k.to_bytes(32, "big"))
# 1300 is the payment size; the others exercise "size = len − 66" (BOLT 4 › Onion Messages),
# small ones so that frames reach the end of the area.
SIZES = (1300, 1300, 1300, 120, 400, 32768)


def pubkey(secret: bytes) -> bytes:
    return coincurve.PublicKey.from_secret(secret).format(compressed=True)


def max_payload(budget: int) -> int:
    """Largest payload whose frame (BigSize ‖ payload ‖ 32-byte hmac) fits in `budget`."""
    best = -1
    for prefix, lo, hi in ((1, 0, 252), (3, 253, 0xFFFF), (5, 0x10000, 0xFFFFFFFF)):
        top = min(hi, budget - prefix - 32)
        if top >= lo:
            best = top
    return best


Route = tuple[int, int, bytes, list[bytes], list[tuple[bytes, bytes]], bytes]


@st.composite
def routes(draw: st.DrawFn) -> Route:
    """(size, min payload length, session key, node keys, hops, associated data)."""
    size = draw(st.sampled_from(SIZES))
    min_len = 2 if size == 1300 else draw(st.sampled_from((0, 2)))
    budget, keys, hops = size, [], []
    for _ in range(draw(st.integers(1, 20))):
        top = max_payload(budget)
        if top < min_len:
            break
        length = draw(st.integers(min_len, min(top, 48)) | st.integers(min_len, top))
        key = draw(scalars)
        keys.append(key)
        hops.append((pubkey(key), draw(st.binary(min_size=length, max_size=length))))
        budget -= len(write_bigsize(length)) + length + 32
    return size, min_len, draw(scalars), keys, hops, draw(st.binary(max_size=64))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routes())
def test_random_routes_agree_hop_by_hop(route: Route) -> None:
    size, min_len, session_key, keys, hops, ad = route
    expected, secrets = reference_build(session_key, hops, ad, size)
    built = build_onion(session_key, hops, ad, size, min_payload_length=min_len)
    assert built.to_bytes() == expected
    assert list(built.shared_secrets) == secrets
    packet = expected
    for i, (key, (_, payload)) in enumerate(zip(keys, hops, strict=True)):
        result = assert_same_outcome(packet, key, ad, size, min_len, implied_size=size != 1300)
        assert result.accepted and result.payload == payload and result.shared_secret == secrets[i]
        assert (result.next_packet is None) == (i == len(hops) - 1)
        packet = result.next_packet or b""


# Where to aim mutations: (start, end) of each field in a packet of payload area `size`.
def regions(size: int) -> dict[str, tuple[int, int]]:
    return {"version": (0, 1), "public_key": (1, 34), "hop_payloads": (34, 34 + size),
            "hmac": (34 + size, 66 + size), "anywhere": (0, 66 + size)}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routes(), st.data())
def test_bit_flipped_packets_agree(route: Route, data: st.DataObject) -> None:
    size, min_len, session_key, keys, hops, ad = route
    packet, _ = reference_build(session_key, hops, ad, size)
    target = data.draw(st.integers(0, len(hops) - 1), label="hop")
    for key in keys[:target]:  # walk to the packet hop `target` receives
        packet = reference_peel(packet, key, ad, size, min_len).next_packet or b""
    mutated = bytearray(packet)
    for _ in range(data.draw(st.integers(1, 6), label="flips")):
        lo, hi = regions(size)[data.draw(st.sampled_from(sorted(regions(size))), label="field")]
        bit = data.draw(st.integers(lo * 8, hi * 8 - 1), label="bit")
        mutated[bit // 8] ^= 1 << (bit % 8)
    # Wrong lengths: the packet is not an onion of this size at all (no failure code).
    cut = data.draw(st.sampled_from((0, 0, 0, -1, 1)), label="length change")
    mutated = mutated[:cut] if cut < 0 else mutated + bytes(cut)
    result = assert_same_outcome(bytes(mutated), keys[target], ad, size, min_len)
    assert not result.accepted or bytes(mutated) == packet


def test_every_single_bit_flip_of_vector_onion_is_refused_alike() -> None:
    # Exhaustive over the version, public key and HMAC bits and one bit of every hop_payloads
    # byte: every change must be refused (step 1, 2 or 5), with the same code by both.
    packet, _ = reference_build(VEC_SESSION_KEY, vector_hops(), VEC_ASSOCIATED_DATA)
    bits = [*range(34 * 8), *range(34 * 8, 1334 * 8, 8 + 3), *range(1334 * 8, 1366 * 8)]
    codes = set()
    for bit in bits:
        mutated = bytearray(packet)
        mutated[bit // 8] ^= 1 << (bit % 8)
        result = assert_same_outcome(bytes(mutated), VEC_NODE_KEYS[0], VEC_ASSOCIATED_DATA, 1300)
        assert not result.accepted, bit
        codes.add(result.failure_code)
    assert codes == {0xC004, 0xC005, 0xC006}


@st.composite
def frames(draw: st.DrawFn, size: int) -> bytes:
    """Plaintext hop_payloads aimed at step 7: length encodings (canonical or not, small,
    boundary, huge), a payload, a next hmac (zero, one bit off zero, random), random rest."""
    rnd = draw(st.randoms(use_true_random=False))
    length = draw(st.integers(0, 3) | st.integers(0, size + 40) | st.sampled_from(
        (252, 253, size - 33, size - 34, size - 35, 0xFFFF, 0x10000, 2**32, 2**64 - 1)))
    length = max(length, 0)
    prefix = write_bigsize(length)
    wide = [w for w, limit in ((3, 0xFFFF), (5, 0xFFFFFFFF), (9, 2**64 - 1)) if length <= limit]
    if draw(st.booleans()):  # maybe a non-minimal encoding of the same value
        width = draw(st.sampled_from(wide))
        prefix = {3: b"\xfd", 5: b"\xfe", 9: b"\xff"}[width] + length.to_bytes(width - 1, "big")
    kind = draw(st.sampled_from(("zero", "zero", "random", "near_zero")))
    next_hmac = bytes(32) if kind != "random" else rnd.randbytes(32)
    if kind == "near_zero":
        next_hmac = bytes(31) + b"\x01"
    plain = prefix + rnd.randbytes(min(length, size)) + next_hmac
    if draw(st.booleans()):  # sometimes no structure at all
        plain = draw(st.binary(max_size=8)) + rnd.randbytes(size)
    return (plain + rnd.randbytes(size))[:size]


RESEAL_NODE_KEY = bytes([0x21]) * 32
RESEAL_SESSION_KEY = bytes([0x5A]) * 32


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from((1300, 1300, 66, 200, 400)).flatmap(
    lambda size: st.tuples(st.just(size), frames(size), st.sampled_from((2, 2, 0)))))
def test_resealed_plaintexts_agree(case: tuple[int, bytes, int]) -> None:
    size, plain, min_len = case
    ad = b"\x42" * 32
    packet = seal_plaintext(plain, pubkey(RESEAL_NODE_KEY), RESEAL_SESSION_KEY, ad)
    result = assert_same_outcome(packet, RESEAL_NODE_KEY, ad, size, min_len,
                                 implied_size=min_len == 0)
    # The HMAC is valid by construction, so only step 7 can refuse, with PERM|22.
    assert result.accepted or result.failure_code == 0x4016
    if result.accepted:  # then the frame is exactly what was sealed
        read = read_bigsize(plain, 0)
        assert read is not None
        end = read[1] + read[0]
        assert result.payload == plain[read[1] : end]
        assert (result.next_packet is None) == (plain[end : end + 32] == bytes(32))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routes(), scalars, st.data())
def test_blinded_hop_agrees(route: Route, path_secret: bytes, data: st.DataObject) -> None:
    # BOLT 4 › Onion Decryption step 4: a hop reached inside a blinded route peels with its
    # key blinded by HMAC256("blinded_node_id", ECDH(path_key, node_key)).
    size, min_len, session_key, keys, hops, ad = route
    node_pub = pubkey(keys[0])
    hops[0] = (blinded_node_id(node_pub, int.from_bytes(path_secret, "big")), hops[0][1])
    packet, secrets = reference_build(session_key, hops, ad, size)
    path_key = pubkey(path_secret)
    if data.draw(st.booleans(), label="corrupt path_key"):
        path_key = data.draw(st.sampled_from((b"\x04" + path_key[1:], b"\x02" + bytes(32))))
    result = assert_same_outcome(packet, keys[0], ad, size, min_len, path_key=path_key)
    if result.accepted:
        assert result.payload == hops[0][1] and result.shared_secret == secrets[0]
    else:
        assert result.failure_code == INVALID_ONION_BLINDING
