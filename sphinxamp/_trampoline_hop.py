"""process_hop under a trampoline profile ("trampoline", "trampoline-legacy"): a final outer
payload that carries the format's trampoline onion is answered with the trampoline layer
peeled (`ProcessedHop.trampoline`); any other layer is judged by BOLT 4's rules, as profile
"bolt" judges it (lightning/bolts#836 › Trampoline Payments: the trampoline onion rides in the
_last_ hop's payload; a node before it forwards a plain onion)."""

from __future__ import annotations

from sphinxamp._htlc import HtlcContext
from sphinxamp._payload import HopPayload, Role
from sphinxamp._processed_hop import ProcessedHop
from sphinxamp.onion._sphinx import PeeledHop
from sphinxamp.payments._trampoline import TrampolinePayload, trampoline_format
from sphinxamp.payments._trampoline_peel import carries_trampoline, peel_trampoline_in
from sphinxamp.primitives._nodekey import NodeKey
from sphinxamp.wire._records import CUSTOM_RECORD_START, TRAMPOLINE_PROFILES
from sphinxamp.wire._tlv import TlvRecord, iter_records

_CURRENT_PATH_KEY = 12


def judge_trampoline(peeled: PeeledHop, node_key: bytes | NodeKey, associated_data: bytes,
                     path_key: bytes | None, context: HtlcContext,
                     profile: str) -> ProcessedHop | None:
    """The hop with its trampoline layer, or None when this layer carries no trampoline
    onion of the profile's format (a forwarding layer, an HTLC inside a blinded route, or a
    final payload without one): BOLT 4's rules then apply."""
    if not peeled.is_final or path_key is not None or not carries_trampoline(peeled.payload,
                                                                             profile):
        return None
    hop = peel_trampoline_in(peeled.payload, node_key, associated_data, profile,
                             peeled.payload_offset, context)
    return ProcessedHop(_outer_hop_payload(hop.outer_payload, profile), Role.FINAL, False,
                        peeled.shared_secret, None, peeled.payload, peeled.payload_offset,
                        None, trampoline=hop)


def blinded_trampoline_onion(peeled: PeeledHop | None, path_key: bytes | None,
                             profile: str) -> bytes | None:
    """The trampoline onion of a refused layer that is a trampoline hop inside a blinded
    trampoline path, not its introduction node (the outer payload holds current_path_key
    beside the trampoline onion), else None. Every refusal there is invalid_onion_blinding
    in update_fail_malformed_htlc, whose sha256_of_onion is that of the trampoline onion
    (lightning/bolts#836 trampoline-onion-error-test.json, failure_dave; LDK
    decode_next_payment_hop, OnionDecodeErr::Malformed)."""
    if profile not in TRAMPOLINE_PROFILES or peeled is None or path_key is not None:
        return None
    if not peeled.is_final or not carries_trampoline(peeled.payload, profile):
        return None
    onion_type = trampoline_format(profile).onion_type
    records = {rtype: (start, end) for rtype, _, start, end in iter_records(peeled.payload)}
    if _CURRENT_PATH_KEY not in records:
        return None
    start, end = records[onion_type]
    return bytes(peeled.payload[start:end])


def _outer_hop_payload(outer: TrampolinePayload, profile: str) -> HopPayload:
    """The outer payload as a `HopPayload`: its BOLT 4 records typed, the trampoline onion
    kept as the raw record it is on the wire (so the payload re-encodes byte for byte)."""
    from_format = list(outer.custom_records + outer.unknown_records)
    if outer.trampoline_onion_packet is not None:
        from_format.append(TlvRecord(trampoline_format(profile).onion_type,
                                     outer.trampoline_onion_packet))
    records = sorted(from_format, key=lambda r: r.type)
    return HopPayload(
        amt_to_forward=outer.amt_to_forward, outgoing_cltv_value=outer.outgoing_cltv_value,
        payment_data=outer.payment_data, current_path_key=outer.current_path_key,
        payment_metadata=outer.payment_metadata, total_amount_msat=outer.total_amount_msat,
        keysend_preimage=outer.keysend_preimage,
        custom_records=tuple(r for r in records if r.type >= CUSTOM_RECORD_START),
        unknown_records=tuple(r for r in records if r.type < CUSTOM_RECORD_START))


__all__ = ["blinded_trampoline_onion", "judge_trampoline"]
