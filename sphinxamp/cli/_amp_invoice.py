"""`sphinxamp amp invoice add|list|cancel`: the receiver's AMP invoices in its database."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from sphinxamp import Receiver
from sphinxamp.cli._common import Subparsers, emit_json, read_hex
from sphinxamp.cli._options import U64, BoundedFloat, add_amount_msat, add_json_flag, uint
from sphinxamp.receiver import (
    DEFAULT_AMP_INVOICE_EXPIRY,
    DEFAULT_MIN_FINAL_CLTV_DELTA,
    MAX_INVOICE_EXPIRY,
    Invoice,
    InvoiceKind,
    SqliteStore,
)

# A creation time is a Unix time the clock can give: a u32 reaches the year 2106.
MAX_UNIX_TIME = 2**32 - 1


def register_invoice(amp_subparsers: Subparsers) -> None:
    group = amp_subparsers.add_parser("invoice", help="AMP invoices of a receiver database")
    sub = group.add_subparsers(dest="invoice_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a reusable AMP invoice",
                         description="Add an AMP invoice (lnd: addinvoice --amp). Each set "
                         "paid to its payment_addr settles on its own; the amounts add up.")
    _db(add)
    add_amount_msat(add, default=0,
                    help=f"value, {U64}; each set must total at least this (default 0: any)")
    add.add_argument("--expiry", type=BoundedFloat(0, MAX_INVOICE_EXPIRY, open_low=True),
                     default=DEFAULT_AMP_INVOICE_EXPIRY,
                     metavar="SECONDS", help="lifetime, above 0 and at most "
                     f"{MAX_INVOICE_EXPIRY:.0f} (ten years; default: 30 days, lnd's for AMP)")
    add.add_argument("--min-final-cltv", type=uint(16), default=DEFAULT_MIN_FINAL_CLTV_DELTA,
                     metavar="N", help="least blocks an HTLC must have left, 0 to 65535 "
                     "(default: %(default)s)")
    add.add_argument("--payment-addr", metavar="HEX", help="default: 32 random bytes")
    add.add_argument("--now", type=BoundedFloat(0, MAX_UNIX_TIME), metavar="SECONDS",
                     help=f"creation time, 0 to {MAX_UNIX_TIME} seconds since 1970 (default: "
                     "the clock)")
    add_json_flag(add)
    add.set_defaults(handler=run_add)
    listing = sub.add_parser("list", help="every invoice with its state and amount paid")
    _db(listing)
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)
    cancel = sub.add_parser("cancel", help="cancel an open AMP invoice")
    _db(cancel)
    cancel.add_argument("--payment-addr", required=True, metavar="HEX")
    add_json_flag(cancel)
    cancel.set_defaults(handler=run_cancel)


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, metavar="FILE", help="the receiver's database")


def invoice_json(invoice: Invoice, amount_paid: int) -> dict[str, Any]:
    return {"kind": invoice.kind.value,
            "payment_addr": None if invoice.payment_addr is None else invoice.ref.hex(),
            "payment_hash": invoice.ref.hex() if invoice.kind is InvoiceKind.KEYSEND else None,
            "amount_msat": invoice.value_msat, "state": invoice.state.value,
            "created_at": invoice.created_at, "expiry": invoice.expiry_seconds,
            "expires_at": invoice.expires_at,
            "min_final_cltv": invoice.min_final_cltv_delta,
            "spontaneous": invoice.spontaneous, "amount_paid_msat": amount_paid}


def _show(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(view)
        return
    ref = view["payment_addr"] or view["payment_hash"]
    sys.stdout.write(f"{view['kind']} {ref} {view['state']} value {view['amount_msat']} msat, "
                     f"paid {view['amount_paid_msat']} msat, expires {view['expires_at']}\n")


def run_add(args: argparse.Namespace) -> int:
    store = SqliteStore(args.db)
    try:
        invoice = Receiver(store).add_invoice(
            now=time.time() if args.now is None else args.now, amount_msat=args.amount_msat,
            expiry_seconds=args.expiry, min_final_cltv_delta=args.min_final_cltv,
            payment_addr=None if args.payment_addr is None else read_hex(args.payment_addr,
                                                                         "payment_addr"))
        _show(invoice_json(invoice, 0), args.json)
    finally:
        store.close()
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = SqliteStore(args.db, create=False)  # reading: a mistyped path is no new database
    try:
        views = [invoice_json(i, store.amount_paid(i.ref)) for i in store.invoices()]
    finally:
        store.close()
    if args.json:
        emit_json({"invoices": views})
    else:
        for view in views:
            _show(view, False)
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    store = SqliteStore(args.db, create=False)
    try:
        receiver = Receiver(store)
        addr = read_hex(args.payment_addr, "payment_addr")
        fails = receiver.cancel_invoice(addr)
        invoice = receiver.invoice(addr)
        assert invoice is not None
        view = invoice_json(invoice, store.amount_paid(addr))
        view["failed_htlcs"] = [i for fail in fails for i in fail.htlc_ids]
        _show(view, args.json)
    finally:
        store.close()
    return 0
