"""`sphinxamp amp`: derive AMP children, split roots, build AMP payments (and receive them)."""

from __future__ import annotations

import argparse
import sys

from sphinxamp import ShardRoute, build_amp_payment
from sphinxamp.cli._amp_invoice import register_invoice
from sphinxamp.cli._amp_receive import register_receive
from sphinxamp.cli._common import Subparsers, emit_json, read_hex
from sphinxamp.cli._options import U32, U64, add_amount_msat, add_json_flag, int_in, uint
from sphinxamp.cli._payment_args import (
    parse_data,
    parse_route,
    payment_json,
    rand_from_seed,
    route_arguments,
)
from sphinxamp.errors import DecodeError
from sphinxamp.payments import (
    derive_child,
    parse_custom_records,
    split_amount,
    split_root,
)

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


def register(subparsers: Subparsers) -> None:
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
    add_amount_msat(pay, f"total, {U64}", required=True)
    pay.add_argument("--parts", required=True, type=int_in(1, MAX_PARTS), metavar="N",
                     help=f"number of shards, 1 to {MAX_PARTS}")
    pay.add_argument("--route", action="append", default=[], metavar="ROUTE",
                     help="PUBKEY[@SCID][,...] or `direct` (repeatable)")
    pay.add_argument("--payment-addr", metavar="HEX", help="the invoice's payment_addr")
    pay.add_argument("--payment-metadata", metavar="HEX", help="carried on every shard")
    route_arguments(pay, BOLT11_DEFAULT_FINAL_CLTV_DELTA)


def run_derive(args: argparse.Namespace) -> int:
    child = derive_child(read_hex(args.root, "root"), read_hex(args.share, "share"), args.index)
    if args.json:
        emit_json({"preimage": child.preimage.hex(), "hash": child.hash.hex()})
    else:
        sys.stdout.write(f"preimage {child.preimage.hex()}\nhash     {child.hash.hex()}\n")
    return 0


def run_split(args: argparse.Namespace) -> int:
    shares = split_root(read_hex(args.root, "root"), args.parts, rand_from_seed(args.seed))
    if args.json:
        emit_json({"shares": [s.hex() for s in shares]})
    else:
        sys.stdout.write("".join(f"{s.hex()}\n" for s in shares))
    return 0


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
        custom_records=parse_custom_records(parse_data(args.data)), rand=rand_from_seed(args.seed))
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
