"""The measuring loop, the rows and the report of the benchmark table.

Every timed callable (ours, each floor primitive, the peer's) runs in the same rounds, in a
shuffled order each round, so drift on a shared machine lands on all of them alike. A sample is
the mean of a batch of calls sized to a few milliseconds; rows report the min and the median of
the samples. A floor is the sum of its primitives, each timed alone (which call counts as "the
primitive" is written down in benchmarks/README.md).
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Goals (issue 14), as ratios of medians measured in one run. The kinds:
#   "ratio <="      ours / floor
#   "peer/ours >="  how many times faster than the peer (pyln-proto)
#   "per_s >="      operations per second (1e6 / ours_us, times the row's `per_call`)
#   "x >="          a speedup computed by the row itself (peel_many)
GOALS: dict[str, tuple[str, float]] = {
    "peel": ("ratio <=", 1.18),  # no worse than before process_hop (README, 2026-11-21)
    "build-5": ("ratio <=", 1.05),
    "build-20": ("ratio <=", 1.05),
    "payload-final": ("peer/ours >=", 2.0),
    "payload-forward": ("peer/ours >=", 2.0),
    "process-hop": ("ratio <=", 1.10),
    "process-hop-memlog": ("ratio <=", 1.12),
    "process-hop-sqlite": ("per_s >=", 5000.0),
    "amp-receive": ("per_s >=", 2000.0),
    "peel-many": ("x >=", 1.85),
}
# The fast fuzz targets' executions per second under atheris (benchmarks/fuzz_rate.py: rows
# `fuzz:<target>`, ours_us = CPU µs per execution).
GOALS.update({f"fuzz:{target}": ("per_s >=", rate) for target, rate in {
    "bigsize_fast": 50_000.0, "tlv_stream_fast": 50_000.0, "tlv_typed_fast": 50_000.0,
    "payload_intermediate_fast": 20_000.0, "payload_final_fast": 20_000.0,
    "payload_blinded_intermediate_fast": 20_000.0, "payload_blinded_final_fast": 20_000.0,
    "peel_raw_fast": 10_000.0}.items()})


@dataclass(frozen=True, slots=True)
class Timing:
    min_us: float
    median_us: float


@dataclass(frozen=True, slots=True)
class Row:
    op: str
    ours: Timing | None
    floor: Timing | None
    peer: Timing | None = None
    peer_name: str | None = None
    extra: dict[str, float] = field(default_factory=dict)
    per_call: int = 1  # operations one timed call performs (a batch of hops)
    peer_error: str | None = None  # why a peer asked for has no figure here
    note: str | None = None  # why `ours` has no figure (a tool missing, a run that failed)

    def peer_text(self) -> str:
        if self.peer is not None:
            return self.peer_name or "n/a"
        return "n/a" if self.peer_error is None else f"n/a ({self.peer_error})"

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.floor is None or not self.floor.median_us:
            return None
        return self.ours.median_us / self.floor.median_us

    @property
    def vs_peer(self) -> float | None:
        """How many times faster than the peer (peer median / ours median)."""
        if self.ours is None or self.peer is None or not self.ours.median_us:
            return None
        return self.peer.median_us / self.ours.median_us

    def goal_value(self) -> float | None:
        kind = GOALS.get(self.op, ("", 0.0))[0]
        if kind == "peer/ours >=":
            return self.vs_peer
        if kind == "per_s >=":
            return None if not self.ours else self.per_call * 1e6 / self.ours.median_us
        if kind == "x >=":
            return self.extra.get("speedup")
        return self.ratio

    def goal_met(self) -> bool | None:
        value = self.goal_value()
        if value is None or self.op not in GOALS:
            return None
        kind, bound = GOALS[self.op]
        return value <= bound if kind.endswith("<=") else value >= bound

    def goal_text(self) -> str | None:
        if self.op not in GOALS:
            return None
        kind, bound = GOALS[self.op]
        return f"{kind} {bound:g}"

    def to_dict(self) -> dict[str, object]:
        def r(x: float | None, nd: int = 3) -> float | None:
            return None if x is None else round(x, nd)

        return {
            "op": self.op,
            "ours_us": r(self.ours.median_us if self.ours else None),
            "floor_us": r(self.floor.median_us if self.floor else None),
            "ratio": r(self.ratio, 4),
            "peer": self.peer_name if self.peer else None,
            "peer_us": r(self.peer.median_us if self.peer else None),
            "goal": self.goal_text(),
            "met": self.goal_met(),
            "goal_value": r(self.goal_value(), 4),
            "ours_min_us": r(self.ours.min_us if self.ours else None),
            "floor_min_us": r(self.floor.min_us if self.floor else None),
            "peer_vs_ours": r(self.vs_peer, 3),
            "peer_error": self.peer_error,
            "note": self.note,
            **{k: r(v, 4) for k, v in self.extra.items()},
        }


# --- the measuring loop ---------------------------------------------------------------------


def _batch_ns(fn: Callable[[], object], number: int,
              clock: Callable[[], int] = time.thread_time_ns) -> int:
    start = clock()
    for _ in range(number):
        fn()
    return clock() - start


# CPU-bound timers are timed in this thread's CPU time: on a shared machine the time other
# processes hold the core is not counted, which wall-clock time would add to whichever timer
# happened to be preempted. Timers that wait on the disk (an fsync) need the wall clock.
WALL_CLOCK = ("amp-receive", "process-hop-sqlite", "durable-commit")


def clock_of(name: str) -> Callable[[], int]:
    return time.perf_counter_ns if name.endswith(WALL_CLOCK) else time.thread_time_ns


def _noop() -> None:
    return None


SUBSAMPLES = 3


def _sample(fn: Callable[[], object], n: int, name: str) -> float:
    """One round's sample of a timer, µs per call: the minimum of SUBSAMPLES batches of n
    calls in CPU time (what is left once contention from other processes is filtered out), or
    for a timer on the wall clock the mean over all of them (a durable commit is judged at
    its typical fsync, never its luckiest)."""
    clock = clock_of(name)
    if clock is time.perf_counter_ns:
        return _batch_ns(fn, n * SUBSAMPLES, clock) / (n * SUBSAMPLES) / 1000.0
    return min(_batch_ns(fn, n, clock) for _ in range(SUBSAMPLES)) / n / 1000.0


def measure(
    timers: dict[str, Callable[[], object]], rounds: int, sample_ms: float, seed: int = 1
) -> dict[str, Timing]:
    """Min and median µs per call of every timer, all of them interleaved round by round: the
    median over rounds of each round's minimum (`_sample`), and the least of those.

    The cost of the loop and of one empty Python call is measured the same way and subtracted,
    so a floor summed from several cheap primitives does not count that cost several times.
    Each timer is read on its clock (`clock_of`): CPU time, or wall time for disk waits.
    """
    timers = {"(empty call)": _noop, **timers}
    numbers = {}
    for name, fn in timers.items():
        fn()  # warm caches and lazily built state before calibrating
        one = max(_batch_ns(fn, 3, time.perf_counter_ns) / 3, 50.0)
        numbers[name] = max(1, int(sample_ms * 1e6 / one / SUBSAMPLES))
    samples: dict[str, list[float]] = {name: [] for name in timers}
    order = list(timers)
    rng = random.Random(seed)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            rng.shuffle(order)
            for name in order:
                samples[name].append(_sample(timers[name], numbers[name], name))
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


def add(timings: dict[str, Timing], parts: Sequence[tuple[str, float]]) -> Timing:
    """A floor: the sum of primitives (name, how many times), each timed alone."""
    return Timing(sum(timings[p].min_us * k for p, k in parts),
                  sum(timings[p].median_us * k for p, k in parts))


# --- the report -----------------------------------------------------------------------------


def _fmt(x: float | None, fmt: str = "{:.1f}") -> str:
    return "n/a" if x is None else fmt.format(x)


@dataclass(frozen=True, slots=True)
class Report:
    rows: tuple[Row, ...]
    primitives: dict[str, Timing]
    rounds: int
    sections: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    peer_error: str | None = None
    versions: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": [row.to_dict() for row in self.rows],
            **{k: {n: round(v, 4) for n, v in s.items()} for k, s in self.sections.items()},
            "primitives_us": {k: round(v.median_us, 3) for k, v in self.primitives.items()},
            "rounds": self.rounds,
            "notes": list(self.notes),
            "peer_error": self.peer_error,
            "versions": dict(self.versions),
        }

    def to_markdown(self) -> str:
        lines = [
            "| op | ours µs (min) | floor µs (min) | ratio | peer | peer µs | goal | met |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            ours = f"{row.ours.median_us:.1f} ({row.ours.min_us:.1f})" if row.ours else "n/a"
            ours += f" ({row.note})" if row.note else ""
            flo = f"{row.floor.median_us:.1f} ({row.floor.min_us:.1f})" if row.floor else "n/a"
            met = {True: "yes", False: "**no**", None: "n/a"}[row.goal_met()]
            goal = row.goal_text()
            goal = "—" if goal is None else f"{goal} (is {_fmt(row.goal_value(), '{:.2f}')})"
            lines.append(
                f"| {row.op} | {ours} | {flo} | {_fmt(row.ratio, '{:.2f}x')} | "
                f"{row.peer_text()} | "
                f"{_fmt(row.peer.median_us if row.peer else None)} | {goal} | {met} |")
        for name, section in self.sections.items():
            lines += ["", f"{name}: " + ", ".join(f"{k} {v:,.4g}" for k, v in section.items())]
        lines += ["", "Primitives and extras (median µs): " + ", ".join(
            f"{k} {v.median_us:.2f}" for k, v in self.primitives.items())]
        lines += [f"Note: {n}" for n in self.notes]
        lines += ["Versions: " + ", ".join(f"{k} {v or 'not installed'}"
                                           for k, v in self.versions.items())]
        return "\n".join(lines)
