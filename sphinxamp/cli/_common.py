"""Argument readers and output helpers shared by every command."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._errors import DecodeError, SphinxampError


def read_hex(value: str, field: str) -> bytes:
    """A hex argument; `-` reads it from stdin. Whitespace and a 0x prefix are tolerated."""
    text = sys.stdin.read() if value == "-" else value
    text = "".join(text.split())
    if text[:2].lower() == "0x":
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        bad = next((i for i, c in enumerate(text) if c not in "0123456789abcdefABCDEF"),
                   len(text))
        raise DecodeError(f"{field}: not hexadecimal (at character {bad})", field=field,
                          offset=bad // 2, reason="not_hex") from None


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
