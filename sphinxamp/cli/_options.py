"""Every option more than one command takes: declared once here, each with its one validated
reader, so a flag means the same and is checked the same wherever it appears. The bounded
integer types hold every numeric option to the bound its help states."""

from __future__ import annotations

import argparse
import os
from typing import Any

from sphinxamp.cli._common import read_hex, read_key
from sphinxamp.errors import InvalidArgument
from sphinxamp.failures import HOLD_TIME_UNIT_MS
from sphinxamp.onion import MAX_PAYLOAD_AREA
from sphinxamp.primitives import check_secret, is_valid_point
from sphinxamp.wire import PROFILES, TRAMPOLINE_PROFILES


class BoundedInt:
    """An argparse type: an integer from `low` to `high` (else argparse's usage error, exit
    status 2). `low` and `high` stay readable so a test can hold every numeric option to a
    bound stated in its help; `base` 0 also takes 0x.. hex."""

    __name__ = "int"  # argparse names the type so in its own messages

    def __init__(self, low: int, high: int, base: int = 10, message: str = "") -> None:
        self.low, self.high, self.base, self.message = low, high, base, message

    def __call__(self, text: str) -> int:
        try:
            value = int(text, self.base)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {_shown(text)}") from None
        if not self.low <= value <= self.high:
            raise argparse.ArgumentTypeError(self.message or
                f"{value if len(text) <= 40 else _shown(text)} is not from "
                f"{bound_text(self.low)} to {bound_text(self.high)}")
        return value


class BoundedFloat:
    """An argparse type: a finite number of seconds from `low` (above it when `open_low`) to
    `high`."""

    __name__ = "float"

    def __init__(self, low: float, high: float, *, open_low: bool = False) -> None:
        self.low, self.high, self.open_low = low, high, open_low

    def __call__(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number: {_shown(text)}") from None
        above = value > self.low if self.open_low else value >= self.low
        if not (above and value <= self.high):  # NaN fails both comparisons
            low = "above" if self.open_low else "from"
            raise argparse.ArgumentTypeError(
                f"must be {low} {self.low:.0f} and at most {self.high:.0f} seconds")
        return value


def _shown(text: str) -> str:
    """An argument quoted in an error, cut short: the error stays one readable line."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def bound_text(value: int) -> str:
    """A bound as --help states it: 2^64-1 rather than 18446744073709551615."""
    for bits in (32, 64):
        if value == (1 << bits) - 1:
            return f"2^{bits}-1"
    return str(value)


def int_in(low: int, high: int, base: int = 10) -> BoundedInt:
    """An argparse type: an integer from `low` to `high` (decimal; base 0 also takes 0x hex).
    State the bound in the argument's help."""
    return BoundedInt(low, high, base)


def uint(bits: int) -> BoundedInt:
    """An argparse type for a wire integer (0 to 2^bits-1; decimal or 0x hex): an HTLC amount
    is a u64, an expiry or a height a u32."""
    return BoundedInt(0, (1 << bits) - 1, base=0,
                      message=f"must be 0 to 2^{bits}-1 (a u{bits})")


def payload_area() -> BoundedInt:
    """An argparse type for a routing area size: onion_message carries its packet behind a u16
    length, so no area is over 65535 - 66 bytes."""
    return BoundedInt(0, MAX_PAYLOAD_AREA, base=0, message=f"payload area must be 0 to "
                      f"{MAX_PAYLOAD_AREA} bytes (a packet fits a u16 length)")


U64 = "0 to 2^64-1"
U32 = "0 to 2^32-1"


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def secret_env(flag: str) -> str:
    """The environment variable a secret option falls back to: --node-key → SPHINXAMP_NODE_KEY."""
    return "SPHINXAMP_" + flag.lstrip("-").replace("-", "_").upper()


def add_secret_option(parser: argparse.ArgumentParser, flag: str, help: str, *,
                      required: bool = False, metavar: str = "HEX",
                      aliases: tuple[str, ...] = ()) -> None:
    """A secret's option. On the command line a secret is visible to every local user (the
    process list), so it is also taken from a file (@FILE), stdin (-) or the environment
    variable the help names; a value given on the command line wins over the variable."""
    env = secret_env(flag)
    from_env = os.environ.get(env) or None
    parser.add_argument(flag, *aliases, metavar=metavar, default=from_env,
                        required=required and from_env is None,
                        help=f"{help}; hex, @FILE or - (stdin), else ${env}")


# --- keys, associated data, profile --------------------------------------------------------


def add_node_key(parser: argparse.ArgumentParser, help: str, *, required: bool = False) -> None:
    """--node-key: the node's 32-byte private key, a secret (see `add_secret_option`)."""
    add_secret_option(parser, "--node-key", help, required=required)


def read_node_key(args: argparse.Namespace) -> bytes | None:
    """--node-key as 32 bytes that are a valid secp256k1 private key, or None when absent."""
    if args.node_key is None:
        return None
    return check_secret(read_key(args.node_key, "node_key"), "node_key")


def add_path_key(parser: argparse.ArgumentParser, help: str) -> None:
    """--path-key: a path key (BOLT 4 › Route Blinding), a compressed point."""
    parser.add_argument("--path-key", metavar="HEX", help=help)


def read_path_key(args: argparse.Namespace) -> bytes | None:
    """--path-key as a 33-byte valid compressed secp256k1 point, or None when absent."""
    if args.path_key is None:
        return None
    key = read_key(args.path_key, "path_key", 33)
    if not is_valid_point(key):
        raise InvalidArgument("path_key is not a valid compressed secp256k1 point",
                              field="path_key", reason="invalid_point")
    return key


def add_assoc_data(parser: argparse.ArgumentParser, help: str, *,
                   required: bool = False) -> None:
    """--assoc-data: an onion's associated data (the payment hash for a payment)."""
    parser.add_argument("--assoc-data", required=required, metavar="HEX", help=help)


def read_assoc_data(args: argparse.Namespace) -> bytes | None:
    return None if args.assoc_data is None else read_hex(args.assoc_data, "assoc_data")


def add_profile(parser: argparse.ArgumentParser, help: str | None = None, *,
                trampoline: bool = False) -> None:
    """--profile: judge as BOLT 4 states it ("bolt", the default) or as lnd does; with
    `trampoline`, also read a trampoline onion in either format ("trampoline",
    lightning/bolts#836; "trampoline-legacy", Eclair and Electrum)."""
    choices = (*PROFILES, *TRAMPOLINE_PROFILES) if trampoline else PROFILES
    parser.add_argument("--profile", choices=choices, default="bolt", help=help)


# --- amounts and heights --------------------------------------------------------------------


def add_amount_msat(parser: argparse.ArgumentParser, help: str, *, flag: str = "--amount-msat",
                    **kwargs: Any) -> None:
    """An amount in millisatoshi: a u64, as update_add_htlc's amount_msat (BOLT 2)."""
    parser.add_argument(flag, type=uint(64), metavar="N", help=help, **kwargs)


def add_height(parser: argparse.ArgumentParser, flag: str, help: str, **kwargs: Any) -> None:
    """A block height or an absolute expiry: a u32, as cltv_expiry (BOLT 2)."""
    parser.add_argument(flag, type=uint(32), metavar="N", help=help, **kwargs)


# --- attribution data's hold times (BOLT 4 › Attribution Data) ---------------------------

U32_MAX = (1 << 32) - 1


class HoldTime(BoundedInt):
    """--hold-time-ms: milliseconds, carried as a u32 of 100 ms units (rounded down)."""

    def __init__(self) -> None:
        super().__init__(0, U32_MAX * HOLD_TIME_UNIT_MS + HOLD_TIME_UNIT_MS - 1, base=0)

    def __call__(self, text: str) -> int:
        return super().__call__(text) // HOLD_TIME_UNIT_MS


HOLD_HELP = "0 to 429496729599, carried in units of 100 ms (a u32), rounded down"


def add_hold_time(parser: argparse.ArgumentParser, what: str, **kwargs: Any) -> None:
    """--hold-time-ms: a hold time in milliseconds, read as attribution data's 100 ms units."""
    parser.add_argument("--hold-time-ms", type=HoldTime(), metavar="N",
                        help=f"{what}, {HOLD_HELP}", **kwargs)


# --- the incoming HTLC (`onion peel`) ------------------------------------------------------
# What update_add_htlc carried and what the node knows (BOLT 4 › `payload` format ›
# Requirements, the reader; › Route Blinding).

# process_hop's keyword → the flag that gives it, so a missing value is named as the user
# types it.
HTLC_FLAGS = {"incoming_amount_msat": "--amount-msat", "incoming_cltv_expiry": "--cltv-expiry",
         "current_block_height": "--current-height", "expected_path_id": "--path-id",
         "known_features": "--known-feature",
         "min_final_cltv_expiry_delta": "--min-final-cltv-expiry-delta"}


def add_htlc_options(parser: argparse.ArgumentParser) -> None:
    add_amount_msat(parser, help="the incoming HTLC's amount_msat (0 to 2^64-1), required inside a "
                        "blinded route and at a final hop: payment_relay, payment_constraints "
                        "and the final node's checks depend on it")
    add_height(parser, "--cltv-expiry",
               help="the incoming HTLC's cltv_expiry (0 to 2^32-1), required where "
               "--amount-msat is and with --replay-db")
    add_height(parser, "--current-height",
               help="the current block height (0 to 2^32-1), required at a final "
                        "hop: it refuses a cltv_expiry below height + "
                        "--min-final-cltv-expiry-delta")
    parser.add_argument("--min-final-cltv-expiry-delta", type=uint(32), metavar="N",
                        help="the recipient's min_final_cltv_expiry_delta (0 to 2^32-1; "
                        "default 18, BOLT 11's when an invoice has no c field)")
    parser.add_argument("--path-id", metavar="HEX",
                        help="the path_id the recipient created its blinded path with: a "
                        "final hop inside a blinded route refuses any other")
    parser.add_argument("--known-feature", type=uint(16), action="append", default=[],
                        metavar="BIT", help="a feature bit (0 to 65535) the node knows, which "
                        "a blinded hop's allowed_features may list (repeatable; default none)")


def read_htlc_options(args: argparse.Namespace) -> dict[str, Any]:
    """process_hop's context keywords from the flags."""
    # Without the flag, process_hop's own default applies (BOLT 11's 18, as the help says).
    delta = ({} if args.min_final_cltv_expiry_delta is None
             else {"min_final_cltv_expiry_delta": args.min_final_cltv_expiry_delta})
    return {**delta, "incoming_amount_msat": args.amount_msat,
            "incoming_cltv_expiry": args.cltv_expiry,
            "current_block_height": args.current_height,
            "expected_path_id": None if args.path_id is None else read_hex(args.path_id, "path_id"),
            "known_features": args.known_feature}


def named_by_flag(exc: InvalidArgument) -> InvalidArgument:
    """A missing context value named by its flag."""
    flag = HTLC_FLAGS.get(exc.field or "")
    if flag is None or exc.reason != "missing_context":
        return exc
    return InvalidArgument(f"{exc.message} (give {flag})", field=exc.field, reason=exc.reason)
