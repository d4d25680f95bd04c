"""`sphinxamp amp`: derive AMP children, split roots, build AMP payments (and receive them)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sphinxamp._payload import parse_custom_records
from sphinxamp.cli._common import U32, U64, add_json_flag, emit_json, int_in, read_hex, uint
from sphinxamp.cli.amp_invoice import register_invoice
from sphinxamp.cli.amp_receive import register_receive
from sphinxamp.errors import DecodeError
from sphinxamp.payments._amp import (
    AmpPayment,
    Rand,
    SeededRand,
    ShardRoute,
    build_amp_payment,
    derive_child,
    split_amount,
    split_root,
)
from sphinxamp.payments._route import RouteHop
from sphinxamp.wire._tlv import ShortChannelId

BOLT11_DEFAULT_FINAL_CLTV_DELTA = 18  # BOLT 11: `c` when the invoice has none

# Shares and shards a command makes at once. Far past any real payment (BOLT 2 caps one
# channel's max_accepted_htlcs at 483), and small enough to build and print in a moment.
MAX_PARTS = 10_000
PAY_DESCRIPTION = """\
Build an AMP payment: one onion per shard, each shard with its own payment hash (lnd's
child hash), every final payload holding the shard's AMP record (share, set_id, random
child_index) and the payment's MPP record (payment_addr, total). Without --payment-addr the
payment is spontaneous and the address is drawn at random.

--route PUBKEY[@SCID][,PUBKEY[@SCID]...] lists the forwarding nodes of one route in order
(SCID as BLOCKxTXxOUTPUT, the channel that node forwards over; default 0x0x0), or `direct`.
Give it once (every shard takes that route) or once per shard. Each forwarding node charges
--hop-fee-base-msat + --hop-fee-ppm and --hop-cltv-delta.

--json prints {"dest", "total_msat", "root", "set_id", "payment_addr", "final_cltv_expiry",
"height", "shards": [{"payment_hash", "amount_msat", "share", "child_index", "route",
"htlc_amount_msat", "htlc_cltv_expiry", "onion"}]}: "route" is the node ids from the first
hop to the destination; the HTLC fields are what the sender offers the first hop. That one
line can be piped to `amp receive --node-key` (shards sent straight to the destination).
--seed makes every random choice (root, set_id, shares, indices, session keys) reproducible;
never use it for a real payment.
"""


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("amp", help="AMP: derive, split, pay, receive, invoices")
    sub = group.add_subparsers(dest="amp_command", metavar="ACTION", required=True)
    derive = sub.add_parser("derive", help="child preimage and hash of a share and index",
                            description="preimage = SHA256(root ‖ share ‖ be32(index)), "
                            "hash = SHA256(preimage) (lnd amp/child.go)")
    derive.add_argument("--root", required=True, metavar="HEX", help="32-byte root")
    derive.add_argument("--share", required=True, metavar="HEX", help="32-byte share")
    derive.add_argument("--index", required=True, type=uint(32), metavar="N",
                        help=f"child_index, {U32} (a be32)")
    add_json_flag(derive)
    derive.set_defaults(handler=run_derive)

    split = sub.add_parser("split", help="split a root into random shares that XOR to it")
    split.add_argument("--root", required=True, metavar="HEX", help="32-byte root")
    split.add_argument("--parts", required=True, type=int_in(1, MAX_PARTS), metavar="N",
                       help=f"number of shares, 1 to {MAX_PARTS}")
    split.add_argument("--seed", metavar="HEX", help="reproducible shares (tests only)")
    add_json_flag(split)
    split.set_defaults(handler=run_split)

    pay = sub.add_parser("pay", help="build the onions of an AMP payment",
                         description=PAY_DESCRIPTION,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    _pay_arguments(pay)
    add_json_flag(pay)
    pay.set_defaults(handler=run_pay)
    register_receive(sub)
    register_invoice(sub)


def _pay_arguments(pay: argparse.ArgumentParser) -> None:
    pay.add_argument("--dest", required=True, metavar="PUBKEY", help="destination node id")
    pay.add_argument("--amount-msat", required=True, type=uint(64), metavar="N",
                     help=f"total, {U64}")
    pay.add_argument("--parts", required=True, type=int_in(1, MAX_PARTS), metavar="N",
                     help=f"number of shards, 1 to {MAX_PARTS}")
    pay.add_argument("--route", action="append", default=[], metavar="ROUTE",
                     help="PUBKEY[@SCID][,...] or `direct` (repeatable)")
    pay.add_argument("--payment-addr", metavar="HEX", help="the invoice's payment_addr")
    pay.add_argument("--payment-metadata", metavar="HEX", help="carried on every shard")
    route_arguments(pay, BOLT11_DEFAULT_FINAL_CLTV_DELTA)


def route_arguments(pay: argparse.ArgumentParser, final_cltv_delta: int) -> None:
    """What `amp pay` and `keysend pay` share: custom records, the height, and the fees and
    cltv deltas of the forwarding hops."""
    pay.add_argument("--data", action="append", default=[], metavar="TYPE=HEX[,...]",
                     help="custom records (type >= 65536), as lncli --data")
    pay.add_argument("--height", type=uint(32), default=0, metavar="N",
                     help=f"current block height, {U32} (default: %(default)s)")
    pay.add_argument("--final-cltv-delta", type=uint(16), default=final_cltv_delta,
                     metavar="N", help="receiver's final cltv delta, 0 to 65535 (default: "
                     "%(default)s)")
    # BOLT 7 channel_update: fee_base_msat and fee_proportional_millionths are u32s,
    # cltv_expiry_delta a u16.
    pay.add_argument("--hop-fee-base-msat", type=uint(32), default=0, metavar="N",
                     help=f"each forwarding node's fee_base_msat, {U32} (default 0)")
    pay.add_argument("--hop-fee-ppm", type=uint(32), default=0, metavar="N",
                     help=f"each forwarding node's fee_proportional_millionths, {U32} "
                     "(default 0)")
    pay.add_argument("--hop-cltv-delta", type=uint(16), default=40, metavar="N",
                     help="each forwarding node's cltv_expiry_delta, 0 to 65535 (default: "
                     "%(default)s)")
    pay.add_argument("--seed", "--session-seed", dest="seed", metavar="HEX",
                     help="reproducible randomness (tests and demos only)")


def _rand(seed: str | None) -> Rand:
    return os.urandom if seed is None else SeededRand(read_hex(seed, "seed"))


def run_derive(args: argparse.Namespace) -> int:
    child = derive_child(read_hex(args.root, "root"), read_hex(args.share, "share"), args.index)
    if args.json:
        emit_json({"preimage": child.preimage.hex(), "hash": child.hash.hex()})
    else:
        sys.stdout.write(f"preimage {child.preimage.hex()}\nhash     {child.hash.hex()}\n")
    return 0


def run_split(args: argparse.Namespace) -> int:
    shares = split_root(read_hex(args.root, "root"), args.parts, _rand(args.seed))
    if args.json:
        emit_json({"shares": [s.hex() for s in shares]})
    else:
        sys.stdout.write("".join(f"{s.hex()}\n" for s in shares))
    return 0


def _bad(value: str, field: str, why: str) -> DecodeError:
    return DecodeError(f"{field} {value!r}: {why}", field=field, reason=f"bad_{field}")


def _decimal(text: str) -> int | None:
    """ASCII decimal digits as an int, else None. `str.isdigit` also takes digits int() does
    not (superscripts), and a number past 20 digits is out of every range here (and int()
    refuses over 4,300 digits), so both are checked before int() sees the text."""
    if not text or len(text) > 20 or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def parse_scid(text: str) -> ShortChannelId:
    parts = text.lower().split("x")
    numbers = [_decimal(p) for p in parts]
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise _bad(text[:80], "short_channel_id", "expected BLOCKxTXxOUTPUT")
    if any(n is None for n in numbers):
        raise _bad(text[:80], "short_channel_id", "a field is out of range")
    block, tx, out = (n or 0 for n in numbers)
    if block >= 1 << 24 or tx >= 1 << 24 or out >= 1 << 16:
        raise _bad(text, "short_channel_id", "a field is out of range")
    return ShortChannelId(block, tx, out)


def parse_route(text: str, args: argparse.Namespace) -> tuple[RouteHop, ...]:
    if text.strip().lower() == "direct":
        return ()
    hops = []
    for item in text.split(","):
        node, _, scid = item.strip().partition("@")
        hops.append(RouteHop(read_hex(node, "route"), parse_scid(scid or "0x0x0"),
                             args.hop_fee_base_msat, args.hop_fee_ppm, args.hop_cltv_delta))
    return tuple(hops)


def parse_data(items: list[str]) -> list[tuple[int, bytes]]:
    out = []
    for item in (part for text in items for part in text.split(",") if part.strip()):
        rtype, eq, value = item.partition("=")
        number = _decimal(rtype.strip())
        if not eq or not (rtype.strip().isascii() and rtype.strip().isdigit()):
            raise _bad(item[:80], "data", "expected TYPE=HEX")
        if number is None or number >= 1 << 64:
            raise _bad(item[:80], "data", "the type is not a u64 (0 to 2^64-1)")
        out.append((number, read_hex(value, "data")))
    return out


def shard_routes(args: argparse.Namespace) -> list[ShardRoute]:
    amounts = split_amount(args.amount_msat, args.parts)
    routes = [parse_route(text, args) for text in args.route] or [()]
    if len(routes) == 1:
        routes *= args.parts
    if len(routes) != args.parts:
        raise DecodeError(f"{len(args.route)} routes for {args.parts} shards: give one route "
                          "or one per shard", field="route", reason="bad_route")
    return [ShardRoute(hops, amount) for hops, amount in zip(routes, amounts, strict=True)]


def run_pay(args: argparse.Namespace) -> int:
    dest = read_hex(args.dest, "dest")
    final_cltv = args.height + args.final_cltv_delta
    payment = build_amp_payment(
        dest, args.amount_msat, shard_routes(args), final_cltv_expiry=final_cltv,
        payment_addr=None if args.payment_addr is None else read_hex(args.payment_addr,
                                                                     "payment_addr"),
        payment_metadata=None if args.payment_metadata is None else read_hex(
            args.payment_metadata, "payment_metadata"),
        custom_records=parse_custom_records(parse_data(args.data)), rand=_rand(args.seed))
    view = payment_json(payment, final_cltv)
    view["height"] = args.height
    if args.json:
        emit_json(view)
        return 0
    lines = [f"AMP payment of {payment.total_msat} msat to {dest.hex()} in "
             f"{len(payment.shards)} shards", f"set_id       {payment.set_id.hex()}",
             f"payment_addr {payment.payment_addr.hex()}"]
    for i, shard in enumerate(view["shards"]):
        lines.append(f"shard {i}: {shard['amount_msat']} msat, hash {shard['payment_hash']}, "
                     f"child_index {shard['child_index']}, {len(shard['route'])} hop(s), "
                     f"first HTLC {shard['htlc_amount_msat']} msat until "
                     f"{shard['htlc_cltv_expiry']}")
        lines.append(f"  onion {shard['onion']}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def payment_json(payment: AmpPayment, final_cltv_expiry: int) -> dict[str, Any]:
    return {
        "dest": payment.dest.hex(), "total_msat": payment.total_msat,
        "root": payment.root.hex(), "set_id": payment.set_id.hex(),
        "payment_addr": payment.payment_addr.hex(), "final_cltv_expiry": final_cltv_expiry,
        "shards": [{
            "payment_hash": s.payment_hash.hex(), "amount_msat": s.amount_msat,
            "share": s.child.share.hex(), "child_index": s.child.child_index,
            "route": [h.pubkey.hex() for h in s.route] + [payment.dest.hex()],
            "htlc_amount_msat": s.htlc_amount_msat, "htlc_cltv_expiry": s.htlc_cltv_expiry,
            "onion": s.onion.to_bytes().hex(),
        } for s in payment.shards],
    }
