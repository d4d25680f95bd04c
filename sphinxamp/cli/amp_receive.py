"""`sphinxamp amp receive`: the AMP receiver fed peeled final-hop HTLCs as JSON lines.

`register_receive(amp_subparsers)` adds the command to the `amp` group. `serve` is the loop
itself, reading lines and writing one JSON object per decision, so that anything driving a
receiver over a pipe speaks the same format.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .._errors import DecodeError, SphinxampError
from .._payload import Role, decode_payload
from .._receiver import DEFAULT_HOLD_SECONDS, Accepted, Decision, IncomingHtlc, Receiver, Settle
from .._receiver_store import MemoryStore, SqliteStore, Store, check_htlc_id
from ._common import error_object

LINE_FORMAT = """\
input, one JSON object a line (blank lines are skipped):
  {"htlc_id": STR|N, "payment_hash": HEX, "amount_msat": N, "cltv_expiry": N,
   "payload": HEX, "now": SECONDS, "height": N}
      an HTLC that reached this node as its final hop: "payload" is the peeled final-hop
      payload (the TLV stream, without its length prefix); "htlc_id" names the HTLC (its
      circuit key: text, or an integer below 2^63) and must be unique; "now" (optional,
      default: the clock) is its arrival time in seconds; "height" (optional) is the block
      height, which enables the expiry checks.
  {"tick": SECONDS}
      fire the timeouts due at that time (null: the clock): each held HTLC fails with
      mpp_timeout once --hold seconds passed since its own arrival.

output, one JSON object a line, written once the decision is on disk:
  {"decision": "accepted", "htlc_id": ID, "set_id": HEX, "held_msat": N, "total_msat": N,
   "expires_at": SECONDS}  (held until then: its first arrival plus --hold)
  {"decision": "settle", "set_id": HEX|null, "payment_addr": HEX|null, "amount_msat": N,
   "htlcs": [{"htlc_id": ID, "preimage": HEX}, ...]}
  {"decision": "fail", "htlc_ids": [ID, ...], "failure_code": N, "failure_name": NAME,
   "reason": DETAIL, "set_id": HEX|null}
  a line that cannot be read gives the JSON error object with "line" (and "htlc_id" when
  known); a payload that does not decode is invalid_onion_payload for that HTLC.

An HTLC id sent again gets the decision it stands at: after a restart, resend every HTLC
not yet settled or failed (an accepted HTLC may have been settled or failed with its set,
in an answer that was lost). Exit status 1 if any line was refused, else 0."""


@dataclass(frozen=True, slots=True)
class HtlcLine:
    htlc: IncomingHtlc
    now: float | None
    height: int | None


@dataclass(frozen=True, slots=True)
class TickLine:
    now: float | None


def register_receive(amp_subparsers: Any) -> None:
    parser = amp_subparsers.add_parser(
        "receive", help="receive AMP and keysend HTLCs (JSON lines on stdin)",
        description="Run the AMP receiver over a database: decide every HTLC read on stdin "
        "and print each decision.", epilog=LINE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, metavar="FILE",
                        help="SQLite database (created if missing); ':memory:' keeps nothing")
    parser.add_argument("--hold", type=float, default=DEFAULT_HOLD_SECONDS, metavar="SECONDS",
                        help="how long a partial set's HTLC is held (default: %(default)s)")
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full",
                        help="full: every decision fsynced (survives power loss); normal: "
                        "survives a crash of this process, not of the machine, and is faster")
    parser.set_defaults(handler=run_receive)


def open_store(path: str, synchronous: str) -> Store:
    if path == ":memory:":
        return MemoryStore()
    try:
        return SqliteStore(path, synchronous=synchronous)
    except (sqlite3.Error, ValueError) as exc:
        raise SphinxampError(f"{path}: cannot open the database: {exc}", field="db",
                             reason="database") from None


def run_receive(args: argparse.Namespace) -> int:
    store = open_store(args.db, args.synchronous)
    try:
        receiver = Receiver(store, hold_seconds=args.hold)
        errors = serve(receiver, sys.stdin, _print, time.time)
    finally:
        store.close()
    return 1 if errors else 0


def _print(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(", ", ": ")) + "\n")
    sys.stdout.flush()  # a decision is an acknowledgement: it must not wait in a buffer


def serve(receiver: Receiver, lines: Iterable[str], write: Callable[[dict[str, Any]], None],
          clock: Callable[[], float]) -> int:
    """Decide every line; returns how many lines were refused."""
    errors = 0
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            request = parse_line(text)
        except DecodeError as exc:
            errors += 1
            write({**error_object(exc), "line": number, **_id_of(text)})
            continue
        now = clock() if request.now is None else request.now
        if isinstance(request, TickLine):
            for fail in receiver.expire(now):
                write(decision_json(fail))
        else:
            write(decision_json(receiver.receive(request.htlc, now=now,
                                                 height=request.height)))
    return errors


def _id_of(text: str) -> dict[str, Any]:
    """The line's htlc_id, when it has a valid one, so a refusal can name its HTLC."""
    try:
        obj = json.loads(text)
        return {"htlc_id": check_htlc_id(obj["htlc_id"])}
    except (ValueError, RecursionError, TypeError, KeyError):
        return {}


def _refuse(message: str, field: str, reason: str) -> DecodeError:
    return DecodeError(message, field=field, reason=reason)


def _int(obj: dict[str, Any], field: str, limit: int, *, required: bool = True) -> int | None:
    value = obj.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < limit:
        raise _refuse(f"{field}: an integer in 0..{limit - 1} is required", field, "range")
    return value


def _time(obj: dict[str, Any], field: str) -> float | None:
    value = obj.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value):
        raise _refuse(f"{field}: a finite number of seconds is required", field, "range")
    return float(value)


def _hex(obj: dict[str, Any], field: str, size: int | None = None) -> bytes:
    value = obj.get(field)
    try:
        data = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        data = None
    if data is None or (size is not None and len(data) != size):
        what = "hex" if size is None else f"{size} bytes of hex"
        raise _refuse(f"{field}: {what} is required", field, "not_hex")
    return data


def parse_line(text: str) -> HtlcLine | TickLine:
    """One input line (see LINE_FORMAT); anything else is a `DecodeError`."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        raise _refuse("not a JSON line", "line", "not_json") from None
    if not isinstance(obj, dict):
        raise _refuse("a JSON object is required", "line", "not_json")
    if "tick" in obj:
        return TickLine(_time(obj, "tick"))
    try:
        htlc_id = check_htlc_id(obj.get("htlc_id"))
    except ValueError:
        raise _refuse("htlc_id: text or an integer in 0..2^63-1 is required", "htlc_id",
                      "range") from None
    payment_hash = _hex(obj, "payment_hash", 32)
    amount = _int(obj, "amount_msat", 1 << 64)
    cltv = _int(obj, "cltv_expiry", 1 << 32)
    height = _int(obj, "height", 1 << 32, required=False)
    now = _time(obj, "now")
    payload = decode_payload(_hex(obj, "payload"), Role.FINAL)
    assert amount is not None and cltv is not None
    return HtlcLine(IncomingHtlc(htlc_id, payment_hash, amount, cltv, payload), now, height)


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
            "reason": decision.reason.value, "set_id": _opt_hex(decision.set_id)}


def _opt_hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()
