"""Primitives of BOLT 4 › Conventions / Key Generation / Pseudo Random Byte Stream.

secp256k1 goes through coincurve's own libsecp256k1 binding at the level of parsed keys: a
packet's public key is parsed once and then used for both the ECDH and the blinding of the
next key, and no private-key object is built (coincurve's `PrivateKey()` would compute two
public keys nobody needs). Symmetric crypto is pyca/cryptography; hashes are hashlib/hmac.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT
from coincurve.flags import EC_COMPRESSED
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from ._errors import InvalidSecret

_CTX = GLOBAL_CONTEXT.ctx
# RFC 8439 ChaCha20 as cryptography takes it: 4-byte block counter (0) ‖ 96-bit zero nonce.
_ZERO_NONCE16 = bytes(16)
_ZERO_NONCE12 = bytes(12)
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

KEY_RHO = b"rho"
KEY_MU = b"mu"
KEY_UM = b"um"
KEY_PAD = b"pad"
KEY_AMMAG = b"ammag"
KEY_AMMAGEXT = b"ammagext"
KEY_BLINDED_NODE_ID = b"blinded_node_id"

PubKey = Any  # a cffi `secp256k1_pubkey *`; opaque outside this module


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


def chacha20_stream(key: bytes, length: int) -> bytes:
    return chacha20(key, bytes(length))


def xor(a: bytes, b: bytes) -> bytes:
    """a ⊕ b over the shorter length."""
    n = min(len(a), len(b))
    return (int.from_bytes(a[:n], "big") ^ int.from_bytes(b[:n], "big")).to_bytes(n, "big")


# --- secp256k1 ------------------------------------------------------------------------------


def parse_point(data: bytes) -> PubKey | None:
    """A parsed compressed point, or None if `data` is not 33 bytes of 02/03 ‖ x on the curve."""
    if len(data) != 33 or data[0] not in (2, 3):
        return None
    key = ffi.new("secp256k1_pubkey *")
    return key if lib.secp256k1_ec_pubkey_parse(_CTX, key, data, 33) else None


def is_valid_point(data: bytes) -> bool:
    return parse_point(data) is not None


def serialize_point(key: PubKey) -> bytes:
    out = ffi.new("unsigned char[33]")
    size = ffi.new("size_t *", 33)
    lib.secp256k1_ec_pubkey_serialize(_CTX, out, size, key, EC_COMPRESSED)
    return bytes(ffi.buffer(out, 33))


def _check_secret(secret: bytes, what: str) -> None:
    if len(secret) != 32:
        raise InvalidSecret(f"{what} must be 32 bytes, got {len(secret)}", field=what,
                            reason="wrong_length")
    if not 0 < int.from_bytes(secret, "big") < CURVE_ORDER:
        raise InvalidSecret(f"{what} is not a valid secp256k1 private key (zero or not below "
                            "the curve order)", field=what, reason="invalid_secret")


def ecdh(secret: bytes, key: PubKey, what: str = "private_key") -> bytes:
    """BOLT 4 › Shared Secret: SHA256 of the compressed point secret·key (libsecp256k1's
    default ECDH hash)."""
    out = ffi.new("unsigned char[32]")
    # libsecp256k1 reads exactly 32 bytes behind the pointer: check the length first, or a
    # short key is read past its end and a long one silently truncated.
    if len(secret) != 32 or not lib.secp256k1_ecdh(_CTX, out, key, secret, ffi.NULL, ffi.NULL):
        _check_secret(secret, what)
    return bytes(ffi.buffer(out, 32))


def public_key(secret: bytes, what: str = "private_key") -> bytes:
    """The compressed public key secret·G."""
    key = ffi.new("secp256k1_pubkey *")
    if len(secret) != 32 or not lib.secp256k1_ec_pubkey_create(_CTX, key, secret):
        _check_secret(secret, what)
    return serialize_point(key)


def point_mul(key: PubKey, scalar: bytes) -> PubKey:
    """A new parsed point scalar·key; `key` is left as it was."""
    if len(scalar) != 32:  # libsecp256k1 reads exactly 32 bytes behind the pointer
        _check_secret(scalar, "tweak")
    out = ffi.new("secp256k1_pubkey *", key[0])
    if lib.secp256k1_ec_pubkey_tweak_mul(_CTX, out, scalar):
        return out
    # A SHA-256 blinding factor can (with odds of 2^-128) reach the order; BOLT 4 means it mod
    # n, as lightning-onion computes it. A refused tweak leaves `out` invalid (multiplying it
    # again would abort the process), so start over from `key`.
    reduced = (int.from_bytes(scalar, "big") % CURVE_ORDER).to_bytes(32, "big")
    _check_secret(reduced, "tweak")
    out = ffi.new("secp256k1_pubkey *", key[0])
    lib.secp256k1_ec_pubkey_tweak_mul(_CTX, out, reduced)
    return out


def scalar_mul(a: bytes, b: bytes) -> bytes:
    """a·b mod n: how the sender walks the route without re-blinding points (BOLT 4 › Packet
    Construction; lightning-onion multiplies scalars the same way)."""
    product = int.from_bytes(a, "big") * int.from_bytes(b, "big") % CURVE_ORDER
    if product == 0:
        raise InvalidSecret("scalar product is zero", reason="invalid_secret")
    return product.to_bytes(32, "big")


def check_secret(secret: bytes, what: str = "private_key") -> bytes:
    _check_secret(secret, what)
    return secret
