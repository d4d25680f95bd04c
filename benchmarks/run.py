"""Run the benchmark table: `python -m benchmarks [--json] [--quick]` from a checkout.

`--profile OP` instead runs cProfile over sphinxamp's side of one operation and prints where
its time goes (the evidence benchmarks/README.md quotes for the goals out of reach).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cases, core, fuzz_rate, hops, peers

OPS = ("peel", "peel-final", "build-5", "build-20", "payload-final", "payload-forward",
       "process-hop", "process-hop-memlog", "process-hop-sqlite", "amp-receive")


def profile(op: str, calls: int) -> str:
    suite = cases.Suite.create(with_pyln=False)
    try:
        fn = suite.timers()[f"ours:{op}"]
        fn()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(calls):
            fn()
        prof.disable()
    finally:
        suite.close()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(14)
    return f"cProfile of {calls} x {op} (tottime = time inside the function itself)\n" + (
        out.getvalue())


def _batch_row(batch: dict[str, float]) -> core.Row:
    """peel_many as a row: ours = µs per packet batched, floor = the one-core time split
    perfectly over the workers, so ratio 1 is a perfect speedup."""
    one, many = batch["one_core_us_per_packet"], batch["batch_us_per_packet"]
    ideal = one / batch["workers"]
    return core.Row("peel-many", core.Timing(many, many), core.Timing(ideal, ideal),
                    extra={"speedup": batch["speedup"],
                           "ceiling_speedup": batch["ceiling_speedup"],
                           "one_core_us": one, "packets": batch["packets"]})


# Seconds of atheris per fast fuzz target: the goal's run, and --quick's smoke run.
FUZZ_SECONDS, FUZZ_QUICK_SECONDS = 30.0, 2.0


def run(*, quick: bool = False, with_pyln: bool = True, with_batch: bool = True,
        with_fuzz: bool = True) -> core.Report:
    """Measure every row. `quick` trades precision for a run of a few seconds."""
    rounds, sample_ms = (3, 0.3) if quick else (31, 4.0)
    suite = cases.Suite.create(with_pyln=with_pyln, quick=quick)
    try:
        timings = core.measure(suite.timers(), rounds, sample_ms)
        rows = suite.rows(timings)
    finally:
        suite.close()
    sections = {"memory": hops.peel_message_peak()}
    if with_batch:
        batch = hops.measure_batch(suite.inputs["onion"], cases.VECTOR_KEYS[0],
                                   packets=256 if quick else 2000, rounds=1 if quick else 7)
        rows.append(_batch_row(batch))
        sections["peel_many"] = batch
    notes = list(suite.notes)
    if with_fuzz:
        # After the timed rows, one libFuzzer process at a time: they need the core alone.
        fuzz_rows = fuzz_rate.rows(FUZZ_QUICK_SECONDS if quick else FUZZ_SECONDS)
        rows += fuzz_rows
        missing = fuzz_rate.atheris_missing()
        if missing and fuzz_rows:
            notes.append(f"fuzz rows n/a: {missing} (pip install -r requirements/fuzz.lock)")
    prims = {k.split(":", 1)[1]: v for k, v in timings.items()
             if k.startswith("floor:") or k.endswith("-stream")}
    return core.Report(tuple(rows), prims, rounds, sections, tuple(notes),
                       peer_error=suite.peer_error, versions=peers.versions())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a few short rounds (smoke run)")
    parser.add_argument("--no-pyln", action="store_true", help="leave pyln-proto out")
    parser.add_argument("--no-batch", action="store_true", help="leave peel_many out")
    parser.add_argument("--no-fuzz", action="store_true",
                        help="leave the fast fuzz targets' atheris rates out "
                        f"({FUZZ_SECONDS:g} s each, {FUZZ_QUICK_SECONDS:g} s with --quick)")
    parser.add_argument("--profile", choices=OPS, help="profile one operation instead")
    parser.add_argument("--calls", type=int, default=2000, help="calls to profile")
    args = parser.parse_args(argv)
    if args.profile:
        print(profile(args.profile, args.calls))
        return 0
    report = run(quick=args.quick, with_pyln=not args.no_pyln, with_batch=not args.no_batch,
                 with_fuzz=not args.no_fuzz)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(report.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
