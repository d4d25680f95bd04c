"""The demo's trampoline story (lightning/bolts#836 › Trampoline Payments): the sender knows
a route to Bob only; Bob, a trampoline node, finds the trampoline onion in his payload,
peels it and learns he must pay Carol, the recipient. Fixed keys: every run prints the same.
"""

from __future__ import annotations

from typing import Any

from sphinxamp import ProcessedHop, process_hop, public_key
from sphinxamp.payments import (
    TrampolineCarrier,
    TrampolinePayload,
    build_trampoline_payment,
    wrap_trampoline_onion,
)

BOB, CAROL = bytes([0x42]) * 32, bytes([0x43]) * 32
PAYMENT_HASH = bytes([0x42]) * 32
HEIGHT = 840_000


def trampoline_story() -> tuple[ProcessedHop, ProcessedHop]:
    """Bob's and Carol's processing: Bob forwards the trampoline onion to Carol in a new
    payment onion of his own; Carol receives."""
    carol = public_key(CAROL)
    hops = [(public_key(BOB), TrampolinePayload("trampoline", 100_000, HEIGHT + 40,
                                                outgoing_node_id=carol)),
            (carol, TrampolinePayload("trampoline", 100_000, HEIGHT + 40))]
    payment = build_trampoline_payment(bytes([0x63]) * 32, [], hops, PAYMENT_HASH,
                                       TrampolineCarrier(101_000, HEIGHT + 184))
    bob = process_hop(payment.to_bytes(), BOB, PAYMENT_HASH, profile="trampoline",
                      incoming_amount_msat=101_000, incoming_cltv_expiry=HEIGHT + 184,
                      current_block_height=HEIGHT)
    tramp = bob.trampoline
    assert tramp is not None and tramp.next_packet is not None
    onward = wrap_trampoline_onion(bytes([0x64]) * 32, [], carol, TrampolineCarrier(
        tramp.amt_to_forward, tramp.outgoing_cltv_value), tramp.next_packet, PAYMENT_HASH)
    carol_hop = process_hop(onward.to_bytes(), CAROL, PAYMENT_HASH, profile="trampoline",
                            incoming_amount_msat=tramp.amt_to_forward,
                            incoming_cltv_expiry=tramp.outgoing_cltv_value,
                            current_block_height=HEIGHT)
    return bob, carol_hop


def trampoline_section() -> list[str]:
    bob, carol = trampoline_story()
    assert bob.trampoline is not None and carol.trampoline is not None
    t = bob.trampoline
    size = len(t.packet.to_bytes())
    return ["== A trampoline payment (lightning/bolts#836, profile trampoline) ==",
            "The sender knows a route to Bob only; Bob's final payload carries a "
            f"{size}-byte trampoline onion (TLV 20).",
            f"  Bob peels it with his key and the payment hash: {t.action} "
            f"{t.amt_to_forward} msat until block {t.outgoing_cltv_value} to "
            f"outgoing_node_id {t.next_node_id.hex()[:16] if t.next_node_id else ''}… "
            f"(TLV 14: a node id here, never lnd's AMP record); he keeps "
            f"{t.incoming_amount_msat - t.amt_to_forward} msat.",
            f"  Carol peels the trampoline onion Bob sent on: {carol.trampoline.action}, "
            f"{carol.trampoline.amt_to_forward} msat."]


def trampoline_json() -> dict[str, Any]:
    bob, carol = trampoline_story()
    assert bob.trampoline is not None and carol.trampoline is not None
    return {"trampoline": [
        {"action": h.action, "amt_to_forward": h.amt_to_forward,
         "outgoing_cltv_value": h.outgoing_cltv_value,
         "next_node_id": None if h.next_node_id is None else h.next_node_id.hex()}
        for h in (bob.trampoline, carol.trampoline)]}
