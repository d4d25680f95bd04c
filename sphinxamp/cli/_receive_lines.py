"""Reading `amp receive` input lines: HTLC lines (a peeled payload or a whole onion), `amp pay`
/ `keysend pay` objects, and ticks. See amp_receive.LINE_FORMAT."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sphinxamp import HopPayload, IncomingHtlc, Role, decode_payload, process_hop
from sphinxamp.cli._common import load_json
from sphinxamp.errors import DecodeError, PaymentError, PolicyError, SphinxampError
from sphinxamp.failures import resolve_code
from sphinxamp.receiver import check_htlc_id


@dataclass(frozen=True, slots=True)
class HtlcLine:
    htlc: IncomingHtlc
    now: float | None
    height: int


@dataclass(frozen=True, slots=True)
class TickLine:
    now: float | None


@dataclass(frozen=True, slots=True)
class RefusedHtlc:
    """An HTLC whose onion or payload the hop refuses (it does not decode, or a rule of the
    onion refuses it): failed before the receiver sees it."""

    htlc_id: Any
    error: DecodeError | PolicyError


Request = HtlcLine | TickLine | RefusedHtlc


def id_of(text: str) -> Any:
    """The line's htlc_id, when it has a valid one, so a refusal can name its HTLC."""
    try:
        return check_htlc_id(load_json(text, "line")["htlc_id"])
    except (ValueError, TypeError, KeyError):
        return None


def _refuse(message: str, field: str, reason: str) -> DecodeError:
    return DecodeError(message, field=field, reason=reason)


def _int(obj: dict[str, Any], field: str, limit: int) -> int:
    value = obj.get(field)
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


class LineReader:
    """Parses lines for a receiver holding `node_key` (needed only for onions)."""

    def __init__(self, node_key: bytes | None, profile: str) -> None:
        self.node_key, self.profile = node_key, profile

    def parse(self, text: str) -> list[Request]:
        """The requests of one line; a line that cannot be read raises `DecodeError`, an HTLC
        whose onion or payload does not decode comes back as a `RefusedHtlc`."""
        try:
            obj = load_json(text, "line")
        except ValueError:
            raise _refuse("not a JSON line", "line", "not_json") from None
        if not isinstance(obj, dict):
            raise _refuse("a JSON object is required", "line", "not_json")
        if "tick" in obj:
            return [TickLine(_time(obj, "tick"))]
        if isinstance(obj.get("shards"), list):
            return self._payment(obj)
        return [self._htlc(obj)]

    def _payment(self, obj: dict[str, Any]) -> list[Request]:
        """An `amp pay --json` object: each shard as the HTLC the last hop would offer."""
        height, now = _int(obj, "height", 1 << 32), _time(obj, "now")
        out: list[Request] = []
        for shard in obj["shards"]:
            if not isinstance(shard, dict):
                raise _refuse("shards: objects are required", "shards", "not_json")
            line = {"htlc_id": shard.get("payment_hash"), "height": height, "now": now,
                    "payment_hash": shard.get("payment_hash"), "onion": shard.get("onion"),
                    "amount_msat": shard.get("htlc_amount_msat"),
                    "cltv_expiry": shard.get("htlc_cltv_expiry")}
            out.append(self._htlc(line))
        return out

    def _htlc(self, obj: dict[str, Any]) -> HtlcLine | RefusedHtlc:
        try:
            htlc_id = check_htlc_id(obj.get("htlc_id"))
        except ValueError:
            raise _refuse("htlc_id: text or an integer in 0..2^63-1 is required", "htlc_id",
                          "range") from None
        payment_hash = _hex(obj, "payment_hash", 32)
        amount = _int(obj, "amount_msat", 1 << 64)
        cltv = _int(obj, "cltv_expiry", 1 << 32)
        height = _int(obj, "height", 1 << 32)
        now = _time(obj, "now")
        try:
            payload = self._payload(obj, payment_hash, amount, cltv, height)
        except (DecodeError, PolicyError) as exc:
            return RefusedHtlc(htlc_id, exc)
        return HtlcLine(IncomingHtlc(htlc_id, payment_hash, amount, cltv, payload), now,
                        height)

    def _payload(self, obj: dict[str, Any], payment_hash: bytes, amount: int,
                 cltv: int, height: int) -> HopPayload:
        if "onion" not in obj:
            return decode_payload(_hex(obj, "payload"), Role.FINAL, profile=self.profile)
        onion = _hex(obj, "onion")
        if self.node_key is None:
            raise _refuse("an onion line needs --node-key", "node_key", "missing")
        path_key = _hex(obj, "path_key", 33) if obj.get("path_key") is not None else None
        try:
            # The receiver judges the expiry against the invoice's own delta (Receiver,
            # final_cltv_reject_delta): the hop only refuses an HTLC already expired.
            hop = process_hop(onion, self.node_key, payment_hash, path_key=path_key,
                              profile=self.profile, incoming_amount_msat=amount,
                              incoming_cltv_expiry=cltv, current_block_height=height,
                              min_final_cltv_expiry_delta=0)
        except SphinxampError as exc:
            if isinstance(exc, DecodeError | PolicyError) and not isinstance(exc, PaymentError):
                raise  # the hop's own refusal of the onion, as process_hop answers it
            # The final HTLC's checks or a bad value: a refusal not about the onion, as one.
            raise DecodeError(exc.message, field=exc.field, reason=exc.reason,
                              failure_code=exc.failure_code) from None
        if not hop.is_final:  # this receiver forwards nothing
            raise DecodeError("the onion is to be forwarded, not received here",
                              field="onion", reason="not_final",
                              failure_code=resolve_code("unknown_next_peer"))
        return hop.payload
