"""Attribution data on routes longer than its 20 hop slots (BOLT 4 › Returning Errors ›
Initialization of `attribution_data`: "the maximum supported number of hops in a route (20)";
› Origin node: decrypt "until the loop has been repeated 27 times (maximum route length of
tlv payload type)").

A route may have up to 27 hops; the attribution data carries hold times and HMACs for the 20
hops nearest the origin. The origin verifies those 20 (each hop i at distance
min(n, 20) − 1 − i, the chain of HMACs that reaches the last attributable hop) and never
raises for the bytes it received. LDK does the same
(lightningdevkit/rust-lightning, lightning/src/ln/onion_utils.rs,
`process_onion_failure_inner` and `decode_fulfill_attribution_data`: `attributable_hop_count
= min(path length, MAX_HOPS)`, position `attributable_hop_count − route_hop_idx − 1`).
"""

from __future__ import annotations

import hashlib

import pytest

from sphinxamp import FailureMessage, create_failure, decrypt_failure, wrap_failure
from sphinxamp.failures import (
    FailureReply,
    create_attribution,
    verify_attribution,
    wrap_attribution,
)
from sphinxamp.failures._attribution import MAX_HOPS

MESSAGE = FailureMessage.create("temporary_node_failure")


def secrets(n: int) -> list[bytes]:
    return [hashlib.sha256(b"hop %d" % i).digest() for i in range(n)]


def send_back(route: list[bytes], erring: int, damaged: int | None = None,
              what: str = "attribution") -> FailureReply:
    """The failure from `erring` relayed to the origin, each hop i reporting hold time i + 1;
    `damaged` flips the first bit of the attribution data (its hold time) or of the packet
    that hop sends."""
    reply = create_failure(route[erring], MESSAGE, hold_time=erring + 1)
    for hop in range(erring, -1, -1):
        if hop < erring:
            reply = wrap_failure(route[hop], reply.packet, reply.attribution_data,
                                 hold_time=hop + 1)
        if hop == damaged:
            packet, data = reply.packet, reply.attribution_data or b""
            if what == "packet":
                packet = bytes([packet[0] ^ 0x01]) + packet[1:]
            else:
                data = bytes([data[0] ^ 0x01]) + data[1:]
            reply = FailureReply(packet, data)
    return reply


@pytest.mark.parametrize(("n", "erring"), [
    (21, 20), (27, 26), (27, 19), (27, 22), (27, 5), (24, 0), (20, 19),
])
def test_origin_verifies_the_first_twenty_hops_of_a_long_route(n: int, erring: int) -> None:
    route = secrets(n)
    reply = send_back(route, erring)
    result = decrypt_failure(reply.packet, route, reply.attribution_data)
    assert result.hop_index == erring and result.message == MESSAGE
    assert result.attribution_error is None and result.attribution is not None
    covered = min(erring + 1, MAX_HOPS)
    assert [(a.hop_index, a.hold_time, a.hmac_ok) for a in result.attribution] == \
        [(i, i + 1, True) for i in range(covered)]


@pytest.mark.parametrize(("n", "damaged"), [(27, 0), (27, 7), (27, 19), (22, 13)])
def test_damage_within_the_first_twenty_is_blamed_on_a_long_route(n: int, damaged: int) -> None:
    route = secrets(n)
    reply = send_back(route, n - 1, damaged)
    result = decrypt_failure(reply.packet, route, reply.attribution_data)
    assert result.hop_index == n - 1
    assert result.attribution is not None
    assert [a.hmac_ok for a in result.attribution] == [True] * damaged + [False]


def test_damage_past_the_twentieth_hop_is_beyond_attribution() -> None:
    """Hop 20 and later have no slot: what they send is covered by hop 19's HMACs as hop 19
    received it, so every one of the 20 verifies."""
    route = secrets(27)
    reply = send_back(route, 26, damaged=23)
    result = decrypt_failure(reply.packet, route, reply.attribution_data)
    assert result.attribution is not None
    assert [a.hmac_ok for a in result.attribution] == [True] * MAX_HOPS


@pytest.mark.parametrize(("damaged", "verdicts"), [
    (0, [False]),  # hop 0's HMAC covers the packet it sent: the origin's neighbour is blamed
    (12, [True] * 12 + [False]),
    (23, [True] * MAX_HOPS),  # past the 20 slots: hop 19 signed what it received
])
def test_unattributable_packet_on_a_long_route(damaged: int, verdicts: list[bool]) -> None:
    """A return packet that names no hop: the attribution data checks the first 20 hops
    (BOLT 4 › Origin node: SHOULD use `attribution_data` to identify the failure source)."""
    route = secrets(27)
    reply = send_back(route, 26, damaged, "packet")
    result = decrypt_failure(reply.packet, route, reply.attribution_data)
    assert result.hop_index is None
    assert result.attribution is not None
    assert [a.hmac_ok for a in result.attribution] == verdicts


@pytest.mark.parametrize("n", [21, 27])
def test_success_attribution_on_a_long_route(n: int) -> None:
    """On success (no return packet) the same 20 hops report their hold times."""
    route = secrets(n)
    blob = create_attribution(route[-1], n)
    for hop in range(n - 2, -1, -1):
        blob = wrap_attribution(route[hop], hop + 1, blob)
    verdicts = verify_attribution(blob, route)
    assert [(v.hop_index, v.hold_time, v.hmac_ok) for v in verdicts] == \
        [(i, i + 1, True) for i in range(MAX_HOPS)]


def test_random_attribution_bytes_on_a_long_route_do_not_raise() -> None:
    route = secrets(27)
    reply = send_back(route, 26)
    noise = hashlib.sha256(b"noise").digest() * 29  # 928 bytes
    for data in (noise[:920], noise[:919], b""):
        result = decrypt_failure(reply.packet, route, data)
        assert result.hop_index == 26
        assert (result.attribution is None) == (len(data) != 920)
