"""A small network for trampoline payments end to end, in either format.

origin ─► B ─► T1 ─► X1 ─► T2 ─► X2 ─► … ─► Tn ─► Xn ─► R

B and the Xi are plain nodes; T1…Tn are trampoline nodes, each finding its own route (one
plain node Xi) to the next; R is the recipient. With `blinded` the recipient hides behind a
blinded path (X_n as its introduction node): the last trampoline node is given the path
(`recipient_blinded_paths` / `outgoing_blinded_paths`), or, with `blinded_hops` (proposal
format only), the trampoline onion runs through the path itself, Tn being its introduction
node. Every node is processed with `process_hop` as it would be on the wire; each trampoline
node charges FEE msat and DELTA blocks. The amounts each node must see are computed here from
those two numbers, independently of the library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sphinxamp import (
    EncryptedData,
    HopPayload,
    PaymentConstraints,
    PaymentData,
    PaymentRelay,
    ProcessedHop,
    ShortChannelId,
    build_blinded_payment_onion,
    create_blinded_path,
    process_hop,
    public_key,
)
from sphinxamp.payments import (
    PaymentBlindedPath,
    TrampolineCarrier,
    TrampolinePayload,
    blinded_trampoline_hops,
    build_trampoline_payment,
    wrap_trampoline_onion,
)

AD = bytes([0x42]) * 32
HEIGHT = 700_000
AMOUNT, FINAL_CLTV = 5_000_000, HEIGHT + 100
FEE, DELTA = 1_000, 40
SECRET = bytes([0x2A]) * 32
PATH_ID = bytes([0x77]) * 32
# The blinded path's introduction node charges nothing and asks DELTA blocks.
RELAY = PaymentRelay(cltv_expiry_delta=DELTA, fee_proportional_millionths=0, fee_base_msat=0)


def key(name: str) -> bytes:
    return bytes([0x10 + sum(map(ord, name)) % 200]) * 31 + name[-1].encode()


@dataclass
class Run:
    """What the payment did: every node's ProcessedHop, the secrets the origin keeps, the
    routes each trampoline built (node names, shared secrets)."""

    profile: str
    trampolines: list[str]
    hops: dict[str, ProcessedHop] = field(default_factory=dict)
    outer_secrets: tuple[bytes, ...] = ()
    trampoline_secrets: tuple[bytes, ...] = ()
    trampoline_nodes: list[str] = field(default_factory=list)
    legs: dict[str, tuple[bytes, ...]] = field(default_factory=dict)


def _path(profile: str) -> tuple[Any, list[str]]:
    """The recipient's blinded path: its introduction node then R."""
    data = [EncryptedData(next_node_id=public_key(key("R")), payment_relay=RELAY,
                          payment_constraints=PaymentConstraints(HEIGHT + 10_000, 1)),
            EncryptedData(path_id=PATH_ID)]
    return data, ["I", "R"]


def _trampoline_payloads(profile: str, names: list[str], blinded: bool,
                         blinded_hops: bool) -> tuple[list[tuple[bytes, Any]], Any]:
    """The trampoline onion's hops, as the origin writes them."""
    n = len(names)
    relays = n if blinded else n - 1  # the trampoline nodes (R, when listed, receives)
    out: list[tuple[bytes, Any]] = []
    path = None
    if blinded:
        datas, nodes = _path(profile)
        path = create_blinded_path(bytes([0x99]) * 32, [
            (public_key(key(name)), d) for name, d in zip(nodes, datas, strict=True)])
    for i, name in enumerate(names):
        after = relays - 1 - i  # trampoline nodes still to be paid after this one
        last = i == n - 1
        amount, cltv = AMOUNT + FEE * after, FINAL_CLTV + DELTA * after
        if blinded and blinded_hops and last:
            amount, cltv = AMOUNT, FINAL_CLTV + DELTA  # the path's own delta follows
        nxt = names[i + 1] if not last else None
        if last and blinded and blinded_hops:
            nxt = "I"
        if last and blinded and not blinded_hops:
            assert path is not None
            paths = (PaymentBlindedPath(path, 0, 0, DELTA, 1, 10 ** 10),)
            fields: dict[str, Any] = {"blinded_paths": paths, "recipient_features": b"\x02"}
            out.append((public_key(key(name)), TrampolinePayload(
                profile, AMOUNT, FINAL_CLTV, **fields)))
            continue
        if nxt is None:  # the recipient itself
            out.append((public_key(key(name)), TrampolinePayload(
                profile, AMOUNT, FINAL_CLTV, payment_data=PaymentData(SECRET, AMOUNT))))
            continue
        out.append((public_key(key(name)), TrampolinePayload(
            profile, amount, cltv, outgoing_node_id=public_key(key(nxt)))))
    if blinded and blinded_hops:
        assert path is not None
        out += blinded_trampoline_hops(path, AMOUNT, FINAL_CLTV, AMOUNT)
    return out, path


def pay(profile: str, n: int, *, blinded: bool = False, blinded_hops: bool = False,
        area: Any = "format") -> Run:
    """Send one payment through `n` trampoline nodes and process it at every node;
    `area` is the trampoline onion's payload area ("format", "exact" or bytes)."""
    names = [f"T{i}" for i in range(1, n + 1)]
    t_names = names + ([] if blinded else ["R"])
    t_hops, _ = _trampoline_payloads(profile, t_names, blinded, blinded_hops)
    run = Run(profile, names, trampoline_nodes=t_names + (["I", "R"] if blinded_hops else []))
    first_amount, first_cltv = AMOUNT + FEE * n, FINAL_CLTV + DELTA * n
    scid = ShortChannelId.from_int(1)
    payment = build_trampoline_payment(
        bytes([0x41]) * 32, [(public_key(key("B")), HopPayload(first_amount, first_cltv, scid))],
        t_hops, AD, TrampolineCarrier(first_amount, first_cltv, bytes([0x2B]) * 32, first_amount),
        profile=profile, trampoline_payload_area=area)
    run.outer_secrets, run.trampoline_secrets = payment.outer_shared_secrets, \
        payment.trampoline_shared_secrets
    hop = _at(run, "B", payment.to_bytes(), first_amount, first_cltv)
    assert hop.next_packet is not None
    onion, amount, cltv = hop.next_packet.to_bytes(), first_amount, first_cltv
    relays = names + (["I"] if blinded_hops else [])
    for i, name in enumerate(relays):
        hop = _at(run, name, onion, amount, cltv)
        t = hop.trampoline
        assert t is not None
        onion, amount, cltv = _relay(run, name, i, t)
    if blinded and not blinded_hops:  # I is a plain blinded hop, R gets the path key
        hop = _at(run, "I", onion, amount, cltv)
        assert hop.next_packet is not None and hop.amt_to_forward is not None
        assert hop.outgoing_cltv_value is not None
        onion, amount, cltv = (hop.next_packet.to_bytes(), hop.amt_to_forward,
                               hop.outgoing_cltv_value)
    _at(run, "R", onion, amount, cltv, path_key=_path_key(run, "R"))
    return run


def _path_key(run: Run, name: str) -> bytes | None:
    """R is reached inside the blinded path: its HTLC carries the path key I computed."""
    before = run.hops.get("I")
    if name == "R" and before is not None and before.trampoline is None:
        return before.next_path_key
    return None


def _relay(run: Run, name: str, i: int, t: Any) -> tuple[bytes, int, int]:
    """Trampoline node `name` pays on: to the next trampoline node through its own plain
    node X, or into the recipient's blinded path."""
    x = f"X{i + 1}"
    session = bytes([0x50 + i]) * 32
    if t.action == "pay_blinded_paths":
        built = build_blinded_payment_onion(
            session, AD, t.blinded_paths[0].path, amount_msat=t.amt_to_forward,
            cltv_expiry=t.outgoing_cltv_value, total_amount_msat=t.amt_to_forward)
        run.legs[name] = built.shared_secrets
        paid = t.blinded_paths[0]
        return (built.to_bytes(), t.amt_to_forward + paid.fee_base_msat,
                t.outgoing_cltv_value + paid.cltv_expiry_delta)
    assert t.action == "forward" and t.next_packet is not None
    carrier = TrampolineCarrier(t.amt_to_forward, t.outgoing_cltv_value, bytes([0x60 + i]) * 32,
                                t.amt_to_forward, t.next_path_key)
    scid = ShortChannelId.from_int(2 + i)
    built = wrap_trampoline_onion(
        session, [(public_key(key(x)), HopPayload(t.amt_to_forward, t.outgoing_cltv_value, scid))],
        t.next_node_id, carrier, t.next_packet, AD, profile=run.profile)
    run.legs[name] = built.shared_secrets
    hop = _at(run, x, built.to_bytes(), t.amt_to_forward, t.outgoing_cltv_value)
    assert hop.next_packet is not None
    return hop.next_packet.to_bytes(), t.amt_to_forward, t.outgoing_cltv_value


def _at(run: Run, name: str, onion: bytes, amount: int, cltv: int,
        path_key: bytes | None = None) -> ProcessedHop:
    hop = process_hop(onion, key(name), AD, profile=run.profile, path_key=path_key,
                      incoming_amount_msat=amount, incoming_cltv_expiry=cltv,
                      current_block_height=HEIGHT,
                      expected_path_id=PATH_ID if name == "R" else None)
    run.hops[name] = hop
    return hop
