"""The one ChaCha20-Poly1305 of route blinding (`sphinxamp.primitives.aead_encrypt` /
`aead_decrypt`: zero nonce, no associated data) against BOLT 4's route-blinding-test, which
publishes each hop's rho, its encrypted_data_tlv and the sealed encrypted_recipient_data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sphinxamp.primitives import aead_decrypt, aead_encrypt

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "bolt04-route-blinding.json"


def _published() -> list[tuple[bytes, bytes, bytes]]:
    """(rho, plaintext, sealed) of every hop of the recorded `create` case."""
    doc = json.loads(VECTORS.read_text(encoding="utf-8"))
    (case,) = [c for c in doc["cases"] if c["id"] == "create"]
    plain = [bytes.fromhex(h["encrypted_data_tlv"]) for r in case["routes"] for h in r["hops"]]
    hops = case["expect"]["hops"]
    assert len(plain) == len(hops) == 4
    return [(bytes.fromhex(h["rho"]), p, bytes.fromhex(h["encrypted_recipient_data"]))
            for h, p in zip(hops, plain, strict=True)]


HOPS = _published()


@pytest.mark.parametrize(("rho", "plaintext", "sealed"), HOPS)
def test_seals_as_published(rho: bytes, plaintext: bytes, sealed: bytes) -> None:
    assert aead_encrypt(rho, plaintext) == sealed
    assert aead_decrypt(rho, sealed) == plaintext


@pytest.mark.parametrize(("rho", "plaintext", "sealed"), HOPS)
def test_refuses_what_does_not_authenticate(rho: bytes, plaintext: bytes, sealed: bytes
                                             ) -> None:
    for i in (0, len(sealed) // 2, len(sealed) - 1):
        damaged = bytearray(sealed)
        damaged[i] ^= 1
        assert aead_decrypt(rho, bytes(damaged)) is None
    other = HOPS[(HOPS.index((rho, plaintext, sealed)) + 1) % len(HOPS)][0]
    assert aead_decrypt(other, sealed) is None
    assert aead_decrypt(rho, sealed[:15]) is None
    assert aead_decrypt(rho, b"") is None
