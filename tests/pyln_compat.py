"""Thin adapters between byte strings and pyln-proto's onion objects (pyln.proto.onion), and
the one gate every test of pyln-proto goes through.

The gate: a test that uses pyln-proto carries the `pyln` marker (conftest.py), which calls
`require_pyln()` before the test runs. pyln-proto must first pass `benchmarks.peers.check_pyln`
(one peel of the BOLT 4 onion vector recorded under vectors/). When it is absent or fails, the
test is skipped with the reason; under `CI=true` it fails with it instead, so that CI cannot
silently lose the differential tests.

pyln-proto works with its own PublicKey/PrivateKey/Secret wrappers, takes hop payloads *with*
their BigSize length prefix, and hands back parsed payload objects; these helpers convert to
and from the plain bytes the rest of the tests use. pyln-proto is imported on first use, so a
module of such tests is collected (and its tests skipped or failed) without it.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.reference_peeler import write_bigsize

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the check lives in the checkout's benchmarks/ package
    sys.path.insert(0, str(ROOT))

from benchmarks.peers import check_pyln  # noqa: E402

# pyln-proto's payload classes (OnionPayload and its subclasses); the package has no types.
OnionPayload = Any


@functools.cache
def pyln_problem() -> str | None:
    """The peer's check, run once per test process: None when pyln-proto can be used."""
    return check_pyln()


def gate(problem: str | None, *, ci: bool) -> None:
    """Nothing when the peer passed its check; otherwise skip the test, or under CI fail it."""
    if problem is None:
        return
    message = f"pyln-proto cannot be used: {problem}"
    if ci:
        pytest.fail(f"{message} (CI=true: a missing or broken peer fails its tests)",
                    pytrace=False)
    pytest.skip(message)


def require_pyln() -> None:
    gate(pyln_problem(), ci=os.environ.get("CI") == "true")


def onion_module() -> Any:
    """`pyln.proto.onion`, for tests that name its classes."""
    from pyln.proto import onion

    return onion


def pyln_build(session_key: bytes, hops: Sequence[tuple[bytes, bytes]], ad: bytes) -> bytes:
    """Onion bytes from SphinxPath.compile for hops = [(pubkey, payload without prefix)]."""
    from pyln.proto.onion import SphinxHop, SphinxPath
    from pyln.proto.primitives import PublicKey, Secret

    sphinx_hops = [SphinxHop(PublicKey(node), write_bigsize(len(p)) + p) for node, p in hops]
    return bytes(SphinxPath(sphinx_hops, ad, Secret(session_key)).compile().to_bin())


def pyln_unwrap(packet: bytes, node_key: bytes, ad: bytes) -> tuple[OnionPayload, bytes | None]:
    """One RoutingOnion.unwrap: (payload object, next packet bytes or None when final)."""
    from pyln.proto.onion import RoutingOnion
    from pyln.proto.primitives import PrivateKey

    payload, nxt = RoutingOnion.from_bin(packet).unwrap(PrivateKey(node_key), ad)
    return payload, None if nxt is None else bytes(nxt.to_bin())


def payload_kind(payload: OnionPayload) -> str:
    return type(payload).__name__


def payload_bytes(payload: OnionPayload) -> bytes:
    """The payload as transmitted (without prefix). TlvPayload re-serializes its fields, which
    reproduces the wire bytes only for canonical streams; RawPayload keeps the raw content."""
    from pyln.proto.onion import LegacyOnionPayload, RawPayload, TlvPayload

    assert isinstance(payload, TlvPayload | RawPayload | LegacyOnionPayload)
    return bytes(payload.to_bytes(include_prefix=False))


def pyln_tlv_records(stream: bytes) -> list[tuple[int, bytes]]:
    """TlvPayload.from_bytes on a bare stream (no length prefix) as (type, value) pairs."""
    from pyln.proto.onion import TextField, TlvPayload

    fields = TlvPayload.from_bytes(stream, skip_length=True).fields
    return [(f.typenum, f.value.encode() if isinstance(f, TextField) else f.value) for f in fields]
