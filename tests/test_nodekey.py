"""The node key as an interface: 32 raw bytes, a `PrivateNodeKey` and any object with
`ecdh(point)` give the same BOLT 4 shared secret, and a key that is none of these is the
caller's error.

The expected secrets are BOLT 4's packet construction vector (04-onion-routing.md › Test
Vector; onion-test.json): node keys 0x41…41 and 0x42…42, the ephemeral keys the packet gives
them, and the hop shared secrets the spec's earlier text printed (the same values stand in
lightning-onion's and eclair's Sphinx tests)."""

from __future__ import annotations

import pytest

from sphinxamp.errors import InvalidArgument, InvalidSecret
from sphinxamp.primitives import NodeKey, PrivateNodeKey, shared_secret
from sphinxamp.primitives._crypto import parse_point

# (node private key, ephemeral public key it receives, hop shared secret)
HOPS = [
    ("41" * 32, "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619",
     "53eb63ea8a3fec3b3cd433b85cd62a4b145e1dda09391b348c4e1cd36a03ea66"),
    ("42" * 32, "028f9438bfbf7feac2e108d677e3a82da596be706cc1cf342b75c7b7e22bf4e6e2",
     "a6519e98832a0b179f62123b3567c106db99ee37bef036e783263602f3488fae"),
]


class SignerKey:
    """A key that lives elsewhere (a signer, an HSM): only its ECDH is reachable."""

    def __init__(self, secret: bytes) -> None:
        self._inner = PrivateNodeKey(secret)
        self.calls: list[bytes] = []

    def ecdh(self, point: bytes) -> bytes:
        self.calls.append(point)
        return self._inner.ecdh(point)


class _BadEcdh:
    def __init__(self, answer: object) -> None:
        self.answer = answer

    def ecdh(self, point: bytes) -> object:
        return self.answer


@pytest.mark.parametrize(("key", "point", "secret"), HOPS)
def test_raw_key_and_key_objects_give_the_vectors_secret(key: str, point: str,
                                                         secret: str) -> None:
    raw, parsed = bytes.fromhex(key), parse_point(bytes.fromhex(point))
    signer = SignerKey(raw)
    assert shared_secret(raw, parsed).hex() == secret
    assert shared_secret(PrivateNodeKey(raw), parsed).hex() == secret
    assert shared_secret(signer, parsed).hex() == secret
    assert signer.calls == [bytes.fromhex(point)]  # the compressed point, as BOLT 4 hashes it
    assert PrivateNodeKey(raw).ecdh(bytes.fromhex(point)).hex() == secret


def test_private_node_key_is_a_node_key_and_hides_its_secret() -> None:
    key = PrivateNodeKey(b"\x41" * 32)
    assert isinstance(key, NodeKey)
    assert "41" not in repr(key)
    # BOLT 4 test vector: 0x41…41 is the key whose point is the first hop's ephemeral key.
    assert key.public_key.hex() == HOPS[0][1]


@pytest.mark.parametrize("secret", [b"", b"\x41" * 31, b"\x41" * 33, bytes(32),
                                    bytes.fromhex("ff" * 32)])
def test_bad_raw_key_is_invalid_secret(secret: bytes) -> None:
    parsed = parse_point(bytes.fromhex(HOPS[0][1]))
    with pytest.raises(InvalidSecret) as info:
        shared_secret(secret, parsed)
    assert info.value.field == "node_key"
    with pytest.raises(InvalidSecret):
        PrivateNodeKey(secret)


def test_object_without_ecdh_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as info:
        shared_secret("41" * 32, parse_point(bytes.fromhex(HOPS[0][1])))  # type: ignore[arg-type]
    assert (info.value.field, info.value.reason) == ("node_key", "invalid_key_object")


@pytest.mark.parametrize("answer", [b"\x00" * 31, "00" * 32, None])
def test_ecdh_answer_that_is_not_32_bytes_is_invalid_argument(answer: object) -> None:
    with pytest.raises(InvalidArgument) as info:
        # deliberately breaks the NodeKey contract: ecdh returns something else than bytes
        shared_secret(_BadEcdh(answer), parse_point(bytes.fromhex(HOPS[0][1])))  # type: ignore[arg-type]
    assert (info.value.field, info.value.reason) == ("node_key", "invalid_ecdh_result")


@pytest.mark.parametrize("point", [b"", b"\x02" * 32, b"\x04" + b"\x01" * 32, b"\x02" + bytes(32)])
def test_private_node_key_refuses_a_bad_point(point: bytes) -> None:
    with pytest.raises(InvalidArgument) as info:
        PrivateNodeKey(b"\x41" * 32).ecdh(point)
    assert info.value.reason == "invalid_point"
