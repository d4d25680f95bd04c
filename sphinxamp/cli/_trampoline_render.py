"""A trampoline node's layer (`ProcessedHop.trampoline`) as `trace` and `onion peel` show
it: the trampoline payload's records with the profile naming each, what the node was paid
and what it forwards, to which trampoline node (lightning/bolts#836 › Trampoline Payments)."""

from __future__ import annotations

import hashlib
from typing import Any

from sphinxamp.payments import TrampolineHop


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def trampoline_json(hop: TrampolineHop | None) -> dict[str, Any] | None:
    """A trampoline node's layer: what it peeled, what it forwards and to whom."""
    if hop is None:
        return None
    payload = hop.payload
    return {"format": hop.profile, "action": hop.action,
            "records": [{"type": t, "name": n, "profile": p or None}
                        for t, n, p in payload.named_records()],
            "shared_secret": hop.shared_secret.hex(),
            "incoming_amount_msat": hop.incoming_amount_msat,
            "incoming_cltv_expiry": hop.incoming_cltv_expiry,
            "amt_to_forward": hop.amt_to_forward, "outgoing_cltv_value": hop.outgoing_cltv_value,
            "next_node_id": _hex(hop.next_node_id),
            "next_trampoline_onion_sha256": None if hop.next_packet is None else
            hashlib.sha256(hop.next_packet.to_bytes()).hexdigest()}


def trampoline_lines(t: dict[str, Any]) -> list[str]:
    """`trampoline_json` in words: the records, then what the node does with the payment."""
    fee = t["incoming_amount_msat"] - t["amt_to_forward"]
    delta = t["incoming_cltv_expiry"] - t["outgoing_cltv_value"]
    lines = [f"    trampoline onion ({t['format']}) peeled, shared_secret {t['shared_secret']}"]
    lines += [f"      record {r['type']} {r['name']}"
              + (f" [profile {r['profile']}]" if r["profile"] else "") for r in t["records"]]
    if t["action"] == "receive":
        lines.append(f"    trampoline final: receives {t['amt_to_forward']} msat, expiry "
                     f"{t['outgoing_cltv_value']} (paid {t['incoming_amount_msat']}, "
                     f"expiry {t['incoming_cltv_expiry']})")
        return lines
    to = f" to {t['next_node_id']}" if t["next_node_id"] else ""
    lines.append(f"    trampoline {t['action']}{to}: {t['amt_to_forward']} msat, expiry "
                 f"{t['outgoing_cltv_value']} (keeps {fee} msat and {delta} blocks)")
    return lines


__all__ = ["trampoline_json", "trampoline_lines"]
