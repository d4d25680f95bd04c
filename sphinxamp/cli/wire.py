"""`sphinxamp wire decode` and `wire encode`: whole messages that carry an onion or answer one."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sphinxamp import decode_message, encode_message
from sphinxamp.cli._common import Subparsers, emit_json, load_json, read_hex, read_text
from sphinxamp.cli._options import add_json_flag
from sphinxamp.messages import LAYOUTS, message_from_json, message_to_json

MESSAGES = """\
Messages: update_add_htlc (128), update_fulfill_htlc (130), update_fail_htlc (131),
update_fail_malformed_htlc (135) (BOLT 2 › Normal Operation), onion_message (513) (BOLT 4 ›
The onion_message Message). Known TLV records: update_add_htlc's blinded_path (type 0, field
path_key) and accountable (type 106823, bLIP 4); attribution_data (type 1) of
update_fulfill_htlc and update_fail_htlc. Unknown odd records are kept as read, unknown even
ones refused (BOLT 1 › Type-Length-Value Format)."""

DECODE = f"""\
Decode one whole message, its u16 type first (as a node's io log shows it, without the
transport's length and MAC). Bytes that break a reader rule fail with a WireError naming the
field and the byte offset; so does an update_fail_malformed_htlc whose failure_code lacks the
BADONION bit (BOLT 2: its receiver must fail the channel).

{MESSAGES}

--json prints one object: "type", "name", the fields under their BOLT names (bytes as hex;
"len" before a length-prefixed field), each known TLV record under its field (null when
absent) and "unknown_tlvs": [{{"type", "value"}}]. `wire encode` reads that object back.
"""

ENCODE = f"""\
Encode one message from a JSON object of the form `wire decode --json` prints (FILE, or - for
stdin). "type" or "name" picks the message; "len" may be left out; TLV fields may be null
or left out; "unknown_tlvs" must hold odd types only. A value no reader would accept (a wrong
size, an integer out of its range, an invalid point, a failure_code without BADONION) is
refused.

{MESSAGES}

Prints the message as hex; --json prints {{"hex": ...}}.
"""


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("wire", help="decode and encode HTLC and onion messages")
    sub = group.add_subparsers(dest="wire_command", metavar="ACTION", required=True)
    decode = sub.add_parser("decode", help="decode a whole message", description=DECODE,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    decode.add_argument("message", metavar="HEX", help="the message (@FILE reads a file, - "
                        "stdin)")
    add_json_flag(decode)
    decode.set_defaults(handler=run_decode)
    encode = sub.add_parser("encode", help="encode a message from JSON", description=ENCODE,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    encode.add_argument("file", metavar="FILE.json", help="the message as JSON (- reads stdin)")
    add_json_flag(encode)
    encode.set_defaults(handler=run_encode)


def _text_lines(fields: dict[str, Any], size: int) -> list[str]:
    """The human form: one line per field, TLV records named with their stream and type."""
    layout = LAYOUTS[fields["type"]]
    records = {attr: (rtype, layout.tlvs.specs[rtype].name) for rtype, attr in layout.records}
    lines = [f"{fields['name']} (type {fields['type']}), {size} bytes"]
    for key, value in fields.items():
        if key in ("type", "name", "unknown_tlvs") or (key in records and value is None):
            continue
        label = key
        if key in records:
            rtype, rname = records[key]
            named = "" if rname == key else f" {rname}"
            label = f"{key} ({layout.tlvs.name} type {rtype}{named})"
        lines.append(f"  {label}: {value}")
    for rec in fields["unknown_tlvs"]:
        lines.append(f"  unknown odd TLV type {rec['type']} ({layout.tlvs.name}): "
                     f"{rec['value'] or '(empty)'}")
    return lines


def run_decode(args: argparse.Namespace) -> int:
    raw = read_hex(args.message, "message")
    fields = message_to_json(decode_message(raw))
    if args.json:
        emit_json(fields)
        return 0
    sys.stdout.write("\n".join(_text_lines(fields, len(raw))) + "\n")
    return 0


def run_encode(args: argparse.Namespace) -> int:
    source = args.file if args.file == "-" else "@" + args.file
    msg = message_from_json(load_json(read_text(source, "message"), "message"))
    out = encode_message(msg).hex()
    if args.json:
        emit_json({"hex": out})
    else:
        sys.stdout.write(out + "\n")
    return 0
