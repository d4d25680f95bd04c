"""`sphinxamp bench`: the benchmark table (ours, the bare-primitive floor, pyln-proto).

The harness is tooling and lives outside the library, in the checkout's `benchmarks/`
package; this command runs it as its own process (`python -m benchmarks`, from the checkout,
with the checkout first on PYTHONPATH) when that directory sits beside the `sphinxamp` package
in use (a checkout, or an editable install of one). The library never imports it. An
installed wheel has no harness: the command then says so instead of failing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from sphinxamp.cli._common import Subparsers
from sphinxamp.cli._options import add_json_flag
from sphinxamp.errors import SphinxampError


def register(subparsers: Subparsers) -> None:
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


def harness_command(args: argparse.Namespace, where: Path | None = None
                    ) -> tuple[list[str], Path, dict[str, str]]:
    """argv, working directory and environment of `python -m benchmarks` for `where`
    (default `harness_dir()`); `SphinxampError` when no harness is there."""
    where = where or harness_dir()
    if not (where / "__init__.py").is_file() or not (where / "run.py").is_file():
        raise SphinxampError(
            f"the benchmark harness is not available: no benchmarks/ package at {where}. "
            "It ships with the source checkout, not the wheel; run `python -m benchmarks` "
            "from a checkout (or install one with `pip install -e .`)",
            field="benchmarks", reason="benchmarks_unavailable")
    root = where.parent
    # The checkout first, so its benchmarks/ and the sphinxamp beside it are the ones run.
    paths = [str(root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    argv = [sys.executable, "-m", "benchmarks"]
    argv += ["--json"] if args.json else []
    argv += ["--quick"] if args.quick else []
    return argv, root, env


def _bench(args: argparse.Namespace) -> int:
    argv, cwd, env = harness_command(args)
    sys.stdout.flush()
    # The harness prints the report itself (stdout inherited); its exit status is ours.
    return subprocess.run(argv, cwd=cwd, env=env, check=False).returncode
