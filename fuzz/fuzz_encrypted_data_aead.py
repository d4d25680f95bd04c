"""The AEAD path of `encrypted_recipient_data` with fixed keys (BOLT 4 › Route Blinding:
ChaCha20-Poly1305 under rho = HMAC256("rho", ECDH(node, path_key)), zero nonce, no AD).

Input: byte 0 picks the mode. Even: the rest is ciphertext for the fixed node and path key:
it is refused with `UndecryptableData`, or it authenticates and then decodes exactly as the
plain decoder decodes the plaintext. Odd: the rest is a plaintext, sealed for the node with the
fixed path key; unblinding it gives the same outcome as decoding the plaintext, and the next
path key is SHA256(E ‖ ss)·E (or the override); then the byte chosen by the first plaintext
bytes is damaged and the result must be refused by the AEAD. Only the library's refusals
(`DecodeError`, `PolicyError`) escape; deterministic; memory O(len).

Mutator (`_mutate_blinding.EncryptedDataAeadMutator`): opens an even input's ciphertext with
the fixed keys, mutates the plaintext and seals it again, so mutations pass the tag; even
inputs are the layered ones, counted by `_mutate.depth` (odd ones are sealed here anyway).
"""

import _blinding_checks as ref
import _common
import _mutate
from _mutate_blinding import EncryptedDataAeadMutator
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from sphinxamp.blinding._path import EncryptedData
from sphinxamp.blinding._unblind import unblind
from sphinxamp.errors import UndecryptableData
from sphinxamp.primitives import _crypto as crypto

KEY = ref.NODE_KEYS[0]


def _same_as_plain(plaintext: bytes, got: _common.Outcome) -> None:
    plain = _common.call(EncryptedData.decode, plaintext)
    if plain.error is not None:
        assert got.error is not None
        assert _common.error_key(got.error) == _common.error_key(plain.error)
        return
    assert got.error is None, f"unblind refused what decodes: {got.error}"
    assert got.value.data == plain.value and got.value.plaintext == plaintext


def _open(path_key: bytes, sealed: bytes) -> bytes | None:
    """The plaintext, opened here with cryptography's AEAD directly, or None."""
    point = crypto.parse_point(path_key)
    rho = crypto.derive_key(crypto.KEY_RHO, crypto.ecdh(KEY, point))
    try:
        return ChaCha20Poly1305(rho).decrypt(bytes(12), sealed, b"")
    except (InvalidTag, ValueError):
        return None


def test_one_input(data: bytes) -> None:
    if not data:
        return
    body = data[1:]
    if not data[0] & 1:
        path_key, _ = ref.seal(b"")
        got = _common.deterministic(len(body), unblind, KEY, path_key, body)
        plaintext = _open(path_key, body)
        _mutate.depth(plaintext is not None)
        if plaintext is None:
            assert isinstance(got.error, UndecryptableData), "accepted what does not open"
            return
        _same_as_plain(plaintext, got)
        return
    path_key, sealed = ref.seal(body)
    got = _common.deterministic(len(sealed), unblind, KEY, path_key, sealed)
    _same_as_plain(body, got)
    if got.error is None:
        factor = crypto.sha256(path_key + got.value.shared_secret)
        derived = crypto.public_key(crypto.scalar_mul(ref.PATH_SESSION, factor))
        assert got.value.derived_next_path_key == derived
        assert got.value.next_path_key == (got.value.data.next_path_key_override or derived)
    at = int.from_bytes(body[:2].ljust(2, b"\x00"), "big") % len(sealed)
    damaged = bytearray(sealed)
    damaged[at] ^= 1 + (body[2] if len(body) > 2 else 0) % 255
    refused = _common.call(unblind, KEY, path_key, bytes(damaged))
    assert isinstance(refused.error, UndecryptableData), f"damaged byte {at} accepted"


if __name__ == "__main__":
    _common.main(test_one_input, structured=EncryptedDataAeadMutator())
