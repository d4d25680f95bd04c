"""Hypothesis strategies and independent reference helpers shared by the tests.

The reference helpers are written from the spec text directly on top of hashlib/hmac,
coincurve and pyca/cryptography — never through `sphinxamp` — so a test that derives its
expected value with them can catch a mistake in the library instead of repeating it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from coincurve import PrivateKey, PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from hypothesis import strategies as st

# secp256k1 group order and field prime (SEC 2 › 2.4.1).
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
FIELD_P = 2**256 - 2**32 - 977

U64_MAX = 2**64 - 1
PAYMENT_AREA = 1300
HMAC_LEN = 32


# --- reference encoders (BOLT 1 › Fundamental Types / BigSize) ----------------------------


def ref_bigsize(value: int) -> bytes:
    """BigSize written straight from the table in BOLT 1 › Appendix A."""
    if value < 0xFD:
        return bytes([value])
    if value <= 0xFFFF:
        return b"\xfd" + value.to_bytes(2, "big")
    if value <= 0xFFFFFFFF:
        return b"\xfe" + value.to_bytes(4, "big")
    return b"\xff" + value.to_bytes(8, "big")


def ref_stream(records: Sequence[tuple[int, bytes]]) -> bytes:
    return b"".join(ref_bigsize(t) + ref_bigsize(len(v)) + v for t, v in records)


def ref_frame_size(payload_len: int) -> int:
    """BOLT 4 › Packet Structure: BigSize length ‖ payload ‖ 32-byte hmac."""
    return len(ref_bigsize(payload_len)) + payload_len + HMAC_LEN


def max_payload_for(budget: int) -> int:
    """Largest payload whose frame fits in `budget` bytes (budget ≥ 33)."""
    size = budget - 33  # one-byte length prefix
    if size >= 0xFD:
        size = budget - 35  # needs the three-byte prefix
        if size < 0xFD:
            size = 0xFC
    return size


# --- reference secp256k1 / Sphinx pieces (BOLT 4 › Shared Secret, Key Generation) ---------


def is_compressed_point(data: bytes) -> bool:
    """02/03 ‖ x with x < p and x³ + 7 a square mod p (Euler's criterion)."""
    if len(data) != 33 or data[0] not in (2, 3):
        return False
    x = int.from_bytes(data[1:], "big")
    if x >= FIELD_P:
        return False
    rhs = (pow(x, 3, FIELD_P) + 7) % FIELD_P
    return rhs == 0 or pow(rhs, (FIELD_P - 1) // 2, FIELD_P) == 1


def pubkey_of(secret: bytes) -> bytes:
    return PublicKey.from_secret(secret).format(compressed=True)


def ref_shared_secret(secret: bytes, pubkey: bytes) -> bytes:
    """SHA256 of the compressed ECDH point (libsecp256k1's default ECDH hash)."""
    point = PublicKey(pubkey).multiply(secret).format(compressed=True)
    return hashlib.sha256(point).digest()


def ref_key(key_type: bytes, secret: bytes) -> bytes:
    return hmac.new(key_type, secret, hashlib.sha256).digest()


def ref_keystream(key: bytes, length: int) -> bytes:
    enc = Cipher(algorithms.ChaCha20(key, bytes(16)), None).encryptor()
    return enc.update(bytes(length))


def xor_bytes(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def seal_packet(
    session_key: bytes, node_pubkey: bytes, plaintext: bytes, associated_data: bytes
) -> bytes:
    """A packet whose hop_payloads decrypt to exactly `plaintext` at the node, with a valid HMAC.

    Lets a test put any bytes (a bad length, a huge length, a frame running off the end) in
    front of the peeling code while the version, key and HMAC checks all pass.
    """
    ss = ref_shared_secret(session_key, node_pubkey)
    hop_payloads = xor_bytes(plaintext, ref_keystream(ref_key(b"rho", ss), len(plaintext)))
    tag = hmac.new(ref_key(b"mu", ss), hop_payloads + associated_data, hashlib.sha256).digest()
    return b"\x00" + pubkey_of(session_key) + hop_payloads + tag


def ecdh_private(node_key: bytes, pubkey: bytes) -> bytes:
    return PrivateKey(node_key).ecdh(pubkey)


# --- strategies ------------------------------------------------------------------------------

private_keys = st.integers(min_value=1, max_value=CURVE_ORDER - 1).map(
    lambda k: k.to_bytes(32, "big")
)

BIGSIZE_EDGES = (
    0, 1, 0xFC, 0xFD, 0xFE, 0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFFFFFF, 0x100000000, U64_MAX
)

bigsize_values = st.one_of(
    st.sampled_from(BIGSIZE_EDGES),
    st.integers(0, 0xFC),
    st.integers(0xFD, 0xFFFF),
    st.integers(0x10000, 0xFFFFFFFF),
    st.integers(0x100000000, U64_MAX),
)


@st.composite
def tlv_records(
    draw: st.DrawFn, max_records: int = 8, max_value: int = 80
) -> list[tuple[int, bytes]]:
    """Records with strictly increasing types (small and huge BigSize types alike)."""
    types = sorted(draw(st.lists(bigsize_values, unique=True, max_size=max_records)))
    return [(t, draw(st.binary(max_size=max_value))) for t in types]


@st.composite
def route_payload_sizes(
    draw: st.DrawFn, max_hops: int = 27, area: int = PAYMENT_AREA, min_len: int = 2
) -> list[int]:
    """Hop payload lengths whose frames together fit in `area` bytes of hop_payloads."""
    smallest = ref_frame_size(min_len)
    hops = draw(st.integers(1, min(max_hops, area // smallest)))
    budget = area
    sizes = []
    for i in range(hops):
        reserve = smallest * (hops - 1 - i)
        top = max_payload_for(budget - reserve)
        # Lean towards small payloads (long routes) but reach the full area now and then.
        size = draw(st.one_of(st.integers(min_len, min(top, 40)), st.integers(min_len, top)))
        sizes.append(size)
        budget -= ref_frame_size(size)
    return sizes
