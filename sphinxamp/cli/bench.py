"""`sphinxamp bench`: the benchmark table (ours, the bare-primitive floor, pyln-proto)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._bench import run
from ._common import add_json_flag, emit_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time peel, build, TLV decode and AMP receive against the bare primitives",
        description="Time sphinxamp, the bare primitives beneath it and (when importable) "
        "pyln-proto, interleaved in one run; print a markdown table or, with --json, "
        '{"rows": [{"op", "ours_us", "floor_us", "ratio", ...}, ...]}.',
    )
    add_json_flag(parser)
    parser.add_argument("--quick", action="store_true",
                        help="few short rounds: a smoke run of a few seconds, noisy numbers")
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    report = run(quick=args.quick)
    if args.json:
        emit_json(report.to_dict())
    else:
        sys.stdout.write(report.to_markdown() + "\n")
    return 0
