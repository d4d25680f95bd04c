"""A slow, spec-literal BOLT 4 onion peeler (and builder) used only as a test oracle.

Written line by line from 04-onion-routing.md › Onion Decryption › Requirements, › Key
Generation, › Pseudo Random Byte Stream, › Filler Generation and › Packet Construction. It
shares no code with `sphinxamp`: its own key derivation, its own ChaCha20 keystream, its own
byte-by-byte BigSize reader, Python-integer scalar arithmetic and a literal 2×size scratch
buffer. Speed is irrelevant here; resemblance to the text is the point.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import coincurve
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

# secp256k1 group order (SEC 2 › 2.4.1).
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# BOLT 4 › Failure Messages (the codes a peeler itself can produce).
INVALID_ONION_VERSION = 0xC004  # BADONION|PERM|4
INVALID_ONION_HMAC = 0xC005  # BADONION|PERM|5
INVALID_ONION_KEY = 0xC006  # BADONION|PERM|6
INVALID_ONION_PAYLOAD = 0x4016  # PERM|22 (framing aborts of step 7; no code is named there)
INVALID_ONION_BLINDING = 0xC018  # BADONION|PERM|24

HMAC_LEN = 32
PUBKEY_LEN = 33


@dataclass(frozen=True)
class RefResult:
    """Outcome of one peel: accepted with outputs, or rejected with a failure code.

    `failure_code` is None for a rejection the spec gives no code for (wrong packet length:
    the `update_add_htlc` message itself is malformed, BOLT 2 › Adding an HTLC).
    """

    accepted: bool
    failure_code: int | None = None
    reason: str = ""
    payload: bytes | None = None
    shared_secret: bytes | None = None
    next_packet: bytes | None = None


def _reject(code: int | None, reason: str) -> RefResult:
    return RefResult(False, code, reason)


# --- primitives (BOLT 4 › Conventions, › Key Generation, › Pseudo Random Byte Stream) ---

def generate_key(key_type: str, secret: bytes) -> bytes:
    """HMAC-SHA256 with the ASCII key type as the HMAC *key* and the secret as the message."""
    return hmac.new(key_type.encode("ascii"), secret, hashlib.sha256).digest()


def keystream(key: bytes, length: int) -> bytes:
    """ChaCha20 over `length` zero bytes, 96-bit zero nonce and block counter 0 (in
    pyca/cryptography's 16-byte nonce form: 4-byte counter ‖ 12-byte nonce, all zero)."""
    encryptor = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    return encryptor.update(bytes(length)) + encryptor.finalize()


def xor_bytes(a: bytes, b: bytes) -> bytes:
    assert len(a) == len(b)
    out = bytearray(len(a))
    for i in range(len(a)):
        out[i] = a[i] ^ b[i]
    return bytes(out)


def parse_pubkey(data: bytes) -> coincurve.PublicKey | None:
    """A 33-byte compressed secp256k1 point, or None (BOLT 4 › Onion Decryption step 2)."""
    if len(data) != PUBKEY_LEN or data[0] not in (2, 3):
        return None
    try:
        return coincurve.PublicKey(data)
    except ValueError:
        return None


def scalar_bytes(k: int) -> bytes:
    return k.to_bytes(32, "big")


def ecdh(secret: int, point: coincurve.PublicKey) -> bytes:
    """BOLT 4 › Shared Secret: SHA256 of the compressed point secret·point."""
    shared_point = point.multiply(scalar_bytes(secret))
    return hashlib.sha256(shared_point.format(compressed=True)).digest()


def blinding_factor(pubkey: bytes, shared_secret: bytes) -> int:
    """BOLT 4 › Blinding Ephemeral Onion Keys: SHA256(compressed pubkey ‖ shared secret)."""
    return int.from_bytes(hashlib.sha256(pubkey + shared_secret).digest(), "big")


def read_bigsize(buf: bytes, pos: int) -> tuple[int, int] | None:
    """One BigSize, byte by byte, minimal encoding required (BOLT 1 › Appendix A).

    Returns (value, position after it) or None when truncated or not canonical.
    """
    if pos >= len(buf):
        return None
    first = buf[pos]
    pos += 1
    if first < 0xFD:
        return first, pos
    width, minimum = {0xFD: (2, 0xFD), 0xFE: (4, 0x10000), 0xFF: (8, 0x100000000)}[first]
    value = 0
    for _ in range(width):
        if pos >= len(buf):
            return None
        value = (value << 8) | buf[pos]
        pos += 1
    if value < minimum:
        return None
    return value, pos


def write_bigsize(value: int) -> bytes:
    if value < 0xFD:
        return bytes((value,))
    if value <= 0xFFFF:
        return b"\xfd" + value.to_bytes(2, "big")
    if value <= 0xFFFFFFFF:
        return b"\xfe" + value.to_bytes(4, "big")
    return b"\xff" + value.to_bytes(8, "big")


def blinded_node_scalar(node_secret: int, path_key: coincurve.PublicKey) -> int:
    """BOLT 4 › Onion Decryption step 4: node_priv · HMAC256("blinded_node_id", ss) mod n."""
    tweak = int.from_bytes(generate_key("blinded_node_id", ecdh(node_secret, path_key)), "big")
    return (node_secret * tweak) % CURVE_ORDER


def blinded_node_id(node_pubkey: bytes, path_secret: int) -> bytes:
    """What a sender of a blinded route addresses: node_id · HMAC256("blinded_node_id", ss)."""
    point = coincurve.PublicKey(node_pubkey)
    tweak = generate_key("blinded_node_id", ecdh(path_secret, point))
    return point.multiply(tweak).format(compressed=True)


# --- BOLT 4 › Onion Decryption › Requirements, steps in order ---

def reference_peel(
    packet: bytes,
    node_secret: bytes,
    associated_data: bytes,
    size: int = 1300,
    min_payload_length: int = 2,
    path_key: bytes | None = None,
) -> RefResult:
    if len(packet) != 1 + PUBKEY_LEN + size + HMAC_LEN:
        return _reject(None, "packet_length")
    version = packet[0]
    public_key = packet[1 : 1 + PUBKEY_LEN]
    hop_payloads = packet[1 + PUBKEY_LEN : 1 + PUBKEY_LEN + size]
    packet_hmac = packet[1 + PUBKEY_LEN + size :]

    # 1. "if version is not 0: MUST abort processing the packet and fail" (invalid_onion_version)
    if version != 0:
        return _reject(INVALID_ONION_VERSION, "version")
    # 2. "if public_key is not a valid pubkey: ... fail" (invalid_onion_key)
    ephemeral = parse_pubkey(public_key)
    if ephemeral is None:
        return _reject(INVALID_ONION_KEY, "public_key")
    # 3. Replay detection is a node database concern, out of scope for a pure function.
    # 4. A path_key (route blinding) replaces the node key by its blinded form.
    secret = int.from_bytes(node_secret, "big")
    if path_key is not None:
        path_point = parse_pubkey(path_key)
        if path_point is None:
            return _reject(INVALID_ONION_BLINDING, "path_key")
        secret = blinded_node_scalar(secret, path_point)
    # 5. shared secret, mu, HMAC over hop_payloads ‖ associated_data, constant-time compare.
    shared_secret = ecdh(secret, ephemeral)
    mu = generate_key("mu", shared_secret)
    expected = hmac.new(mu, hop_payloads + associated_data, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, packet_hmac):
        return _reject(INVALID_ONION_HMAC, "hmac")
    # 6. rho; unwrapped = (hop_payloads ‖ zeros(size)) XOR ChaCha20(rho)[0:2·size].
    rho = generate_key("rho", shared_secret)
    scratch = hop_payloads + bytes(size)
    unwrapped = xor_bytes(scratch, keystream(rho, 2 * size))
    # 7. payload_length; payload; next hmac; the frame must fit in the original size.
    read = read_bigsize(unwrapped, 0)
    if read is None:
        return _reject(INVALID_ONION_PAYLOAD, "payload_length_bigsize")
    payload_length, pos = read
    if payload_length < min_payload_length:
        return _reject(INVALID_ONION_PAYLOAD, "payload_length_too_small")
    if len(unwrapped) - pos < payload_length:
        return _reject(INVALID_ONION_PAYLOAD, "payload_truncated")
    payload = unwrapped[pos : pos + payload_length]
    pos += payload_length
    if len(unwrapped) - pos < HMAC_LEN:
        return _reject(INVALID_ONION_PAYLOAD, "hmac_truncated")
    next_hmac = unwrapped[pos : pos + HMAC_LEN]
    pos += HMAC_LEN
    if len(unwrapped) - pos < size:
        return _reject(INVALID_ONION_PAYLOAD, "frame_past_size")
    # 8. All-zero next hmac: final destination. Otherwise forward a packet keyed by the
    #    ephemeral key blinded with SHA256(public_key ‖ shared_secret).
    if next_hmac == bytes(HMAC_LEN):
        return RefResult(True, payload=payload, shared_secret=shared_secret)
    next_key = ephemeral.multiply(scalar_bytes(blinding_factor(public_key, shared_secret)))
    next_packet = (
        b"\x00" + next_key.format(compressed=True) + unwrapped[pos : pos + size] + next_hmac
    )
    return RefResult(True, payload=payload, shared_secret=shared_secret, next_packet=next_packet)


# --- BOLT 4 › Filler Generation and › Packet Construction (sender side) ---

def route_secrets(session_key: bytes, node_pubkeys: Sequence[bytes]) -> tuple[bytes, list[bytes]]:
    """(first ephemeral pubkey, shared secret per hop): ek_{k+1} = ek_k · SHA256(epk_k ‖ ss_k)."""
    ek = int.from_bytes(session_key, "big")
    first_epk = coincurve.PublicKey.from_secret(scalar_bytes(ek)).format(compressed=True)
    secrets = []
    for node in node_pubkeys:
        epk = coincurve.PublicKey.from_secret(scalar_bytes(ek)).format(compressed=True)
        ss = ecdh(ek, coincurve.PublicKey(node))
        secrets.append(ss)
        ek = (ek * blinding_factor(epk, ss)) % CURVE_ORDER
    return first_epk, secrets


def frame_length(payload: bytes) -> int:
    return len(write_bigsize(len(payload))) + len(payload) + HMAC_LEN


def generate_filler(secrets: Sequence[bytes], frame_sizes: Sequence[int], size: int) -> bytes:
    """Each non-final hop appends size zeros, XORs its rho stream and shifts its frame out;
    the filler is the tail those steps leave, over Σ_{i<n−1} s_i bytes."""
    filler = b""
    for ss, frame in zip(secrets[:-1], frame_sizes[:-1], strict=True):
        filler += bytes(frame)
        stream = keystream(generate_key("rho", ss), size + frame)
        filler = xor_bytes(filler, stream[size + frame - len(filler) : size + frame])
    return filler


def reference_build(
    session_key: bytes,
    hops: Sequence[tuple[bytes, bytes]],
    associated_data: bytes,
    size: int = 1300,
) -> tuple[bytes, list[bytes]]:
    """(packet bytes, shared secrets) for hops = [(node pubkey, payload without prefix)]."""
    first_epk, secrets = route_secrets(session_key, [node for node, _ in hops])
    frames = [frame_length(payload) for _, payload in hops]
    assert sum(frames) <= size, "route does not fit in the payload area"
    filler = generate_filler(secrets, frames, size)
    mix = keystream(generate_key("pad", session_key), size)
    next_hmac = bytes(HMAC_LEN)
    for i in reversed(range(len(hops))):
        payload = hops[i][1]
        frame = write_bigsize(len(payload)) + payload + next_hmac
        mix = frame + mix[: size - len(frame)]  # right shift by shift_size, frame in front
        mix = xor_bytes(mix, keystream(generate_key("rho", secrets[i]), size))
        if i == len(hops) - 1 and filler:
            mix = mix[: size - len(filler)] + filler
        mu = generate_key("mu", secrets[i])
        next_hmac = hmac.new(mu, mix + associated_data, hashlib.sha256).digest()
    return b"\x00" + first_epk + mix + next_hmac, secrets


def seal_plaintext(
    plain: bytes, node_pubkey: bytes, session_key: bytes, associated_data: bytes
) -> bytes:
    """A packet whose hop_payloads decrypt to exactly `plain` at `node_pubkey`, with a valid
    HMAC: what a sender could put on the wire, used to drive inputs past the HMAC check."""
    epk, (ss,) = route_secrets(session_key, [node_pubkey])
    cipher = xor_bytes(plain, keystream(generate_key("rho", ss), len(plain)))
    mac = hmac.new(generate_key("mu", ss), cipher + associated_data, hashlib.sha256).digest()
    return b"\x00" + epk + cipher + mac


# --- BOLT 4 › Test Vector (bolt04/onion-test.json), recorded so the tests are self-contained.
# Hop payloads carry their BigSize prefix, as in the JSON. hops[4] is 0xfd0110 (272) ‖ amount
# 10000 ‖ cltv 1000 ‖ payment_data (type 8) ‖ an unknown odd record type 301 of 224 × 0x2a.
VEC_SESSION_KEY = bytes([0x41]) * 32
VEC_ASSOCIATED_DATA = bytes([0x42]) * 32
VEC_NODE_KEYS = [bytes([0x41 + i]) * 32 for i in range(5)]  # the JSON's "decode" list
VEC_PUBKEYS = [
    "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619",
    "0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c",
    "027f31ebc5462c1fdce1b737ecff52d37d75dea43ce11c74d25aa297165faa2007",
    "032c0b7cf95324a07d05398b240174dc0c2be444d96b159aa6c7f7b1e668680991",
    "02edabbd16b41c8371b92ef2f04c1185b4f03b6dcd52ba9b78d9d7c89c8f221145",
]
VEC_PAYLOADS = [
    "1202023a98040205dc06080000000000000001",
    "52020236b00402057806080000000000000002fd02013c0102030405060708090a0b0c0d0e0f0102030405"
    "060708090a0b0c0d0e0f0102030405060708090a0b0c0d0e0f0102030405060708090a0b0c0d0e0f",
    "12020230d4040204e206080000000000000003",
    "1202022710040203e806080000000000000004",
    "fd011002022710040203e8082224a33562c54507a9334e79f0dc4f17d407e6d7c61f0e2f3d0d38599502f617"
    "042710fd012de0" + "2a" * 224,
]
# Per-hop shared secrets (bolt04/onion-error-test.json, same session key and route).
VEC_SHARED_SECRETS = [
    "53eb63ea8a3fec3b3cd433b85cd62a4b145e1dda09391b348c4e1cd36a03ea66",
    "a6519e98832a0b179f62123b3567c106db99ee37bef036e783263602f3488fae",
    "3a6b412548762f0dbccce5c7ae7bb8147d1caf9b5471c34120b30bc9c04891cc",
    "21e13c2d7cfe7e18836df50872466117a295783ab8aab0e7ecc8c725503ad02d",
    "b5756b9b542727dbafc6765a49488b023a725d631af688fc031217e90770c328",
]
# SHA-256 of the 1366-byte "onion" of onion-test.json, and its trailing HMAC.
VEC_ONION_SHA256 = "92e0742510440ed2368e1c03aed09d49a2e4cb4409c88ee0ad02a35c4a4b495a"
VEC_ONION_HMAC = "4051e4ef908828db9cca13277ef65db3fd47ccc2179126aaefb627719f421e20"



def strip_prefix(prefixed: bytes) -> bytes:
    read = read_bigsize(prefixed, 0)
    assert read is not None and read[1] + read[0] == len(prefixed)
    return prefixed[read[1] :]


def vector_hops() -> list[tuple[bytes, bytes]]:
    return [(bytes.fromhex(k), strip_prefix(bytes.fromhex(p)))
            for k, p in zip(VEC_PUBKEYS, VEC_PAYLOADS, strict=True)]
