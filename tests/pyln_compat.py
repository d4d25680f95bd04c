"""Thin adapters between byte strings and pyln-proto's onion objects (pyln.proto.onion).

pyln-proto works with its own PublicKey/PrivateKey/Secret wrappers, takes hop payloads *with*
their BigSize length prefix, and hands back parsed payload objects; these helpers convert to
and from the plain bytes the rest of the tests use. Import only after
`pytest.importorskip("pyln.proto.onion")`.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyln.proto.onion import (
    LegacyOnionPayload,
    OnionPayload,
    RawPayload,
    RoutingOnion,
    SphinxHop,
    SphinxPath,
    TextField,
    TlvPayload,
)
from pyln.proto.primitives import PrivateKey, PublicKey, Secret
from reference_peeler import write_bigsize


def pyln_build(session_key: bytes, hops: Sequence[tuple[bytes, bytes]], ad: bytes) -> bytes:
    """Onion bytes from SphinxPath.compile for hops = [(pubkey, payload without prefix)]."""
    sphinx_hops = [SphinxHop(PublicKey(node), write_bigsize(len(p)) + p) for node, p in hops]
    return bytes(SphinxPath(sphinx_hops, ad, Secret(session_key)).compile().to_bin())


def pyln_unwrap(packet: bytes, node_key: bytes, ad: bytes) -> tuple[OnionPayload, bytes | None]:
    """One RoutingOnion.unwrap: (payload object, next packet bytes or None when final)."""
    payload, nxt = RoutingOnion.from_bin(packet).unwrap(PrivateKey(node_key), ad)
    return payload, None if nxt is None else bytes(nxt.to_bin())


def payload_kind(payload: OnionPayload) -> str:
    return type(payload).__name__


def payload_bytes(payload: OnionPayload) -> bytes:
    """The payload as transmitted (without prefix). TlvPayload re-serializes its fields, which
    reproduces the wire bytes only for canonical streams; RawPayload keeps the raw content."""
    assert isinstance(payload, TlvPayload | RawPayload | LegacyOnionPayload)
    return bytes(payload.to_bytes(include_prefix=False))


def pyln_tlv_records(stream: bytes) -> list[tuple[int, bytes]]:
    """TlvPayload.from_bytes on a bare stream (no length prefix) as (type, value) pairs."""
    fields = TlvPayload.from_bytes(stream, skip_length=True).fields
    return [(f.typenum, f.value.encode() if isinstance(f, TextField) else f.value) for f in fields]
