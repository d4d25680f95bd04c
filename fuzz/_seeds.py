"""Hand-made seeds: typical payloads of every role, onions built and peeled here, and the edge
cases (boundary BigSizes, hostile lengths, bad points) the vectors do not cover."""

from __future__ import annotations

import hmac
from typing import Any

import _peel
import coincurve

from sphinxamp._payload import AmpRecord, HopPayload, PaymentData
from sphinxamp.onion._sphinx import build_onion, peel_onion
from sphinxamp.wire._bigsize import encode_bigsize
from sphinxamp.wire._tlv import ShortChannelId, TlvRecord

BUILT_KEYS = tuple(bytes([b] * 32) for b in (0x41, 0x42, 0x43, 0x44))
SESSION_KEY = bytes([0x03] * 32)
PATH_SECRET = bytes([0x02] * 32)
PAYMENT_AD = bytes([0x42] * 32)
KEYSEND_TYPE = 5482373484


def payloads() -> set[bytes]:
    """One or more well-formed payloads per role, and a few that break a role rule."""
    scid = ShortChannelId(700000, 1234, 1)
    pd = PaymentData(bytes([0x11] * 32), 250_000)
    amp = AmpRecord(bytes([0x22] * 32), bytes([0x33] * 32), 7)
    odd = (TlvRecord(513, b"\x01\x02"),)
    custom = (TlvRecord(65537, b"app"), TlvRecord(KEYSEND_TYPE + 1, b""))
    built = [
        HopPayload(1000, 700, scid),
        HopPayload(1000, 700, scid, unknown_records=odd),
        HopPayload(0, 0, ShortChannelId(0, 0, 0)),
        HopPayload(250_000, 800_000, payment_data=pd),
        HopPayload(250_000, 800_000, payment_data=pd, amp=amp, payment_metadata=b"meta"),
        HopPayload(1, 1, keysend_preimage=bytes([0x44] * 32), custom_records=custom),
        HopPayload(encrypted_recipient_data=bytes(49)),
        HopPayload(encrypted_recipient_data=b"\xaa" * 20, current_path_key=_point(PATH_SECRET)),
        HopPayload(100, 144, encrypted_recipient_data=b"\xbb" * 30, total_amount_msat=100),
        HopPayload(100, 144, encrypted_recipient_data=bytes(16),
                   current_path_key=_point(SESSION_KEY), total_amount_msat=1 << 63),
        HopPayload(1000, 700),  # intermediate without short_channel_id
        HopPayload(1000, 700, scid, payment_data=pd),  # forwarding hop with payment data
    ]
    return {p.encode() for p in built}


def _point(secret: bytes) -> bytes:
    return coincurve.PrivateKey(secret).public_key.format()


def _blind(node_key: bytes, path_secret: bytes) -> bytes:
    """The blinded node id a sender builds to: node_id · HMAC("blinded_node_id", ss)."""
    ss = coincurve.PrivateKey(path_secret).ecdh(_point(node_key))
    factor = hmac.digest(b"blinded_node_id", ss, "sha256")
    return coincurve.PublicKey(_point(node_key)).multiply(factor).format()


def _peel_all(onion: bytes, keys: list[bytes], ad: bytes, area: int | None,
              path_key: bytes | None) -> list[tuple[_peel.PeelInput, Any]]:
    """Every layer of a built onion as a peel_raw input (with the hop it yields)."""
    out = []
    for key in keys:
        inp = _peel.PeelInput(key, area is None, path_key, ad, onion)
        hop = peel_onion(onion, key, ad, **inp.kwargs())
        out.append((inp, hop))
        if hop.next_packet is None:
            break
        onion = hop.next_packet.to_bytes()
    return out


def built_peels(found_payloads: set[bytes]) -> list[tuple[_peel.PeelInput, Any]]:
    pubs = [_point(k) for k in BUILT_KEYS]
    small = sorted(p for p in found_payloads if 2 <= len(p) <= 300)[:8]
    out = []
    for i in range(0, len(small), 4):
        route = small[i:i + 4]
        hops = list(zip(pubs, route, strict=False))
        onion = build_onion(SESSION_KEY, hops, PAYMENT_AD).to_bytes()
        out += _peel_all(onion, list(BUILT_KEYS), PAYMENT_AD, 1300, None)
    # A payload that fills the routing area exactly, the case the filler is hardest on.
    value_len = 1300 - 32 - 3 - 1 - 3  # area - HMAC - frame length - record type - length
    full = b"\x01" + encode_bigsize(value_len) + bytes(value_len)
    onion = build_onion(SESSION_KEY, [(pubs[0], full)], PAYMENT_AD).to_bytes()
    out += _peel_all(onion, [BUILT_KEYS[0]], PAYMENT_AD, 1300, None)
    # A hop inside a blinded route: built to the blinded id, peeled with the path key.
    blinded = _blind(BUILT_KEYS[0], PATH_SECRET)
    payload = HopPayload(100, 144, encrypted_recipient_data=b"\xbb" * 30,
                         total_amount_msat=100).encode()
    onion = build_onion(SESSION_KEY, [(blinded, payload)], PAYMENT_AD).to_bytes()
    out += _peel_all(onion, [BUILT_KEYS[0]], PAYMENT_AD, 1300, _point(PATH_SECRET))
    # Onion messages: small routing areas, empty payloads allowed, no associated data.
    for area, msg in ((128, b""), (300, b"\x40\x05hello")):
        hops = [(pubs[0], b"\x04\x00"), (pubs[1], msg)]
        onion = build_onion(SESSION_KEY, hops, b"", area, min_payload_length=0).to_bytes()
        out += _peel_all(onion, list(BUILT_KEYS[:2]), b"", None, None)
    return out


def _bigsize_edges() -> dict[str, bytes]:
    cases = ["", "fc", "fd", "fd00", "fd00fc", "fd00fd", "fdffff", "fe0000ffff", "fe00010000",
             "feffffffff", "ff00000000ffffffff", "ff0000000100000000", "ffffffffffffffffff",
             "00ff", "0100", "01ff00", "02ffff", "020001", "0800ffffffffffffff",
             "08ffffffffffffffff", "01000000000000000000"]
    return {f"edge-{h or 'empty'}": bytes.fromhex(h) for h in cases}


def _stream_edges() -> dict[str, bytes]:
    cases = {
        "empty": "", "huge-length-u64": "01ffffffffffffffffff", "huge-length-u32": "01fe7fffffff00",
        "length-past-end": "01fd0100aa", "type-max": "ffffffffffffffffff00",
        "dup": "01000100", "descending": "03000100", "zero-type": "0000",
        "many-small": "".join(f"{t:02x}00" for t in range(1, 200, 2)),
        "custom-even": "fe0001000000", "keysend-type": "ff0000000146c6616c00",
    }
    return {f"edge-{k}": bytes.fromhex(v) for k, v in cases.items()}


def _packet_edges() -> dict[str, bytes]:
    key = _point(SESSION_KEY)
    base = b"\x00" + key + bytes(1300) + bytes(32)
    return {
        "edge-zero-key": b"\x00" * 1366, "edge-version1": b"\x01" + base[1:],
        "edge-key04": b"\x00\x04" + base[2:], "edge-short": base[:-1], "edge-long": base + b"\x00",
        "edge-min-message": b"\x00" + key + bytes(32), "edge-below-min": b"\x00" + key,
        "edge-message-32834": b"\x00" + key + bytes(32768) + bytes(32), "edge-valid": base,
    }


def _reseal_edges(found_payloads: set[bytes]) -> dict[str, bytes]:
    """Plaintext routing areas: each payload framed as a final hop (zero next HMAC) and as a
    forwarding one, in payment and blinded mode, plus frames that break the size rules."""
    out = {}
    for i, p in enumerate(sorted(found_payloads)):
        framed = encode_bigsize(len(p)) + p
        for flags in (0, _peel.BLINDED):
            out[f"edge-final{i}-f{flags}"] = bytes((flags,)) + framed + bytes(32)
            out[f"edge-fwd{i}-f{flags}"] = bytes((flags,)) + framed + b"\x5a" * 32 + b"\x01"
    out.update({
        "edge-len0": b"\x00\x00", "edge-len1": b"\x00\x01\x01",
        "edge-past-area": b"\x00" + encode_bigsize(1300 - 32), "edge-fits-area":
            b"\x00" + encode_bigsize(1300 - 35) + b"\x01\x00" + bytes(1300 - 37),
        "edge-msg-empty": b"\x01\x00" + bytes(32), "edge-msg-tlv": b"\x01\x07\x40\x05hello"
            + bytes(32),
    })
    return out


def edges(found_payloads: set[bytes]) -> dict[str, dict[str, bytes]]:
    streams = _stream_edges()
    pay = {k: v for k, v in streams.items() if len(v) < 64}
    return {
        "bigsize": _bigsize_edges(),
        "tlv_stream": streams,
        "tlv_typed": {f"{k}-ns{n}": bytes((n,)) + v for k, v in streams.items() for n in range(3)},
        "payload_intermediate": pay, "payload_final": pay,
        "payload_blinded_intermediate": pay, "payload_blinded_final": pay,
        "onion_packet": _packet_edges(),
        "peel_reseal": _reseal_edges(found_payloads),
    }
