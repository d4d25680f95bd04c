"""`sphinxamp replay gc`: forget the replay log's entries whose HTLCs have expired."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sphinxamp.cli._common import Subparsers, emit_json
from sphinxamp.cli._options import U32, add_height, add_json_flag
from sphinxamp.errors import InvalidArgument
from sphinxamp.onion import SqliteReplayLog


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("replay", help="maintain the replay log (onion peel "
                                  "--replay-db)")
    sub = group.add_subparsers(dest="replay_command", metavar="ACTION", required=True)
    gc = sub.add_parser(
        "gc", help="forget entries whose cltv_expiry the chain has passed",
        description="Remove every replay-log entry whose HTLC expired at or below --height: "
        "an onion that old can no longer be redeemed, so it need not be remembered (BOLT 4 › "
        "Onion Decryption: a node MAY forget a shared secret once the HTLC has expired). "
        "Prints how many entries went and how many are left; --json prints "
        "{\"removed\", \"remaining\", \"height\"}.")
    gc.add_argument("--db", required=True, metavar="FILE", help="the SQLite replay log")
    add_height(gc, "--height", f"the current block height, {U32}", required=True)
    add_json_flag(gc)
    gc.set_defaults(handler=run_gc)


def run_gc(args: argparse.Namespace) -> int:
    if args.height < 0 or args.height >= 1 << 32:
        raise InvalidArgument("height must be 0 to 2^32-1", field="height", reason="range")
    if not Path(args.db).is_file():
        raise InvalidArgument(f"no replay log at {args.db}", field="db", reason="no_such_file")
    with SqliteReplayLog(args.db) as log:
        removed = log.gc(args.height)
        remaining = len(log)
    if args.json:
        emit_json({"removed": removed, "remaining": remaining, "height": args.height})
    else:
        sys.stdout.write(f"removed {removed} entries expired at height {args.height}; "
                         f"{remaining} left\n")
    return 0
