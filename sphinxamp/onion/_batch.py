"""Peel many onions with one node key across processes, in order, one result per packet.

A forwarding node peels every HTLC's onion with the same key, and each peel is pure CPU work
(an ECDH and a point multiplication), so independent packets spread over processes scale with
the cores. The calling process is one of the workers. Every helper process receives the whole
batch in one message; then all of them claim a few packets at a time from a shared cursor —
helpers from the front, the caller from the back — until the two ends meet, so no process
waits on another's leftover share. Helpers send each claim's results as soon as they are
ready, as plain tuples (the parsed-key cache of `OnionPacket` is a process-local pointer and
never crosses), and the caller places them between its own claims, so the transfer overlaps
the peeling. A packet that fails yields its `SphinxampError` in its slot instead of stopping
the batch.

What crosses to a helper process: the node's raw 32-byte private key (once, when the pool
starts), every packet's bytes, associated data and path key, and the options; what comes
back is each hop's payload, shared secret and next packet bytes, or the error. Because the
key itself is sent, `peel_many` takes raw key bytes only: a key that must stay in a signer (a
`NodeKey` object offering `ecdh`) is used with `peel_onion` / `process_hop` in the process
that holds it.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

from sphinxamp.errors import SphinxampError
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, OnionPacket, PeeledHop, peel_onion

PeelResult = PeeledHop | SphinxampError
# What crosses the process boundary: raw packet bytes, or the four fields of a framed packet.
_Wire = bytes | tuple[int, bytes, bytes, bytes]
_Options = tuple[int | None, int]  # payload_area, min_payload_length

# Packets claimed per visit to the cursor, and sent back as one message: about 3 ms of work,
# so the shared lock and the message are cheap next to it (processes contending for the lock
# sleep and wake), and the last claim keeps the other process waiting no longer than that.
DEFAULT_STEP = 32

_worker_key: bytes | None = None
_worker_cursor: Any = None
_worker_results: Any = None


def _init_worker(node_key: bytes, cursor: Any, results: Any) -> None:
    global _worker_key, _worker_cursor, _worker_results
    _worker_key, _worker_cursor, _worker_results = node_key, cursor, results
    # A helper never waits at exit for messages of an abandoned batch to be read.
    results.cancel_join_thread()


def _to_wire(packet: bytes | bytearray | memoryview | OnionPacket) -> _Wire:
    if isinstance(packet, OnionPacket):
        return (packet.version, packet.public_key, packet.hop_payloads, packet.hmac)
    return bytes(packet)


def _from_wire(item: _Wire) -> bytes | OnionPacket:
    return item if isinstance(item, bytes) else OnionPacket(*item)


def _peel_one(
    packet: bytes | OnionPacket, node_key: bytes, ad: bytes, path_key: bytes | None,
    options: _Options,
) -> PeelResult:
    try:
        return peel_onion(packet, node_key, ad, payload_area=options[0], path_key=path_key,
                          min_payload_length=options[1])
    except SphinxampError as exc:
        return exc


def _flatten(res: PeelResult) -> Any:
    if isinstance(res, SphinxampError):
        return res
    nxt = res.next_packet
    return (res.payload, res.shared_secret, res.payload_offset,
            None if nxt is None else (nxt.public_key, nxt.hop_payloads, nxt.hmac))


def _from_flat(flat: Any) -> PeelResult:
    if isinstance(flat, SphinxampError):
        return flat
    payload, ss, offset, nxt = flat
    packet = None if nxt is None else OnionPacket(0, nxt[0], nxt[1], nxt[2])
    return PeeledHop(payload, ss, packet, offset)


# The cursor is a shared [front, back] pair; its raw array is read under the one lock, as
# the synchronized wrapper would otherwise take the lock again for every element.


def _claim_front(cursor: Any, step: int) -> tuple[int, int]:
    raw = cursor.get_obj()
    with cursor.get_lock():
        lo, back = raw[0], raw[1]
        hi = min(lo + step, back)
        if hi > lo:
            raw[0] = hi
    return lo, hi


def _claim_back(cursor: Any, step: int) -> tuple[int, int]:
    raw = cursor.get_obj()
    with cursor.get_lock():
        front, hi = raw[0], raw[1]
        lo = max(hi - step, front)
        if hi > lo:
            raw[1] = lo
    return lo, hi


def _peel_shared(
    batch: int, items: list[_Wire], ads: list[bytes], path_keys: list[bytes | None],
    options: _Options, step: int,
) -> None:
    """Runs in a helper: claim packets from the front of the cursor until it meets the back,
    sending each claim's results as soon as they are ready, then an end mark (lo = -1), so the
    transfer overlaps the peeling instead of following it."""
    key, cursor, results = _worker_key, _worker_cursor, _worker_results
    assert key is not None, "helper started without a node key"
    try:
        while True:
            lo, hi = _claim_front(cursor, step)
            if lo >= hi:
                return
            results.put((batch, lo, [_flatten(_peel_one(_from_wire(items[i]), key, ads[i],
                                                        path_keys[i], options))
                                     for i in range(lo, hi)]))
    finally:
        results.put((batch, -1, None))


def _raise_failure(futures: list[Future[None]]) -> None:
    for fut in futures:
        if fut.done() and fut.exception() is not None:
            raise fut.exception()  # type: ignore[misc]


def _per_packet_ads(associated_data: bytes | Sequence[bytes], n: int) -> list[bytes]:
    if isinstance(associated_data, bytes | bytearray | memoryview):
        return [bytes(associated_data)] * n
    ads = [bytes(ad) for ad in associated_data]
    _check_count(len(ads), n, "associated_data")
    return ads


def _check_count(got: int, n: int, what: str) -> None:
    if got != n:
        raise SphinxampError(f"{got} {what} values for {n} packets", field=what,
                             reason="length_mismatch")


class PeelPool:
    """`workers` processes peeling with one node key, the calling process being one of them.
    Reuse a pool across batches: starting processes costs far more than a batch of peels.
    One batch runs at a time (the cursor is shared); concurrent calls queue."""

    def __init__(self, node_key: bytes, workers: int | None = None, *,
                 mp_context: BaseContext | None = None) -> None:
        self.node_key = bytes(node_key)
        self.workers = max(1, workers or os.cpu_count() or 1)
        ctx = mp_context or multiprocessing.get_context()
        self._cursor = ctx.Array("q", 2)
        self._results = ctx.Queue()
        self._busy = threading.Lock()
        self._batch = 0
        self._executor = None
        if self.workers > 1:
            self._executor = ProcessPoolExecutor(
                self.workers - 1, mp_context=ctx, initializer=_init_worker,
                initargs=(self.node_key, self._cursor, self._results))

    def __enter__(self) -> PeelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def _collect(self, out: list[PeelResult | None], futures: list[Future[None]],
                 wait: bool) -> tuple[int, int]:
        """Place the helpers' results that have arrived: (helpers finished, results placed).
        With `wait`, block until at least one message of this batch arrives."""
        finished = placed = 0
        while True:
            try:
                msg = self._results.get(timeout=0.05) if wait else self._results.get_nowait()
            except queue.Empty:
                msg = None
            if msg is None:
                if not wait:
                    return finished, placed
                _raise_failure(futures)  # a helper that died sends nothing more
                continue
            batch, lo, flats = msg
            if batch != self._batch:
                continue  # left over from a batch abandoned by an exception
            if lo < 0:
                finished += 1
            else:
                out[lo : lo + len(flats)] = [_from_flat(f) for f in flats]
                placed += len(flats)
            wait = False

    def _reset(self, n: int) -> None:
        with self._cursor.get_lock():
            self._cursor[0], self._cursor[1] = 0, n

    def peel_many(
        self,
        packets: Sequence[bytes | OnionPacket],
        associated_data: bytes | Sequence[bytes],
        *,
        payload_area: int | None = PAYMENT_PAYLOAD_AREA,
        path_keys: Sequence[bytes | None] | None = None,
        min_payload_length: int = 2,
        chunk_size: int | None = None,
    ) -> list[PeelResult]:
        """One result per packet, in order: a `PeeledHop` or the error that packet raised.
        `chunk_size` is how many packets a process claims at a time."""
        n = len(packets)
        ads = _per_packet_ads(associated_data, n)
        pks: list[bytes | None] = [None] * n if path_keys is None else list(path_keys)
        _check_count(len(pks), n, "path_keys")
        step = max(1, chunk_size or DEFAULT_STEP)
        options: _Options = (payload_area, min_payload_length)
        out: list[PeelResult | None] = [None] * n
        with self._busy:
            self._batch += 1
            self._reset(n)
            futures = []
            if self._executor is not None and n > step:
                wire = [_to_wire(p) for p in packets]
                futures = [self._executor.submit(_peel_shared, self._batch, wire, ads, pks,
                                                 options, step)
                           for _ in range(self.workers - 1)]
            open_helpers, placed = len(futures), 0
            try:
                while True:
                    lo, hi = _claim_back(self._cursor, step)
                    if lo >= hi:
                        break
                    for i in range(lo, hi):
                        out[i] = _peel_one(packets[i], self.node_key, ads[i], pks[i], options)
                    done, got = self._collect(out, futures, wait=False)
                    open_helpers, placed = open_helpers - done, placed + hi - lo + got
            except BaseException:
                self._reset(0)  # nothing left to claim: the helpers stop, then re-raise
                for fut in futures:
                    fut.exception()
                raise
            while open_helpers:
                done, got = self._collect(out, futures, wait=True)
                open_helpers, placed = open_helpers - done, placed + got
            _raise_failure(futures)
            if placed != n:
                raise RuntimeError(f"peel_many placed {placed} results for {n} packets")
        return out  # type: ignore[return-value]  # every slot was filled above


def peel_many(
    packets: Sequence[bytes | OnionPacket],
    node_key: bytes,
    associated_data: bytes | Sequence[bytes],
    *,
    payload_area: int | None = PAYMENT_PAYLOAD_AREA,
    path_keys: Sequence[bytes | None] | None = None,
    min_payload_length: int = 2,
    workers: int | None = None,
    chunk_size: int | None = None,
) -> list[PeelResult]:
    """Peel every packet with `node_key` (BOLT 4 › Onion Decryption, once per packet).

    `associated_data` is one value for all packets or one per packet (each HTLC's payment
    hash). A `PeelPool` of `workers` (default: one per core; this process counts as one, so
    `workers=1` starts no process) lives for this call.
    """
    with PeelPool(node_key, workers) as pool:
        return pool.peel_many(packets, associated_data, payload_area=payload_area,
                              path_keys=path_keys, min_payload_length=min_payload_length,
                              chunk_size=chunk_size)
