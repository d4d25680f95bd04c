"""Trampoline ops, in the two wire formats in use (`format`: "trampoline" for
lightning/bolts#836, "trampoline-legacy" for Eclair's and Electrum's types).

Trampoline routing is not in the BOLTs yet, so an implementation may not read it at all, or
read one format only: an adapter names the formats it reads in its hello
(`trampoline_formats`), and a case in a format it does not name is not judged (`run.py`).

- `trampoline_payload_decode` {payload, format}: the records of a trampoline payload as the
  format defines them (the proposal › Packet Structure: type 14 is outgoing_node_id, 20 the
  trampoline onion; Eclair PaymentOnionCodecs.onionTlvCodec: 66097-66102).
- `trampoline_peel` {onion, node_key, associated_data, format, path_key}: a trampoline
  node's two peels (the proposal › Trampoline Payments › Requirements, the receiving node):
  the payment onion, whose final payload carries the trampoline onion, then the trampoline
  onion with the same node key and associated data (the outer payload's current_path_key
  tweaking the ECDH inside a blinded trampoline path); the trampoline payload found and the
  trampoline onion to forward. Amount and expiry checks are the node's, not this op's.
"""

from __future__ import annotations

from sphinxamp.conformance.protocol import Answer, Op, Request, hexin, hexopt
from sphinxamp.errors import InvalidArgument, InvalidOnionPayload
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, OnionPacket, peel_onion
from sphinxamp.payments._trampoline import decode_trampoline_payload, trampoline_format
from sphinxamp.wire._tlv import decode_stream

_PROPOSAL = "lightning/bolts#836 04-onion-routing.md"
TRAMPOLINE_OP_NAMES = ("trampoline_payload_decode", "trampoline_peel")


def request_format(req: Request) -> str:
    """The request's `format`, one of the two trampoline profiles."""
    fmt = str(req.get("format", "trampoline"))
    trampoline_format(fmt)
    return fmt


def _payload_decode(req: Request, profile: str) -> Answer:
    """The records as the stream splits them (BOLT 1), once the format's reader accepts the
    payload, and outgoing_node_id as the format places it (14 or 66098)."""
    payload = hexin(req, "payload")
    decoded, _ = decode_trampoline_payload(payload, request_format(req))
    node = decoded.outgoing_node_id
    return {"records": [{"type": r.type, "value": r.value.hex()} for r in decode_stream(payload)],
            "outgoing_node_id": None if node is None else node.hex()}


def _peel(req: Request, profile: str) -> Answer:
    fmt = trampoline_format(request_format(req))
    node_key, ad = hexin(req, "node_key"), hexin(req, "associated_data")
    outer = peel_onion(hexin(req, "onion"), node_key, ad,
                       payload_area=int(req.get("payload_area", PAYMENT_PAYLOAD_AREA)),
                       path_key=hexopt(req, "path_key"))
    if outer.next_packet is not None:
        raise InvalidArgument("the payment onion is not final here: no trampoline onion to "
                              "peel", field="onion", reason="not_final")
    carrier, _ = decode_trampoline_payload(outer.payload, fmt.profile,
                                           base=outer.payload_offset)
    if carrier.trampoline_onion_packet is None:
        raise InvalidOnionPayload(f"no trampoline onion (type {fmt.onion_type})",
                                  field="trampoline_onion_packet", tlv_type=fmt.onion_type,
                                  offset=outer.payload_offset + len(outer.payload),
                                  reason="record_omitted")
    packet = OnionPacket.parse(carrier.trampoline_onion_packet, payload_area=None)
    inner = peel_onion(packet, node_key, ad, payload_area=None,
                       path_key=carrier.current_path_key)
    decode_trampoline_payload(inner.payload, fmt.profile, base=inner.payload_offset)
    nxt = None if inner.next_packet is None else inner.next_packet.to_bytes().hex()
    return {"payload": bytes(inner.payload).hex(), "next_onion": nxt,
            "outer_payload": bytes(outer.payload).hex(),
            "shared_secret": inner.shared_secret.hex()}


TRAMPOLINE_OPS = (
    Op("trampoline_payload_decode", f"{_PROPOSAL} › Packet Structure (trampoline payloads)",
       ("records",), ("outgoing_node_id",), run=_payload_decode),
    Op("trampoline_peel", f"{_PROPOSAL} › Trampoline Payments › Requirements",
       ("payload", "next_onion"), ("outer_payload", "shared_secret"), run=_peel),
)

__all__ = ["TRAMPOLINE_OPS", "TRAMPOLINE_OP_NAMES", "request_format"]
