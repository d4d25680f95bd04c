"""BOLT 4 primitives (Conventions, Key Generation, Pseudo Random Byte Stream): ECDH behind a
node key, key derivation, ChaCha20 streams, the zero-nonce ChaCha20-Poly1305 of route blinding,
HMAC and SHA-256, on coincurve and pyca/cryptography.
For people building on the pieces; the tasks in `sphinxamp` need none of them."""

from sphinxamp.primitives._crypto import (
    CURVE_ORDER,
    KEY_AMMAG,
    KEY_AMMAGEXT,
    KEY_BLINDED_NODE_ID,
    KEY_MU,
    KEY_PAD,
    KEY_RHO,
    KEY_UM,
    aead_decrypt,
    aead_encrypt,
    chacha20,
    chacha20_stream,
    check_secret,
    derive_key,
    ecdh,
    hmac_sha256,
    is_valid_point,
    scalar_mul,
    sha256,
)
from sphinxamp.primitives._nodekey import NodeKey, PrivateNodeKey, shared_secret

__all__ = [
    "CURVE_ORDER",
    "KEY_AMMAG",
    "KEY_AMMAGEXT",
    "KEY_BLINDED_NODE_ID",
    "KEY_MU",
    "KEY_PAD",
    "KEY_RHO",
    "KEY_UM",
    "NodeKey",
    "PrivateNodeKey",
    "aead_decrypt",
    "aead_encrypt",
    "chacha20",
    "chacha20_stream",
    "check_secret",
    "derive_key",
    "ecdh",
    "hmac_sha256",
    "is_valid_point",
    "scalar_mul",
    "sha256",
    "shared_secret",
]
