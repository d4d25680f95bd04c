"""`sphinxamp onion build` and `sphinxamp onion peel` (BOLT 4 › Packet Construction and
Onion Decryption)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
from dataclasses import dataclass
from typing import Any

from sphinxamp import HopPayload, ProcessedHop, Role, build_onion, decode_payload, process_hop
from sphinxamp.cli import _render as render
from sphinxamp.cli._common import (
    Subparsers,
    emit_json,
    error_object,
    parse_hop,
    read_hex,
    read_key,
    utf8_argument,
)
from sphinxamp.cli._options import (
    add_assoc_data,
    add_height,
    add_htlc_options,
    add_json_flag,
    add_node_key,
    add_path_key,
    add_profile,
    add_secret_option,
    named_by_flag,
    payload_area,
    read_assoc_data,
    read_htlc_options,
    read_node_key,
    read_path_key,
)
from sphinxamp.cli._trampoline_render import trampoline_json, trampoline_lines
from sphinxamp.errors import InvalidArgument, ReplayedOnion, SphinxampError, TlvError
from sphinxamp.onion import (
    HMAC_SIZE,
    MAX_PAYLOAD_AREA,
    PAYMENT_PAYLOAD_AREA,
    PeeledHop,
    SqliteReplayLog,
)
from sphinxamp.primitives import check_secret, sha256
from sphinxamp.wire import HOP_PAYLOAD_SCHEMA, PROFILES, encode_bigsize

PEEL_EPILOG = textwrap.dedent("""\
    A peel succeeds once the version, the public key and the HMAC check out and the hop's
    frame fits in the routing area; otherwise the command fails (exit 1) with the error the
    node would answer: invalid_onion_version (0xc004), invalid_onion_key (0xc006),
    invalid_onion_hmac (0xc005) or invalid_onion_payload (0x4016).

    The payload is then judged as the node would judge it, without failing the command: "tlv"
    splits it into records (on a malformed stream "tlv" is [] and "tlv_error" holds the
    error), and "payload_error" holds the invalid_onion_payload the node would return for
    its role (null if the payload is acceptable). The role is final when the next HMAC is all
    zero, intermediate otherwise, and blinded when --path-key is given or the payload carries
    encrypted_recipient_data (10); "introduction_node" is true when no --path-key was given
    and the payload carries current_path_key (12). Inside a blinded route every error is
    answered invalid_onion_blinding (0xc018), the underlying error under "cause". --strict
    turns a payload error into the command's failure.

    Inside a blinded route the hop decrypts encrypted_recipient_data with the path key: JSON
    "encrypted_data" holds its fields and "next_path_key" the key to hand on (or the
    override); "amt_to_forward" and "outgoing_cltv_value" follow from payment_relay and the
    incoming HTLC's --amount-msat and --cltv-expiry, and payment_constraints are checked
    (all four are null outside a blinded route or when the hop is refused). A final node
    compares the HTLC with its payload and --current-height (BOLT 4: cltv_expiry below
    height + min_final_cltv_expiry_delta is refused). Where a decision depends on them, the
    HTLC's --amount-msat, --cltv-expiry and, at a final hop, --current-height are required:
    without them the command fails naming the flag.

    Offsets in "tlv", "tlv_error" and "payload_error" count from the start of the decrypted
    hop_payloads: the payload starts at "payload_offset", right after its BigSize length.
    This is the offset an invalid_onion_payload failure carries back to the sender.
    """)


class _AreaOrAuto:
    """--payload-area of peel: a size (bounded as build's) or `auto`, taken from the packet."""

    __name__ = "int"

    def __init__(self) -> None:
        self.sizes = payload_area()
        self.low, self.high = self.sizes.low, self.sizes.high

    def __call__(self, text: str) -> int | None:
        return None if text == "auto" else self.sizes(text)


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("onion", help="build or peel a BOLT 4 onion packet")
    sub = group.add_subparsers(dest="onion_command", metavar="ACTION", required=True)

    build = sub.add_parser(
        "build", help="wrap hop payloads for a route into an onion packet",
        description="Build an onion packet. Prints the packet hex alone on the first line, then "
        "an annotated dump; --json prints {\"onion\": HEX, \"shared_secrets\": [HEX, ...]}, "
        "plus \"session_key\" when none was given and one was drawn at random.",
    )
    add_secret_option(build, "--session-key", "32-byte session private key, drawn at random "
                      "and printed when not given")
    add_assoc_data(build, "associated data, the payment hash for payments", required=True)
    build.add_argument("--hop", required=True, action="append", metavar="PUBKEY=PAYLOADHEX",
                       help="one hop in route order: its node id and its TLV payload without "
                       "the length prefix (repeat for each hop)")
    build.add_argument("--payload-area", type=payload_area(), default=PAYMENT_PAYLOAD_AREA,
                       metavar="N",
                       help=f"hop_payloads size in bytes, 0 to {MAX_PAYLOAD_AREA} (default "
                       "1300: the 1366-byte payment onion; onion messages may use 32768)")
    add_json_flag(build)
    build.set_defaults(handler=run_build)
    _register_peel(sub)


def _register_peel(sub: Any) -> None:
    peel = sub.add_parser(
        "peel", help="remove one layer of an onion with a node's private key",
        description="Peel one layer of an onion packet as the node holding --node-key would.",
        epilog=PEEL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    peel.add_argument("onion", metavar="ONION_HEX", help="the packet (- reads stdin)")
    add_node_key(peel, "the peeling node's 32-byte private key", required=True)
    add_assoc_data(peel, "associated data the onion was built with (the payment hash)",
                   required=True)
    peel.add_argument("--payload-area", type=_AreaOrAuto(), default=PAYMENT_PAYLOAD_AREA,
                      metavar="N", help=f"hop_payloads size, 0 to {MAX_PAYLOAD_AREA} (default "
                      "1300); 'auto' takes it from the packet length")
    add_path_key(peel, "path_key from update_add_htlc: the node is inside a blinded route")
    peel.add_argument("--strict", action="store_true",
                      help="fail (exit 1) when the payload is not acceptable for its role")
    peel.add_argument("--replay-db", metavar="FILE",
                      help="replay log (SQLite): refuse an onion whose shared secret it already "
                      "holds, else record it (BOLT 4 › Onion Decryption: a node MUST detect a "
                      "reused onion)")
    add_height(peel, "--cltv", help="deprecated name of --cltv-expiry (the same HTLC field, 0 to "
                      "2^32-1)")
    peel.add_argument("--batch-id", metavar="ID",
                      help="record the onion as the batch ID (any text, e.g. channel and "
                      "commitment number); peeling it again under the same ID repeats the "
                      "first answer instead of calling it a replay (a restart after a crash)")
    add_htlc_options(peel)
    add_profile(peel, "judge the payload as BOLT 4 states it (default), as lnd does, or at a "
                "trampoline node in either format (the trampoline onion in the final payload "
                "peeled with the same key and associated data)", trampoline=True)
    add_json_flag(peel)
    peel.set_defaults(handler=run_peel)


# --- build ---------------------------------------------------------------------------------


def run_build(args: argparse.Namespace) -> int:
    drawn = args.session_key is None
    session_key = os.urandom(32) if drawn else check_secret(
        read_key(args.session_key, "session_key"), "session_key")
    assoc = read_assoc_data(args)
    assert assoc is not None  # a required option
    hops = [parse_hop(text, i) for i, text in enumerate(args.hop)]
    built = build_onion(session_key, hops, assoc, args.payload_area)
    onion = built.to_bytes()
    if args.json:
        drawn_key = {"session_key": session_key.hex()} if drawn else {}
        emit_json({"onion": onion.hex(), "shared_secrets": [s.hex() for s in built.shared_secrets],
                   **drawn_key})
        return 0
    lines = [onion.hex(), "", f"onion packet, {len(onion)} bytes, {len(hops)} hops"]
    if drawn:
        lines.append(f"session_key (drawn at random): {session_key.hex()}")
    lines += render.dump(render.packet_spans(built.packet), max_lines=3)
    lines.append("")
    for i, (ss, (pubkey, payload)) in enumerate(zip(built.shared_secrets, hops, strict=True)):
        lines.append(f"hop {i}  node {pubkey.hex()}  payload {len(payload)} bytes")
        lines.append(f"       shared_secret {ss.hex()}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


# --- peel ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayloadVerdict:
    """What the peeling node makes of the payload bytes it found (from `process_hop`)."""

    role: Role
    introduction_node: bool
    views: list[render.RecordView]
    tlv_error: SphinxampError | None
    decoded: HopPayload | None
    payload_error: SphinxampError | None


def verdict_of(peeled: PeeledHop, hop: ProcessedHop | None, refusal: SphinxampError | None,
               profile: str) -> PayloadVerdict:
    """The payload split into records for display, and process_hop's judgment of it: the
    role and introduction flag it derived, or the error a node answers (BOLT 4 › Onion
    Decryption step 9 and the `payload` reader requirements)."""
    payload, base = peeled.payload, peeled.payload_offset
    views: list[render.RecordView] = []
    tlv_error: SphinxampError | None = None
    try:
        views = render.record_views(payload, base)
    except TlvError as exc:
        tlv_error = exc
    if hop is not None:
        return PayloadVerdict(hop.role, hop.introduction_node, views, None, hop.payload, None)
    decoded: HopPayload | None = None
    with contextlib.suppress(SphinxampError):  # shown as far as it decodes at all
        decoded = decode_payload(payload, base=base,
                                 profile=profile if profile in PROFILES else "bolt")
    # A refusal carries no ProcessedHop; process_hop names the refused layer's role on it.
    role = Role(refusal.role) if refusal is not None and refusal.role else Role.INTERMEDIATE
    intro = bool(refusal is not None and refusal.introduction_node)
    return PayloadVerdict(role, intro, views, tlv_error, decoded, refusal)


def peel_json(peeled: PeeledHop, verdict: PayloadVerdict) -> dict[str, Any]:
    nxt = peeled.next_packet
    return {
        "payload": peeled.payload.hex(),
        "tlv": [v.to_json(HOP_PAYLOAD_SCHEMA, decode=True) for v in verdict.views],
        "shared_secret": peeled.shared_secret.hex(),
        "next_onion": None if nxt is None else nxt.to_bytes().hex(),
        "final": peeled.is_final,
        "role": verdict.role.value,
        "introduction_node": verdict.introduction_node,
        "payload_offset": peeled.payload_offset,
        "decoded": render.payload_fields(verdict.decoded),
        "tlv_error": None if verdict.tlv_error is None else error_object(verdict.tlv_error),
        "payload_error": (None if verdict.payload_error is None
                          else error_object(verdict.payload_error)),
    }


def peel_text(peeled: PeeledHop, verdict: PayloadVerdict) -> list[str]:
    nxt = peeled.next_packet
    where = "final hop (next hmac is all zero)" if nxt is None else "forward to the next hop"
    intro = ", introduction node" if verdict.introduction_node else ""
    lines = [f"hop: {verdict.role.value}{intro}, {where}",
             f"shared_secret: {peeled.shared_secret.hex()}", "", "decrypted frame:"]
    prefix = encode_bigsize(len(peeled.payload))
    end = peeled.payload_offset + len(peeled.payload)
    next_hmac = bytes(HMAC_SIZE) if nxt is None else nxt.hmac
    if verdict.tlv_error is None:
        spans = render.frame_spans(prefix, verdict.views, end, next_hmac, HOP_PAYLOAD_SCHEMA)
    else:
        spans = [render.Span(0, prefix, f"length {len(peeled.payload)}"),
                 render.Span(len(prefix), peeled.payload, "payload (not a valid TLV stream)"),
                 render.Span(end, next_hmac, "hmac")]
    lines += render.dump(spans)
    lines.append("")
    if verdict.tlv_error is not None:
        lines.append(f"tlv: {describe(verdict.tlv_error)}")
    if verdict.payload_error is None:
        lines.append(f"payload: valid for the {verdict.role.value} role")
    else:
        lines.append(f"payload: a node answers {describe(verdict.payload_error)}")
    if nxt is None:
        lines.append("next_onion: none (final)")
    else:
        onion = nxt.to_bytes()
        lines.append(f"next_onion sha256: {sha256(onion).hex()}")
        lines.append(f"next_onion: {onion.hex()}")
    return lines


def describe(exc: SphinxampError) -> str:
    code = "" if exc.failure_code is None else f"{exc.failure_name} (0x{exc.failure_code:04x}): "
    under = exc.cause if exc.cause is not None else exc
    where = [f"tlv type {under.tlv_type}"] if under.tlv_type is not None else []
    if under.offset is not None:
        where.append(f"offset {under.offset}")
    if exc.failure_message:
        where.append(f"in {exc.failure_message}")
    return code + exc.message + (f" [{', '.join(where)}]" if where else "")


def _is_judgment(exc: SphinxampError) -> bool:
    """A refusal of the payload (the peel itself worked and the onion was no replay): the
    command still shows the layer unless --strict."""
    under = exc.cause if exc.cause is not None else exc
    return exc.peeled is not None and not isinstance(under, ReplayedOnion)


def run_peel(args: argparse.Namespace) -> int:
    onion = read_hex(args.onion, "onion")
    node_key = read_node_key(args)
    assoc = read_assoc_data(args)
    assert node_key is not None and assoc is not None  # required options
    path_key = read_path_key(args)
    if args.cltv is not None:
        if args.cltv_expiry not in (None, args.cltv):
            raise InvalidArgument("--cltv and --cltv-expiry name the same HTLC field and "
                                  "differ", field="cltv", reason="conflicting_cltv")
        args.cltv_expiry = args.cltv
    if args.replay_db is not None and args.cltv_expiry is None:
        raise InvalidArgument("--replay-db needs --cltv-expiry, the HTLC's expiry",
                              field="cltv_expiry", reason="missing_cltv")
    if args.replay_db is None and args.batch_id is not None:
        raise InvalidArgument("--batch-id goes with --replay-db", field="replay_db",
                              reason="missing_replay_db")
    batch_id = (None if args.batch_id is None
                else utf8_argument(args.batch_id, "batch_id"))
    with contextlib.ExitStack() as stack:
        log = None if args.replay_db is None else stack.enter_context(
            SqliteReplayLog(args.replay_db))
        try:
            hop: ProcessedHop | None = process_hop(
                onion, node_key, assoc, path_key=path_key, replay_log=log, batch_id=batch_id,
                payload_area=args.payload_area, profile=args.profile, **read_htlc_options(args))
            refusal = None
        except InvalidArgument as exc:
            raise named_by_flag(exc) from None
        except SphinxampError as exc:
            if args.strict or not _is_judgment(exc):
                raise
            hop, refusal = None, exc
    if hop is None:
        assert refusal is not None
        peeled: PeeledHop = refusal.peeled
    else:
        peeled = PeeledHop(hop.raw_payload, hop.shared_secret, hop.next_packet,
                           hop.payload_offset)
    verdict = verdict_of(peeled, hop, refusal, args.profile)
    if args.json:
        emit_json({**peel_json(peeled, verdict), **render.blinding_json(hop),
                   **_trampoline_json(hop, args.profile)})
    else:
        sys.stdout.write("\n".join(peel_text(peeled, verdict) + render.blinding_text(hop)
                                   + _trampoline_text(hop)) + "\n")
    return 0


def _trampoline_json(hop: ProcessedHop | None, profile: str) -> dict[str, Any]:
    """Under a trampoline profile, "trampoline": the layer peeled (null when the hop holds
    none), with the trampoline payload and the next trampoline onion in hex."""
    if profile in PROFILES:
        return {}
    tramp = None if hop is None else hop.trampoline
    out = trampoline_json(tramp)
    if out is not None and tramp is not None:
        nxt = tramp.next_packet
        out["payload"] = tramp.raw_payload.hex()
        out["next_trampoline_onion"] = None if nxt is None else nxt.to_bytes().hex()
    return {"trampoline": out}


def _trampoline_text(hop: ProcessedHop | None) -> list[str]:
    tramp = None if hop is None else hop.trampoline
    if tramp is None:
        return []
    out = trampoline_json(tramp)
    assert out is not None
    lines = ["", f"trampoline payload: {tramp.raw_payload.hex()}", *trampoline_lines(out)]
    if tramp.next_packet is not None:
        lines.append(f"next_trampoline_onion: {tramp.next_packet.to_bytes().hex()}")
    return lines
