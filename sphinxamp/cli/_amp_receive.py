"""`sphinxamp amp receive`: the AMP and keysend receiver fed final-hop HTLCs as JSON lines.

`register_receive(amp_subparsers)` adds the command to the `amp` group. `serve` is the loop
itself, reading lines and writing one JSON object per decision, so that anything driving a
receiver over a pipe speaks the same format.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from sphinxamp import Accepted, Receiver, Settle
from sphinxamp.cli._common import Subparsers, error_object
from sphinxamp.cli._options import (
    BoundedFloat,
    add_json_flag,
    add_node_key,
    add_profile,
    read_node_key,
)
from sphinxamp.cli._receive_lines import LineReader, RefusedHtlc, TickLine, id_of
from sphinxamp.errors import SphinxampError
from sphinxamp.receiver import DEFAULT_HOLD_SECONDS, Decision, MemoryStore, SqliteStore, Store

# A partial set is held for seconds to minutes (lnd: 120 s); a day is past any use of it.
MAX_HOLD_SECONDS = 86400

LINE_FORMAT = """\
input, one JSON object a line (blank lines are skipped):
  {"htlc_id": STR|N, "payment_hash": HEX, "amount_msat": N, "cltv_expiry": N,
   "height": N, "payload": HEX | "onion": HEX [, "path_key": HEX], "now": SECONDS}
      an HTLC that reached this node: "payload" is the peeled final-hop payload (the TLV
      stream, without its length prefix), or "onion" the whole onion packet, which the
      receiver peels itself with --node-key; "htlc_id" names the HTLC (its circuit key:
      text, or an integer below 2^63) and must be unique; "height" (required) is the block
      height the HTLC arrived at; "now" (optional, default: the clock) its arrival time.
  an `amp pay --json` or `keysend pay --json` object (one line, with "height")
      every shard whose onion is for this node, as an HTLC line with its payment hash as
      htlc_id ("onion", "htlc_amount_msat", "htlc_cltv_expiry"); needs --node-key.
  {"tick": SECONDS}
      fire the timeouts due at that time (null: the clock): each held HTLC fails with
      mpp_timeout once --hold seconds passed since its own arrival; invoices past their
      expiry are canceled.

output, one JSON object a line, written once the decision is on disk:
  {"decision": "accepted", "htlc_id": ID, "set_id": HEX, "held_msat": N, "total_msat": N,
   "expires_at": SECONDS}  (held until then: its first arrival plus --hold)
  {"decision": "settle", "set_id": HEX|null, "payment_addr": HEX|null, "amount_msat": N,
   "htlcs": [{"htlc_id": ID, "preimage": HEX}, ...]}
  {"decision": "fail", "htlc_ids": [ID, ...], "failure_code": N, "failure_name": NAME,
   "reason": DETAIL, "lnd_result": NAME, "set_id": HEX|null,
   "htlcs": [{"htlc_id": ID, "failure_message": HEX}, ...]}
  a line that cannot be read, or whose onion or payload does not decode, gives a
  {"decision": "fail", "htlc_ids": [ID] or []} line with the JSON error object's fields
  and "line" (e.g. invalid_onion_payload with its tlv_type and offset).

An HTLC id sent again gets the decision it stands at: after a restart, resend every HTLC
not yet settled or failed (an accepted HTLC may have been settled or failed with its set,
in an answer that was lost). Exit status 1 if any line was refused, else 0."""


def register_receive(amp_subparsers: Subparsers) -> None:
    parser = amp_subparsers.add_parser(
        "receive", help="receive AMP and keysend HTLCs (JSON lines on stdin)",
        description="Run the AMP receiver over a database: decide every HTLC read on stdin "
        "and print each decision.", epilog=LINE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, metavar="FILE",
                        help="SQLite database (created if missing); ':memory:' keeps nothing")
    add_node_key(parser, "this node's private key, to peel lines carrying an onion")
    add_profile(parser, "bolt: BOLT 4 to the letter; lnd: answer as lnd (default: bolt)")
    parser.add_argument("--accept-amp", action="store_true",
                        help="accept spontaneous AMP (invoice made on the fly), as lnd's "
                        "accept-amp; off by default")
    parser.add_argument("--accept-keysend", action="store_true",
                        help="accept keysend, as lnd's accept-keysend; off by default")
    parser.add_argument("--hold", type=BoundedFloat(0, MAX_HOLD_SECONDS, open_low=True),
                        default=DEFAULT_HOLD_SECONDS, metavar="SECONDS",
                        help="how long a partial set's HTLC is held, above 0 and at most "
                        f"{MAX_HOLD_SECONDS} (one day; default: %(default)s)")
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full",
                        help="full: every decision fsynced (survives power loss); normal: "
                        "survives a crash of this process, not of the machine, and is faster")
    add_json_flag(parser)  # the output is JSON lines either way
    parser.set_defaults(handler=run_receive)


def open_store(path: str, synchronous: str) -> Store:
    if path == ":memory:":
        return MemoryStore()
    return SqliteStore(path, synchronous=synchronous)


def run_receive(args: argparse.Namespace) -> int:
    node_key = read_node_key(args)
    store = open_store(args.db, args.synchronous)
    try:
        receiver = Receiver(store, profile=args.profile, accept_amp=args.accept_amp,
                            accept_keysend=args.accept_keysend, hold_seconds=args.hold)
        errors = serve(receiver, sys.stdin, _print, time.time, node_key=node_key)
    finally:
        store.close()
    return 1 if errors else 0


def _print(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(", ", ": ")) + "\n")
    sys.stdout.flush()  # a decision is an acknowledgement: it must not wait in a buffer


def serve(receiver: Receiver, lines: Iterable[str], write: Callable[[dict[str, Any]], None],
          clock: Callable[[], float], *, node_key: bytes | None = None) -> int:
    """Decide every line; returns how many lines were refused."""
    reader = LineReader(node_key, receiver.profile)
    errors = 0
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            requests = reader.parse(text)
        except SphinxampError as exc:
            errors += 1
            write(refusal_json(exc, number, id_of(text)))
            continue
        for request in requests:
            if isinstance(request, RefusedHtlc):
                errors += 1
                write(refusal_json(request.error, number, request.htlc_id))
                continue
            now = clock() if request.now is None else request.now
            if isinstance(request, TickLine):
                for fail in receiver.expire(now):
                    write(decision_json(fail))
            else:
                write(decision_json(receiver.receive(request.htlc, now=now,
                                                     height=request.height)))
    return errors


def refusal_json(exc: SphinxampError, line: int, htlc_id: Any) -> dict[str, Any]:
    """A line refused before the receiver saw it, as a fail decision with the error."""
    ids = [] if htlc_id is None else [htlc_id]
    head = {"decision": "fail", "htlc_ids": ids, "set_id": None}
    tail = {"line": line} if htlc_id is None else {"line": line, "htlc_id": htlc_id}
    return {**head, **error_object(exc), **tail}


def decision_json(decision: Decision) -> dict[str, Any]:
    if isinstance(decision, Accepted):
        return {"decision": "accepted", "htlc_id": decision.htlc_id,
                "set_id": decision.set_id.hex(), "held_msat": decision.held_msat,
                "total_msat": decision.total_msat, "expires_at": decision.expires_at}
    if isinstance(decision, Settle):
        return {"decision": "settle", "set_id": _opt_hex(decision.set_id),
                "payment_addr": _opt_hex(decision.payment_addr),
                "amount_msat": decision.amount_msat,
                "htlcs": [{"htlc_id": i, "preimage": p.hex()} for i, p in decision.preimages]}
    return {"decision": "fail", "htlc_ids": list(decision.htlc_ids),
            "failure_code": decision.failure_code, "failure_name": decision.failure_name,
            "reason": decision.reason.value, "lnd_result": decision.reason.lnd_name,
            "set_id": _opt_hex(decision.set_id),
            "htlcs": [{"htlc_id": h.htlc_id,
                       "failure_message": decision.failure_message(h.htlc_id).hex()}
                      for h in decision.htlcs]}


def _opt_hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()
