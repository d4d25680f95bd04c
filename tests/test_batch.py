"""peel_many across processes: order, per-packet errors, and the official BOLT 4 onion walked
hop by hop through worker processes (expected secrets and payloads from vectors/)."""

from __future__ import annotations

import inspect
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import sphinxamp.errors as errors_module
from sphinxamp import OnionPacket
from sphinxamp.cli._common import error_object
from sphinxamp.errors import (
    DecodeError,
    InvalidOnionHmac,
    InvalidOnionKey,
    InvalidOnionVersion,
    InvalidSecret,
    ReplayedOnion,
    SphinxampError,
)
from sphinxamp.onion import PeeledHop, PeelPool, peel_many

VECTOR = json.loads((Path(__file__).resolve().parent.parent / "vectors" / "bolt04-onion.json")
                    .read_text())["cases"][0]
ONION = bytes.fromhex(VECTOR["expect"]["onion"])
AD = bytes.fromhex(VECTOR["associated_data"])
KEYS = [bytes([0x41 + i]) * 32 for i in range(5)]  # the vector's hop private keys
SECRETS = [bytes.fromhex(s) for s in VECTOR["expect"]["shared_secrets"]]
PAYLOADS = [bytes.fromhex(h["payload"]) for h in VECTOR["hops"]]


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


def test_walks_the_bolt4_onion_through_workers() -> None:
    packet: bytes | OnionPacket = ONION
    for hop, key in enumerate(KEYS):
        raw = packet if isinstance(packet, bytes) else packet.to_bytes()
        batch = [packet, flip(raw, 100), packet, raw]
        ads = [AD, AD, AD, b"other associated data"]
        results = peel_many(batch, key, ads, workers=2, chunk_size=1)
        assert len(results) == 4
        ok, tampered, again, wrong_ad = results
        assert isinstance(ok, PeeledHop) and isinstance(again, PeeledHop)
        assert ok.shared_secret == SECRETS[hop] and ok.payload == PAYLOADS[hop]
        assert again == ok
        assert isinstance(tampered, InvalidOnionHmac) and isinstance(wrong_ad, InvalidOnionHmac)
        assert tampered.failure_code == 0xC005 and tampered.offset == 1334
        assert ok.is_final == (hop == 4)
        if ok.next_packet is not None:
            packet = ok.next_packet  # framed, parsed key not carried: re-parsed next hop


def _mixed_batch() -> tuple[list[bytes], list[type[SphinxampError] | None]]:
    bad_key = ONION[:1] + bytes([0x02]) + bytes(32) + ONION[34:]  # x = 0 is not on the curve
    kinds: list[tuple[bytes, type[SphinxampError] | None]] = [
        (ONION, None),
        (b"\x01" + ONION[1:], InvalidOnionVersion),
        (ONION[:-1], DecodeError),
        (bad_key, InvalidOnionKey),
        (flip(ONION, 1365), InvalidOnionHmac),
    ]
    packets, expected = [], []
    for i in range(45):
        packet, error = kinds[(i * 7) % len(kinds)]
        packets.append(packet)
        expected.append(error)
    return packets, expected


@pytest.mark.parametrize("workers", [1, 2])
def test_order_and_per_packet_errors(workers: int) -> None:
    packets, expected = _mixed_batch()
    results = peel_many(packets, KEYS[0], AD, workers=workers, chunk_size=4)
    assert len(results) == len(packets)
    for result, error in zip(results, expected, strict=True):
        if error is None:
            assert isinstance(result, PeeledHop) and result.shared_secret == SECRETS[0]
        else:
            assert type(result) is error


def test_pool_is_reusable_and_takes_framed_packets() -> None:
    framed = OnionPacket.parse(ONION)
    with PeelPool(KEYS[0], workers=2) as pool:
        first = pool.peel_many([framed, ONION], AD)
        second = pool.peel_many([ONION] * 9, [AD] * 9, chunk_size=2)
    assert all(isinstance(r, PeeledHop) and r.payload == PAYLOADS[0] for r in first + second)
    assert first[0] == first[1]


def test_a_bad_node_key_is_a_per_packet_error() -> None:
    results = peel_many([ONION, ONION], bytes(32), AD, workers=2)
    assert all(isinstance(r, InvalidSecret) for r in results)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(SphinxampError):
        peel_many([ONION, ONION], KEYS[0], [AD], workers=1)
    with pytest.raises(SphinxampError):
        peel_many([ONION], KEYS[0], AD, path_keys=[None, None], workers=2)


def _error_classes() -> list[type[SphinxampError]]:
    found = [c for _, c in inspect.getmembers(errors_module, inspect.isclass)
             if issubclass(c, SphinxampError)]
    return list(dict.fromkeys([*found, InvalidSecret, ReplayedOnion]))


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_errors_cross_process_boundaries_intact(cls: type[SphinxampError]) -> None:
    err: Any = cls("what went wrong", field="hop_payloads", offset=17, tlv_type=8,
                   reason="some_reason", failure_code=0x400F)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert error_object(back) == error_object(err)
    assert back.offset == 17 and back.failure_code == 0x400F


class Sink:
    """Stands in for the results queue: keeps what a helper sends."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def put(self, item: Any) -> None:
        self.sent.append(pickle.loads(pickle.dumps(item)))  # as it crosses the pipe

    def cancel_join_thread(self) -> None:
        return None


def test_results_survive_the_trip_between_processes() -> None:
    """What a helper process sends back rebuilds the same results as peeling in place."""
    import multiprocessing

    from sphinxamp.onion import _batch as batch

    packets, _ = _mixed_batch()
    n = len(packets)
    cursor = multiprocessing.Array("q", [0, n])
    sink = Sink()
    batch._init_worker(KEYS[0], cursor, sink)
    wire = [batch._to_wire(p) for p in packets]
    batch._peel_shared(7, wire, [AD] * n, [None] * n, (1300, 2), 4)
    assert cursor[0] == n  # the helper claimed everything, 4 packets at a time
    assert [(b, lo) for b, lo, _ in sink.sent] == [(7, lo) for lo in range(0, n, 4)] + [(7, -1)]
    rebuilt = [batch._from_flat(f) for _, lo, chunk in sink.sent if lo >= 0 for f in chunk]
    local = peel_many(packets, KEYS[0], AD, workers=1)
    for got, want in zip(rebuilt, local, strict=True):
        assert type(got) is type(want)
        if isinstance(want, SphinxampError):
            assert isinstance(got, SphinxampError) and error_object(got) == error_object(want)
        else:
            assert got == want


@pytest.mark.parametrize("workers", [2, 3])
def test_large_batch_across_processes_matches_local_peel(workers: int) -> None:
    packets, _ = _mixed_batch()
    packets = packets * 4
    local = peel_many(packets, KEYS[0], AD, workers=1)
    pooled = peel_many(packets, KEYS[0], AD, workers=workers, chunk_size=3)
    assert [type(r) for r in pooled] == [type(r) for r in local]
    assert [r for r in pooled if isinstance(r, PeeledHop)] == [
        r for r in local if isinstance(r, PeeledHop)]


def test_a_failed_batch_leaves_the_pool_usable() -> None:
    """A bug-class exception (not a SphinxampError) propagates; the next batch on the same
    pool is not polluted by what the helper had sent for the abandoned one."""
    with PeelPool(KEYS[0], workers=2) as pool:
        with pytest.raises(TypeError):
            pool.peel_many([ONION] * 64, AD, path_keys=[5] * 64,  # type: ignore[list-item]
                           chunk_size=2)
        results = pool.peel_many([ONION] * 64, AD, chunk_size=2)
    assert all(isinstance(r, PeeledHop) and r.payload == PAYLOADS[0] for r in results)
