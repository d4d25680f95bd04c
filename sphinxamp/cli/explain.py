"""`sphinxamp explain`: any onion, payload, TLV, failure, blinded data or onion message,
byte by byte (the tree comes from the library's `explain`; this module reads the arguments
and prints)."""

from __future__ import annotations

import argparse
import sys

from sphinxamp import explain
from sphinxamp.cli import _render as render
from sphinxamp.cli._common import Subparsers, emit_json, read_hex, read_secret_list
from sphinxamp.cli._explain_log import run_log
from sphinxamp.cli._options import (
    add_assoc_data,
    add_json_flag,
    add_node_key,
    add_path_key,
    add_profile,
    add_secret_option,
    payload_area,
    read_assoc_data,
    read_node_key,
    read_path_key,
)
from sphinxamp.debug import EXPLAIN_KINDS
from sphinxamp.errors import InvalidArgument
from sphinxamp.onion import MAX_PAYLOAD_AREA

DESCRIPTION = """\
Explain bytes field by field: offset, length, raw bytes and meaning (BigSize prefixes, TLV
type names from the registries, truncated integers with their values, points, HMACs,
padding), with nested records (payment_data, amp, decrypted encrypted_recipient_data,
failure TLV extensions). With keys it decrypts what it can: --node-key and --assoc-data an
onion's routing area, --path-key blinded data, --shared-secrets (origin side, route order) a
failure's return packet. --as auto (the default) guesses the kind and says why.

Malformed bytes: the dump goes as far as it can and marks the field where parsing stopped
(=>), naming the rule broken and the BOLT section; exit status 1. --json prints {"kind",
"length", "guess", "fields": [{"name", "offset", "length", "hex", "meaning", "value",
"profile", "children"}], "notes", "error"}, "error" being null or {"offset", "rule", "section",
"message", "reason", "field", "tlv_type", ...}; "offset" is the first byte of the failing
field (for a TLV stream: of the record). Offsets always count in the input; decrypted
fields say "decrypted": true.

Hop payloads are read under --profile: bolt (the default: BOLT 4 as written, type 14 is
lnd's AMP record, types 20 and 66100 are unknown even types and refused, with a note naming
the profile that reads them), lnd, trampoline (lightning/bolts#836: type 14 is
outgoing_node_id, 20 the trampoline onion) or trampoline-legacy (Eclair and Electrum: 66098,
66100). Every payload record names the profile that defines it ("profile" in --json). A
trampoline onion is laid out as a packet inside its record and, with --node-key (the
trampoline node's) and --assoc-data (the payment hash), peeled: its hop payload read under
the same profile.

--log FILE (- for stdin) reads a node log instead (Core Lightning's, lnd's, or bare hex
lines; docs/debugging.md lists the formats) and explains each line holding an
update_add_htlc, update_fulfill_htlc, update_fail_htlc, update_fail_malformed_htlc or
onion_message in hex, with --node-key (peels the onions) and --shared-secrets (decrypts the
fails, verifies attribution data). --json prints one object per message, one per line:
{"line", "column", "format", "timestamp", "level", "peer_id", "subsystem", "direction",
"markers", "message_type", "message", "explanation"}. Other lines are skipped.
"""


def add_color_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-color", action="store_true",
                        help="no colour even on a terminal (NO_COLOR does the same)")


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "explain", help="annotate any onion-related bytes field by field",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", metavar="HEX", nargs="?",
                        help="the bytes (- stdin, @file); not with --log")
    parser.add_argument("--log", metavar="FILE",
                        help="explain every message of a node log (- stdin) instead")
    parser.add_argument("--as", dest="kind", choices=EXPLAIN_KINDS, default="auto",
                        help="what the bytes are (default: auto, which guesses)")
    add_node_key(parser, "the receiving node's private key")
    add_assoc_data(parser, "the onion's associated data (the payment hash)")
    add_path_key(parser, "path_key of a blinded route (from update_add_htlc)")
    add_secret_option(parser, "--shared-secrets", "the route's shared secrets in route order "
                      "(failure packets), separated by commas or white space", metavar="HEX,...")
    parser.add_argument("--payload-area", type=payload_area(), metavar="N",
                        help=f"require this routing area size, 0 to {MAX_PAYLOAD_AREA} "
                        "(default: from the length)")
    add_profile(parser, "read hop payloads as BOLT 4 states them (default), as lnd does, or "
                "in a trampoline format, whose trampoline onion is laid out and, with "
                "--node-key and --assoc-data, peeled", trampoline=True)
    add_color_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if (args.log is None) == (args.data is None):
        raise InvalidArgument("give the bytes (HEX) or --log FILE, one of the two",
                              field="data", reason="missing" if args.log is None else "both")
    secrets = [] if args.shared_secrets is None else read_secret_list(args.shared_secrets,
                                                                       "shared_secrets")
    if args.log is not None:
        return run_log(args, read_node_key(args), secrets)
    data = read_hex(args.data, "data")
    ex = explain(
        data, args.kind,
        node_key=read_node_key(args), assoc_data=read_assoc_data(args),
        path_key=read_path_key(args),
        shared_secrets=secrets, payload_area=args.payload_area, profile=args.profile)
    if args.json:
        emit_json(ex.to_json())
    else:
        style = render.Style.for_stream(sys.stdout, args.no_color)
        sys.stdout.write("\n".join(render.explanation_lines(ex, style)) + "\n")
    return 0 if ex.error is None else 1
