"""`sphinxamp payload decode`: a hop payload, typed and judged for the role of its hop."""

from __future__ import annotations

import argparse
import sys

from sphinxamp import Role, judge_payload
from sphinxamp.cli import _render as render
from sphinxamp.cli._common import Subparsers, emit_json, read_hex
from sphinxamp.cli._options import add_json_flag, add_path_key, add_profile, read_path_key
from sphinxamp.wire import HOP_PAYLOAD_SCHEMA

DESCRIPTION = """\
Decode a hop payload (the TLV stream without its BigSize length) and check it against the
BOLT 4 requirements for the given role. A payload the role refuses fails with
invalid_onion_payload (0x4016) naming the TLV type and the byte offset (from the start of
PAYLOADHEX) a node would report.

--role names the position (intermediate or final); the blinded rules follow from
BOLT 4's structure: they apply when --path-key (the path_key update_add_htlc carried) is
given or the payload holds encrypted_recipient_data (10), and without --path-key a payload
holding current_path_key (12) is the introduction node's. Inside a blinded route every
refusal is answered invalid_onion_blinding, the underlying error under "cause". The roles
blinded-intermediate and blinded-final are still accepted and force the blinded rules.

--json prints {"role", "introduction_node", "records": [{"type", "name", "value", "offset",
"length", "kind", "decoded"}], "fields"}: "kind" is known, custom (type >= 65536) or unknown
(odd, kept);
"decoded" is the typed value (numbers, hex bytes, short_channel_id as BxTxO, objects for
payment_data and amp), null for records the registry does not know.
"""


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("payload", help="decode a hop payload for a role")
    sub = group.add_subparsers(dest="payload_command", metavar="ACTION", required=True)
    decode = sub.add_parser("decode", help="decode and validate a hop payload",
                            description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    decode.add_argument("payload", metavar="PAYLOADHEX", help="the TLV stream (- reads stdin)")
    decode.add_argument("--role", required=True, choices=[r.value for r in Role],
                        help="where the payload was peeled: intermediate or final")
    add_path_key(decode, "the path_key update_add_htlc carried (the hop is inside a blinded "
                 "route)")
    add_profile(decode, "judge as BOLT 4 states it (default) or as lnd does")
    add_json_flag(decode)
    decode.set_defaults(handler=run_decode)


def run_decode(args: argparse.Namespace) -> int:
    raw = read_hex(args.payload, "payload")
    path_key = read_path_key(args)
    payload, role, intro = judge_payload(raw, args.role, path_key_from_htlc=path_key is not None,
                                         profile=args.profile)
    views = render.record_views(raw)
    if args.json:
        emit_json({
            "role": role.value,
            "introduction_node": intro,
            "records": [v.to_json(HOP_PAYLOAD_SCHEMA, decode=True) for v in views],
            "fields": render.payload_fields(payload),
        })
        return 0
    intro_text = ", introduction node" if intro else ""
    lines = [f"{role.value} hop payload{intro_text}, {len(raw)} bytes, {len(views)} records: "
             "valid"]
    lines += render.dump(render.record_spans(views, HOP_PAYLOAD_SCHEMA))
    for name, kept in (("custom", payload.custom_records), ("unknown", payload.unknown_records)):
        if kept:
            types = ", ".join(str(r.type) for r in kept)
            lines.append(f"{name} records kept as they are: {types}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
