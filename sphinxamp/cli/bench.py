"""`sphinxamp bench`: the benchmark table (ours, the bare-primitive floor, pyln-proto).

The harness is tooling and lives outside the library, in the checkout's `benchmarks/`
package; this command runs it when that directory sits beside the `sphinxamp` package in use
(a checkout, or an editable install of one). An installed wheel has no harness: the command
then says so instead of failing on an import.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinxamp.cli._common import add_json_flag, emit_json
from sphinxamp.errors import SphinxampError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time peel, build, payload decode, process_hop and AMP receive against the bare "
        "primitives (needs a checkout)",
        description="Time sphinxamp, the bare primitives beneath it and pyln-proto (when it "
        "passes its check on the BOLT 4 onion vector; otherwise its column reads n/a (reason)), "
        "interleaved in one run; print a markdown table or, with --json, "
        '{"rows": [{"op", "ours_us", "floor_us", "ratio", "peer", "peer_us", "goal", '
        '"met", "peer_error"}, ...], "peer_error", "versions"}. Runs the benchmarks/ package '
        "of the checkout sphinxamp is imported from.",
    )
    add_json_flag(parser)
    parser.add_argument("--quick", action="store_true",
                        help="few short rounds: a smoke run of a few seconds, noisy numbers")
    parser.set_defaults(handler=_bench)


def harness_dir() -> Path:
    """Where the harness must be: `benchmarks/` next to the source tree of this package."""
    return Path(__file__).resolve().parent.parent.parent / "benchmarks"


def load_harness(where: Path | None = None) -> ModuleType:
    """The harness's `run` module, imported from `where` (default `harness_dir()`)."""
    where = where or harness_dir()
    if not (where / "__init__.py").is_file() or not (where / "run.py").is_file():
        raise SphinxampError(
            f"the benchmark harness is not available: no benchmarks/ package at {where}. "
            "It ships with the source checkout, not the wheel; run `python -m benchmarks` "
            "from a checkout (or install one with `pip install -e .`)",
            field="benchmarks", reason="benchmarks_unavailable")
    root = str(where.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    loaded = sys.modules.get("benchmarks")
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").parent != where:
        raise SphinxampError(
            f"another `benchmarks` module ({loaded.__file__}) is already imported",
            field="benchmarks", reason="benchmarks_unavailable")
    return importlib.import_module("benchmarks.run")


def _bench(args: argparse.Namespace) -> int:
    report = load_harness().run(quick=args.quick)
    if args.json:
        emit_json(report.to_dict())
    else:
        sys.stdout.write(report.to_markdown() + "\n")
    return 0
