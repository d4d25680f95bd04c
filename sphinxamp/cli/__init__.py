"""The `sphinxamp` command: argparse front end, the only place that prints or reads files.

Each command group lives in its own module with a `register(subparsers)` function; a command
handler returns the exit status and raises `SphinxampError` for anything it refuses, which
`main` turns into exit status 1 and, under `--json`, the JSON error object on stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sphinxamp import __version__
from sphinxamp.cli import (
    amp,
    attribution,
    bench,
    blinded,
    conformance,
    demo,
    explain,
    failure,
    fuzz,
    keysend,
    message,
    onion,
    payload,
    replay,
    tlv,
    trace,
    vectors,
    wire,
)
from sphinxamp.cli._common import Register, emit_error, reset_inputs
from sphinxamp.errors import SphinxampError

# Command groups, in the order `--help` lists them.
COMMANDS: tuple[Register, ...] = (
    onion.register, payload.register, tlv.register, amp.register, keysend.register,
    vectors.register, demo.register, bench.register, blinded.register, message.register,
    failure.register, attribution.register, conformance.register, fuzz.register,
    explain.register, trace.register, replay.register, wire.register,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sphinxamp",
        description="Build, peel and explain Lightning Network onion packets (BOLT 1, BOLT 4, "
        "AMP, keysend). Hops count from 0 (hop 0 is the first after the sender, as hops[0] in "
        "JSON and in BOLT 4's vectors) in every command, output and error message.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    reset_inputs()
    try:
        status: int = args.handler(args)
    except SphinxampError as exc:
        emit_error(exc, as_json=getattr(args, "json", False))
        return 1
    except BrokenPipeError:
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
