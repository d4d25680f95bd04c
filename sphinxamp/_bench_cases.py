"""The inputs, timed callables and floors of the benchmark (see `_bench` for the loop)."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from . import _bench
from ._batch import PeelPool
from ._crypto import public_key, sha256
from ._payload import AmpRecord, HopPayload, PaymentData, Role, decode_payload
from ._sphinx import build_onion, peel_onion
from ._tlv import ShortChannelId, TlvRecord, decode_stream, encode_stream

_CTX = GLOBAL_CONTEXT.ctx
SESSION_KEY = bytes([0x41]) * 32
ASSOCIATED_DATA = bytes([0x42]) * 32
# The route of the BOLT 4 onion vector (bolt04/onion-test.json): hop i has private key
# bytes([0x41 + i]) * 32; the payloads below are that file's records, rebuilt from their values.
VECTOR_KEYS = tuple(bytes([0x41 + i]) * 32 for i in range(5))


def _fwd(amt: int, cltv: int, scid: int, extra: tuple[TlvRecord, ...] = ()) -> bytes:
    return HopPayload(amt, cltv, ShortChannelId.from_int(scid), unknown_records=extra).encode()


def vector_route() -> list[tuple[bytes, bytes]]:
    odd_513 = TlvRecord(513, bytes(range(1, 16)) * 4)
    secret = bytes.fromhex("24a33562c54507a9334e79f0dc4f17d407e6d7c61f0e2f3d0d38599502f61704")
    final = encode_stream([
        TlvRecord(2, (10000).to_bytes(2, "big")), TlvRecord(4, (1000).to_bytes(2, "big")),
        TlvRecord(8, secret + (10000).to_bytes(2, "big")), TlvRecord(301, b"\x2a" * 224),
    ])
    payloads = [_fwd(15000, 1500, 1), _fwd(14000, 1400, 2, (odd_513,)), _fwd(12500, 1250, 3),
                _fwd(10000, 1000, 4), final]
    return [(public_key(k), p) for k, p in zip(VECTOR_KEYS, payloads, strict=True)]


def long_route(hops: int = 20) -> list[tuple[bytes, bytes]]:
    """`hops` hops with 32-byte payloads: 20 of them fill the 1300-byte area exactly."""
    keys = [sha256(b"bench hop %d" % i) for i in range(hops)]
    return [(public_key(k), sha256(k)) for k in keys]


def final_payload() -> bytes:
    """A typical AMP/MPP final payload: types 2, 4, 8, 14, 16 and one custom record."""
    return HopPayload(
        amt_to_forward=250_000_000, outgoing_cltv_value=850_144,
        payment_data=PaymentData(bytes(range(32)), 1_000_000_000),
        amp=AmpRecord(bytes(range(32, 64)), bytes(range(64, 96)), 3_000_017),
        payment_metadata=bytes(range(96, 120)),
        custom_records=(TlvRecord(696969, bytes(range(120, 152))),),
    ).encode()


def _bare_bigsize(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    if first < 0xFD:
        return first, pos + 1
    n = 2 if first == 0xFD else 4 if first == 0xFE else 8
    return int.from_bytes(data[pos + 1 : pos + 1 + n], "big"), pos + 1 + n


def bare_tlv_split(data: bytes) -> list[tuple[int, int, int]]:
    """The least a Python decoder can do: find each record's (type, value start, value end);
    no checks, no typing. The one-byte BigSize of nearly every type and length is inline."""
    out, pos, end = [], 0, len(data)
    while pos < end:
        rtype = data[pos]
        if rtype < 0xFD:
            pos += 1
        else:
            rtype, pos = _bare_bigsize(data, pos)
        length = data[pos]
        if length < 0xFD:
            pos += 1
        else:
            length, pos = _bare_bigsize(data, pos)
        out.append((rtype, pos, pos + length))
        pos += length
    return out


def _floor_timers(
    packet_key: bytes, node_key: bytes, tlv: dict[str, bytes]
) -> dict[str, Callable[[], object]]:
    """Each primitive alone, with the cheapest correct call (preallocated outputs, no result
    conversion to bytes): these are lower bounds, not what a usable API can reach."""
    parsed = ffi.new("secp256k1_pubkey *")
    scratch = ffi.new("secp256k1_pubkey *")
    out32 = ffi.new("unsigned char[32]")
    tweak = sha256(b"tweak")
    data66, data1366, zeros2600 = os.urandom(66), os.urandom(1366), bytes(2600)
    nonce = bytes(16)

    def ecdh() -> None:  # a wire key must be parsed (decompressed) before it is multiplied
        lib.secp256k1_ec_pubkey_parse(_CTX, parsed, packet_key, 33)
        lib.secp256k1_ecdh(_CTX, out32, parsed, node_key, ffi.NULL, ffi.NULL)

    lib.secp256k1_ec_pubkey_parse(_CTX, scratch, packet_key, 33)
    prims: dict[str, Callable[[], object]] = {
        "floor:ecdh": ecdh,
        "floor:tweak-mul": lambda: lib.secp256k1_ec_pubkey_tweak_mul(_CTX, scratch, tweak),
        "floor:generator-mul": lambda: lib.secp256k1_ec_pubkey_create(_CTX, scratch, tweak),
        "floor:sha256-66": lambda: hashlib.sha256(data66).digest(),
        "floor:hmac-1366": lambda: hmac.digest(tweak, data1366, "sha256"),
        "floor:chacha20-2600": lambda: Cipher(algorithms.ChaCha20(tweak, nonce), None)
        .encryptor().update(zeros2600),
        "floor:tlv-split-final": lambda: bare_tlv_split(tlv["final"]),
        "floor:tlv-split-forward": lambda: bare_tlv_split(tlv["forward"]),
    }
    chain = [prims[f"floor:{p}"] for p in ("ecdh", "tweak-mul", "sha256-66", "hmac-1366",
                                           "chacha20-2600")]

    def in_sequence() -> None:  # the same calls back to back, as a peel makes them
        for call in chain:
            call()

    return {**prims, "floor:peel-sequence": in_sequence}


class DurableCommit:
    """The floor of a durable receive: one row written and committed with fsync (WAL,
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


@dataclass
class Suite:
    inputs: dict[str, Any]
    pyln: Any = None
    tmp: Any = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, with_pyln: bool = True) -> Suite:
        route = vector_route()
        onion = build_onion(SESSION_KEY, route, ASSOCIATED_DATA).to_bytes()
        packet = onion
        for key in VECTOR_KEYS[:-1]:
            nxt = peel_onion(packet, key, ASSOCIATED_DATA).next_packet
            assert nxt is not None
            packet = nxt.to_bytes()
        route20 = long_route()
        inputs = {
            "route": route, "onion": onion, "final_onion": packet, "route20": route20,
            "tlv": {"final": final_payload(), "forward": route[0][1]},
        }
        suite = cls(inputs, tmp=tempfile.TemporaryDirectory(prefix="sphinxamp-bench-"))
        if with_pyln:
            suite.pyln = _load_pyln(suite.notes)
        return suite

    def close(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()

    def timers(self) -> dict[str, Callable[[], object]]:
        i = self.inputs
        route, route20, onion, final_onion = i["route"], i["route20"], i["onion"], i["final_onion"]
        k0, k4 = VECTOR_KEYS[0], VECTOR_KEYS[4]
        tlv_final, tlv_fwd = i["tlv"]["final"], i["tlv"]["forward"]
        t: dict[str, Callable[[], object]] = {
            "ours:peel": lambda: peel_onion(onion, k0, ASSOCIATED_DATA),
            "ours:peel-final": lambda: peel_onion(final_onion, k4, ASSOCIATED_DATA),
            "ours:build-5": lambda: build_onion(SESSION_KEY, route, ASSOCIATED_DATA),
            "ours:build-20": lambda: build_onion(SESSION_KEY, route20, ASSOCIATED_DATA),
            "ours:tlv-final": lambda: decode_payload(tlv_final, Role.FINAL),
            "ours:tlv-forward": lambda: decode_payload(tlv_fwd, Role.INTERMEDIATE),
            "ours:tlv-final-stream": lambda: decode_stream(tlv_final),
            "ours:tlv-forward-stream": lambda: decode_stream(tlv_fwd),
            "floor:durable-commit": DurableCommit(os.path.join(self.tmp.name, "floor.db")),
        }
        t.update(_floor_timers(onion[1:34], k0, i["tlv"]))
        t.update(_amp_receiver(self.tmp.name, self.notes))
        if self.pyln is not None:
            t.update(_pyln_timers(self.pyln, self.inputs, self.notes))
        return t

    def rows(self, tm: dict[str, _bench.Timing]) -> list[_bench.Row]:
        add = _bench.add
        peel_floor = add(tm, [("floor:ecdh", 1), ("floor:tweak-mul", 1), ("floor:sha256-66", 1),
                              ("floor:hmac-1366", 1), ("floor:chacha20-2600", 1)])
        final_floor = add(tm, [("floor:ecdh", 1), ("floor:sha256-66", 1),
                               ("floor:hmac-1366", 1), ("floor:chacha20-2600", 1)])
        per_hop = [("floor:ecdh", 1), ("floor:generator-mul", 1)]
        floors = {
            "peel": peel_floor, "peel-final": final_floor,
            "build-5": add(tm, [(p, 5) for p, _ in per_hop]),
            "build-20": add(tm, [(p, 20) for p, _ in per_hop]),
            "tlv-final": tm["floor:tlv-split-final"], "tlv-forward": tm["floor:tlv-split-forward"],
            "amp-receive": tm["floor:durable-commit"],
        }
        rows = []
        for op, floor in floors.items():
            ours = tm.get(f"ours:{op}")
            extra = {}
            if op == "peel-final" and ours is not None:
                extra["vs_peel_floor"] = ours.median_us / peel_floor.median_us
            if op == "peel" and ours is not None:
                extra["ratio_vs_sequence"] = ours.median_us / tm["floor:peel-sequence"].median_us
            if op == "amp-receive" and ours is not None:
                extra["shards_per_s"] = 1e6 / ours.median_us
                batched = tm.get("ours:amp-receive-batch")
                if batched is not None:
                    extra["batched_shards_per_s"] = BATCH_SHARDS * 1e6 / batched.median_us
            stream = tm.get(f"ours:{op}-stream")
            if stream is not None:
                extra["stream_us"] = stream.median_us
                pyln = tm.get(f"pyln:{op}")
                if pyln is not None:
                    extra["stream_vs_pyln"] = pyln.median_us / stream.median_us
            rows.append(_bench.Row(op, ours, floor, tm.get(f"pyln:{op}"), extra))
        return rows


def _load_pyln(notes: list[str]) -> Any:
    try:
        from pyln.proto import onion as pyln_onion  # type: ignore[import-not-found,unused-ignore]
        from pyln.proto import primitives
    except Exception as exc:  # any failure to import just leaves the column empty
        notes.append(f"pyln-proto not importable ({type(exc).__name__}); its column is n/a")
        return None
    return (pyln_onion, primitives)


def _pyln_timers(pyln: Any, inputs: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    onion_mod, prim = pyln
    ad = ASSOCIATED_DATA

    def path(route: list[tuple[bytes, bytes]]) -> Callable[[], Any]:
        def build() -> Any:
            hops = [onion_mod.SphinxHop(prim.PublicKey(pk), bytes([len(p)]) + p
                                        if len(p) < 0xFD else b"\xfd" + len(p).to_bytes(2, "big")
                                        + p) for pk, p in route]
            return onion_mod.SphinxPath(hops, ad, prim.Secret(SESSION_KEY)).compile()
        return build

    def peel(packet: bytes, key: bytes) -> Callable[[], Any]:
        return lambda: onion_mod.RoutingOnion.from_bin(packet).unwrap(prim.PrivateKey(key), ad)

    built = path(inputs["route"])().to_bin()
    if built != inputs["onion"]:
        notes.append("pyln-proto builds different bytes for the vector route")
    tlv = onion_mod.TlvPayload.from_bytes
    return {
        "pyln:peel": peel(inputs["onion"], VECTOR_KEYS[0]),
        "pyln:peel-final": peel(inputs["final_onion"], VECTOR_KEYS[4]),
        "pyln:build-5": path(inputs["route"]),
        "pyln:build-20": path(inputs["route20"]),
        "pyln:tlv-final": lambda: tlv(inputs["tlv"]["final"], skip_length=True),
        "pyln:tlv-forward": lambda: tlv(inputs["tlv"]["forward"], skip_length=True),
    }


SHARDS_PER_SET = 4


def amp_shards(start: int, sets: int) -> list[Any]:
    """`sets` AMP payments of SHARDS_PER_SET shards each, every shard a valid final HTLC."""
    from ._amp import derive_child, split_root
    from ._receiver import IncomingHtlc

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


BATCH_SHARDS = 32


def _amp_receiver(tmpdir: str, notes: list[str]) -> dict[str, Callable[[], object]]:
    """Shards through `Receiver` on a `SqliteStore` (synchronous=FULL: decisions are fsynced
    before the call returns): one per `receive`, and BATCH_SHARDS per `receive_many` (one
    transaction, one fsync, for all of them). Every fourth shard settles its set."""
    try:
        from ._receiver import Receiver, Settle
        from ._receiver_store import SqliteStore
    except ImportError:
        notes.append("amp-receive: no receiver in this build")
        return {}
    receiver = Receiver(SqliteStore(os.path.join(tmpdir, "receiver.db")))
    pending: list[Any] = []
    made = [0]

    def take(count: int) -> list[Any]:
        while len(pending) < count:
            pending[:0] = reversed(amp_shards(made[0], 256))
            made[0] += 256
        return [pending.pop() for _ in range(count)]

    def receive() -> object:
        return receiver.receive(take(1)[0], now=float(made[0]))

    def receive_batch() -> object:
        return receiver.receive_many(take(BATCH_SHARDS), now=float(made[0]))

    decisions = [receive() for _ in range(SHARDS_PER_SET)]
    if not isinstance(decisions[-1], Settle):
        notes.append(f"amp-receive: a whole set did not settle ({decisions[-1]!r})")
    return {"ours:amp-receive": receive, "ours:amp-receive-batch": receive_batch}


def _peel_loop(onion: bytes, count: int) -> None:
    for _ in range(count):
        peel_onion(onion, VECTOR_KEYS[0], ASSOCIATED_DATA)


def _independent_loops(pool: ProcessPoolExecutor, onion: bytes, count: int, workers: int) -> float:
    """Wall time of `workers` processes each peeling its share alone, no results sent back:
    the most any split of the batch can get from this machine's cores."""
    start = time.perf_counter()
    for fut in [pool.submit(_peel_loop, onion, count // workers) for _ in range(workers)]:
        fut.result()
    return time.perf_counter() - start


def measure_batch(packets: int, rounds: int, workers: int = 2) -> dict[str, float]:
    """peel_many on `workers` processes against peeling the same packets into a list on one
    core, and the ceiling: that loop split over `workers` processes that send nothing back."""
    onion = build_onion(SESSION_KEY, vector_route(), ASSOCIATED_DATA).to_bytes()
    batch = [onion] * packets
    key = VECTOR_KEYS[0]
    serial, pooled, apart = [], [], []
    with PeelPool(key, workers=workers) as pool, ProcessPoolExecutor(workers) as loops:
        pool.peel_many(batch[: workers * 4], ASSOCIATED_DATA)  # start the workers
        _independent_loops(loops, onion, workers, workers)
        for _ in range(rounds):
            start = time.perf_counter()
            kept = [peel_onion(p, key, ASSOCIATED_DATA) for p in batch]  # same output as a batch
            serial.append(time.perf_counter() - start)
            del kept
            start = time.perf_counter()
            pool.peel_many(batch, ASSOCIATED_DATA)
            pooled.append(time.perf_counter() - start)
            apart.append(_independent_loops(loops, onion, packets, workers))
    one, many = statistics.median(serial), statistics.median(pooled)
    return {
        "packets": float(packets), "workers": float(workers),
        "one_core_us_per_packet": one / packets * 1e6,
        "batch_us_per_packet": many / packets * 1e6,
        "speedup": one / many,
        "ceiling_speedup": one / statistics.median(apart),
    }
