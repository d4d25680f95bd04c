"""The `trampoline` object of a route description (docs/schemas/route.schema.json):

    "trampoline": {"format": "trampoline" | "trampoline-legacy",
                   "session_key": HEX32 (optional: SHA256 of the route's),
                   "carrier": {"amt_to_forward", "outgoing_cltv_value",
                               "payment_secret"?, "total_msat"?},
                   "hops": [{"node_key", "payload": HEX | {fields}, "session_key"?}, ...]}

`hops` (the route's own) then lead to the first trampoline node; the carrier is that node's
outer payload. A trampoline payload given as fields names `amt_to_forward`,
`outgoing_cltv_value` and, optionally, `outgoing_node_id` (HEX; left out, it is the next
trampoline node's, for every node but the last), `payment_data` ({payment_secret,
total_msat}, the recipient's) and `recipient_features` (HEX). A node's `session_key` is the
key of the payment onion it builds to the next trampoline node.
"""

from __future__ import annotations

from typing import Any

from sphinxamp import PaymentData, public_key
from sphinxamp.cli._common import parse_hex
from sphinxamp.debug import TrampolineRoute
from sphinxamp.errors import InvalidArgument
from sphinxamp.payments import TrampolineCarrier, TrampolinePayload
from sphinxamp.wire import TRAMPOLINE_PROFILES

U64_MAX, U32_MAX = (1 << 64) - 1, (1 << 32) - 1
_FIELDS = ("amt_to_forward", "outgoing_cltv_value", "outgoing_node_id", "payment_data",
           "recipient_features")


def refuse(field: str, message: str) -> InvalidArgument:
    """A route file's field refused (reason `route_file`); the route file's reader uses it too."""
    return InvalidArgument(f"{field}: {message}", field=field, reason="route_file")


def hex_field(obj: dict[str, Any], key: str, where: str, size: int | None = None) -> bytes:
    value = obj.get(key)
    if not isinstance(value, str):
        raise refuse(f"{where}{key}", "a hex string is required")
    data = parse_hex(value, f"{where}{key}")
    if size is not None and len(data) != size:
        raise refuse(f"{where}{key}", f"must be {size} bytes, got {len(data)}")
    return data


def _int(obj: dict[str, Any], key: str, where: str, high: int) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
        raise refuse(f"{where}{key}", f"an integer from 0 to {high} is required")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise refuse(where, "an object is required")
    return value


def _carrier(obj: dict[str, Any]) -> TrampolineCarrier:
    where = "trampoline.carrier."
    secret = hex_field(obj, "payment_secret", where, 32) if "payment_secret" in obj else None
    total = _int(obj, "total_msat", where, U64_MAX) if "total_msat" in obj else None
    return TrampolineCarrier(_int(obj, "amt_to_forward", where, U64_MAX),
                             _int(obj, "outgoing_cltv_value", where, U32_MAX), secret, total)


def _payload(value: Any, profile: str, next_id: bytes | None, where: str) -> bytes:
    if isinstance(value, str):
        return parse_hex(value, where)
    obj = _object(value, where)
    for key in obj:
        if key not in _FIELDS:
            raise refuse(f"{where}.{key}", "not a trampoline payload field this format knows")
    fields: dict[str, Any] = {
        "amt_to_forward": _int(obj, "amt_to_forward", where + ".", U64_MAX),
        "outgoing_cltv_value": _int(obj, "outgoing_cltv_value", where + ".", U32_MAX),
        "outgoing_node_id": (hex_field(obj, "outgoing_node_id", where + ".", 33)
                             if "outgoing_node_id" in obj else next_id)}
    if "recipient_features" in obj:
        fields["recipient_features"] = hex_field(obj, "recipient_features", where + ".")
    if "payment_data" in obj:
        data = _object(obj["payment_data"], f"{where}.payment_data")
        fields["payment_data"] = PaymentData(
            hex_field(data, "payment_secret", f"{where}.payment_data.", 32),
            _int(data, "total_msat", f"{where}.payment_data.", U64_MAX))
    return TrampolinePayload(profile, **fields).encode()


def parse_trampoline(value: Any) -> TrampolineRoute:
    obj = _object(value, "trampoline")
    profile = obj.get("format", "trampoline")
    if profile not in TRAMPOLINE_PROFILES:
        raise refuse("trampoline.format", f"one of {', '.join(TRAMPOLINE_PROFILES)}")
    hops = obj.get("hops")
    if not isinstance(hops, list) or not hops:
        raise refuse("trampoline.hops", "a list of at least one trampoline node is required")
    keys = [hex_field(_object(h, f"trampoline.hops[{i}]"), "node_key", f"trampoline.hops[{i}].", 32)
            for i, h in enumerate(hops)]
    ids = [public_key(k) for k in keys[1:]] + [None]
    nodes = tuple((keys[i], _payload(h.get("payload"), profile, ids[i],
                                     f"trampoline.hops[{i}].payload"))
                  for i, h in enumerate(hops))
    relay = tuple(hex_field(h, "session_key", f"trampoline.hops[{i}].", 32)
                  if "session_key" in h else None for i, h in enumerate(hops))
    session = hex_field(obj, "session_key", "trampoline.", 32) if "session_key" in obj else None
    return TrampolineRoute(profile, _carrier(_object(obj.get("carrier"), "trampoline.carrier")),
                           nodes, session, relay)
