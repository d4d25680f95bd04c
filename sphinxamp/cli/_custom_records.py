"""How the well-known custom records (types >= 2^16) are shown to people: a renderer per
registry name. Which types are well known, and their names, is the hop payload registry's
(`_records.py`); this module only turns their bytes into something readable.

A value that does not render as its kind says (bad UTF-8, bad JSON, wrong size) is shown as hex
alone, never refused: the payload parser has already accepted it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sphinxamp.wire import HOP_RECORDS_BY_TYPE, TlvRecord, record_name

Renderer = Callable[[bytes], Any]  # the readable value, or None when the bytes don't fit


def render_utf8(value: bytes) -> str | None:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def render_json(value: bytes) -> Any:
    text = render_utf8(value)
    if text is None:
        return None
    try:
        # NaN/Infinity (spelled out or overflowing, as 1e999) are not JSON (RFC 8259) and
        # would not survive re-serialisation.
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        return None


def _refuse_constant(name: str) -> None:
    raise ValueError(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _fixed_hex(size: int) -> Renderer:
    return lambda value: value.hex() if len(value) == size else None


def render_u64(value: bytes) -> int | None:
    return int.from_bytes(value, "big") if len(value) == 8 else None


RENDERERS: Mapping[str, Renderer] = {
    "keysend_message": render_utf8,
    "podcast_boostagram": render_json,
    "chat_message": render_utf8,
    "chat_signature": lambda v: v.hex(),
    "chat_sender": _fixed_hex(33),
    "chat_timestamp": render_u64,
    "keysend_preimage": _fixed_hex(32),
}
CUSTOM_RECORD_START = 65536


def is_well_known(rtype: int) -> bool:
    return rtype >= CUSTOM_RECORD_START and rtype in HOP_RECORDS_BY_TYPE


def name_of(rtype: int) -> str | None:
    """The well-known name of a custom record type, or None."""
    return record_name(rtype) if is_well_known(rtype) else None


def describe(rtype: int, value: bytes) -> dict[str, Any]:
    """A JSON-ready view of one custom record: type, name (or None), hex, and the rendered
    value when the type is well known and the bytes fit its kind."""
    name = name_of(rtype)
    out: dict[str, Any] = {"type": rtype, "name": name, "hex": bytes(value).hex()}
    render = RENDERERS.get(name) if name else None
    if render is not None:
        rendered = render(bytes(value))
        if rendered is not None:
            out["value"] = rendered
    return out


def describe_all(records: Iterable[TlvRecord]) -> list[dict[str, Any]]:
    """Every record described, in the order given (wire order for a decoded payload)."""
    return [describe(r.type, r.value) for r in records]
