"""Well-known custom records (types ≥ 2^16): a registry of name and renderer per type.

The hop-payload schema keeps custom records as opaque bytes in wire order; this registry only
says what the well-known ones mean, for people reading a decoded payload. Sources: bLIP 3
(keysend), bLIP 10 (podcast boostagrams), the satoshis.stream TLV registry (tip note, chat).
A value that does not render as its kind says (bad UTF-8, bad JSON, wrong size) is shown as
hex alone, never refused: the payload parser has already accepted it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import EncodeError
from ._payload import CUSTOM_RECORD_START, KEYSEND_TYPE
from ._tlv import TlvRecord

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


@dataclass(frozen=True, slots=True)
class CustomRecordKind:
    type: int
    name: str
    render: Renderer
    description: str


CUSTOM_RECORD_KINDS = (
    CustomRecordKind(7629168, "keysend_message", render_utf8,
                     "tip note / keysend message (\"tip\"), UTF-8 text"),
    CustomRecordKind(7629169, "podcast_boostagram", render_json,
                     "Podcasting 2.0 boost/stream metadata, UTF-8 JSON (bLIP 10)"),
    CustomRecordKind(34349334, "chat_message", render_utf8, "chat message (Whatsat), UTF-8"),
    CustomRecordKind(34349337, "chat_signature", lambda v: v.hex(),
                     "chat signature, DER ECDSA over sender ‖ recipient ‖ timestamp ‖ message"),
    CustomRecordKind(34349339, "chat_sender", _fixed_hex(33), "chat sender public key"),
    CustomRecordKind(34349343, "chat_timestamp", render_u64,
                     "chat timestamp, nanoseconds since the epoch, big-endian u64"),
    CustomRecordKind(KEYSEND_TYPE, "keysend_preimage", _fixed_hex(32),
                     "keysend preimage, 32 bytes (bLIP 3)"),
)
REGISTRY: Mapping[int, CustomRecordKind] = {k.type: k for k in CUSTOM_RECORD_KINDS}


def name_of(rtype: int) -> str | None:
    """The well-known name of a custom record type, or None."""
    kind = REGISTRY.get(rtype)
    return kind.name if kind else None


def describe(rtype: int, value: bytes) -> dict[str, Any]:
    """A JSON-ready view of one custom record: type, name (or None), hex, and the rendered
    value when the type is well known and the bytes fit its kind."""
    out: dict[str, Any] = {"type": rtype, "name": name_of(rtype), "hex": bytes(value).hex()}
    kind = REGISTRY.get(rtype)
    if kind is not None:
        rendered = kind.render(bytes(value))
        if rendered is not None:
            out["value"] = rendered
    return out


def describe_all(records: Iterable[TlvRecord]) -> list[dict[str, Any]]:
    """Every record described, in the order given (wire order for a decoded payload)."""
    return [describe(r.type, r.value) for r in records]


def parse_custom_records(entries: Iterable[tuple[int, bytes]]) -> tuple[TlvRecord, ...]:
    """Records a sender may attach, sorted by type; types below 2^16 are refused as lnd's
    `CustomSet.Validate` refuses them (record/custom_records.go)."""
    out: dict[int, TlvRecord] = {}
    for rtype, value in entries:
        if rtype < CUSTOM_RECORD_START:
            raise EncodeError(f"custom record type {rtype} is below {CUSTOM_RECORD_START}",
                              field="custom_records", tlv_type=rtype, reason="range")
        out[rtype] = TlvRecord(rtype, bytes(value))
    return tuple(out[t] for t in sorted(out))
