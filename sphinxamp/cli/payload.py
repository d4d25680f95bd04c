"""`sphinxamp payload decode`: a hop payload, typed and judged for the role of its hop."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sphinxamp._hop import answer_error, carries_path_key
from sphinxamp._payload import (
    HOP_PAYLOAD_SCHEMA,
    PROFILES,
    HopPayload,
    Role,
    decode_hop_payload,
    decode_payload,
)
from sphinxamp.cli import render
from sphinxamp.cli._common import add_json_flag, emit_json, read_hex, read_key
from sphinxamp.errors import SphinxampError

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


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("payload", help="decode a hop payload for a role")
    sub = group.add_subparsers(dest="payload_command", metavar="ACTION", required=True)
    decode = sub.add_parser("decode", help="decode and validate a hop payload",
                            description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    decode.add_argument("payload", metavar="PAYLOADHEX", help="the TLV stream (- reads stdin)")
    decode.add_argument("--role", required=True, choices=[r.value for r in Role],
                        help="where the payload was peeled: intermediate or final")
    decode.add_argument("--path-key", metavar="HEX",
                        help="the path_key update_add_htlc carried (the hop is inside a "
                        "blinded route)")
    decode.add_argument("--profile", choices=PROFILES, default="bolt",
                        help="judge as BOLT 4 states it (default) or as lnd does")
    add_json_flag(decode)
    decode.set_defaults(handler=run_decode)


def judge(raw: bytes, role: Role, path_key: bytes | None,
          profile: str) -> tuple[HopPayload, Role, bool]:
    """The payload judged as process_hop would judge it after the peel: (payload, role,
    introduction_node), or the error the node answers. An explicit blinded role applies its
    rules whatever the records say; without --path-key the HTLC carried none."""
    from_htlc = path_key is not None
    try:
        if role.blinded:
            payload = decode_payload(raw, role, path_key_from_htlc=from_htlc, profile=profile)
        else:
            payload, role = decode_hop_payload(raw, final=role.final,
                                               path_key_from_htlc=from_htlc, profile=profile)
    except SphinxampError as exc:
        intro = not from_htlc and not role.final and carries_path_key(raw)
        raise answer_error(exc, None, in_blinded_route=from_htlc, introduction=intro) from None
    return payload, role, not from_htlc and payload.current_path_key is not None


def run_decode(args: argparse.Namespace) -> int:
    raw = read_hex(args.payload, "payload")
    path_key = None if args.path_key is None else read_key(args.path_key, "path_key", 33)
    payload, role, intro = judge(raw, Role(args.role), path_key, args.profile)
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
