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
    items: list[_Wire], ads: list[bytes], path_keys: list[bytes | None] | None,
    options: _Options,
) -> list[Any]:
    """Runs in a worker: peel a chunk, flatten each result to picklable values."""
    key = _worker_key
    assert key is not None, "worker started without a node key"
    out: list[Any] = []
    for i, item in enumerate(items):
        res = _peel_one(_from_wire(item), key, ads[i], path_keys[i] if path_keys else None,
                        options)
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
    """Worker processes holding one node key; reuse it across batches (starting processes
    costs far more than a batch of peels)."""

    def __init__(self, node_key: bytes, workers: int | None = None, *,
                 mp_context: BaseContext | None = None) -> None:
        self.node_key = bytes(node_key)
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._executor = ProcessPoolExecutor(self.workers, mp_context=mp_context,
                                             initializer=_init_worker,
                                             initargs=(self.node_key,))

    def __enter__(self) -> PeelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
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
        if path_keys is not None:
            _check_count(len(path_keys), n, "path_keys")
        size = chunk_size or min(MAX_CHUNK, max(1, math.ceil(n / (self.workers * 4))))
        options: _Options = (payload_area, min_payload_length)
        futures: list[Future[list[Any]]] = []
        for lo in range(0, n, size):
            hi = min(n, lo + size)
            pks = None if path_keys is None else list(path_keys[lo:hi])
            futures.append(self._executor.submit(
                _peel_chunk, [_to_wire(p) for p in packets[lo:hi]], ads[lo:hi], pks, options))
        return [_from_flat(flat) for fut in futures for flat in fut.result()]


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
    hash). `workers=1` peels in this process; otherwise a `PeelPool` of `workers` processes
    (default: one per core) lives for this call.
    """
    n = len(packets)
    count = max(1, workers or os.cpu_count() or 1)
    if count == 1:
        ads = _per_packet_ads(associated_data, n)
        if path_keys is not None:
            _check_count(len(path_keys), n, "path_keys")
        options: _Options = (payload_area, min_payload_length)
        return [_peel_one(p, node_key, ads[i], path_keys[i] if path_keys else None, options)
                for i, p in enumerate(packets)]
    with PeelPool(node_key, count) as pool:
        return pool.peel_many(packets, associated_data, payload_area=payload_area,
                              path_keys=path_keys, min_payload_length=min_payload_length,
                              chunk_size=chunk_size)
