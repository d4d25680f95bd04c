"""Primitives of BOLT 4 › Conventions / Key Generation / Pseudo Random Byte Stream.

secp256k1 lives in `_secp256k1` (re-exported here); symmetric crypto is pyca/cryptography;
hashes are hashlib/hmac.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from sphinxamp.errors import InvalidSecret
from sphinxamp.primitives._secp256k1 import (
    BACKEND,
    CURVE_ORDER,
    PubKey,
    check_secret,
    ecdh,
    is_valid_point,
    parse_point,
    point_mul,
    public_key,
    serialize_point,
)

__all__ = ["BACKEND", "CURVE_ORDER", "PubKey", "check_secret", "ecdh", "is_valid_point",
           "parse_point", "point_mul", "public_key", "serialize_point"]
# RFC 8439 ChaCha20 as cryptography takes it: 4-byte block counter (0) ‖ 96-bit zero nonce.
_ZERO_NONCE16 = bytes(16)
_ZERO_NONCE12 = bytes(12)

KEY_RHO = b"rho"
KEY_MU = b"mu"
KEY_UM = b"um"
KEY_PAD = b"pad"
KEY_AMMAG = b"ammag"
KEY_AMMAGEXT = b"ammagext"
KEY_BLINDED_NODE_ID = b"blinded_node_id"


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    return hmac.digest(key, msg, "sha256")


# The key types are constants, so the keyed HMAC objects (their inner and outer hash states)
# are made once and copied for each secret: a copy costs two-thirds of a one-shot HMAC. Where
# the standard library's HMAC wraps OpenSSL's (`_hmac`, CPython 3.4+ with OpenSSL), the
# OpenSSL object is copied directly: the same state, without three Python-level wrapper
# calls (0.7 instead of 1.2 µs a derivation).
_KEYED: dict[bytes, Any] = {}


def _keyed(key_type: bytes) -> Any:
    keyed = hmac.new(bytes(key_type), digestmod="sha256")
    inner = getattr(keyed, "_hmac", None)
    return keyed if inner is None or not hasattr(inner, "copy") else inner


def derive_key(key_type: bytes, secret: bytes) -> bytes:
    """BOLT 4 › Key Generation: the key-type string is the HMAC *key*, the secret the message."""
    keyed = _KEYED.get(key_type)
    if keyed is None:
        keyed = _keyed(key_type)
        if len(_KEYED) < 64:
            _KEYED[bytes(key_type)] = keyed
    run = keyed.copy()
    run.update(secret)
    return bytes(run.digest())


def chacha20(key: bytes, data: bytes) -> bytes:
    """`data` XOR the ChaCha20 keystream of `key` (zero nonce, counter 0)."""
    return Cipher(algorithms.ChaCha20(key, _ZERO_NONCE16), None).encryptor().update(data)


def _nonce_at(offset: int) -> tuple[bytes, int]:
    """The 16-byte counter ‖ nonce that starts the stream at `offset`'s 64-byte block, and how
    many bytes of that block to skip: seeking costs one block, not `offset` bytes."""
    block, skip = divmod(offset, 64)
    return block.to_bytes(4, "little") + _ZERO_NONCE12, skip


def chacha20_encryptor(key: bytes, offset: int = 0) -> Any:
    """A running keystream XOR of `key` from byte `offset` on, for callers that consume the
    stream in several pieces."""
    if not offset:
        return Cipher(algorithms.ChaCha20(key, _ZERO_NONCE16), None).encryptor()
    nonce, skip = _nonce_at(offset)
    run = Cipher(algorithms.ChaCha20(key, nonce), None).encryptor()
    if skip:
        run.update(bytes(skip))
    return run


def chacha20_reposition(run: Any, key: bytes, offset: int) -> Any:
    """`run`, a running keystream XOR of `key`, moved to byte `offset` of that stream.

    Reusing the context costs a tenth of a new one (cryptography >= 43 has `reset_nonce`;
    before that, or for a context without it, a new one is made).
    """
    reset = getattr(run, "reset_nonce", None)
    if reset is None:
        return chacha20_encryptor(key, offset)
    nonce, skip = _nonce_at(offset)
    reset(nonce)
    if skip:
        run.update(bytes(skip))
    return run


def aead_encrypt(key: bytes, plaintext: bytes) -> bytes:
    """ChaCha20-Poly1305 (RFC 8439) under `key` with the 12-byte zero nonce and no associated
    data: the ciphertext followed by its 16-byte tag. BOLT 4 › Route Blinding seals every
    encrypted_recipient_data this way; the zero nonce is safe there because each key (rho of
    one hop's shared secret) seals exactly one message."""
    return ChaCha20Poly1305(key).encrypt(_ZERO_NONCE12, plaintext, b"")


def aead_decrypt(key: bytes, ciphertext: bytes) -> bytes | None:
    """The plaintext of `aead_encrypt(key, plaintext)`, or None when the tag does not
    authenticate (a wrong key, damaged bytes, or fewer bytes than a tag). The caller names
    the refusal: what failed to open is its field, not this function's."""
    try:
        return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE12, bytes(ciphertext), b"")
    except InvalidTag:
        return None


def chacha20_stream(key: bytes, length: int) -> bytes:
    return chacha20(key, bytes(length))


def xor(a: bytes, b: bytes) -> bytes:
    """a ⊕ b over the shorter length."""
    n = min(len(a), len(b))
    return (int.from_bytes(a[:n], "big") ^ int.from_bytes(b[:n], "big")).to_bytes(n, "big")


def scalar_mul(a: bytes, b: bytes) -> bytes:
    """a·b mod n: how the sender walks the route without re-blinding points (BOLT 4 › Packet
    Construction; lightning-onion multiplies scalars the same way)."""
    product = int.from_bytes(a, "big") * int.from_bytes(b, "big") % CURVE_ORDER
    if product == 0:
        raise InvalidSecret("scalar product is zero", reason="invalid_secret")
    return product.to_bytes(32, "big")
