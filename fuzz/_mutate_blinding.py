"""Structure-aware mutation behind route blinding's AEAD (BOLT 4 › Route Blinding): the
`encrypted_data_aead` and `onion_message` targets.

`encrypted_recipient_data` is ChaCha20-Poly1305 under rho = HMAC256("rho", SHA256(k·E)),
zero nonce, no associated data. The mutators open it with the key the harness holds, mutate
the `encrypted_data_tlv` plaintext with the byte mutator and seal it again, so the tag checks
and the decoder behind it sees the mutation. An onion message is first opened as a Sphinx
layer (`_mutate_onion`), then either its `onionmsg_tlv` or the encrypted data inside it is
mutated, and both layers are sealed again.
"""

from __future__ import annotations

import random

import _blinding_checks as ref
import _mutate_onion as sphinx
import coincurve
from _checks import ref_stream
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

MutateBytes = sphinx.MutateBytes
TAG = 16
ENCRYPTED_RECIPIENT_DATA = 4  # onionmsg_tlv type (BOLT 4 › Onion Messages)
ONION_MESSAGE_TYPE = (513).to_bytes(2, "big")
PATH_KEY_GIVEN, BUILT = 0x80, 0x40  # fuzz_onion_message's mode bits in byte 0


def rho_for(node_key: bytes, path_key: bytes) -> bytes | None:
    secret = sphinx.blinding_secret(node_key, path_key)
    return None if secret is None else sphinx._derive(b"rho", secret)


def aead_open(rho: bytes, sealed: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(rho).decrypt(bytes(12), sealed, b"")
    except (InvalidTag, ValueError):
        return None


def aead_seal(rho: bytes, plaintext: bytes) -> bytes:
    return ChaCha20Poly1305(rho).encrypt(bytes(12), plaintext, b"")


# encrypted_data_aead's fixed keys: node NODE_KEYS[0], path key PATH_SESSION·G.
AEAD_PATH_KEY = coincurve.PublicKey.from_secret(ref.PATH_SESSION).format()
AEAD_RHO = rho_for(ref.NODE_KEYS[0], AEAD_PATH_KEY) or b""


class EncryptedDataAeadMutator:
    """Byte 0 even: the rest is a ciphertext under the harness's keys: open, mutate the
    plaintext, seal. Byte 0 odd: the rest is a plaintext the harness seals itself; it is
    mutated and kept odd, or sealed here and turned into an even input."""

    def mutate(self, data: bytes, max_size: int, rng: random.Random,
               mutate_bytes: MutateBytes) -> bytes | None:
        plain = self._plaintext(data)
        if plain is None:
            return None
        new = mutate_bytes(plain, max(max_size - 1 - TAG, 0))
        if data[0] & 1 and rng.randrange(2):
            return sphinx.fits(data[:1] + new, max_size)
        return sphinx.fits(bytes((data[0] & 0xFE,)) + aead_seal(AEAD_RHO, new), max_size)

    def crossover(self, first: bytes, second: bytes, max_size: int, rng: random.Random,
                  mutate_bytes: MutateBytes) -> bytes | None:
        """The two plaintexts spliced at random cuts, sealed as an even input."""
        one, two = self._plaintext(first), self._plaintext(second)
        if one is None or two is None:
            # libFuzzer stacks crossovers and mutations: keep the first sealed.
            return self.mutate(first, max_size, rng, mutate_bytes)
        joined = one[:rng.randint(0, len(one))] + two[rng.randint(0, len(two)):]
        sealed = aead_seal(AEAD_RHO, joined[:max(max_size - 1 - TAG, 0)])
        return sphinx.fits(bytes((first[0] & 0xFE,)) + sealed, max_size)

    @staticmethod
    def _plaintext(data: bytes) -> bytes | None:
        if not data:
            return None
        return data[1:] if data[0] & 1 else aead_open(AEAD_RHO, data[1:])


class _Message:
    """An `onion_message` input split into what the mutator needs and how to put it back."""

    def __init__(self, data: bytes) -> None:
        self.mode, self.node_key = data[0], ref.NODE_KEYS[data[0] % len(ref.NODE_KEYS)]
        if data[0] & PATH_KEY_GIVEN:
            self.path_key, self.packet = data[1:34], data[34:]
        else:
            self.path_key, self.packet = data[3:36], data[38:]

    @classmethod
    def split(cls, data: bytes) -> _Message | None:
        if not data or data[0] & (PATH_KEY_GIVEN | BUILT) == BUILT:
            return None  # built here from a plaintext: nothing sealed to get past
        if data[0] & PATH_KEY_GIVEN:
            return cls(data) if len(data) > 34 else None
        length = int.from_bytes(data[36:38], "big") if len(data) >= 38 else -1
        if data[1:3] != ONION_MESSAGE_TYPE or length != len(data) - 38:
            return None
        return cls(data)

    def encode(self, packet: bytes) -> bytes | None:
        if self.mode & PATH_KEY_GIVEN:
            return bytes((self.mode,)) + self.path_key + packet
        if len(packet) > 0xFFFF:
            return None
        return (bytes((self.mode,)) + ONION_MESSAGE_TYPE + self.path_key
                + len(packet).to_bytes(2, "big") + packet)


def encode_stream(records: list[tuple[int, bytes]]) -> bytes:
    return b"".join(sphinx.bigsize(t) + sphinx.bigsize(len(v)) + v for t, v in records)


def mutate_recipient_data(payload: bytes, rho: bytes | None, mutate_bytes: MutateBytes,
                          room: int) -> bytes | None:
    """The onionmsg_tlv with its encrypted_recipient_data opened, mutated and sealed again,
    or None when the payload has no such record that opens."""
    records = ref_stream(payload)
    if rho is None or isinstance(records, str):
        return None
    for i, (rtype, value) in enumerate(records):
        if rtype == ENCRYPTED_RECIPIENT_DATA:
            plain = aead_open(rho, value)
            if plain is None:
                return None
            records[i] = (rtype, aead_seal(rho, mutate_bytes(plain, len(plain) + room)))
            return encode_stream(records)
    return None


class OnionMessageMutator:
    """`onion_message` inputs that carry a sealed message (byte 0 bit 7: path key ‖ bare
    packet; neither bit 7 nor 6: a whole type-513 message). The layer is opened with the node
    key byte 0 picks; half the payload mutations go inside encrypted_recipient_data."""

    def mutate(self, data: bytes, max_size: int, rng: random.Random,
               mutate_bytes: MutateBytes) -> bytes | None:
        msg = _Message.split(data)
        if msg is None:
            return None
        room = max_size - (len(data) - len(msg.packet))
        rho = rho_for(msg.node_key, msg.path_key)

        def payload(old: bytes) -> bytes:
            grow = max(min(room - len(msg.packet), 256), 0)
            inner = mutate_recipient_data(old, rho, mutate_bytes, grow) if rng.randrange(2) \
                else None
            return inner if inner is not None else mutate_bytes(old, len(old) + grow)

        packet = sphinx.mutate_packet(msg.packet, msg.node_key, msg.path_key, b"", rng,
                                      mutate_bytes, max_packet=room, payload=payload)
        return None if packet is None else sphinx.fits(msg.encode(packet), max_size)

    def crossover(self, first: bytes, second: bytes, max_size: int, rng: random.Random,
                  mutate_bytes: MutateBytes) -> bytes | None:
        """The first message carrying the second's onionmsg_tlv (its encrypted data then
        fails the first node's tag unless both were sealed for the same keys), else a
        mutation of the first."""
        one, two = _Message.split(first), _Message.split(second)
        packet = None
        if one is not None and two is not None:
            packet = sphinx.splice_payload(one.packet, two.packet, one.node_key, one.path_key,
                                           b"", (two.node_key, two.path_key))
        if packet is None or one is None:
            # libFuzzer stacks crossovers and mutations: keep the first sealed.
            return self.mutate(first, max_size, rng, mutate_bytes)
        return sphinx.fits(one.encode(packet), max_size)

