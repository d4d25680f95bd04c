"""`sphinxamp demo`: a payment onion built over five hops and peeled at each, as the nodes
on the route would see it.

Every key is fixed so two runs print the same bytes: the session key, the associated data
and the node keys are those of the BOLT 4 test vector (`bolt04/onion-test.json`: session key
0x41…, associated data 0x42…, node i's private key is the byte 0x40+i repeated), while the
route, fees and payloads are this demo's own. Each section is a function returning its lines,
so further stories (AMP, failures) are appended to `SECTIONS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from sphinxamp import (
    HopPayload,
    OnionPacket,
    PaymentData,
    RouteHop,
    RouteOnion,
    ShortChannelId,
    build_route_onion,
    process_hop,
    public_key,
)
from sphinxamp.cli import _render as render
from sphinxamp.cli._common import Subparsers, emit_json
from sphinxamp.cli._demo_amp import amp_json, amp_section
from sphinxamp.cli._demo_more import blinded_section, failure_section, stories_json
from sphinxamp.cli._demo_trampoline import trampoline_json, trampoline_section
from sphinxamp.cli._options import add_json_flag
from sphinxamp.primitives import sha256

NODE_KEYS = tuple(bytes([0x41 + i]) * 32 for i in range(5))
NODE_IDS = tuple(public_key(k) for k in NODE_KEYS)
SESSION_KEY = bytes([0x41]) * 32
PAYMENT_HASH = bytes([0x42]) * 32  # the associated data of a payment onion
PAYMENT_SECRET = bytes([0x53]) * 32  # from the receiver's invoice (BOLT 11 `s` field)

BLOCK_HEIGHT = 840_000
AMOUNT_MSAT = 25_000_000  # 25 000 sat to the receiver
MIN_FINAL_CLTV_EXPIRY_DELTA = 80  # BOLT 11 `c`: the receiver's margin
# The four forwarding nodes: the channel each forwards over and its channel_update fees.
FORWARDERS = (
    (ShortChannelId(812_345, 1_021, 1), 1_000, 100, 80),
    (ShortChannelId(820_016, 377, 0), 0, 250, 144),
    (ShortChannelId(833_070, 2_902, 3), 500, 50, 40),
    (ShortChannelId(839_811, 12, 1), 1_000, 1, 34),
)

Section = Callable[[], list[str]]


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="build a 5-hop payment onion and peel it at every hop",
        description="Build a payment onion over five hops with fixed keys (those of the BOLT 4 "
        "test vector), peel it at every hop, and print what each node reads: its payload, the "
        "fee and cltv delta it keeps, the SHA-256 of the packet it forwards, or that the "
        "payment is for itself; then an AMP payment settled atomically, a payment into a "
        "blinded path, and a failure carried back with attribution data. --json prints "
        "{\"payment\", \"amp\", \"blinded\", \"failure\"}, the payment section as {"
        "\"onion\", \"onion_sha256\", \"session_key\", \"associated_data\", "
        "\"htlc_amount_msat\", \"htlc_cltv_expiry\", \"hops\": [{\"index\", \"node_id\", "
        "\"role\", \"shared_secret\", \"payload\", \"next_onion_sha256\"}]}}.",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def short(data: bytes) -> str:
    return f"{data[:4].hex()}…{data[-4:].hex()}"


def payment_route() -> RouteOnion:
    hops = [RouteHop(NODE_IDS[i], scid, base, ppm, delta)
            for i, (scid, base, ppm, delta) in enumerate(FORWARDERS)]
    final = HopPayload(
        amt_to_forward=AMOUNT_MSAT,
        outgoing_cltv_value=BLOCK_HEIGHT + MIN_FINAL_CLTV_EXPIRY_DELTA,
        payment_data=PaymentData(PAYMENT_SECRET, AMOUNT_MSAT),
    )
    return build_route_onion(NODE_IDS[-1], hops, final, PAYMENT_HASH, SESSION_KEY)


def payload_lines(payload: HopPayload) -> list[str]:
    fields = [(name, value) for name, value in
              ((f, getattr(payload, f)) for f in HopPayload.__dataclass_fields__)
              if value is not None and value != ()]
    width = max(len(name) for name, _ in fields)
    return [f"    {name:<{width}}  {render.human_value(value)}" for name, value in fields]


def payment_section() -> list[str]:
    """The sender builds one onion; each node peels its layer, reads its payload and either
    forwards the next packet or, at the end, finds the payment is for itself."""
    route = payment_route()
    packet: OnionPacket | None = route.onion.packet
    onion = route.onion.to_bytes()
    lines = [
        "== A payment onion over 5 hops (BOLT 4) ==",
        f"session key {short(SESSION_KEY)}   payment hash (associated data) "
        f"{short(PAYMENT_HASH)}",
        f"The sender offers hop 0 an HTLC of {route.htlc_amount_msat} msat expiring at block "
        f"{route.htlc_cltv_expiry} (height now {BLOCK_HEIGHT}),",
        f"with a {len(onion)}-byte onion, sha256 {sha256(onion).hex()}.",
        "Each node checks the onion's HMAC, decrypts its own payload and passes on a packet of "
        "the same size.",
        "Hops count from 0, the first after the sender (hops[0], as BOLT 4's vectors number "
        "them).",
    ]
    amount_in, cltv_in = route.htlc_amount_msat, route.htlc_cltv_expiry
    for i, (node_key, sent) in enumerate(zip(NODE_KEYS, route.payloads, strict=True)):
        assert packet is not None  # only the last hop sees no next packet
        hop = process_hop(packet, node_key, PAYMENT_HASH, incoming_amount_msat=amount_in,
                          incoming_cltv_expiry=cltv_in, current_block_height=BLOCK_HEIGHT)
        payload = hop.payload
        lines += ["", f"hop {i}  node {NODE_IDS[i].hex()}  (private key {node_key[0]:02x}×32)",
                  f"  peeled: {len(hop.raw_payload)}-byte {hop.role.value} payload, shared secret "
                  f"{short(hop.shared_secret)}, "
                  f"{'as the sender wrote it' if payload == sent else 'DIFFERS from the sender'}"]
        lines += payload_lines(payload)
        assert payload.amt_to_forward is not None and payload.outgoing_cltv_value is not None
        if hop.next_packet is None:
            lines.append(f"  final: the next HMAC is all zero, the payment is for this node; "
                         f"it received {amount_in} msat of {payload.amt_to_forward} expected")
        else:
            lines.append(f"  forwards {payload.amt_to_forward} msat (fee kept "
                         f"{amount_in - payload.amt_to_forward}), cltv delta "
                         f"{cltv_in - payload.outgoing_cltv_value}")
            lines.append("  next packet sha256 "
                         + sha256(hop.next_packet.to_bytes()).hex())
        amount_in, cltv_in = payload.amt_to_forward, payload.outgoing_cltv_value
        packet = hop.next_packet
    return lines


SECTIONS: tuple[Section, ...] = (payment_section, amp_section, blinded_section, failure_section,
                                 trampoline_section)


def payment_json() -> dict[str, Any]:
    """The payment section as data: the onion and what every hop reads from it."""
    route = payment_route()
    packet: OnionPacket | None = route.onion.packet
    hops = []
    amount_in: int | None = route.htlc_amount_msat
    cltv_in: int | None = route.htlc_cltv_expiry
    for i, node_key in enumerate(NODE_KEYS):
        assert packet is not None
        hop = process_hop(packet, node_key, PAYMENT_HASH, incoming_amount_msat=amount_in,
                          incoming_cltv_expiry=cltv_in, current_block_height=BLOCK_HEIGHT)
        amount_in, cltv_in = hop.payload.amt_to_forward, hop.payload.outgoing_cltv_value
        nxt = hop.next_packet
        hops.append({"index": i, "node_id": NODE_IDS[i].hex(), "role": hop.role.value,
                     "shared_secret": hop.shared_secret.hex(),
                     "payload": render.payload_fields(hop.payload),
                     "next_onion_sha256": None if nxt is None
                     else sha256(nxt.to_bytes()).hex()})
        packet = nxt
    onion = route.onion.to_bytes()
    return {"session_key": SESSION_KEY.hex(), "associated_data": PAYMENT_HASH.hex(),
            "htlc_amount_msat": route.htlc_amount_msat,
            "htlc_cltv_expiry": route.htlc_cltv_expiry, "onion": onion.hex(),
            "onion_sha256": sha256(onion).hex(), "hops": hops}


def run(args: argparse.Namespace) -> int:
    if args.json:
        emit_json({"payment": payment_json(), "amp": amp_json(), **stories_json(),
                   **trampoline_json()})
        return 0
    out: list[str] = []
    for section in SECTIONS:
        if out:
            out.append("")
        out += section()
    sys.stdout.write("\n".join(out) + "\n")
    return 0
