"""`sphinxamp keysend pay`: build a keysend (bLIP 3) payment onion."""

from __future__ import annotations

import argparse
import sys

from sphinxamp import RouteHop, build_keysend_payment
from sphinxamp.cli._common import Subparsers, emit_json, read_hex, utf8_argument
from sphinxamp.cli._options import U64, add_amount_msat, add_json_flag
from sphinxamp.cli._payment_args import parse_data, parse_route, rand_from_seed, route_arguments
from sphinxamp.payments import parse_custom_records

KEYSEND_MESSAGE_TYPE = 7629168  # tip note / keysend message (satoshis.stream registry)
# No invoice names a delta: lnd's sender then uses its DefaultFinalCltvDelta, the chain's
# time lock delta (rpcserver.go; 80 on bitcoin), comfortably above the receiver's 19.
KEYSEND_FINAL_CLTV_DELTA = 80

DESCRIPTION = """\
Build a keysend payment: a random 32-byte preimage in custom record 5482373484 of the final
payload, payment_hash = SHA256(preimage), one HTLC (lnd: keysend is never split). --message
adds the text as record 7629168. --route as for `amp pay` (one route).

--json prints {"dest", "amount_msat", "preimage", "payment_hash", "height",
"final_cltv_expiry", "route", "htlc_amount_msat", "htlc_cltv_expiry", "onion", "shards"}:
"shards" holds the one HTLC in `amp pay`'s shape, so the line can be piped to `amp receive
--node-key ... --accept-keysend`.
"""


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("keysend", help="keysend (bLIP 3): build a payment")
    sub = group.add_subparsers(dest="keysend_command", metavar="ACTION", required=True)
    pay = sub.add_parser("pay", help="build the onion of a keysend payment",
                         description=DESCRIPTION,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    pay.add_argument("--dest", required=True, metavar="PUBKEY", help="destination node id")
    add_amount_msat(pay, f"amount, {U64}", required=True)
    pay.add_argument("--route", default="direct", metavar="ROUTE",
                     help="PUBKEY[@SCID][,...] or `direct` (default)")
    pay.add_argument("--message", metavar="TEXT", help="a message (record 7629168, UTF-8)")
    route_arguments(pay, KEYSEND_FINAL_CLTV_DELTA)
    add_json_flag(pay)
    pay.set_defaults(handler=run_pay)


def run_pay(args: argparse.Namespace) -> int:
    dest = read_hex(args.dest, "dest")
    hops: tuple[RouteHop, ...] = parse_route(args.route, args)
    entries = parse_data(args.data)
    if args.message is not None:
        entries.append((KEYSEND_MESSAGE_TYPE, utf8_argument(args.message, "message")))
    final_cltv = args.height + args.final_cltv_delta
    rand = rand_from_seed(args.seed)
    payment = build_keysend_payment(dest, args.amount_msat, final_cltv_expiry=final_cltv,
                                    route=hops, custom_records=parse_custom_records(entries),
                                    rand=rand)
    onion = payment.route_onion
    shard = {"payment_hash": payment.payment_hash.hex(), "amount_msat": args.amount_msat,
             "route": [h.pubkey.hex() for h in hops] + [dest.hex()],
             "htlc_amount_msat": onion.htlc_amount_msat,
             "htlc_cltv_expiry": onion.htlc_cltv_expiry, "onion": onion.onion.to_bytes().hex()}
    view = {"dest": dest.hex(), "amount_msat": args.amount_msat,
            "preimage": payment.preimage.hex(), "height": args.height,
            "final_cltv_expiry": final_cltv, **shard, "shards": [shard]}
    if args.json:
        emit_json(view)
        return 0
    sys.stdout.write(f"keysend of {args.amount_msat} msat to {dest.hex()}\n"
                     f"preimage     {view['preimage']}\npayment_hash {view['payment_hash']}\n"
                     f"first HTLC {shard['htlc_amount_msat']} msat until "
                     f"{shard['htlc_cltv_expiry']} over {len(hops)} forwarding hop(s)\n"
                     f"onion {shard['onion']}\n")
    return 0


__all__ = ["register"]
