"""`sphinxamp attribution create|wrap|verify`: attribution data on its own, as it travels
with `update_fulfill_htlc` (BOLT 4 › Returning Errors › attribution_data; BOLT 2 › Removing an
HTLC). The failure direction is under `sphinxamp failure`."""

from __future__ import annotations

import argparse
import sys

from sphinxamp.cli import _render as render
from sphinxamp.cli._common import Subparsers, emit_json, read_hex, read_key, read_secret_list
from sphinxamp.cli._options import add_hold_time, add_json_flag, add_secret_option
from sphinxamp.failures import create_attribution, verify_attribution, wrap_attribution


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser(
        "attribution", help="attribution data of a fulfilled HTLC (hold times, HMACs)")
    sub = group.add_subparsers(dest="attribution_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="the final node's attribution data",
                            description="Prints the 920-byte attribution data hex; --json "
                            "prints {\"attribution_data\"}.")
    add_secret_option(create, "--shared-secret", "this node's shared secret with the origin",
                      required=True)
    add_hold_time(create, "hold time", required=True)
    add_json_flag(create)
    create.set_defaults(handler=run_create)

    wrap = sub.add_parser("wrap", help="an intermediate node's layer",
                          description="Shift the received data one hop, add this node's "
                          "hold time and HMACs, obfuscate. --json prints {\"attribution_data\"}.")
    wrap.add_argument("data", metavar="DATA_HEX")
    add_secret_option(wrap, "--shared-secret", "this node's shared secret with the origin",
                      required=True)
    add_hold_time(wrap, "this node's hold time", required=True)
    add_json_flag(wrap)
    wrap.set_defaults(handler=run_wrap)

    verify = sub.add_parser(
        "verify", help="the origin's check of every hop",
        description="Check each hop's HMAC with the route's shared secrets (first hop "
        "first), stopping at the first bad one. --json prints {\"attribution\": "
        "[{\"hop_index\", \"hold_time_ms\", \"hmac_ok\"}, ...]}.")
    verify.add_argument("data", metavar="DATA_HEX")
    add_secret_option(verify, "--shared-secrets", "the route's shared secrets, first hop first, "
                      "separated by commas or white space", required=True, metavar="HEX,...")
    add_json_flag(verify)
    verify.set_defaults(handler=run_verify)


def _emit(args: argparse.Namespace, data: bytes) -> int:
    if args.json:
        emit_json({"attribution_data": data.hex()})
    else:
        sys.stdout.write(data.hex() + "\n")
    return 0


def run_create(args: argparse.Namespace) -> int:
    return _emit(args, create_attribution(read_key(args.shared_secret, "shared_secret"),
                                          args.hold_time_ms))


def run_wrap(args: argparse.Namespace) -> int:
    return _emit(args, wrap_attribution(read_key(args.shared_secret, "shared_secret"),
                                        args.hold_time_ms,
                                        read_hex(args.data, "attribution_data")))


def run_verify(args: argparse.Namespace) -> int:
    hops = verify_attribution(read_hex(args.data, "attribution_data"),
                              read_secret_list(args.shared_secrets, "shared_secrets"))
    listed = render.attribution_json(hops) or []
    if args.json:
        emit_json({"attribution": listed})
        return 0
    for hop in listed:
        verdict = "ok" if hop["hmac_ok"] else "BAD HMAC"
        sys.stdout.write(f"hop {hop['hop_index']}: hold {hop['hold_time_ms']} ms, {verdict}\n")
    return 0
