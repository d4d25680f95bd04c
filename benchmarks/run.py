"""Run the benchmark table: `python benchmarks/run.py [--json] [--quick]`.

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

try:
    from sphinxamp import _bench, _bench_cases
except ImportError:  # a checkout without `pip install -e .`: use the tree next to this file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sphinxamp import _bench, _bench_cases

OPS = ("peel", "peel-final", "build-5", "build-20", "tlv-final", "tlv-forward", "amp-receive")


def profile(op: str, calls: int) -> str:
    suite = _bench_cases.Suite.create(with_pyln=False)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a few short rounds (smoke run)")
    parser.add_argument("--no-pyln", action="store_true", help="leave pyln-proto out")
    parser.add_argument("--no-batch", action="store_true", help="leave peel_many out")
    parser.add_argument("--profile", choices=OPS, help="profile one operation instead")
    parser.add_argument("--calls", type=int, default=2000, help="calls to profile")
    args = parser.parse_args(argv)
    if args.profile:
        print(profile(args.profile, args.calls))
        return 0
    report = _bench.run(quick=args.quick, with_pyln=not args.no_pyln,
                        with_batch=not args.no_batch)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(report.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
