"""The route description `sphinxamp trace` reads (format `sphinxamp-route/1`; the schema is
docs/schemas/route.schema.json, examples in examples/)."""

from __future__ import annotations

import os
from typing import Any

from sphinxamp import EncryptedData, HopPayload, PaymentData, RouteSpec, ShortChannelId
from sphinxamp.cli._common import load_json, parse_hex
from sphinxamp.cli._trampoline_route import (
    U32_MAX,
    U64_MAX,
    hex_field,
    parse_trampoline,
    refuse,
)
from sphinxamp.debug import TraceHop
from sphinxamp.errors import InvalidArgument, SphinxampError

FORMAT = "sphinxamp-route/1"


def _int(obj: dict[str, Any], key: str, where: str, default: int | None = None,
         high: int = U64_MAX) -> int | None:
    """An amount is a u64 on the wire, an expiry or a height a u32 (the caller says)."""
    value = obj.get(key, default)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                              or not 0 <= value <= high):
        raise refuse(f"{where}{key}", f"an integer from 0 to {high} is required")
    return value


def _payload(value: Any, where: str) -> bytes:
    """A hop payload: hex, or an object of HopPayload fields."""
    if isinstance(value, str):
        return parse_hex(value, where)
    if not isinstance(value, dict):
        raise refuse(where, "hex or an object of payload fields")
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("amt_to_forward", "outgoing_cltv_value", "total_amount_msat"):
            fields[key] = _int(value, key, where + ".",
                               high=U32_MAX if key == "outgoing_cltv_value" else U64_MAX)
        elif key == "short_channel_id":
            try:
                fields[key] = ShortChannelId(*(int(p) for p in str(item).split("x")))
            except (TypeError, ValueError):
                raise refuse(f"{where}.{key}", "BLOCKxTXxOUTPUT expected") from None
        elif key == "payment_data":
            if not isinstance(item, dict):
                raise refuse(f"{where}.{key}", "an object is required")
            fields[key] = PaymentData(hex_field(item, "payment_secret", f"{where}.{key}.", 32),
                                      _int(item, "total_msat", f"{where}.{key}.", 0) or 0)
        elif key == "payment_metadata":
            fields[key] = hex_field(value, key, where + ".")
        else:
            raise refuse(f"{where}.{key}", "not a payload field this format knows")
    return HopPayload(**fields).encode()


def _hop(obj: Any, where: str, blinded: bool) -> TraceHop:
    if not isinstance(obj, dict):
        raise refuse(where, "an object is required")
    # Carried as a u32 of 100 ms units.
    hold = (_int(obj, "hold_time_ms", where + ".", 0, U32_MAX * 100 + 99) or 0) // 100
    key = hex_field(obj, "node_key", where + ".", 32)
    if blinded:
        try:
            data = EncryptedData.from_json(obj.get("encrypted_data") or {})
        except (SphinxampError, TypeError, ValueError, AttributeError) as exc:
            raise refuse(f"{where}.encrypted_data", str(exc)) from None
        return TraceHop(key, None, data, hold)
    return TraceHop(key, _payload(obj.get("payload"), f"{where}.payload"), None, hold)


def parse_route(text: str) -> tuple[RouteSpec, bool]:
    """The route and whether its session key was drawn here (none given)."""
    try:
        obj = load_json(text, "route")
    except InvalidArgument as exc:
        raise refuse("route", exc.message.removeprefix("route: ")) from None
    if not isinstance(obj, dict) or obj.get("format", FORMAT) != FORMAT:
        raise refuse("route", f"an object of format {FORMAT} is required")
    drawn = "session_key" not in obj
    session_key = os.urandom(32) if drawn else hex_field(obj, "session_key", "", 32)
    hops = obj.get("hops")
    if not isinstance(hops, list):
        raise refuse("hops", "a list of hops is required")
    blinded = obj.get("blinded") or {}
    bhops = blinded.get("hops", []) if isinstance(blinded, dict) else None
    trampoline = parse_trampoline(obj["trampoline"]) if "trampoline" in obj else None
    if not isinstance(bhops, list) or not (hops + bhops or trampoline):
        raise refuse("hops", "at least one hop is required")
    spec = RouteSpec(
        session_key, hex_field(obj, "associated_data", ""),
        tuple(_hop(h, f"hops[{i}]", False) for i, h in enumerate(hops)),
        tuple(_hop(h, f"blinded.hops[{i}]", True) for i, h in enumerate(bhops)),
        hex_field(blinded, "session_key", "blinded.", 32) if bhops else None,
        _int(obj, "amount_msat", ""), _int(obj, "cltv_expiry", "", high=U32_MAX),
        _int(blinded, "amount_msat", "blinded.") if bhops else None,
        _int(blinded, "cltv_expiry", "blinded.", high=U32_MAX) if bhops else None,
        _int(obj, "height", "", 0, U32_MAX) or 0, _int(obj, "payload_area", "", 1300) or 0,
        hex_field(obj, "payment_preimage", "", 32) if "payment_preimage" in obj else None,
        trampoline)
    return spec, drawn
