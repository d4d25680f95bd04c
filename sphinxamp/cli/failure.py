"""`sphinxamp failure create|wrap|from-malformed|decrypt|codes` (BOLT 4 › Returning Errors,
› Failure Messages; BOLT 2 › Removing an HTLC)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sphinxamp import (
    DecryptedFailure,
    FailureMessage,
    create_failure,
    decrypt_failure,
    wrap_failure,
)
from sphinxamp.cli import _render as render
from sphinxamp.cli._common import (
    Subparsers,
    emit_json,
    error_object,
    read_hex,
    read_key,
    read_secret_list,
)
from sphinxamp.cli._options import (
    BoundedInt,
    add_hold_time,
    add_json_flag,
    add_secret_option,
    int_in,
)
from sphinxamp.errors import DecodeError, InvalidArgument
from sphinxamp.failures import (
    FAILURE_CODES,
    PAD_TO,
    failure_from_malformed,
    resolve_code,
)

DECRYPT_EPILOG = """\
JSON: {"hop_index": N|null, "failure_code", "failure_name", "flags", "fields": {...},
"tlv": [{"type", "value"}], "extra", "failure_message", "error",
"attribution": [{"hop_index", "hold_time_ms", "hmac_ok"}, ...]|null, "attribution_error"}.
hop_index counts from the first hop (0) and is null when no hop's HMAC verifies
(unattributable: exit status 0 all the same). "error" is the error object of a verified
message that does not parse. "attribution" checks each hop up to the erring one (every hop
when the packet is unattributable) and stops at the first bad HMAC, which blames that hop
or its upstream neighbour.
"""


class _Code(BoundedInt):
    """--code: a failure code by spec name or number (a u16)."""

    def __init__(self) -> None:
        super().__init__(0, 0xFFFF, base=0)

    def __call__(self, text: str) -> int:
        try:
            return resolve_code(int(text, 0) if text[:1].isdigit() else text)
        except (ValueError, InvalidArgument):
            raise argparse.ArgumentTypeError(f"not a failure code number (0 to 65535) or name: "
                                             f"{text[:40]!r}") from None


code_arg = _Code()
# failure_len and pad_len are u16s; a larger total could not be written.
MAX_PAD_TO = 0xFFFF


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("failure", help="create, wrap and decrypt failure onions")
    sub = group.add_subparsers(dest="failure_command", metavar="ACTION", required=True)

    create = sub.add_parser(
        "create", help="the erring node's return packet",
        description="Build the return packet of a failure under the erring node's shared "
        "secret. Prints the packet hex; --json prints {\"packet\", \"attribution_data\"} "
        "(null without --attribution).")
    add_secret_option(create, "--shared-secret", "the failing node's shared secret with the "
                      "origin", required=True)
    create.add_argument("--code", required=True, type=code_arg, metavar="NAME|N",
                        help="failure code: spec name or number, 0 to 65535 (0x400f, 16399)")
    create.add_argument("--data", default="", metavar="HEX",
                        help="the bytes after the code: the code's fields, then any TLV stream")
    create.add_argument("--pad-to", type=int_in(PAD_TO, MAX_PAD_TO), default=PAD_TO,
                        metavar="N", help=f"failure_len + pad_len, {PAD_TO} to {MAX_PAD_TO} "
                        "(default 256)")
    create.add_argument("--attribution", action="store_true",
                        help="also create the 920-byte attribution data")
    add_hold_time(create, "hold time reported in the attribution data", default=0)
    add_json_flag(create)
    create.set_defaults(handler=run_create)
    _register_return_path(sub)


def _register_return_path(sub: Any) -> None:
    """wrap, from-malformed, decrypt and codes: what the hops upstream and the origin do."""

    wrap = sub.add_parser(
        "wrap", help="an intermediate node's layer on a return packet",
        description="Add this node's ammag layer. With --attribution-data or --hold-time-ms "
        "also relay the attribution data (starting from zeros when none came from "
        "downstream). --json prints {\"packet\", \"attribution_data\"|null}.")
    wrap.add_argument("packet", metavar="PACKET_HEX")
    add_secret_option(wrap, "--shared-secret", "this node's shared secret with the origin",
                      required=True)
    wrap.add_argument("--attribution-data", metavar="HEX")
    add_hold_time(wrap, "this node's hold time")
    add_json_flag(wrap)
    wrap.set_defaults(handler=run_wrap)

    malformed = sub.add_parser(
        "from-malformed", help="turn update_fail_malformed_htlc into a return packet",
        description="The node upstream of update_fail_malformed_htlc builds the failure "
        "(BADONION code with sha256_of_onion) under its own shared secret.")
    add_secret_option(malformed, "--shared-secret", "this node's shared secret with the "
                      "origin", required=True)
    malformed.add_argument("--sha256-of-onion", required=True, metavar="HEX")
    malformed.add_argument("--code", required=True, type=code_arg, metavar="N",
                           help="the code of update_fail_malformed_htlc, 0 to 65535 (a "
                           "BADONION code)")
    add_json_flag(malformed)
    malformed.set_defaults(handler=run_from_malformed)

    decrypt = sub.add_parser(
        "decrypt", help="the origin's decryption of a return packet",
        description="Strip the layers with the route's shared secrets (first hop first), name "
        "the erring hop and decode its failure message.", epilog=DECRYPT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    decrypt.add_argument("packet", metavar="PACKET_HEX")
    add_secret_option(decrypt, "--shared-secrets", "the route's shared secrets, first hop "
                      "first, separated by commas or white space", required=True,
                      metavar="HEX,...")
    decrypt.add_argument("--attribution-data", metavar="HEX")
    add_json_flag(decrypt)
    decrypt.set_defaults(handler=run_decrypt)

    codes = sub.add_parser("codes", help="every BOLT 4 failure code with its flags and fields")
    add_json_flag(codes)
    codes.set_defaults(handler=run_codes)


def _emit_reply(args: argparse.Namespace, packet: bytes, data: bytes | None) -> int:
    if args.json:
        emit_json({"packet": packet.hex(), "attribution_data": None if data is None
                   else data.hex()})
    else:
        sys.stdout.write(packet.hex() + "\n")
        if data is not None:
            sys.stdout.write(f"attribution_data {data.hex()}\n")
    return 0


def run_create(args: argparse.Namespace) -> int:
    data = read_hex(args.data, "data")
    raw = args.code.to_bytes(2, "big") + data
    try:
        FailureMessage.decode(raw)  # the fields must be there; the TLV part may be anything
    except DecodeError as exc:
        raise InvalidArgument(f"--data does not hold the fields of code {args.code:#06x}: "
                              f"{exc.message}", field="data", offset=exc.offset,
                              reason=exc.reason) from None
    reply = create_failure(read_key(args.shared_secret, "shared_secret"), raw,
                           hold_time=args.hold_time_ms, attribution=args.attribution,
                           pad_to=args.pad_to)
    return _emit_reply(args, reply.packet, reply.attribution_data)


def run_wrap(args: argparse.Namespace) -> int:
    data = None if args.attribution_data is None else read_hex(args.attribution_data,
                                                               "attribution_data")
    attribution = data is not None or args.hold_time_ms is not None
    reply = wrap_failure(read_key(args.shared_secret, "shared_secret"),
                         read_hex(args.packet, "packet"), data,
                         hold_time=args.hold_time_ms or 0, attribution=attribution)
    return _emit_reply(args, reply.packet, reply.attribution_data)


def run_from_malformed(args: argparse.Namespace) -> int:
    packet = failure_from_malformed(read_key(args.shared_secret, "shared_secret"),
                                    read_hex(args.sha256_of_onion, "sha256_of_onion"), args.code)
    if args.json:
        emit_json({"packet": packet.hex()})
    else:
        sys.stdout.write(packet.hex() + "\n")
    return 0


def message_json(message: FailureMessage | None) -> dict[str, Any]:
    if message is None:
        return {"failure_code": None, "failure_name": None, "flags": [], "fields": {},
                "tlv": [], "extra": None}
    return {"failure_code": message.code, "failure_name": message.name,
            "flags": list(message.flags),
            "fields": {k: v.hex() if isinstance(v, bytes) else v
                       for k, v in message.fields.items()},
            "tlv": [{"type": r.type, "value": r.value.hex()} for r in message.tlv],
            "extra": message.extra.hex()}


def decrypted_json(result: DecryptedFailure) -> dict[str, Any]:
    raw = result.failure_message
    return {"hop_index": result.hop_index, **message_json(result.message),
            "failure_message": None if raw is None else raw.hex(),
            "error": None if result.error is None else error_object(result.error),
            "attribution": render.attribution_json(result.attribution),
            "attribution_error": None if result.attribution_error is None
            else error_object(result.attribution_error)}


def _print_decrypted(obj: dict[str, Any]) -> None:
    out = sys.stdout
    if obj["hop_index"] is None:
        out.write("unattributable: no hop's HMAC verifies\n")
    else:
        code = obj["failure_code"]
        what = "unparsable message" if code is None else \
            f"{obj['failure_name'] or 'unknown code'} (0x{code:04x})"
        out.write(f"hop {obj['hop_index']}: {what}\n")
        for name, value in obj["fields"].items():
            out.write(f"  {name} {value}\n")
        for rec in obj["tlv"]:
            out.write(f"  tlv {rec['type']} {rec['value']}\n")
    for hop in obj["attribution"] or ():
        verdict = "ok" if hop["hmac_ok"] else "BAD HMAC"
        out.write(f"attribution hop {hop['hop_index']}: hold {hop['hold_time_ms']} ms, "
                  f"{verdict}\n")


def run_decrypt(args: argparse.Namespace) -> int:
    data = None if args.attribution_data is None else read_hex(args.attribution_data,
                                                               "attribution_data")
    result = decrypt_failure(read_hex(args.packet, "packet"),
                                    read_secret_list(args.shared_secrets, "shared_secrets"), data)
    obj = decrypted_json(result)
    if args.json:
        emit_json(obj)
    else:
        _print_decrypted(obj)
    return 0


def run_codes(args: argparse.Namespace) -> int:
    table = sorted(FAILURE_CODES.values(), key=lambda c: c.code & 0xFF)
    if args.json:
        emit_json({"codes": [{"code": c.code, "hex": f"0x{c.code:04x}", "name": c.name,
                              "flags": list(c.flags),
                              "fields": [{"name": n, "type": t} for n, t in c.fields]}
                             for c in table]})
        return 0
    for c in table:
        fields = ", ".join(f"{n}: {t}" for n, t in c.fields) or "-"
        sys.stdout.write(f"0x{c.code:04x}  {c.name:40} {'|'.join(c.flags) or '-':16} "
                         f"{fields}\n")
    return 0
