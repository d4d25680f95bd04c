"""Properties of AMP sharing and derivation, checked against lnd's formulas written with hashlib.

Shares come from a `random.Random` seeded by hypothesis (as os.urandom would give them: a zero
share has probability 2^-256); roots and child indices come straight from hypothesis.
"""

from __future__ import annotations

import hashlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp import (
    Accepted,
    IncomingHtlc,
    Receiver,
    Settle,
    build_amp_payment,
    decode_payload,
    public_key,
)
from sphinxamp.onion import peel_onion
from sphinxamp.payments import (
    SeededRand,
    ShardTracker,
    reconstruct_children,
    reconstruct_root,
    split_root,
)
from sphinxamp.receiver import MemoryStore

roots = st.binary(min_size=32, max_size=32)
u32 = st.integers(0, 0xFFFFFFFF)
HEIGHT = 400  # the receiver's block height: final_cltv_expiry 500 leaves 100 blocks


def lnd_hash(root: bytes, share: bytes, index: int) -> bytes:
    preimage = hashlib.sha256(root + share + index.to_bytes(4, "big")).digest()
    return hashlib.sha256(preimage).digest()


@st.composite
def share_sets(draw: st.DrawFn, min_n: int = 1) -> tuple[bytes, list[tuple[bytes, int]]]:
    """(root, [(share, child_index)]) for a root split into 1..32 shares."""
    root = draw(roots)
    n = draw(st.integers(min_n, 32))
    # A PRNG seeded by hypothesis, not hypothesis' own bytes: it would shrink shares to zero,
    # which os.urandom gives with probability 2^-256 (and a zero share is invisible to XOR).
    rng = random.Random(draw(st.integers(0, 2**64)))
    shares = split_root(root, n, rng.randbytes)
    indices = draw(st.lists(u32, min_size=n, max_size=n))
    return root, list(zip(shares, indices, strict=True))


@given(share_sets())
def test_split_then_reconstruct_gives_root_and_every_hash(
        case: tuple[bytes, list[tuple[bytes, int]]]) -> None:
    root, descs = case
    assert reconstruct_root(s for s, _ in descs) == root
    for child, (share, index) in zip(reconstruct_children(descs), descs, strict=True):
        assert child.hash == lnd_hash(root, share, index)
        assert hashlib.sha256(child.preimage).digest() == child.hash


@given(share_sets(min_n=2), st.data())
def test_dropping_any_shard_matches_no_hash(case: tuple[bytes, list[tuple[bytes, int]]],
                                            data: st.DataObject) -> None:
    root, descs = case
    dropped = data.draw(st.integers(0, len(descs) - 1))
    rest = descs[:dropped] + descs[dropped + 1:]
    assert reconstruct_root(s for s, _ in rest) != root
    for child, (share, index) in zip(reconstruct_children(rest), rest, strict=True):
        assert child.hash != lnd_hash(root, share, index)


@given(share_sets(), st.randoms(use_true_random=False))
def test_arrival_order_changes_nothing(case: tuple[bytes, list[tuple[bytes, int]]],
                                       rng: random.Random) -> None:
    _, descs = case
    shuffled = list(descs)
    rng.shuffle(shuffled)
    before = {(c.share, c.child_index): c for c in reconstruct_children(descs)}
    after = {(c.share, c.child_index): c for c in reconstruct_children(shuffled)}
    assert before == after


# Operations on a tracker: True = new shard (last when the flag says so), int = cancel the
# live shard at that position (modulo the number live).
ops = st.lists(st.one_of(st.tuples(st.just("new"), st.booleans()),
                         st.tuples(st.just("cancel"), st.integers(0, 31))), max_size=40)


@given(roots, st.binary(min_size=1, max_size=8), ops)
def test_tracker_keeps_current_xor_live_shares_equal_to_root(
        root: bytes, seed: bytes, steps: list[tuple[str, object]]) -> None:
    tracker = ShardTracker(root, b"\x01" * 32, b"\x02" * 32, 1_000, SeededRand(seed))
    live: list[int] = []
    hashes: list[bytes] = []
    for attempt, (op, arg) in enumerate(steps):
        if op == "new" and not tracker.sharer.is_zero:
            shard = tracker.new_shard(attempt, last=bool(arg))
            assert shard.payment_hash == lnd_hash(root, shard.child.share, shard.child.child_index)
            hashes.append(shard.payment_hash)
            live.append(attempt)
        elif op == "cancel" and live:
            tracker.cancel_shard(live.pop(int(arg) % len(live)))  # type: ignore[call-overload]
        shares = [tracker.shard(a).child.share for a in live]
        assert reconstruct_root([tracker.sharer.current, *shares]) == root
    # Every shard ever made had its own hash: retries never reuse one.
    assert len(set(hashes)) == len(hashes)


DEST_KEY = b"\x2a" * 32
DEST = public_key(DEST_KEY)


@settings(deadline=None)
@given(st.integers(1, 6), st.integers(6, 10**9), st.binary(min_size=1, max_size=8))
def test_built_payment_reassembles_from_peeled_payloads(parts: int, total: int,
                                                        seed: bytes) -> None:
    pay = build_amp_payment(DEST, total, parts, final_cltv_expiry=500, rand=SeededRand(seed))
    records = []
    for shard in pay.shards:
        hop = peel_onion(shard.onion.packet, DEST_KEY, shard.payment_hash)
        final = decode_payload(hop.payload, "final")
        assert final.payment_data is not None and final.amp is not None
        assert (final.payment_data.payment_secret, final.payment_data.total_msat) == (
            pay.payment_addr, total)
        records.append((final.amp, shard.payment_hash, final.amt_to_forward))
    root = reconstruct_root(a.root_share for a, _, _ in records)
    assert all(lnd_hash(root, a.root_share, a.child_index) == h for a, h, _ in records)
    assert sum(amount for _, _, amount in records) == total  # type: ignore[misc]
    assert len({a.set_id for a, _, _ in records}) == 1


@settings(deadline=None)
@given(st.integers(1, 6), st.binary(min_size=1, max_size=8), st.randoms(use_true_random=False),
       st.data())
def test_receiver_settles_whole_sets_in_any_order_and_never_a_partial_one(
        parts: int, seed: bytes, rng: random.Random, data: st.DataObject) -> None:
    pay = build_amp_payment(DEST, 6_000, parts, final_cltv_expiry=500, rand=SeededRand(seed))
    htlcs = []
    for i, shard in enumerate(pay.shards):
        final = decode_payload(peel_onion(shard.onion.packet, DEST_KEY,
                                          shard.payment_hash).payload, "final")
        htlcs.append(IncomingHtlc(i, shard.payment_hash, shard.amount_msat, 500, final))
    rng.shuffle(htlcs)
    dropped = data.draw(st.sampled_from([None, *range(parts)]))
    arriving = [h for h in htlcs if h.htlc_id != dropped]
    receiver = Receiver(MemoryStore(), hold_seconds=60, accept_amp=True)
    decisions = [receiver.receive(h, now=0.0, height=HEIGHT) for h in arriving]
    held = decisions if dropped is not None else decisions[:-1]
    assert all(isinstance(d, Accepted) for d in held)
    if dropped is not None:  # one share missing: held until the timeout, then all failed
        assert sorted(h for f in receiver.expire(60.0) for h in f.htlc_ids) == sorted(
            h.htlc_id for h in arriving)
        return
    settle = decisions[-1]
    assert isinstance(settle, Settle) and settle.set_id == pay.set_id
    by_id = dict(settle.preimages)
    assert sorted(by_id) == list(range(parts))
    for i, shard in enumerate(pay.shards):
        child = shard.child
        preimage = hashlib.sha256(pay.root + child.share
                                  + child.child_index.to_bytes(4, "big")).digest()
        assert by_id[i] == preimage and hashlib.sha256(preimage).digest() == shard.payment_hash
