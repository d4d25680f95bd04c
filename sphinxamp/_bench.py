"""Benchmark core: sphinxamp, the bare primitives beneath it, and pyln-proto, side by side.

Every timed callable (ours, each floor primitive, pyln-proto's) runs in the same rounds, in a
shuffled order each round, so drift on a shared machine lands on all of them alike. A sample is
the mean of a batch of calls sized to a few milliseconds; rows report the min and the median of
the samples. A floor is the sum of its primitives, each timed alone (the choices of which call
counts as "the primitive" are in benchmarks/README.md). Lives inside the package so the CLI
works from an installed wheel.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Goals, as ratios of medians measured in one run.
GOALS: dict[str, tuple[str, float]] = {
    "peel": ("ratio <=", 1.10),
    "peel-final": ("vs peel floor <=", 0.60),
    "build-5": ("ratio <=", 1.15),
    "build-20": ("ratio <=", 1.10),
    "tlv-final": ("pyln/ours >=", 3.0),
    "tlv-forward": ("pyln/ours >=", 3.0),
    "amp-receive": ("shards/s >=", 2000.0),
}
BATCH_GOAL = 1.8


@dataclass(frozen=True, slots=True)
class Timing:
    min_us: float
    median_us: float


@dataclass(frozen=True, slots=True)
class Row:
    op: str
    ours: Timing | None
    floor: Timing | None
    pyln: Timing | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.floor is None:
            return None
        return self.ours.median_us / self.floor.median_us

    @property
    def vs_pyln(self) -> float | None:
        """How many times faster than pyln-proto (pyln median / ours median)."""
        if self.ours is None or self.pyln is None:
            return None
        return self.pyln.median_us / self.ours.median_us

    def goal_value(self) -> float | None:
        if self.op == "peel-final":
            return self.extra.get("vs_peel_floor")
        if self.op.startswith("tlv-"):
            return self.vs_pyln
        if self.op == "amp-receive":
            return None if self.ours is None else 1e6 / self.ours.median_us
        return self.ratio

    def goal_met(self) -> bool | None:
        value = self.goal_value()
        if value is None or self.op not in GOALS:
            return None
        kind, bound = GOALS[self.op]
        return value <= bound if kind.endswith("<=") else value >= bound

    def to_dict(self) -> dict[str, object]:
        def r(x: float | None, nd: int = 3) -> float | None:
            return None if x is None else round(x, nd)

        kind, bound = GOALS.get(self.op, ("", 0.0))
        return {
            "op": self.op,
            "ours_us": r(self.ours.median_us if self.ours else None),
            "floor_us": r(self.floor.median_us if self.floor else None),
            "ratio": r(self.ratio, 4),
            "ours_min_us": r(self.ours.min_us if self.ours else None),
            "floor_min_us": r(self.floor.min_us if self.floor else None),
            "pyln_us": r(self.pyln.median_us if self.pyln else None),
            "ours_vs_pyln": r(self.vs_pyln, 3),
            "goal": f"{kind} {bound:g}",
            "goal_value": r(self.goal_value(), 4),
            "goal_met": self.goal_met(),
            **{k: r(v, 4) for k, v in self.extra.items()},
        }


# --- the measuring loop ---------------------------------------------------------------------


def _batch_ns(fn: Callable[[], object], number: int) -> int:
    start = time.perf_counter_ns()
    for _ in range(number):
        fn()
    return time.perf_counter_ns() - start


def _noop() -> None:
    return None


def measure(
    timers: dict[str, Callable[[], object]], rounds: int, sample_ms: float, seed: int = 1
) -> dict[str, Timing]:
    """Min and median µs per call of every timer, all of them interleaved round by round.

    The cost of the loop and of one empty Python call is measured the same way and subtracted,
    so a floor summed from several cheap primitives does not count that cost several times.
    """
    timers = {"(empty call)": _noop, **timers}
    numbers = {}
    for name, fn in timers.items():
        fn()  # warm caches and lazily built state before calibrating
        one = max(_batch_ns(fn, 3) / 3, 50.0)
        numbers[name] = max(1, int(sample_ms * 1e6 / one))
    samples: dict[str, list[float]] = {name: [] for name in timers}
    order = list(timers)
    rng = random.Random(seed)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            rng.shuffle(order)
            for name in order:
                n = numbers[name]
                samples[name].append(_batch_ns(timers[name], n) / n / 1000.0)
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    empty = samples.pop("(empty call)")
    overhead = min(empty)
    return {
        name: Timing(max(min(s) - overhead, 0.0), max(statistics.median(s) - overhead, 0.0))
        for name, s in samples.items()
    }


def add(timings: dict[str, Timing], parts: Sequence[tuple[str, int]]) -> Timing:
    """A floor: the sum of primitives (name, how many times), each timed alone."""
    return Timing(sum(timings[p].min_us * k for p, k in parts),
                  sum(timings[p].median_us * k for p, k in parts))


# --- the report -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    rows: tuple[Row, ...]
    batch: dict[str, float] | None
    primitives: dict[str, Timing]
    rounds: int
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": [row.to_dict() for row in self.rows],
            "batch": self.batch,
            "primitives_us": {k: round(v.median_us, 3) for k, v in self.primitives.items()},
            "rounds": self.rounds,
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        def f(x: float | None, fmt: str = "{:.1f}") -> str:
            return "n/a" if x is None else fmt.format(x)

        lines = [
            "| op | ours µs (min) | floor µs (min) | ratio | pyln µs | ours vs pyln | goal | met |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            ours = (f"{row.ours.median_us:.1f} ({row.ours.min_us:.1f})" if row.ours else "n/a")
            flo = (f"{row.floor.median_us:.1f} ({row.floor.min_us:.1f})" if row.floor else "n/a")
            kind, bound = GOALS[row.op]
            met = {True: "yes", False: "no", None: "n/a"}[row.goal_met()]
            goal = f"{kind} {bound:g} (is {f(row.goal_value(), '{:.2f}')})"
            lines.append(
                f"| {row.op} | {ours} | {flo} | {f(row.ratio, '{:.2f}x')} | "
                f"{f(row.pyln.median_us if row.pyln else None)} | "
                f"{f(row.vs_pyln, '{:.2f}x')} | {goal} | {met} |"
            )
        if self.batch:
            b = self.batch
            lines += [
                "",
                f"peel_many over {int(b['packets'])} packets, {int(b['workers'])} workers: "
                f"{b['one_core_us_per_packet']:.1f} µs/packet on one core, "
                f"{b['batch_us_per_packet']:.1f} µs/packet batched, speedup "
                f"{b['speedup']:.2f}x (goal >= {BATCH_GOAL:g}x); {int(b['workers'])} processes "
                f"peeling their share with no exchange at all: {b['ceiling_speedup']:.2f}x.",
            ]
        batched = next((r.extra.get("batched_shards_per_s") for r in self.rows
                        if r.op == "amp-receive"), None)
        if batched is not None:
            lines += ["", f"amp-receive through receive_many, 32 shards per transaction (one "
                      f"fsync): {batched:,.0f} shards/s."]
        lines += ["", "Primitives and extras (median µs): " + ", ".join(
            f"{k} {v.median_us:.2f}" for k, v in self.primitives.items())]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def run(*, quick: bool = False, with_pyln: bool = True, with_batch: bool = True) -> Report:
    """Measure every row. `quick` trades precision for a run of a few seconds."""
    from . import _bench_cases as cases  # the cases import this module's types

    rounds, sample_ms = (5, 0.5) if quick else (31, 4.0)
    suite = cases.Suite.create(with_pyln=with_pyln)
    try:
        timings = measure(suite.timers(), rounds, sample_ms)
        rows = suite.rows(timings)
        batch = None
        if with_batch:
            batch = cases.measure_batch(packets=200 if quick else 2000,
                                        rounds=2 if quick else 7)
    finally:
        suite.close()
    prims = {k.split(":", 1)[1]: v for k, v in timings.items()
             if k.startswith("floor:") or k.endswith("-stream")}
    return Report(tuple(rows), batch, prims, rounds, tuple(suite.notes))
