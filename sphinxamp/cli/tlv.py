"""`sphinxamp tlv decode`: any TLV stream, split by the BOLT 1 rules alone."""

from __future__ import annotations

import argparse
import sys

from sphinxamp.cli import _render as render
from sphinxamp.cli._common import Subparsers, emit_json, read_hex
from sphinxamp.cli._options import add_json_flag

DESCRIPTION = """\
Split a TLV stream into its records without a schema (BOLT 1 › Type-Length-Value Format):
types must strictly increase, BigSize types and lengths must be minimal, and no length may
run past the end. Record parity is not judged: that is a schema's job. A stream that breaks a
rule fails with a TlvError naming the reason, the type and the byte offset.

--json prints {"records": [{"type", "name", "value", "offset", "length"}]}; "name" is null
(no namespace is assumed), "offset" is where the record's type starts, "length" the length
of its value.
"""


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("tlv", help="split a TLV stream into records")
    sub = group.add_subparsers(dest="tlv_command", metavar="ACTION", required=True)
    decode = sub.add_parser("decode", help="schema-less decode of a TLV stream",
                            description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    decode.add_argument("stream", metavar="HEX", help="the TLV stream (- reads stdin)")
    add_json_flag(decode)
    decode.set_defaults(handler=run_decode)


def run_decode(args: argparse.Namespace) -> int:
    raw = read_hex(args.stream, "stream")
    views = render.record_views(raw)
    if args.json:
        emit_json({"records": [v.to_json(None) for v in views]})
        return 0
    lines = [f"TLV stream, {len(raw)} bytes, {len(views)} records"]
    lines += render.dump(render.record_spans(views, None))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
