"""The AMP story of `sphinxamp demo`: one payment in 3 shards over 3 different routes.

The sender splits a random root into 3 shares, builds one onion per shard (each with its own
payment hash), every forwarding node peels its layer, and the receiver, on an SQLite store in
a temporary folder, holds the shards until the set is complete, rebuilds the root from the
shares and settles every HTLC with its own preimage. Randomness comes from a fixed seed so two
runs print the same bytes; a real sender uses os.urandom.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any, TextIO

from sphinxamp import (
    Accepted,
    AmpPayment,
    Fail,
    HopPayload,
    IncomingHtlc,
    OnionPacket,
    Receiver,
    RouteHop,
    Settle,
    ShardRoute,
    ShortChannelId,
    build_amp_payment,
    process_hop,
    public_key,
)
from sphinxamp.cli._amp_receive import decision_json
from sphinxamp.cli._payment_args import payment_json
from sphinxamp.payments import BuiltShard, SeededRand
from sphinxamp.receiver import Decision, SqliteStore

NAMES = ("Bob", "Carol", "Dave", "Erin", "Zed")
KEYS = {name: hashlib.sha256(f"sphinxamp demo node {name}".encode()).digest() for name in NAMES}
PUBKEYS = {name: public_key(key) for name, key in KEYS.items()}
BY_PUBKEY = {pub: name for name, pub in PUBKEYS.items()}
SEED = b"sphinxamp amp demo"
HEIGHT = 840_000
FINAL_CLTV_DELTA = 80
TOTAL_MSAT = 60_000_000
# Three routes to Zed: (node, channel it forwards over, fee base, fee ppm, cltv delta).
ROUTES = (
    (("Bob", ShortChannelId(812_345, 17, 0), 1_000, 100, 40),),
    (("Carol", ShortChannelId(820_016, 377, 1), 0, 250, 144),
     ("Dave", ShortChannelId(833_070, 2_902, 3), 500, 50, 40)),
    (("Erin", ShortChannelId(839_811, 12, 1), 1_000, 1, 34),),
)
AMOUNTS = (25_000_000, 20_000_000, 15_000_000)
ARRIVAL_ORDER = (1, 2, 0)  # shards reach Zed out of order; the set does not care


def short(data: bytes) -> str:
    return f"{data[:4].hex()}…{data[-4:].hex()}"


def build_payment() -> AmpPayment:
    routes = [ShardRoute(tuple(RouteHop(PUBKEYS[n], scid, base, ppm, delta)
                               for n, scid, base, ppm, delta in hops), amount)
              for hops, amount in zip(ROUTES, AMOUNTS, strict=True)]
    return build_amp_payment(PUBKEYS["Zed"], TOTAL_MSAT, routes,
                             final_cltv_expiry=HEIGHT + FINAL_CLTV_DELTA,
                             rand=SeededRand(SEED))


def peel_shard(i: int, shard: BuiltShard) -> tuple[list[str], HopPayload]:
    """Every node on the shard's route peels its layer; returns the trace and Zed's payload."""
    path = [BY_PUBKEY[h.pubkey] for h in shard.route] + ["Zed"]
    lines = [f"shard {i}: {shard.amount_msat} msat, child_index {shard.child.child_index}, "
             f"payment_hash {short(shard.payment_hash)}, route {' → '.join(path)}",
             f"  Alice offers {path[0]} {shard.htlc_amount_msat} msat until block "
             f"{shard.htlc_cltv_expiry}"]
    packet: OnionPacket | None = shard.onion.packet
    amount: int | None = shard.htlc_amount_msat
    cltv: int | None = shard.htlc_cltv_expiry
    for name in path:
        assert packet is not None
        hop = process_hop(packet, KEYS[name], shard.payment_hash, incoming_amount_msat=amount,
                          incoming_cltv_expiry=cltv, current_block_height=HEIGHT)
        payload = hop.payload
        packet = hop.next_packet
        amount, cltv = payload.amt_to_forward, payload.outgoing_cltv_value
        if hop.next_packet is not None:
            lines.append(f"  {name} peels: forward {payload.amt_to_forward} msat over "
                         f"{payload.short_channel_id} until block {payload.outgoing_cltv_value}")
            continue
        assert payload.amp is not None and payload.payment_data is not None
        lines += [f"  {name} peels: final payload, {payload.amt_to_forward} msat",
                  f"    MPP  payment_addr {short(payload.payment_data.payment_secret)}, "
                  f"total_msat {payload.payment_data.total_msat}",
                  f"    AMP  share {short(payload.amp.root_share)}, set_id "
                  f"{short(payload.amp.set_id)}, child_index {payload.amp.child_index}"]
        return lines, payload
    raise AssertionError("a route always ends at a final hop")


def describe(decision: Decision) -> list[str]:
    if isinstance(decision, Accepted):
        return [f"  receiver: held ({decision.held_msat} of {decision.total_msat} msat)"]
    if isinstance(decision, Fail):
        return [f"  receiver: FAIL {decision.failure_name} ({decision.reason.value})"]
    assert isinstance(decision, Settle)
    return [f"  receiver: set complete, XOR of the shares = root; settle "
            f"{len(decision.preimages)} HTLCs, {decision.amount_msat} msat, in one transaction"]


def receive_all(payment: AmpPayment, finals: list[HopPayload]) -> list[tuple[int, Decision]]:
    """Zed's receiver on an SQLite store in a temporary folder: each shard as it arrives."""
    out = []
    with tempfile.TemporaryDirectory(prefix="sphinxamp-demo-") as folder:
        store = SqliteStore(str(Path(folder) / "receiver.sqlite"))
        try:
            receiver = Receiver(store, accept_amp=True)  # spontaneous AMP: lnd's accept-amp
            for now, i in enumerate(ARRIVAL_ORDER):
                shard = payment.shards[i]
                htlc = IncomingHtlc(f"shard-{i}", shard.payment_hash, shard.amount_msat,
                                    HEIGHT + FINAL_CLTV_DELTA, finals[i])
                out.append((i, receiver.receive(htlc, now=float(now), height=HEIGHT)))
        finally:
            store.close()
    return out


def amp_section() -> list[str]:
    payment = build_payment()
    lines = ["== An AMP payment: 3 shards, 3 routes, one atomic settle (lnd's AMP) ==",
             f"Alice pays Zed {TOTAL_MSAT} msat with no invoice (spontaneous AMP).",
             f"  root         {short(payment.root)}  (never sent: each shard carries a share)",
             f"  set_id       {short(payment.set_id)}",
             f"  payment_addr {short(payment.payment_addr)}  (chosen by Alice)",
             "  child preimage = SHA256(root ‖ share ‖ be32(child_index)), hash = "
             "SHA256(preimage)"]
    finals = []
    for i, shard in enumerate(payment.shards):
        trace, final = peel_shard(i, shard)
        lines += ["", *trace]
        finals.append(final)
    lines += ["", f"Zed's receiver (SQLite store, {len(payment.shards)} shards arrive "
              f"in the order {', '.join(map(str, ARRIVAL_ORDER))}):"]
    decision: Decision | None = None
    for i, decision in receive_all(payment, finals):
        lines += [f" shard {i} arrives", *describe(decision)]
    if isinstance(decision, Settle):
        lines += settle_lines(payment, decision)
    return lines


def amp_json() -> dict[str, Any]:
    """The same story as data, for `demo --json`: the payment as `amp pay --json` prints it
    and each of Zed's decisions as `amp receive` prints it."""
    payment = build_payment()
    finals = [peel_shard(i, shard)[1] for i, shard in enumerate(payment.shards)]
    return {"payment": payment_json(payment, HEIGHT + FINAL_CLTV_DELTA),
            "arrival_order": list(ARRIVAL_ORDER),
            "decisions": [decision_json(d) for _, d in receive_all(payment, finals)]}


def settle_lines(payment: AmpPayment, decision: Settle) -> list[str]:
    lines = []
    for htlc_id, preimage in sorted(decision.preimages, key=lambda p: str(p[0])):
        i = int(str(htlc_id).rsplit("-", 1)[1])
        ok = hashlib.sha256(preimage).digest() == payment.shards[i].payment_hash
        lines.append(f"    {htlc_id}: preimage {short(preimage)}, SHA256 = its payment_hash: "
                     f"{'yes' if ok else 'NO'}")
    return lines


def run_amp_demo(out: TextIO) -> int:
    out.write("\n".join(amp_section()) + "\n")
    return 0
