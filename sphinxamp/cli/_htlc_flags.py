"""The incoming HTLC's context as command-line flags, for the commands that process a hop
(`onion peel`): what `update_add_htlc` carried and what the node knows (BOLT 4 › `payload`
format › Requirements, the reader; › Route Blinding)."""

from __future__ import annotations

import argparse
from typing import Any

from sphinxamp._htlc import DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA
from sphinxamp.cli._common import read_hex, uint
from sphinxamp.errors import InvalidArgument

# process_hop's keyword → the flag that gives it, so a missing value is named as the user
# types it.
FLAGS = {"incoming_amount_msat": "--amount-msat", "incoming_cltv_expiry": "--cltv-expiry",
         "current_block_height": "--current-height", "expected_path_id": "--path-id",
         "known_features": "--known-feature",
         "min_final_cltv_expiry_delta": "--min-final-cltv-expiry-delta"}


def add_htlc_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--amount-msat", type=uint(64), metavar="N",
                        help="the incoming HTLC's amount_msat (0 to 2^64-1), required inside a "
                        "blinded route and at a final hop: payment_relay, payment_constraints "
                        "and the final node's checks depend on it")
    parser.add_argument("--cltv-expiry", type=uint(32), metavar="N",
                        help="the incoming HTLC's cltv_expiry (0 to 2^32-1), required where "
                        "--amount-msat is and with --replay-db")
    parser.add_argument("--current-height", type=uint(32), metavar="N",
                        help="the current block height (0 to 2^32-1), required at a final "
                        "hop: it refuses a cltv_expiry below height + "
                        "--min-final-cltv-expiry-delta")
    parser.add_argument("--min-final-cltv-expiry-delta", type=uint(32), metavar="N",
                        default=DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
                        help="the recipient's min_final_cltv_expiry_delta (0 to 2^32-1; "
                        "default 18, BOLT 11's when an invoice has no c field)")
    parser.add_argument("--path-id", metavar="HEX",
                        help="the path_id the recipient created its blinded path with: a "
                        "final hop inside a blinded route refuses any other")
    parser.add_argument("--known-feature", type=uint(16), action="append", default=[],
                        metavar="BIT", help="a feature bit (0 to 65535) the node knows, which "
                        "a blinded hop's allowed_features may list (repeatable; default none)")


def htlc_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """process_hop's context keywords from the flags."""
    return {"incoming_amount_msat": args.amount_msat,
            "incoming_cltv_expiry": args.cltv_expiry,
            "current_block_height": args.current_height,
            "min_final_cltv_expiry_delta": args.min_final_cltv_expiry_delta,
            "expected_path_id": None if args.path_id is None else read_hex(args.path_id,
                                                                            "path_id"),
            "known_features": args.known_feature}


def named_by_flag(exc: InvalidArgument) -> InvalidArgument:
    """A missing context value named by its flag."""
    flag = FLAGS.get(exc.field or "")
    if flag is None or exc.reason != "missing_context":
        return exc
    return InvalidArgument(f"{exc.message} (give {flag})", field=exc.field, reason=exc.reason)
