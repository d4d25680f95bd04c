"""Invariants shared by the two peel targets, and the input layout of `peel_raw`.

`peel_raw` input: node_key(32) ‖ flags(1) ‖ [path_key(33) if flags & 2] ‖ ad_len(1) ‖ ad ‖
packet. Flag bit 0 selects the onion-message reading (payload area implied by the packet's
length, payloads of length 0 allowed); otherwise the packet is cut or zero-padded to 1366
bytes. Bit 1 says the HTLC carried a path key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import _common

from sphinxamp import errors as errors
from sphinxamp.onion._sphinx import OnionPacket, peel_onion

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MESSAGE, BLINDED = 1, 2
PAYMENT_SIZE = 1366
# A peel copies the routing area a handful of times (decrypt, shift, next packet); anything
# beyond a constant plus that is an allocation driven by something other than the input.
PEEL_MEM_BASE = 256 * 1024


@dataclass(frozen=True)
class PeelInput:
    node_key: bytes
    message: bool
    path_key: bytes | None
    associated_data: bytes
    packet: bytes

    def kwargs(self) -> dict[str, Any]:
        return {
            "payload_area": None if self.message else 1300,
            "path_key": self.path_key,
            "min_payload_length": 0 if self.message else 2,
        }

    def encode(self) -> bytes:
        flags = (MESSAGE if self.message else 0) | (BLINDED if self.path_key else 0)
        return b"".join((self.node_key, bytes((flags,)), self.path_key or b"",
                         bytes((len(self.associated_data),)), self.associated_data,
                         self.packet))


def split_input(data: bytes) -> PeelInput | None:
    """The fields of a `peel_raw` input, or None when it is too short to hold them."""
    if len(data) < 34:
        return None
    key, flags, pos = data[:32], data[32], 33
    path_key = None
    if flags & BLINDED:
        path_key, pos = data[pos:pos + 33], pos + 33
    if pos >= len(data):
        return None
    ad_len = data[pos]
    ad, pos = data[pos + 1:pos + 1 + ad_len], pos + 1 + ad_len
    if len(ad) != ad_len:
        return None
    packet = data[pos:]
    if not flags & MESSAGE:
        # A payment onion has one size; a packet of any other is refused before any
        # cryptography (onion_packet covers that), so fix the size and spend the executions
        # on the key, MAC and frame checks instead.
        packet = packet[:PAYMENT_SIZE].ljust(PAYMENT_SIZE, b"\x00")
    return PeelInput(key, bool(flags & MESSAGE), path_key, ad, packet)


def valid_secret(key: bytes) -> bool:
    """The node's own key is configuration, not attacker input: invalid ones are skipped."""
    return 0 < int.from_bytes(key, "big") < CURVE_ORDER


def peel(inp: PeelInput) -> _common.Outcome:
    return _common.deterministic(
        len(inp.packet), peel_onion, inp.packet, inp.node_key, inp.associated_data,
        base=PEEL_MEM_BASE, **inp.kwargs())


def check_refusal(err: _common.Refusal) -> None:
    """Only packet-level refusals exist: malformed framing, or a payload error after the MAC."""
    framing = type(err) is errors.DecodeError and err.reason == "packet_length"
    assert framing or isinstance(err, errors.BadOnionError | errors.InvalidOnionPayload), (
        f"peel refused with {type(err).__name__} ({err.reason})")


def check_peeled(inp: PeelInput, hop: Any) -> None:
    """A successful peel: sizes kept, finality consistent, next packet well-formed, and the
    MAC covering everything it must (one tampered byte, picked by the input, is refused)."""
    area = len(inp.packet) - 66
    assert len(hop.shared_secret) == 32
    assert len(hop.payload) >= (0 if inp.message else 2)
    if hop.next_packet is not None:
        nxt = hop.next_packet.to_bytes()
        assert len(nxt) == len(inp.packet), "forwarded packet changed size"
        assert OnionPacket.parse(nxt, area) == hop.next_packet
        assert hop.next_packet.hmac != bytes(32)
    where = sum(inp.packet) % (len(inp.packet) - 1 + len(inp.associated_data))
    packet, ad = bytearray(inp.packet), bytearray(inp.associated_data)
    if where < len(packet) - 1:
        packet[1 + where] ^= 0x01  # anything after the version byte: key, payloads or MAC
    else:
        ad[where - len(packet) + 1] ^= 0x01
    tampered = _common.call(peel_onion, bytes(packet), inp.node_key, bytes(ad), **inp.kwargs())
    assert tampered.error is not None, "a tampered packet was accepted"
    assert isinstance(tampered.error, errors.InvalidOnionHmac | errors.InvalidOnionKey), (
        f"tampered packet refused with {type(tampered.error).__name__}, not the MAC check")
