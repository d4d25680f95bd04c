"""The node key as an interface (lightning-onion's `SingleKeyECDH`): hop processing needs the
node's private key for nothing but ECDH, so a key that lives in a signer or an HSM serves as
well as 32 raw bytes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from sphinxamp.errors import InvalidArgument
from sphinxamp.primitives import _crypto as crypto


@runtime_checkable
class NodeKey(Protocol):
    """Anything that computes BOLT 4's shared secret with the node's private key k:
    `ecdh(P)` takes a 33-byte compressed point and returns SHA256(compressed k·P)."""

    def ecdh(self, point: bytes) -> bytes: ...


class PrivateNodeKey:
    """A node key held in memory: the `NodeKey` for callers that have the raw 32 bytes."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        self._secret = crypto.check_secret(bytes(secret), "node_key")

    def ecdh(self, point: bytes) -> bytes:
        parsed = crypto.parse_point(point)
        if parsed is None:
            raise InvalidArgument("not a valid compressed secp256k1 point", field="point",
                                  reason="invalid_point")
        return crypto.ecdh(self._secret, parsed, "node_key")

    @property
    def public_key(self) -> bytes:
        return crypto.public_key(self._secret, "node_key")

    def __repr__(self) -> str:
        return "PrivateNodeKey(<secret>)"


def shared_secret(node_key: bytes | NodeKey, point: crypto.PubKey) -> bytes:
    """SHA256(k·P) for a parsed point, with raw key bytes or a key object."""
    if isinstance(node_key, bytes | bytearray | memoryview):
        return crypto.ecdh(bytes(node_key), point, "node_key")
    if not isinstance(node_key, NodeKey):
        raise InvalidArgument("node_key must be 32 bytes or have an ecdh(point) method",
                              field="node_key", reason="invalid_key_object")
    secret = node_key.ecdh(crypto.serialize_point(point))
    if not isinstance(secret, bytes) or len(secret) != 32:
        raise InvalidArgument("node_key.ecdh must return 32 bytes", field="node_key",
                              reason="invalid_ecdh_result")
    return secret
