"""Run the benchmark table: `python benchmarks/run.py [--json] [--quick]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    from sphinxamp._bench import run
except ImportError:  # a checkout without `pip install -e .`: use the tree next to this file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sphinxamp._bench import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a few short rounds (smoke run)")
    parser.add_argument("--no-pyln", action="store_true", help="leave pyln-proto out")
    parser.add_argument("--no-batch", action="store_true", help="leave peel_many out")
    args = parser.parse_args(argv)
    report = run(quick=args.quick, with_pyln=not args.no_pyln, with_batch=not args.no_batch)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(report.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
