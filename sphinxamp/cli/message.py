"""`sphinxamp message build` and `sphinxamp message peel` (BOLT 4 › Onion Messages)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sphinxamp import Dropped, build_onion, process_onion_message
from sphinxamp.blinding import (
    ONIONMSG_SCHEMA,
    OnionMessage,
    choose_payload_area,
    decode_blinded_path,
)
from sphinxamp.cli import _render as render
from sphinxamp.cli._common import (
    Subparsers,
    emit_json,
    error_object,
    parse_hop,
    read_hex,
    read_key,
)
from sphinxamp.cli._options import (
    add_json_flag,
    add_node_key,
    add_path_key,
    add_secret_option,
    payload_area,
    read_node_key,
    read_path_key,
)
from sphinxamp.errors import DecodeError, TlvError
from sphinxamp.onion import MAX_PAYLOAD_AREA


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("message", help="build or peel an onion message")
    sub = group.add_subparsers(dest="message_command", metavar="ACTION", required=True)
    build = sub.add_parser(
        "build", help="wrap onionmsg_tlv payloads into an onion message packet",
        description="Build an onion_message_packet (no associated data). The payload area is "
        "1300 or 32768 bytes, the smallest that fits, unless --payload-area says. --json "
        "prints {\"onion\": HEX, \"payload_area\": N, \"onion_message\": HEX|null}; "
        "onion_message (type 513) needs --path-key.")
    add_secret_option(build, "--session-key", "32-byte session private key", required=True)
    build.add_argument("--hop", required=True, action="append", metavar="PUBKEY=PAYLOADHEX",
                       help="one hop: the (blinded) node id the layer is encrypted to and its "
                       "onionmsg_tlv, without length prefix (repeat for each hop)")
    build.add_argument("--payload-area", type=payload_area(), metavar="N",
                       help=f"hop_payloads size, 0 to {MAX_PAYLOAD_AREA} (default: the "
                       "smallest of 1300 and 32768 that fits)")
    add_path_key(build, "the first path key: also print the whole onion_message")
    add_json_flag(build)
    build.set_defaults(handler=run_build)

    peel = sub.add_parser(
        "peel", help="process an onion message as one node",
        description="Process an onion message as the node holding --node-key: ONION_HEX is the "
        "whole onion_message (type 513), or the bare packet with --path-key. --json prints "
        "{\"payload\", \"tlv\", \"encrypted_data\", \"next_node_id\", \"next_path_key\", "
        "\"next_onion\"} or, for a message the node ignores, {\"dropped\": REASON, ...}. "
        "Onion messages are never answered with errors: a dropped message is a result, "
        "exit status 0.")
    peel.add_argument("onion", metavar="ONION_HEX", help="the message (- reads stdin)")
    add_node_key(peel, "the node's 32-byte private key", required=True)
    add_path_key(peel, "the message's path_key when ONION_HEX is the bare packet")
    add_json_flag(peel)
    peel.set_defaults(handler=run_peel)


def run_build(args: argparse.Namespace) -> int:
    hops = [parse_hop(text, i) for i, text in enumerate(args.hop)]
    area = choose_payload_area([p for _, p in hops], args.payload_area)
    built = build_onion(read_key(args.session_key, "session_key"), hops, b"", area,
                        min_payload_length=0)
    path_key = read_path_key(args)
    message = None if path_key is None else OnionMessage(path_key, built.packet).to_bytes()
    onion = built.to_bytes()
    if args.json:
        emit_json({"onion": onion.hex(), "payload_area": area,
                   "onion_message": None if message is None else message.hex()})
        return 0
    lines = [onion.hex(), "", f"onion_message_packet, {len(onion)} bytes, {len(hops)} hops"]
    if message is not None:
        lines += ["", "onion_message:", message.hex()]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _tlv(payload: bytes, base: int) -> list[dict[str, Any]]:
    try:
        return [v.to_json(ONIONMSG_SCHEMA) for v in render.record_views(payload, base)]
    except TlvError:
        return []


def peel_json(result: Any) -> dict[str, Any]:
    nxt = result.next_packet
    return {
        "payload": result.raw_payload.hex(),
        "tlv": _tlv(result.raw_payload, 0),
        "decoded": result.payload.to_json(),
        "encrypted_data": result.encrypted_data.to_json(),
        "final": result.final,
        "next_node_id": None if result.next_node_id is None else result.next_node_id.hex(),
        "next_short_channel_id": (None if result.next_short_channel_id is None
                                  else str(result.next_short_channel_id)),
        "next_path_key": None if result.final else result.next_path_key.hex(),
        "next_onion": None if nxt is None else nxt.to_bytes().hex(),
        "reply_path": _reply_path(result.payload.reply_path),
    }


def _reply_path(raw: bytes | None) -> dict[str, Any] | None:
    """The reply_path decoded for display (null when absent or not a valid blinded_path)."""
    if raw is None:
        return None
    try:
        return decode_blinded_path(raw).to_json()
    except DecodeError:
        return None


def run_peel(args: argparse.Namespace) -> int:
    data = read_hex(args.onion, "onion")
    node_key = read_node_key(args)
    assert node_key is not None  # a required option
    path_key = read_path_key(args)
    result = process_onion_message(data, node_key, path_key=path_key)
    if isinstance(result, Dropped):
        if args.json:
            emit_json({"dropped": result.reason, "message": result.message,
                       "error": error_object(result.error)})
        else:
            sys.stdout.write(f"dropped: {result.reason}: {result.message}\n")
        return 0
    out = peel_json(result)
    if args.json:
        emit_json(out)
        return 0
    lines = [f"{'delivered (final node)' if result.final else 'forward'}",
             f"payload: {out['payload']}", f"encrypted_data: {out['encrypted_data']}"]
    if not result.final:
        lines += [f"next_node_id: {out['next_node_id']}",
                  f"next_short_channel_id: {out['next_short_channel_id']}",
                  f"next_path_key: {out['next_path_key']}", f"next_onion: {out['next_onion']}"]
    else:
        lines.append(f"decoded: {out['decoded']}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
