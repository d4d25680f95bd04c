"""Structure-aware mutation of one Sphinx layer (BOLT 4 › Onion Decryption), for `peel_raw`
and the differential peel targets.

The layer is opened with the node key the input (or the harness) holds: shared secret
ss = SHA256(k·E), or inside a blinded route ss = SHA256(k·b·E) with
b = HMAC256("blinded_node_id", SHA256(k·path_key)) (BOLT 4 › Route Blinding); the routing area
is decrypted with the rho stream. The hop's frame (BigSize length ‖ payload ‖ next HMAC) is
mutated, then the area is encrypted again and the packet HMAC recomputed with mu over
routing area ‖ associated data, so the peel gets past its MAC and the mutation reaches the
frame reader and the payload parser.

The cryptography here is coincurve, hmac and pyca/cryptography, never the library: the
library is instrumented while fuzzing, and a mutator calling it would feed the fuzzer coverage
that no input produced.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable
from dataclasses import dataclass, replace

import _peel
import coincurve
from _checks import ref_bigsize
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

MutateBytes = Callable[[bytes, int], bytes]
HEAD = 1 + 33  # version ‖ ephemeral key
HMAC_SIZE = 32
PAYMENT_AREA = 1300
ZERO_HMAC = bytes(HMAC_SIZE)
_SECRETS: dict[tuple[bytes, bytes, bytes | None], bytes | None] = {}


def _ecdh(secret: bytes, point: coincurve.PublicKey) -> bytes:
    """BOLT 4 › Shared Secret: SHA256 of the compressed point secret·P."""
    return hashlib.sha256(point.multiply(secret).format()).digest()


def _derive(key_type: bytes, secret: bytes) -> bytes:
    """BOLT 4 › Key Generation: HMAC256(key type, secret)."""
    return hmac.digest(key_type, secret, "sha256")


def stream(key: bytes, data: bytes) -> bytes:
    """ChaCha20 with a zero nonce over `data` (BOLT 4 › Pseudo Random Byte Stream)."""
    return Cipher(algorithms.ChaCha20(key, bytes(16)), None).encryptor().update(data)


def blinding_secret(node_key: bytes, path_key: bytes) -> bytes | None:
    """SHA256(k·path_key), or None when the path key is not a point."""
    try:
        return _ecdh(node_key, coincurve.PublicKey(path_key))
    except (ValueError, TypeError):
        return None


def layer_secret(node_key: bytes, ephemeral: bytes, path_key: bytes | None) -> bytes | None:
    """The layer's shared secret, or None when a key is not a point. Seeds share a handful of
    keys, so the answers are kept (a bounded cache)."""
    slot = (node_key, ephemeral, path_key)
    if slot not in _SECRETS:
        if len(_SECRETS) > 4096:
            _SECRETS.clear()
        _SECRETS[slot] = _compute_secret(node_key, ephemeral, path_key)
    return _SECRETS[slot]


def _compute_secret(node_key: bytes, ephemeral: bytes, path_key: bytes | None) -> bytes | None:
    try:
        point = coincurve.PublicKey(ephemeral)
        if path_key is not None:
            blinding = blinding_secret(node_key, path_key)
            if blinding is None:
                return None
            point = point.multiply(_derive(b"blinded_node_id", blinding))
        return _ecdh(node_key, point)
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Layer:
    """An opened packet: its version and key bytes, the shared secret, the plaintext area."""

    head: bytes
    secret: bytes
    plain: bytes

    def seal(self, plain: bytes, associated_data: bytes) -> bytes:
        """version ‖ key ‖ rho-encrypted area ‖ HMAC256(mu, area ‖ associated data)."""
        cipher = stream(_derive(b"rho", self.secret), plain)
        mac = hmac.digest(_derive(b"mu", self.secret), cipher + associated_data, "sha256")
        return self.head + cipher + mac


def open_layer(packet: bytes, node_key: bytes, path_key: bytes | None) -> Layer | None:
    """Decrypt the routing area of a version-0 packet; None when it cannot be opened (then
    the input gets a plain byte mutation, which keeps the version and key checks fuzzed)."""
    if len(packet) < HEAD + HMAC_SIZE or packet[0] != 0 or not _peel.valid_secret(node_key):
        return None
    secret = layer_secret(node_key, packet[1:HEAD], path_key)
    if secret is None:
        return None
    plain = stream(_derive(b"rho", secret), packet[HEAD:-HMAC_SIZE])
    return Layer(packet[:HEAD], secret, plain)


def bigsize(value: int) -> bytes:
    """BOLT 1 › Appendix A, minimal encoding."""
    if value < 0xFD:
        return bytes((value,))
    for prefix, width in ((0xFD, 2), (0xFE, 4)):
        if value < 1 << (8 * width):
            return bytes((prefix,)) + value.to_bytes(width, "big")
    return b"\xff" + value.to_bytes(8, "big")


@dataclass(frozen=True)
class Frame:
    """The hop's frame in a decrypted area (BOLT 4 › Onion Decryption steps 6-7)."""

    payload: bytes
    next_hmac: bytes
    rest: bytes

    def encode(self) -> bytes:
        return bigsize(len(self.payload)) + self.payload + self.next_hmac + self.rest


def split_frame(plain: bytes) -> Frame | None:
    got = ref_bigsize(plain, 0)
    if isinstance(got, str):
        return None
    length, start = got
    end = start + length + HMAC_SIZE
    if end > len(plain):
        return None
    return Frame(plain[start:start + length], plain[end - HMAC_SIZE:end], plain[end:])


def _next_hmac(old: bytes, rng: random.Random) -> bytes:
    """A final hop becomes a forwarding one and back, or the next HMAC gets random bytes."""
    if rng.randrange(2):
        return ZERO_HMAC if old != ZERO_HMAC else bytes(rng.randrange(1, 256) for _ in old)
    return rng.randbytes(HMAC_SIZE)


def mutate_area(plain: bytes, rng: random.Random, mutate_bytes: MutateBytes,
                payload: Callable[[bytes], bytes] | None = None) -> bytes:
    """A mutated plaintext area, longer than `plain` only when the new frame needs it (the
    caller fits it to its packet). Mostly the payload with its length prefix re-encoded;
    sometimes the next HMAC, or the frame's first bytes raw (length prefix included), so
    non-minimal, short and overlong frames are tried too. `payload` replaces the default
    byte mutation of the payload (an onion message mutates inside it)."""
    frame = split_frame(plain)
    pick = rng.randrange(10)
    if frame is None or pick == 0:
        cut = min(len(plain), 1 + rng.randrange(64))
        return mutate_bytes(plain[:cut], cut + 16) + plain[cut:]
    if pick == 1:
        return replace(frame, next_hmac=_next_hmac(frame.next_hmac, rng)).encode()
    if payload is not None:
        new = payload(frame.payload)
    else:
        new = mutate_bytes(frame.payload, max(len(plain) - HMAC_SIZE - 3, len(frame.payload)))
    return replace(frame, payload=new).encode()


def fit_area(plain: bytes, size: int, grow_to: int | None) -> bytes:
    """A payment area is exactly `size` bytes (cut or zero-padded); an onion message's may
    grow up to `grow_to`, since its area is whatever the packet's length says."""
    if grow_to is not None and len(plain) > size:
        return plain[:grow_to]
    return plain[:size].ljust(size, b"\x00")


def mutate_packet(packet: bytes, node_key: bytes, path_key: bytes | None,
                  associated_data: bytes, rng: random.Random, mutate_bytes: MutateBytes, *,
                  max_packet: int | None = None,
                  payload: Callable[[bytes], bytes] | None = None) -> bytes | None:
    """`packet` opened, its frame mutated and sealed again under the same keys, or None when
    it does not open. `max_packet` lets the area grow (onion messages)."""
    layer = open_layer(packet, node_key, path_key)
    if layer is None:
        return None
    plain = mutate_area(layer.plain, rng, mutate_bytes, payload)
    grow = None if max_packet is None else max_packet - HEAD - HMAC_SIZE
    return layer.seal(fit_area(plain, len(layer.plain), grow), associated_data)


def splice_payload(packet: bytes, donor: bytes, node_key: bytes, path_key: bytes | None,
                   associated_data: bytes, donor_keys: tuple[bytes, bytes | None]) -> bytes | None:
    """`packet` carrying the hop payload found in `donor` (opened with `donor_keys`)."""
    layer = open_layer(packet, node_key, path_key)
    other = open_layer(donor, *donor_keys)
    if layer is None or other is None:
        return None
    mine, theirs = split_frame(layer.plain), split_frame(other.plain)
    if mine is None or theirs is None:
        return None
    plain = replace(mine, payload=theirs.payload).encode()
    return layer.seal(fit_area(plain, len(layer.plain), None), associated_data)


def fits(out: bytes | None, max_size: int) -> bytes | None:
    """`out` when libFuzzer may take it, else None (a plain mutation instead)."""
    return out if out is not None and len(out) <= max_size else None


class PeelRawMutator:
    """`peel_raw`: node_key ‖ flags ‖ [path_key] ‖ ad_len ‖ ad ‖ packet (`_peel`). The
    packet is re-sealed under the input's own node key, path key and associated data; one
    mutation in eight also changes the associated data (which the HMAC covers)."""

    def mutate(self, data: bytes, max_size: int, rng: random.Random,
               mutate_bytes: MutateBytes) -> bytes | None:
        inp = _peel.split_input(data)
        if inp is None:
            return None
        ad = inp.associated_data
        if not rng.randrange(8):
            ad = mutate_bytes(ad, 255)[:255]
        room = max_size - (len(data) - len(inp.packet)) - len(ad) + len(inp.associated_data)
        packet = mutate_packet(inp.packet, inp.node_key, inp.path_key, ad, rng, mutate_bytes,
                               max_packet=room if inp.message else None)
        if packet is None:
            return None
        return fits(replace(inp, associated_data=ad, packet=packet).encode(), max_size)

    def crossover(self, first: bytes, second: bytes, max_size: int, rng: random.Random,
                  mutate_bytes: MutateBytes) -> bytes | None:
        """The first input's packet carrying the second's hop payload; when the second has
        none to give, a mutation of the first (libFuzzer stacks crossovers and mutations, and
        a plain splice would break the seal for every step after it)."""
        one, two = _peel.split_input(first), _peel.split_input(second)
        packet = None
        if one is not None and two is not None and one.message == two.message:
            packet = splice_payload(one.packet, two.packet, one.node_key, one.path_key,
                                    one.associated_data, (two.node_key, two.path_key))
        if packet is None or one is None:
            return self.mutate(first, max_size, rng, mutate_bytes)
        return fits(replace(one, packet=packet).encode(), max_size)


class FixedKeyPeelMutator:
    """A bare payment onion peeled with fixed keys (the differential targets: node key and
    associated data of the harness)."""

    def __init__(self, node_key: bytes, associated_data: bytes) -> None:
        self.node_key, self.associated_data = node_key, associated_data

    def mutate(self, data: bytes, max_size: int, rng: random.Random,
               mutate_bytes: MutateBytes) -> bytes | None:
        if len(data) != HEAD + PAYMENT_AREA + HMAC_SIZE:
            return None
        return fits(mutate_packet(data, self.node_key, None, self.associated_data, rng,
                                  mutate_bytes), max_size)

    def crossover(self, first: bytes, second: bytes, max_size: int, rng: random.Random,
                  mutate_bytes: MutateBytes) -> bytes | None:
        spliced = splice_payload(first, second, self.node_key, None, self.associated_data,
                                 (self.node_key, None))
        return fits(spliced, max_size) or self.mutate(first, max_size, rng, mutate_bytes)
