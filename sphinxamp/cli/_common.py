"""Argument readers and output helpers shared by every command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from sphinxamp.errors import DecodeError, InvalidArgument, SphinxampError
from sphinxamp.onion._sphinx import MAX_PAYLOAD_AREA

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class _Inputs:
    """Which argument read stdin in this command: only one can (the stream is read once)."""

    stdin_field: str | None = None


def reset_inputs() -> None:
    """Forget a previous command's stdin use (each `main` call is one command)."""
    _Inputs.stdin_field = None


def read_text(value: str, field: str) -> str:
    """An argument's text: as given, `-` for stdin, `@path` for a file's contents."""
    if value == "-":
        if _Inputs.stdin_field is not None:
            raise InvalidArgument(
                f"{field}: stdin was already read for {_Inputs.stdin_field}; only one argument "
                "may be -", field=field, reason="stdin_twice")
        _Inputs.stdin_field = field
        return sys.stdin.read()
    if value.startswith("@"):
        try:
            with open(value[1:], encoding="utf-8") as handle:
                return handle.read()
        except UnicodeDecodeError:
            raise InvalidArgument(f"{field}: file {value[1:]!r} is not text (hex expected)",
                                  field=field, reason="not_text") from None
        except OSError as exc:
            raise InvalidArgument(f"{field}: file {value[1:]!r} cannot be read "
                                  f"({exc.strerror})", field=field,
                                  reason="unreadable_file") from None
    return value


def parse_hex(text: str, field: str) -> bytes:
    """Hex digits with optional 0x and whitespace anywhere. Errors say what is wrong and
    where, counting characters (from 1) as the user typed them."""
    digits: list[str] = []
    start = len(text) - len(text.lstrip())
    if text[start : start + 2].lower() == "0x":
        start += 2
    for i in range(start, len(text)):
        char = text[i]
        if char.isspace():
            continue
        if char not in _HEX_DIGITS:
            raise DecodeError(f"{field}: {char!r} at character {i + 1} is not a hex digit",
                              field=field, offset=i, reason="not_hex")
        digits.append(char)
    if len(digits) % 2:
        raise DecodeError(f"{field}: odd number of hex digits ({len(digits)}); every byte is "
                          "two digits", field=field, offset=len(text.rstrip()), reason="odd_length")
    return bytes.fromhex("".join(digits))


def read_hex(value: str, field: str) -> bytes:
    """A hex argument: given inline, `-` (stdin) or `@path`; whitespace and a 0x prefix are
    tolerated."""
    return parse_hex(read_text(value, field), field)


def read_key(value: str, field: str, size: int = 32) -> bytes:
    """A key of a fixed size (32 for private keys and secrets, 33 for points)."""
    key = read_hex(value, field)
    if len(key) != size:
        raise InvalidArgument(f"{field} must be {size} bytes, got {len(key)}", field=field,
                              reason="wrong_length")
    return key


def utf8_argument(value: str, field: str) -> bytes:
    """An argument's text as UTF-8 bytes. Python hands over argument bytes that are not UTF-8
    as lone surrogates (PEP 383), which cannot be encoded: such an argument is refused."""
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{field} is not UTF-8 text", field=field,
                              reason="not_utf8") from None


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


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=None, separators=(", ", ": ")) + "\n")


def error_object(exc: SphinxampError) -> dict[str, Any]:
    """The JSON error object of the CLI contract. `tlv_type`, `offset` and `reason` describe
    the underlying violation; when hop processing converted it (to invalid_onion_blinding),
    `cause` holds the error object of what was refused underneath."""
    underlying = exc.cause if exc.cause is not None else exc
    return {
        "error": type(exc).__name__,
        "failure_code": exc.failure_code,
        "failure_name": exc.failure_name,
        "failure_message": exc.failure_message,
        "sha256_of_onion": None if exc.sha256_of_onion is None else exc.sha256_of_onion.hex(),
        "tlv_type": underlying.tlv_type,
        "offset": underlying.offset,
        "field": underlying.field,
        "reason": underlying.reason,
        "message": exc.message,
        "cause": None if exc.cause is None else error_object(exc.cause),
    }


def emit_error(exc: SphinxampError, *, as_json: bool) -> None:
    if as_json:
        emit_json(error_object(exc))
        return
    where = []
    if exc.failure_name:
        where.append(f"{exc.failure_name} (0x{exc.failure_code:04x})")
    if exc.tlv_type is not None:
        where.append(f"tlv type {exc.tlv_type}")
    if exc.offset is not None:
        where.append(f"offset {exc.offset}")
    suffix = f" [{', '.join(where)}]" if where else ""
    sys.stderr.write(f"sphinxamp: error: {exc.message}{suffix}\n")


def parse_hop(text: str, index: int, value: str = "payload") -> tuple[bytes, bytes]:
    """A `--hop PUBKEY=HEX` argument: the node id (33 bytes) and the hop's bytes, named
    `hops[i].pubkey` and `hops[i].<value>` in errors."""
    pubkey, sep, data = text.partition("=")
    if not sep:
        raise DecodeError(f"hops[{index}]: expected --hop PUBKEY={value.upper()}HEX, got "
                          f"{text!r}",
                          field=f"hops[{index}]", reason="hop_syntax")
    return (read_key(pubkey, f"hops[{index}].pubkey", 33),
            read_hex(data, f"hops[{index}].{value}"))


def output_dir(path: Path, field: str, *, force: bool) -> Path:
    """A folder a command writes files into: made when absent; an existing file (`/dev/null`
    included) is refused, and so is a folder that already holds files unless `force` (the
    command then adds to it, replacing files of the same name)."""
    if path.exists() and not path.is_dir():
        raise InvalidArgument(f"{field}: {path} exists and is not a folder", field=field,
                              reason="not_a_folder")
    if path.is_dir() and not force and any(path.iterdir()):
        raise InvalidArgument(f"{field}: {path} already holds files; give --force to write "
                              "into it anyway", field=field, reason="exists")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidArgument(f"{field}: {path} cannot be made ({exc.strerror})", field=field,
                              reason="unwritable") from None
    return path


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


def read_secret_list(value: str, field: str, size: int = 32) -> list[bytes]:
    """Secrets separated by commas, spaces or newlines: given inline, `@path` or `-`."""
    text = read_text(value, field)
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise InvalidArgument(f"{field}: no secret given", field=field, reason="empty")
    secrets = [parse_hex(part, f"{field}[{i}]") for i, part in enumerate(parts)]
    for i, secret in enumerate(secrets):
        if len(secret) != size:
            raise InvalidArgument(f"{field}[{i}] must be {size} bytes, got {len(secret)}",
                                  field=f"{field}[{i}]", reason="wrong_length")
    return secrets
