"""Argument readers and output helpers shared by every command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

from sphinxamp.errors import DecodeError, InvalidArgument, SphinxampError

# What add_subparsers returns, which each command module's `register` fills: argparse names
# the class only privately (typeshed makes it generic in the parser type).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Register: TypeAlias = Callable[[Subparsers], None]

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


def load_json(text: str | bytes, what: str = "input") -> Any:
    """JSON a user hands over (a file, an argument, a line on a pipe), or `InvalidArgument`
    (field `what`, reason "not_json"). Nesting deeper than Python's decoder can recurse (about
    a thousand levels) is refused the same way rather than escaping as a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidArgument(f"{what}: not JSON this reader can follow (nested too deeply)",
                              field=what, reason="not_json") from None
    except ValueError as exc:  # JSONDecodeError; UnicodeDecodeError for bytes
        raise InvalidArgument(f"{what}: not JSON ({exc})", field=what,
                              reason="not_json") from None


def utf8_argument(value: str, field: str) -> bytes:
    """An argument's text as UTF-8 bytes. Python hands over argument bytes that are not UTF-8
    as lone surrogates (PEP 383), which cannot be encoded: such an argument is refused."""
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{field} is not UTF-8 text", field=field,
                              reason="not_utf8") from None


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
