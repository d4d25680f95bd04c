"""Blinded payment routes built straight from BOLT 4 › Route Blinding with coincurve and
cryptography, independently of the library's own route blinding, for process_hop's tests."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from coincurve import PrivateKey, PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from sphinxamp import build_onion

ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
AD = bytes([0x42]) * 32


@dataclass(frozen=True)
class BlindedHopSpec:
    """A hop inside the blinded path: its node's secret, the clear records of its onion
    payload (hex TLV with one-byte types and lengths), and the plaintext of its
    encrypted_recipient_data (None: no record 10 at all)."""

    node_secret: bytes
    extra: bytes
    encrypted_data_tlv: bytes | None


def blinded_tlv(records: dict[int, bytes]) -> bytes:
    return b"".join(bytes((t, len(v))) + v for t, v in sorted(records.items()))


def intermediate_data() -> bytes:
    """short_channel_id, payment_relay (cltv delta 144, 100 ppm, base 1000) and
    payment_constraints (max_cltv_expiry 1_000_000, htlc_minimum_msat 1)."""
    return blinded_tlv({
        2: bytes.fromhex("0000010000020003"),
        10: (144).to_bytes(2, "big") + (100).to_bytes(4, "big") + (1000).to_bytes(2, "big"),
        12: (1_000_000).to_bytes(4, "big") + b"\x01",
    })


def _records(raw: bytes) -> dict[int, bytes]:
    out, i = {}, 0
    while i < len(raw):
        t, n = raw[i], raw[i + 1]
        out[t] = raw[i + 2 : i + 2 + n]
        i += 2 + n
    return out


def _encode(records: dict[int, bytes]) -> bytes:
    return b"".join(bytes((t, len(v))) + v for t, v in sorted(records.items()))


def blinded_route_onion(
    session: bytes, clear: Sequence[tuple[bytes, bytes]], blinded: Sequence[BlindedHopSpec],
    path_session: bytes, *, first_is_introduction: bool = True,
) -> tuple[bytes, list[bytes]]:
    """The onion, and the path key E_i of every blinded hop (what update_add_htlc carries,
    except at an introduction node, whose payload holds E_0 as current_path_key)."""
    e = int.from_bytes(path_session, "big")
    hops = list(clear)
    path_keys = []
    for i, spec in enumerate(blinded):
        node = PrivateKey(spec.node_secret).public_key
        big_e = PrivateKey(e.to_bytes(32, "big")).public_key.format()
        path_keys.append(big_e)
        ss = PrivateKey(e.to_bytes(32, "big")).ecdh(node.format())
        records = _records(spec.extra)
        if spec.encrypted_data_tlv is not None:
            rho = hmac.digest(b"rho", ss, "sha256")
            records[10] = ChaCha20Poly1305(rho).encrypt(bytes(12), spec.encrypted_data_tlv, b"")
        intro = first_is_introduction and i == 0
        if intro:
            records[12] = big_e
            target = node.format()
        else:
            factor = hmac.digest(b"blinded_node_id", ss, "sha256")
            target = PublicKey(node.format()).multiply(factor).format()
        hops.append((target, _encode(records)))
        e = e * int.from_bytes(hashlib.sha256(big_e + ss).digest(), "big") % ORDER
    return build_onion(session, hops, AD).to_bytes(), path_keys
