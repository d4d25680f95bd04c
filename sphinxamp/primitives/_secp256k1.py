"""secp256k1 for BOLT 4 › Shared Secret and › Blinding Ephemeral Onion Keys, on coincurve.

Two implementations give the same answers:

- `binding`: coincurve's libsecp256k1 cffi binding (`coincurve._libsecp256k1`), at the level of
  parsed keys. A packet's public key is parsed once and then used for both the ECDH and the
  blinding of the next key, and no `PrivateKey` object is built (it would compute a public key
  nobody needs). That module is private to coincurve, so it is used only when it imports,
  has every function used here, and agrees with the public API on a known point.
- `public`: coincurve's public `PublicKey` API, used otherwise, so that a coincurve release that
  reorganises its internals costs speed, not correctness. `SPHINXAMP_SECP256K1=public` in the
  environment selects it (benchmarks compare the two; tests run the vectors through it).

`BACKEND` names the implementation in use.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import coincurve

from sphinxamp.errors import InvalidSecret

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
# 1·G, compressed: the known answer the private binding must give before it is trusted.
_GENERATOR = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
_BINDING_FUNCTIONS = ("secp256k1_ec_pubkey_parse", "secp256k1_ec_pubkey_serialize",
                      "secp256k1_ecdh", "secp256k1_ec_pubkey_create",
                      "secp256k1_ec_pubkey_tweak_mul")

PubKey = Any  # a parsed point, opaque outside this module (cffi pointer or coincurve.PublicKey)


def _check_secret(secret: bytes, what: str) -> None:
    if len(secret) != 32:
        raise InvalidSecret(f"{what} must be 32 bytes, got {len(secret)}", field=what,
                            reason="wrong_length")
    if not 0 < int.from_bytes(secret, "big") < CURVE_ORDER:
        raise InvalidSecret(f"{what} is not a valid secp256k1 private key (zero or not below "
                            "the curve order)", field=what, reason="invalid_secret")


def _reduced(scalar: bytes) -> bytes:
    """A SHA-256 blinding factor can (with odds of 2^-128) reach the order; BOLT 4 means it mod
    n, as lightning-onion computes it."""
    reduced = (int.from_bytes(scalar, "big") % CURVE_ORDER).to_bytes(32, "big")
    _check_secret(reduced, "tweak")
    return reduced


class _Public:
    """coincurve's public API: the fallback, and the reference the binding is checked against."""

    name = "public"

    @staticmethod
    def parse_point(data: bytes) -> PubKey | None:
        if len(data) != 33 or data[0] not in (2, 3):
            return None
        try:
            return coincurve.PublicKey(bytes(data))
        except (ValueError, TypeError):
            return None

    @staticmethod
    def serialize_point(key: PubKey) -> bytes:
        return bytes(key.format(compressed=True))

    @staticmethod
    def ecdh(secret: bytes, key: PubKey, what: str) -> bytes:
        # libsecp256k1's default ECDH hash is SHA256 of the compressed point secret·key.
        _check_secret(secret, what)
        return hashlib.sha256(key.multiply(bytes(secret)).format(compressed=True)).digest()

    @staticmethod
    def public_key(secret: bytes, what: str) -> bytes:
        _check_secret(secret, what)
        return bytes(coincurve.PublicKey.from_secret(bytes(secret)).format(compressed=True))

    @staticmethod
    def point_mul(key: PubKey, scalar: bytes) -> PubKey:
        if len(scalar) != 32:
            _check_secret(scalar, "tweak")
        try:
            return key.multiply(bytes(scalar))
        except ValueError:
            return key.multiply(_reduced(scalar))


class _Binding:
    """coincurve's cffi binding of libsecp256k1, used directly (see the module docstring)."""

    name = "binding"

    def __init__(self, ffi: Any, lib: Any, ctx: Any, compressed: int) -> None:
        self._ffi, self._lib, self._ctx, self._compressed = ffi, lib, ctx, compressed

    def parse_point(self, data: bytes) -> PubKey | None:
        if len(data) != 33 or data[0] not in (2, 3):
            return None
        key = self._ffi.new("secp256k1_pubkey *")
        return key if self._lib.secp256k1_ec_pubkey_parse(self._ctx, key, data, 33) else None

    def serialize_point(self, key: PubKey) -> bytes:
        out = self._ffi.new("unsigned char[33]")
        size = self._ffi.new("size_t *", 33)
        self._lib.secp256k1_ec_pubkey_serialize(self._ctx, out, size, key, self._compressed)
        return bytes(self._ffi.buffer(out, 33))

    def ecdh(self, secret: bytes, key: PubKey, what: str) -> bytes:
        out = self._ffi.new("unsigned char[32]")
        # libsecp256k1 reads exactly 32 bytes behind the pointer: check the length first, or a
        # short key is read past its end and a long one silently truncated.
        if len(secret) != 32 or not self._lib.secp256k1_ecdh(self._ctx, out, key, secret,
                                                             self._ffi.NULL, self._ffi.NULL):
            _check_secret(secret, what)
        return bytes(self._ffi.buffer(out, 32))

    def public_key(self, secret: bytes, what: str) -> bytes:
        key = self._ffi.new("secp256k1_pubkey *")
        if len(secret) != 32 or not self._lib.secp256k1_ec_pubkey_create(self._ctx, key, secret):
            _check_secret(secret, what)
        return self.serialize_point(key)

    def point_mul(self, key: PubKey, scalar: bytes) -> PubKey:
        if len(scalar) != 32:  # libsecp256k1 reads exactly 32 bytes behind the pointer
            _check_secret(scalar, "tweak")
        out = self._ffi.new("secp256k1_pubkey *", key[0])
        if self._lib.secp256k1_ec_pubkey_tweak_mul(self._ctx, out, scalar):
            return out
        # A refused tweak leaves `out` invalid (multiplying it again would abort the process),
        # so start over from `key`.
        out = self._ffi.new("secp256k1_pubkey *", key[0])
        self._lib.secp256k1_ec_pubkey_tweak_mul(self._ctx, out, _reduced(scalar))
        return out


def _binding() -> _Binding | None:
    """The private binding if it is there, complete, and right on a known answer."""
    try:
        from coincurve._libsecp256k1 import ffi, lib
        from coincurve.context import GLOBAL_CONTEXT
        from coincurve.flags import EC_COMPRESSED

        if not all(hasattr(lib, name) for name in _BINDING_FUNCTIONS):
            return None
        binding = _Binding(ffi, lib, GLOBAL_CONTEXT.ctx, EC_COMPRESSED)
        one = (1).to_bytes(32, "big")
        point = binding.parse_point(_GENERATOR)
        if binding.public_key(one, "check") != _GENERATOR or point is None:
            return None
        if binding.ecdh(one, point, "check") != _Public.ecdh(one, _Public.parse_point(
                _GENERATOR), "check"):
            return None
        return binding
    except Exception:  # any way the private module can differ means: do not use it
        return None


def select(name: str | None) -> _Binding | type[_Public]:
    """The implementation `name` asks for ("public", "binding", or None for the best there is):
    "binding" falls back to the public API when the binding is absent or differs."""
    if name == "public":
        return _Public
    return _binding() or _Public


_IMPL = select(os.environ.get("SPHINXAMP_SECP256K1"))
BACKEND: str = _IMPL.name

parse_point: Callable[[bytes], PubKey | None] = _IMPL.parse_point
serialize_point: Callable[[PubKey], bytes] = _IMPL.serialize_point
_ecdh: Callable[[bytes, PubKey, str], bytes] = _IMPL.ecdh
_public_key: Callable[[bytes, str], bytes] = _IMPL.public_key
point_mul: Callable[[PubKey, bytes], PubKey] = _IMPL.point_mul


def ecdh(secret: bytes, key: PubKey, what: str = "private_key") -> bytes:
    """BOLT 4 › Shared Secret: SHA256 of the compressed point secret·key."""
    return _ecdh(secret, key, what)


def public_key(secret: bytes, what: str = "private_key") -> bytes:
    """The compressed public key secret·G."""
    return _public_key(secret, what)


def check_secret(secret: bytes, what: str = "private_key") -> bytes:
    _check_secret(secret, what)
    return secret


def is_valid_point(data: bytes) -> bool:
    return parse_point(data) is not None
