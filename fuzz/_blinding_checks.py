"""Fixed keys and oracles shared by the route-blinding and onion-message harnesses.

The keys are those of the BOLT 4 vectors (0x41.. node keys), so seeds taken from the official
files open with them. The oracles are written from the BOLT text, independently of the
library: the relay formula in exact rationals, the reader rules on decoded records.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import _common  # noqa: F401  (instruments the package before it is imported below)

from sphinxamp.blinding._path import EncryptedData, create_blinded_path
from sphinxamp.primitives import _crypto as crypto

NODE_KEYS = tuple(bytes([b]) * 32 for b in range(0x41, 0x46))
NODE_IDS = tuple(crypto.public_key(k) for k in NODE_KEYS)
PATH_SESSION = bytes([0x01]) * 32
SESSION = bytes([0x03]) * 32
ASSOCIATED_DATA = bytes([0x42]) * 32
FINAL_DATA = EncryptedData(padding=bytes(3), path_id=b"fuzz").encode()


def seal(plaintext: bytes, hop: int = 0) -> tuple[bytes, bytes]:
    """(path_key, encrypted_recipient_data) of `plaintext` for NODE_KEYS[hop], one hop."""
    path = create_blinded_path(PATH_SESSION, [(NODE_IDS[hop], plaintext)])
    return path.first_path_key, path.hops[0].encrypted_recipient_data


def ref_forward(amount: int, relay: Any) -> int:
    """BOLT 4: the least amount x with x·(10^6 + prop) ≥ (amount − base)·10^6."""
    return math.ceil(Fraction((amount - relay.fee_base_msat) * 1_000_000,
                              1_000_000 + relay.fee_proportional_millionths))


def ref_reader_ok(data: EncryptedData, final: bool, payment: bool) -> bool:
    """The data rules of BOLT 4's reader, from the decoded records alone. Both next-hop
    fields are an error for a payment only (› `payload` format, the reader); the
    onion-message reader forwards by next_node_id (› Onion Messages, the reader)."""
    if data.allowed_features and int.from_bytes(data.allowed_features, "big"):
        return False
    if payment and data.short_channel_id is not None and data.next_node_id is not None:
        return False
    if final:
        return True
    if data.short_channel_id is None and data.next_node_id is None:
        return False
    return not (payment and data.payment_relay is None)
