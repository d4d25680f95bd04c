"""What the payment commands (`amp pay`, `keysend pay`, the demo) share: the route, fee and
custom record options, their parsers, and the JSON of an AMP payment."""

from __future__ import annotations

import argparse
import os
from typing import Any

from sphinxamp import AmpPayment, RouteHop, ShortChannelId
from sphinxamp.cli._common import read_hex
from sphinxamp.cli._options import U32, add_height, uint
from sphinxamp.errors import DecodeError
from sphinxamp.payments import Rand, SeededRand


def route_arguments(pay: argparse.ArgumentParser, final_cltv_delta: int) -> None:
    """What `amp pay` and `keysend pay` share: custom records, the height, and the fees and
    cltv deltas of the forwarding hops."""
    pay.add_argument("--data", action="append", default=[], metavar="TYPE=HEX[,...]",
                     help="custom records (type >= 65536), as lncli --data")
    add_height(pay, "--height", default=0,
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


def rand_from_seed(seed: str | None) -> Rand:
    """--seed's reproducible randomness, else the system's."""
    return os.urandom if seed is None else SeededRand(read_hex(seed, "seed"))


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
