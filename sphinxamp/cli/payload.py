"""`sphinxamp payload decode`: a hop payload, typed and judged for the role of its hop."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._payload import HOP_PAYLOAD_SCHEMA, Role, decode_payload
from . import render
from ._common import add_json_flag, emit_json, read_hex

DESCRIPTION = """\
Decode a hop payload (the TLV stream without its BigSize length) and check it against the
BOLT 4 requirements for the given role. A payload the role refuses fails with
invalid_onion_payload (0x4016) naming the TLV type and the byte offset (from the start of
PAYLOADHEX) a node would report.

--json prints {"role", "records": [{"type", "name", "value", "offset", "length", "kind",
"decoded"}], "fields"}: "kind" is known, custom (type >= 65536) or unknown (odd, kept);
"decoded" is the typed value (numbers, hex bytes, short_channel_id as BxTxO, objects for
payment_data and amp), null for records the registry does not know.
"""


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("payload", help="decode a hop payload for a role")
    sub = group.add_subparsers(dest="payload_command", metavar="ACTION", required=True)
    decode = sub.add_parser("decode", help="decode and validate a hop payload",
                            description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    decode.add_argument("payload", metavar="PAYLOADHEX", help="the TLV stream (- reads stdin)")
    decode.add_argument("--role", required=True, choices=[r.value for r in Role],
                        help="where the payload was peeled")
    add_json_flag(decode)
    decode.set_defaults(handler=run_decode)


def run_decode(args: argparse.Namespace) -> int:
    raw = read_hex(args.payload, "payload")
    payload = decode_payload(raw, Role(args.role))
    views = render.record_views(raw)
    if args.json:
        emit_json({
            "role": args.role,
            "records": [v.to_json(HOP_PAYLOAD_SCHEMA, decode=True) for v in views],
            "fields": render.payload_fields(payload),
        })
        return 0
    lines = [f"{args.role} hop payload, {len(raw)} bytes, {len(views)} records: valid"]
    lines += render.dump(render.record_spans(views, HOP_PAYLOAD_SCHEMA))
    for name, kept in (("custom", payload.custom_records), ("unknown", payload.unknown_records)):
        if kept:
            types = ", ".join(str(r.type) for r in kept)
            lines.append(f"{name} records kept as they are: {types}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
