"""Payment routes: the per-hop payloads of a route and the onion that carries them.

A route here is the list of forwarding nodes with the channel each forwards over and its fee
and cltv delta (BOLT 7 channel_update fields); the sender works back from the final payload,
adding each node's charge, to find what every hop must be told and what to offer the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sphinxamp._payload import HopPayload
from sphinxamp.errors import EncodeError
from sphinxamp.onion._sphinx import BuiltOnion, build_onion
from sphinxamp.wire._tlv import ShortChannelId


@dataclass(frozen=True, slots=True)
class RouteHop:
    """A forwarding node on the way to the destination.

    `short_channel_id` is the channel this node forwards over (to the next hop or to the
    destination); the fee and cltv delta are this node's charge for it (BOLT 7
    channel_update fields), added on top of what it forwards.
    """

    pubkey: bytes
    short_channel_id: ShortChannelId
    fee_base_msat: int = 0
    fee_proportional_millionths: int = 0
    cltv_expiry_delta: int = 0

    def fee_msat(self, amount_msat: int) -> int:
        # BOLT 7 › fee: fee_base_msat + amount_to_forward · fee_proportional_millionths / 10^6
        return self.fee_base_msat + amount_msat * self.fee_proportional_millionths // 1_000_000


@dataclass(frozen=True, slots=True)
class RouteOnion:
    """An onion for one HTLC and what the sender offers the first hop with it."""

    onion: BuiltOnion
    payloads: tuple[HopPayload, ...]
    htlc_amount_msat: int
    htlc_cltv_expiry: int
    session_key: bytes


def hop_payloads(hops: Sequence[RouteHop], final: HopPayload) -> tuple[
        tuple[HopPayload, ...], int, int]:
    """Every hop's payload, back to front, and the first HTLC's amount and expiry.

    Each intermediate payload tells the node what to put in the HTLC it offers next
    (BOLT 4 › `payload` format: amt_to_forward, outgoing_cltv_value, short_channel_id); the
    HTLC it receives adds its fee and cltv delta.
    """
    if final.amt_to_forward is None or final.outgoing_cltv_value is None:
        raise EncodeError("the final payload needs amt_to_forward and outgoing_cltv_value",
                          field="final", reason="record_omitted")
    if final.amp is not None and final.payment_data is None:
        # The named asymmetry (module docstring): readable, never written.
        raise EncodeError("an AMP record needs an MPP record (payment_data) beside it",
                          field="payment_data", tlv_type=8, reason="amp_without_mpp")
    amount, cltv = final.amt_to_forward, final.outgoing_cltv_value
    payloads = [final]
    for hop in reversed(hops):
        payloads.append(HopPayload(amt_to_forward=amount, outgoing_cltv_value=cltv,
                                   short_channel_id=hop.short_channel_id))
        amount += hop.fee_msat(amount)
        cltv += hop.cltv_expiry_delta
    return tuple(reversed(payloads)), amount, cltv


def build_route_onion(dest: bytes, hops: Sequence[RouteHop], final: HopPayload,
                      payment_hash: bytes, session_key: bytes) -> RouteOnion:
    """One payment onion over `hops` to `dest`, bound to `payment_hash` (BOLT 4: the
    associated data of a payment onion is its payment_hash)."""
    payloads, amount, cltv = hop_payloads(hops, final)
    if amount >= 1 << 64 or cltv >= 1 << 32:
        raise EncodeError("route fees or cltv deltas overflow", field="route", reason="range")
    pubkeys = [hop.pubkey for hop in hops] + [dest]
    onion = build_onion(session_key, [(k, p.encode()) for k, p in zip(pubkeys, payloads,
                                                                      strict=True)],
                        payment_hash)
    return RouteOnion(onion, payloads, amount, cltv, session_key)
