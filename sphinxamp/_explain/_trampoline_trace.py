"""A trampoline payment's story (`trace_route` of a route with `trampoline`): the sender's
payment onion over its own route to the first trampoline node, then, at each trampoline
node, the trampoline layer peeled (`process_hop(..., profile=...)`, `ProcessedHop.trampoline`)
and a new payment onion built to the next trampoline node, carrying the peeled trampoline
onion with the amount and expiry the trampoline payload asks for (lightning/bolts#836 ›
Trampoline Payments; Eclair's and Electrum's format under "trampoline-legacy").

Each trampoline node pays the next one directly (a one-hop payment onion): the route a node
finds between trampoline nodes is its own business, and the story is the trampoline layer.
A relay's session key is the route's (`TrampolineRoute.relay_session_keys`) or
SHA256(node key ‖ associated data), so a trace is the same every time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from sphinxamp._hop import ProcessedHop, process_hop
from sphinxamp.errors import InvalidArgument, SphinxampError
from sphinxamp.payments._trampoline_build import (
    TrampolineCarrier,
    build_trampoline_payment,
    wrap_trampoline_onion,
)
from sphinxamp.primitives._crypto import public_key


@dataclass(frozen=True, slots=True)
class TrampolineRoute:
    """The trampoline part of a route: its format ("trampoline" or "trampoline-legacy"),
    the sender's outer payload for the first trampoline node (`carrier`), the trampoline
    nodes in order, each (its private key, its trampoline payload's bytes), the trampoline
    onion's session key (None: derived from the route's, `trampoline_session_key`) and, per
    relaying node, the session key of the onion it builds (None: derived)."""

    profile: str
    carrier: TrampolineCarrier
    nodes: tuple[tuple[bytes, bytes], ...]
    session_key: bytes | None = None
    relay_session_keys: tuple[bytes | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Leg:
    """One payment onion of the story: the sender's (`index` 0) or the one trampoline node
    `index - 1` built; its first hop's position in the trace's hops, its bytes' SHA256 and
    its shared secrets."""

    index: int
    first_hop: int
    onion_sha256: bytes
    shared_secrets: tuple[bytes, ...]


def relay_session_key(route: TrampolineRoute, k: int, node_key: bytes,
                      associated_data: bytes) -> bytes:
    given = route.relay_session_keys[k] if k < len(route.relay_session_keys) else None
    return given or hashlib.sha256(node_key + associated_data).digest()


@dataclass(frozen=True, slots=True)
class Step:
    """What one node did with the payment onion of leg `leg` it received."""

    leg: int
    node_key: bytes
    onion_sha256: bytes
    processed: ProcessedHop | None
    refusal: SphinxampError | None
    next_onion_sha256: bytes | None = None


def _next_htlc(done: ProcessedHop) -> tuple[int | None, int | None]:
    amount = done.amt_to_forward if done.amt_to_forward is not None \
        else done.payload.amt_to_forward
    cltv = done.outgoing_cltv_value if done.outgoing_cltv_value is not None \
        else done.payload.outgoing_cltv_value
    return amount, cltv


def _leg(leg: int, packet: bytes, keys: list[bytes], ad: bytes, profile: str,
         htlc: tuple[int | None, int | None], height: int, steps: list[Step]) -> bool:
    """Every node of one leg processes what the previous one forwarded; True when the last
    one (the trampoline node) accepted."""
    amount, cltv = htlc
    for j, key in enumerate(keys):
        digest = hashlib.sha256(packet).digest()
        try:
            done = process_hop(packet, key, ad, profile=profile, incoming_amount_msat=amount,
                               incoming_cltv_expiry=cltv, current_block_height=height)
        except SphinxampError as exc:
            steps.append(Step(leg, key, digest, None, exc))
            return False
        nxt = None if done.next_packet is None else done.next_packet.to_bytes()
        steps.append(Step(leg, key, digest, replace(done, next_packet=None), None,
                          None if nxt is None else hashlib.sha256(nxt).digest()))
        if nxt is None:
            return j == len(keys) - 1
        packet, (amount, cltv) = nxt, _next_htlc(done)
    return False


def walk_trampoline(route: TrampolineRoute, outer: tuple[tuple[bytes, bytes], ...],
                    session_key: bytes, ad: bytes, htlc: tuple[int | None, int | None],
                    height: int) -> tuple[bytes, list[Leg], list[Step]]:
    """The sender's onion, the legs and every node's processing, leg after leg, until a
    node refuses, the recipient receives, or a trampoline node forwards out of the route."""
    if not route.nodes:
        raise InvalidArgument("a trampoline route needs a trampoline node",
                              field="trampoline.hops", reason="empty_route")
    ids = [public_key(key, f"trampoline.hops[{i}].node_key")
           for i, (key, _) in enumerate(route.nodes)]
    payment = build_trampoline_payment(
        session_key, [(public_key(k, f"hops[{i}].node_key"), p)
                      for i, (k, p) in enumerate(outer)],
        list(zip(ids, (p for _, p in route.nodes), strict=True)), ad, route.carrier,
        profile=route.profile, trampoline_session=route.session_key)
    first = payment.to_bytes()
    legs = [Leg(0, 0, hashlib.sha256(first).digest(), payment.outer_shared_secrets)]
    steps: list[Step] = []
    packet, keys = first, [k for k, _ in outer] + [route.nodes[0][0]]
    for k in range(len(route.nodes)):
        if not _leg(k, packet, keys, ad, route.profile, htlc, height, steps):
            break
        done = steps[-1].processed
        tramp = None if done is None else done.trampoline
        if tramp is None or tramp.action != "forward" or k + 1 == len(route.nodes) \
                or tramp.next_node_id != ids[k + 1]:
            break
        assert tramp.next_packet is not None
        built = wrap_trampoline_onion(
            relay_session_key(route, k, route.nodes[k][0], ad), [], ids[k + 1],
            TrampolineCarrier(tramp.amt_to_forward, tramp.outgoing_cltv_value),
            tramp.next_packet, ad, profile=route.profile)
        packet, keys = built.to_bytes(), [route.nodes[k + 1][0]]
        htlc = (tramp.amt_to_forward, tramp.outgoing_cltv_value)
        legs.append(Leg(k + 1, len(steps), hashlib.sha256(packet).digest(),
                        built.shared_secrets))
    return first, legs, steps


__all__ = ["Leg", "Step", "TrampolineRoute", "relay_session_key", "walk_trampoline"]
