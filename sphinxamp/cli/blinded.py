"""`sphinxamp blinded-path create` (BOLT 4 › Route Blinding: the recipient's side)."""

from __future__ import annotations

import argparse
import sys

from sphinxamp import EncryptedData, create_blinded_path
from sphinxamp.cli._common import Subparsers, emit_json, parse_hop, read_key
from sphinxamp.cli._options import add_json_flag, add_secret_option
from sphinxamp.errors import SphinxampError


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("blinded-path", help="create a blinded path (route blinding)")
    sub = group.add_subparsers(dest="blinded_command", metavar="ACTION", required=True)
    create = sub.add_parser(
        "create", help="blind a path to yourself from a session key",
        description="Create a blinded path: per hop the blinded node id and the "
        "encrypted_recipient_data (ChaCha20-Poly1305 of its encrypted_data_tlv under rho). "
        "--json prints {\"first_node_id\", \"first_path_key\", \"hops\": [{\"blinded_node_id\", "
        "\"encrypted_recipient_data\"}]}.")
    add_secret_option(create, "--session-key", "32-byte secret e_0 of the first path key",
                      required=True)
    create.add_argument("--hop", required=True, action="append", metavar="PUBKEY=ENCDATA_TLV_HEX",
                        help="one hop, first to last: its node id and its encrypted_data_tlv "
                        "in clear (repeat for each hop)")
    create.add_argument("--pad", action="store_true",
                        help="pad every hop's data (type 1) to one length first")
    add_json_flag(create)
    create.set_defaults(handler=run_create)


def _hop(text: str, index: int) -> tuple[bytes, bytes]:
    node, raw = parse_hop(text, index, "encrypted_data_tlv")
    # Decoding checks the stream is one a reader accepts; the bytes are kept as given.
    try:
        EncryptedData.decode(raw)
    except SphinxampError as exc:  # name the hop, as every other --hop error does
        exc.message = f"hops[{index}].{exc.message}"
        exc.args = (exc.message,)
        exc.field = f"hops[{index}].encrypted_data_tlv"
        raise
    return node, raw


def run_create(args: argparse.Namespace) -> int:
    raw = [_hop(text, i) for i, text in enumerate(args.hop)]
    hops: list[tuple[bytes, EncryptedData | bytes]] = [
        (node, EncryptedData.decode(data) if args.pad else data) for node, data in raw]
    path = create_blinded_path(read_key(args.session_key, "session_key"), hops, pad=args.pad)
    if args.json:
        emit_json(path.to_json())
        return 0
    lines = [f"first_node_id  {path.first_node_id.hex()}",
             f"first_path_key {path.first_path_key.hex()}"]
    for i, hop in enumerate(path.hops):
        lines += [f"hop {i}  blinded_node_id {hop.blinded_node_id.hex()}",
                  f"       encrypted_recipient_data ({len(hop.encrypted_recipient_data)} bytes) "
                  f"{hop.encrypted_recipient_data.hex()}"]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
