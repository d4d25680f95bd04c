"""Peel many onions with one node key across processes, in order, one result per packet.

A forwarding node peels every HTLC's onion with the same key, and each peel is pure CPU work
(an ECDH and a point multiplication), so independent packets spread over processes scale with
the cores. Packets travel to the workers in chunks (one message per chunk, not per packet) and
results come back as plain tuples; the parsed-key cache of `OnionPacket` is a process-local
pointer and is never sent. A packet that fails yields its `SphinxampError` in its slot instead
of stopping the batch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

from .errors import SphinxampError
from .sphinx import PAYMENT_PAYLOAD_AREA, OnionPacket, PeeledHop, peel_onion

PeelResult = PeeledHop | SphinxampError
# What crosses the process boundary: raw packet bytes, or the four fields of a framed packet.
_Wire = bytes | tuple[int, bytes, bytes, bytes]
_Options = tuple[int | None, int]  # payload_area, min_payload_length

MAX_CHUNK = 256

_worker_key: bytes | None = None


def _init_worker(node_key: bytes) -> None:
    global _worker_key
    _worker_key = node_key


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


def _peel_chunk(
    items: list[_Wire], ads: list[bytes], path_keys: list[bytes | None], options: _Options,
) -> list[Any]:
    """Runs in a worker: peel a chunk, flatten each result to picklable values."""
    key = _worker_key
    assert key is not None, "worker started without a node key"
    out: list[Any] = []
    for i, item in enumerate(items):
        res = _peel_one(_from_wire(item), key, ads[i], path_keys[i], options)
        if isinstance(res, SphinxampError):
            out.append(res)
            continue
        nxt = res.next_packet
        out.append((res.payload, res.shared_secret, res.payload_offset,
                    None if nxt is None else (nxt.public_key, nxt.hop_payloads, nxt.hmac)))
    return out


def _from_flat(flat: Any) -> PeelResult:
    if isinstance(flat, SphinxampError):
        return flat
    payload, ss, offset, nxt = flat
    packet = None if nxt is None else OnionPacket(0, nxt[0], nxt[1], nxt[2])
    return PeeledHop(payload, ss, packet, offset)


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
    """`workers` processes peeling with one node key, the calling process being one of them:
    it peels the chunks the others have not started, so only their chunks pay for the trip
    between processes. Reuse a pool across batches (starting processes costs far more than a
    batch of peels)."""

    def __init__(self, node_key: bytes, workers: int | None = None, *,
                 mp_context: BaseContext | None = None) -> None:
        self.node_key = bytes(node_key)
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._executor = None
        if self.workers > 1:
            self._executor = ProcessPoolExecutor(self.workers - 1, mp_context=mp_context,
                                                 initializer=_init_worker,
                                                 initargs=(self.node_key,))

    def __enter__(self) -> PeelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

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
        """One result per packet, in order: a `PeeledHop` or the error that packet raised."""
        n = len(packets)
        ads = _per_packet_ads(associated_data, n)
        pks: Sequence[bytes | None] = [None] * n if path_keys is None else path_keys
        _check_count(len(pks), n, "path_keys")
        size = chunk_size or min(MAX_CHUNK, max(1, math.ceil(n / (self.workers * 16))))
        bounds = [(lo, min(n, lo + size)) for lo in range(0, n, size)]
        options: _Options = (payload_area, min_payload_length)
        futures: list[Future[list[Any]]] = []
        if self._executor is not None:
            futures = [self._executor.submit(_peel_chunk, [_to_wire(p) for p in packets[lo:hi]],
                                             ads[lo:hi], list(pks[lo:hi]), options)
                       for lo, hi in bounds]
        done: dict[int, list[PeelResult]] = {}
        # Take chunks from the back while the helpers have not started them; they work from
        # the front, so the two meet with at most a chunk or two of imbalance.
        for idx in range(len(bounds) - 1, -1, -1):
            if futures and not futures[idx].cancel():
                break
            lo, hi = bounds[idx]
            done[idx] = [_peel_one(packets[i], self.node_key, ads[i], pks[i], options)
                         for i in range(lo, hi)]
        out: list[PeelResult] = []
        for idx in range(len(bounds)):
            out.extend(done[idx] if idx in done else map(_from_flat, futures[idx].result()))
        return out


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
