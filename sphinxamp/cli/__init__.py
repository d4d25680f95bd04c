"""The `sphinxamp` command: argparse front end, the only place that prints or reads files.

Each command group lives in its own module with a `register(subparsers)` function; a command
handler returns the exit status and raises `SphinxampError` for anything it refuses, which
`main` turns into exit status 1 and, under `--json`, the JSON error object on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sphinxamp import __version__
from sphinxamp.cli._common import emit_error, reset_inputs
from sphinxamp.errors import SphinxampError

# Command groups, in the order `--help` lists them.
COMMAND_MODULES = ("onion", "payload", "tlv", "amp", "keysend", "vectors", "demo", "bench",
                   "blinded", "message", "failure", "attribution",
                   "conformance", "fuzz", "explain", "trace", "replay", "wire")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sphinxamp",
        description="Build, peel and explain Lightning Network onion packets (BOLT 1, BOLT 4, "
        "AMP, keysend). Hops count from 0 (hop 0 is the first after the sender, as hops[0] in "
        "JSON and in BOLT 4's vectors) in every command, output and error message.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
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
