"""Is the hand-made pool of `peel_many` worth it? The same batch through plain
`concurrent.futures` variants and through `PeelPool`, in interleaved rounds.

`python -m benchmarks.batch_variants [--packets N] [--rounds R]` prints, per variant, the
median µs per packet and the speedup over peeling the batch on one core:

- `futures-map`: `ProcessPoolExecutor(2).map` over chunks; the caller only waits.
- `futures-split`: one helper process gets the front half through `submit`, the caller peels
  the back half itself, then waits for the helper's results.
- `futures-chunks`: the caller and one helper take fixed chunks: the helper's are submitted
  up front, the caller peels the rest, then collects.
- `peelpool`: `PeelPool(workers=2)` (sphinxamp/onion/_batch.py): helpers get the whole batch once
  and claim packets from a shared cursor, the caller from the other end; results stream back.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cases import ASSOCIATED_DATA, SESSION_KEY, VECTOR_KEYS, vector_route
from sphinxamp.onion._batch import PeelPool, _flatten, _from_flat, _peel_one
from sphinxamp.onion._sphinx import build_onion

KEY = VECTOR_KEYS[0]
OPTIONS = (1300, 2)


def _peel_chunk(packets: list[bytes]) -> list[Any]:
    """In a helper: peel and flatten (the same plain tuples PeelPool sends back)."""
    return [_flatten(_peel_one(p, KEY, ASSOCIATED_DATA, None, OPTIONS)) for p in packets]


def _local(packets: list[bytes]) -> list[Any]:
    return [_peel_one(p, KEY, ASSOCIATED_DATA, None, OPTIONS) for p in packets]


def variants(pool: ProcessPoolExecutor, helper: ProcessPoolExecutor, peelpool: PeelPool,
             chunk: int) -> dict[str, Callable[[list[bytes]], list[Any]]]:
    def futures_map(batch: list[bytes]) -> list[Any]:
        parts = [batch[i : i + chunk] for i in range(0, len(batch), chunk)]
        return [_from_flat(f) for part in pool.map(_peel_chunk, parts) for f in part]

    def futures_split(batch: list[bytes]) -> list[Any]:
        half = len(batch) // 2
        fut = helper.submit(_peel_chunk, batch[:half])
        mine = _local(batch[half:])
        return [_from_flat(f) for f in fut.result()] + mine

    def futures_chunks(batch: list[bytes]) -> list[Any]:
        parts = [batch[i : i + chunk] for i in range(0, len(batch), chunk)]
        theirs = [helper.submit(_peel_chunk, p) for p in parts[: len(parts) // 2]]
        mine = [r for p in parts[len(parts) // 2 :] for r in _local(p)]
        return [_from_flat(f) for fut in theirs for f in fut.result()] + mine

    return {
        "one-core": _local,
        "futures-map": futures_map,
        "futures-split": futures_split,
        "futures-chunks": futures_chunks,
        "peelpool": lambda batch: peelpool.peel_many(batch, ASSOCIATED_DATA),
    }


def measure(packets: int, rounds: int, chunk: int = 32) -> dict[str, dict[str, float]]:
    onion = build_onion(SESSION_KEY, vector_route(), ASSOCIATED_DATA).to_bytes()
    batch = [onion] * packets
    times: dict[str, list[float]] = {}
    with ProcessPoolExecutor(2) as pool, ProcessPoolExecutor(1) as helper, \
            PeelPool(KEY, workers=2) as peelpool:
        runs = variants(pool, helper, peelpool, chunk)
        for fn in runs.values():  # start every process, warm every path
            assert len(fn(batch[:256])) == 256
        for _ in range(rounds):
            for name, fn in runs.items():
                start = time.perf_counter()
                out = fn(batch)
                times.setdefault(name, []).append(time.perf_counter() - start)
                assert len(out) == packets
    one = statistics.median(times["one-core"])
    return {name: {"us_per_packet": statistics.median(t) / packets * 1e6,
                   "speedup": one / statistics.median(t)} for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    for name, row in measure(args.packets, args.rounds).items():
        print(f"{name:15s} {row['us_per_packet']:7.1f} µs/packet  {row['speedup']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
