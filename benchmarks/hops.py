"""Timers that need state across calls: process_hop over distinct onions (a replay log
refuses a second sight of one), SQLite replay-log batches, AMP receive, peel_many, memory."""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from sphinxamp._hop import process_hop
from sphinxamp._payload import AmpRecord, HopPayload, PaymentData
from sphinxamp.onion._batch import PeelPool
from sphinxamp.onion._replay import MemoryReplayLog, SqliteReplayLog
from sphinxamp.onion._sphinx import ONION_MESSAGE_PAYLOAD_AREA, build_onion, peel_onion
from sphinxamp.primitives._crypto import public_key, sha256

AD = bytes([0x42]) * 32
SQLITE_BATCH = 32  # onions per replay-log transaction (one fsync), as a commitment's HTLCs


def distinct_onions(route: list[tuple[bytes, bytes]], count: int) -> list[bytes]:
    """`count` onions over the same route under different session keys."""
    return [build_onion(sha256(b"bench session %d" % i), route, AD).to_bytes()
            for i in range(count)]


class _Cycle:
    """Hands out the onions in turn; `on_wrap` runs before one is handed out again (the replay
    log forgets them: a fresh in-memory log, or gc of the SQLite one past their expiry)."""

    def __init__(self, onions: list[bytes], on_wrap: Callable[[int], object]) -> None:
        self.onions, self.on_wrap, self.i, self.lap = onions, on_wrap, 0, 0

    def take(self, count: int = 1) -> list[bytes]:
        if self.i + count > len(self.onions):
            self.lap += 1
            self.on_wrap(self.lap)
            self.i = 0
        out = self.onions[self.i : self.i + count]
        self.i += count
        return out


class DurableCommit:
    """The floor of a durable decision: one row written and committed with fsync (WAL,
    synchronous=FULL) per call."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS t (k BLOB PRIMARY KEY, v BLOB)")
        self.n = 0

    def __call__(self) -> None:
        self.n += 1
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO t VALUES (?, ?)", (self.n.to_bytes(8, "big"), bytes(96)))
        self.conn.execute("COMMIT")


def process_hop_timers(onions: list[bytes], key: bytes, ad: bytes, tmpdir: str,
                       closers: list[Callable[[], object]]) -> dict[str, Callable[[], object]]:
    plain = _Cycle(onions, lambda lap: None)
    mem = [MemoryReplayLog()]
    memlog = _Cycle(onions, lambda lap: mem.__setitem__(0, MemoryReplayLog()))
    sqlite_log = SqliteReplayLog(os.path.join(tmpdir, "replay.db"))
    closers.append(sqlite_log.close)
    # Each lap records its onions with expiry = lap; gc(lap) drops the previous lap's.
    batched = _Cycle(onions, sqlite_log.gc)

    def one() -> object:
        return process_hop(plain.take()[0], key, ad)

    def with_memory_log() -> object:
        (onion,) = memlog.take()
        return process_hop(onion, key, ad, replay_log=mem[0], incoming_cltv_expiry=800_000)

    def sqlite_batch() -> object:
        """SQLITE_BATCH hops: each processed, then all checked and recorded in one durable
        transaction, before any answer is given (what a node does per commitment_signed)."""
        done = [process_hop(onion, key, ad) for onion in batched.take(SQLITE_BATCH)]
        replays = sqlite_log.check_and_insert([(h.shared_secret, batched.lap) for h in done])
        assert not replays, "a distinct onion was taken for a replay"
        return done

    return {
        "ours:process-hop": one,
        "ours:process-hop-memlog": with_memory_log,
        "ours:process-hop-sqlite": sqlite_batch,
        "floor:durable-commit": DurableCommit(os.path.join(tmpdir, "floor.db")),
    }


SHARDS_PER_SET = 4
BATCH_SHARDS = 32


def amp_shards(start: int, sets: int) -> list[Any]:
    """`sets` AMP payments of SHARDS_PER_SET shards each, every shard a valid final HTLC."""
    from sphinxamp.payments._amp import derive_child, split_root
    from sphinxamp.receiver._machine import IncomingHtlc

    out = []
    addr = sha256(b"bench payment_addr")
    for k in range(start, start + sets):
        root, set_id = sha256(b"root %d" % k), sha256(b"set %d" % k)
        seed = [sha256(b"shares %d" % k)]

        def rand(n: int, seed: list[bytes] = seed) -> bytes:
            seed[0] = sha256(seed[0])
            return seed[0][:n]

        shares = split_root(root, SHARDS_PER_SET, rand)
        for i, share in enumerate(shares):
            child = derive_child(root, share, i)
            payload = HopPayload(1000, 900_000, payment_data=PaymentData(addr, 1000 * len(shares)),
                                 amp=AmpRecord(share, set_id, i))
            out.append(IncomingHtlc(k * SHARDS_PER_SET + i, child.hash, 1000, 900_000, payload))
    return out


def amp_receiver(tmpdir: str, notes: list[str], closers: list[Callable[[], object]]
                 ) -> dict[str, Callable[[], object]]:
    """Shards through `Receiver` on a `SqliteStore` (synchronous=FULL: decisions are fsynced
    before the call returns): one per `receive`, and BATCH_SHARDS per `receive_many` (one
    transaction, one fsync, for all of them). Every fourth shard settles its set."""
    from sphinxamp.receiver._machine import Receiver, Settle
    from sphinxamp.receiver._sqlite import SqliteStore

    store = SqliteStore(os.path.join(tmpdir, "receiver.db"))
    closers.append(store.close)
    # Spontaneous AMP, as lnd's accept-amp allows it: every set makes its invoice on the fly.
    receiver = Receiver(store, accept_amp=True)
    # The chain height the HTLCs arrive at (the receiver checks their expiry against it).
    at: dict[str, Any] = {"now": 0.0, "height": 900_000 - 100}  # the shards expire at 900_000
    pending: list[Any] = []
    made = [0]

    def take(count: int) -> list[Any]:
        while len(pending) < count:
            pending[:0] = reversed(amp_shards(made[0], 256))
            made[0] += 256
        return [pending.pop() for _ in range(count)]

    def receive() -> object:
        at["now"] = float(made[0])
        return receiver.receive(take(1)[0], **at)

    def receive_batch() -> object:
        at["now"] = float(made[0])
        return receiver.receive_many(take(BATCH_SHARDS), **at)

    decisions = [receive() for _ in range(SHARDS_PER_SET)]
    if not isinstance(decisions[-1], Settle):
        notes.append(f"amp-receive: a whole set did not settle ({decisions[-1]!r})")
    return {"ours:amp-receive": receive, "ours:amp-receive-batch": receive_batch}


# --- peel_many ------------------------------------------------------------------------------


def _peel_loop(onion: bytes, key: bytes, count: int) -> None:
    for _ in range(count):
        peel_onion(onion, key, AD)


def _independent_loops(pool: ProcessPoolExecutor, onion: bytes, key: bytes, count: int,
                       workers: int) -> float:
    """Wall time of `workers` processes each peeling its share alone, no results sent back:
    the most any split of the batch can get from this machine's cores."""
    start = time.perf_counter()
    for fut in [pool.submit(_peel_loop, onion, key, count // workers) for _ in range(workers)]:
        fut.result()
    return time.perf_counter() - start


def measure_batch(onion: bytes, key: bytes, packets: int, rounds: int,
                  workers: int = 2) -> dict[str, float]:
    """peel_many on `workers` processes against peeling the same packets into a list on one
    core, and the ceiling: that loop split over `workers` processes that send nothing back.
    Rounds alternate the three so load drift hits them alike."""
    batch = [onion] * packets
    serial, pooled, apart = [], [], []
    with PeelPool(key, workers=workers) as pool, ProcessPoolExecutor(workers) as loops:
        pool.peel_many(batch[: workers * 64], AD)  # start the workers
        _independent_loops(loops, onion, key, workers, workers)
        for _ in range(rounds):
            start = time.perf_counter()
            kept = [peel_onion(p, key, AD) for p in batch]  # same output as a batch
            serial.append(time.perf_counter() - start)
            del kept
            start = time.perf_counter()
            pool.peel_many(batch, AD)
            pooled.append(time.perf_counter() - start)
            apart.append(_independent_loops(loops, onion, key, packets, workers))
    one, many = statistics.median(serial), statistics.median(pooled)
    return {
        "packets": float(packets), "workers": float(workers),
        "one_core_us_per_packet": one / packets * 1e6,
        "batch_us_per_packet": many / packets * 1e6,
        "speedup": one / many,
        "ceiling_speedup": one / statistics.median(apart),
    }


# --- memory ---------------------------------------------------------------------------------


def peel_message_peak() -> dict[str, float]:
    """Peak of Python allocations (tracemalloc) while peeling a 32768-byte-area onion message,
    against the packet's size (the goal: at most 4x)."""
    node = sha256(b"bench message node")
    hops = [(public_key(node), b"\x00" * 100), (public_key(sha256(node)), b"\x00" * 100)]
    packet = build_onion(sha256(b"message session"), hops, AD, ONION_MESSAGE_PAYLOAD_AREA,
                         min_payload_length=0).to_bytes()
    peel_onion(packet, node, AD, payload_area=None, min_payload_length=0)
    tracemalloc.start()
    try:
        peel_onion(packet, node, AD, payload_area=None, min_payload_length=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"packet_bytes": float(len(packet)), "peak_bytes": float(peak),
            "peak_vs_size": peak / len(packet)}
