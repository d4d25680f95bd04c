"""A trampoline node's layer (lightning/bolts#836 › Trampoline Payments › Requirements, the
receiving node; LDK onion_utils.rs, decode_next_payment_hop, Hop::Trampoline*; Eclair
PaymentPacket.scala, extractSharedSecret): the outer payload that carries a trampoline onion,
the trampoline onion peeled with the same node key and associated data, and the payload
inside it judged by its format's rules.

What the node then does is one of four `TrampolineHop.action`s: "forward" the peeled onion to
the next trampoline node, "pay_blinded_paths" (the recipient's blinded paths), "pay_node" (a
recipient without trampoline support: legacy format), or "receive".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sphinxamp._htlc import (
    DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    HtlcContext,
    check_final_htlc,
    htlc_context,
    require,
)
from sphinxamp._payload import HopPayload
from sphinxamp.blinding._path import EncryptedData
from sphinxamp.blinding._unblind import blinded_payment_hop
from sphinxamp.errors import (
    DecodeError,
    FinalIncorrectCltvExpiry,
    FinalIncorrectHtlcAmount,
    InvalidOnionPayload,
    InvalidTrampolinePayload,
    MissingNextHop,
    TrampolineFeeOrExpiryInsufficient,
)
from sphinxamp.onion._sphinx import OnionPacket, peel_onion
from sphinxamp.payments._trampoline import (
    PaymentBlindedPath,
    TrampolineFormat,
    TrampolinePayload,
    decode_trampoline_payload,
    trampoline_format,
)
from sphinxamp.primitives._nodekey import NodeKey
from sphinxamp.wire._records import profile_record
from sphinxamp.wire._tlv import iter_records

ACTIONS = ("forward", "pay_blinded_paths", "pay_node", "receive")
_AMT, _CLTV, _SCID, _DATA, _EXTRA, _PATH_KEY = 2, 4, 6, 8, 10, 12


@dataclass(frozen=True, slots=True)
class TrampolineHop:
    """What a trampoline node (or the recipient) makes of the trampoline onion it received.

    `amt_to_forward` and `outgoing_cltv_value` are what to send on (or, for "receive", what
    the onion says the payment is); `incoming_amount_msat` and `incoming_cltv_expiry` what
    the outer payload brought (its total_msat for a multi-part payment), so the node's fee
    and expiry delta are their differences. `shared_secret` is the trampoline layer's, which
    a failure is wrapped with first (`create_trampoline_failure`). Inside a blinded
    trampoline path (proposal format): the decrypted `encrypted_data`, the `path_key` used,
    and `next_path_key`, which goes in the next trampoline node's outer payload as
    current_path_key."""

    profile: str
    action: str
    outer_payload: TrampolinePayload
    packet: OnionPacket
    payload: TrampolinePayload
    raw_payload: bytes
    payload_offset: int
    shared_secret: bytes
    next_packet: OnionPacket | None
    next_node_id: bytes | None
    amt_to_forward: int
    outgoing_cltv_value: int
    incoming_amount_msat: int
    incoming_cltv_expiry: int
    blinded_paths: tuple[PaymentBlindedPath, ...] = ()
    encrypted_data: EncryptedData | None = None
    path_key: bytes | None = None
    next_path_key: bytes | None = None
    introduction_node: bool = False

    @property
    def is_final(self) -> bool:
        """Whether this node is the payment's recipient."""
        return self.action == "receive"


def carries_trampoline(payload: bytes | memoryview, profile: str) -> bool:
    """Whether a payload holds the trampoline onion record of `profile`'s format (a stream
    that does not split holds none)."""
    onion_type = trampoline_format(profile).onion_type
    try:
        return any(rtype == onion_type for rtype, *_ in iter_records(payload))
    except DecodeError:
        return False


def _violation(kind: str, rtype: int, profile: str, offset: int, where: str,
               error: type[InvalidOnionPayload] = InvalidTrampolinePayload
               ) -> InvalidOnionPayload:
    named = profile_record(rtype, profile)
    name = named[0] if named else f"type {rtype}"
    return error(f"{where} payload {kind} {name} (type {rtype})", field=name, offset=offset,
                 tlv_type=rtype, reason=f"record_{kind}")


def _check(offsets: dict[int, int], end: int, profile: str, where: str, *,
           required: Iterable[int] = (), forbidden: Iterable[int] = (),
           only: Iterable[int] | None = None,
           error: type[InvalidOnionPayload] = InvalidTrampolinePayload) -> None:
    """A forbidden (or not allowed) record is reported where it starts, a missing one where
    it would have been, as BOLT 4's payload rules are reported (offsets from the stream)."""
    allowed = None if only is None else set(only)
    for rtype in sorted(offsets):
        if rtype in set(forbidden) or (allowed is not None and rtype not in allowed):
            raise _violation("included", rtype, profile, offsets[rtype], where, error)
    for rtype in sorted(required):
        if rtype not in offsets:
            at = next((offsets[t] for t in sorted(offsets) if t > rtype), end)
            raise _violation("omitted", rtype, profile, at, where, error)


def _outer(payload: bytes, base: int, fmt: TrampolineFormat) -> TrampolinePayload:
    """The outer payload that carries the onion: amount, expiry and the onion; no channel,
    no next node, no blinded data (a current_path_key only where blinded trampoline hops
    exist). Refused as the outer payload it is: invalid_onion_payload."""
    try:
        outer, offsets = decode_trampoline_payload(payload, fmt.profile, base=base)
    except InvalidTrampolinePayload as exc:
        raise InvalidOnionPayload(exc.message, field=exc.field, offset=exc.offset,
                                  tlv_type=exc.tlv_type, reason=exc.reason) from None
    forbidden = [_SCID, _EXTRA, fmt.outgoing_node_id_type, fmt.blinded_paths_type]
    _check(offsets, base + len(payload), fmt.profile, "outer",
           required=(_AMT, _CLTV, fmt.onion_type),
           forbidden=forbidden if fmt.blinded_hops else [*forbidden, _PATH_KEY],
           error=InvalidOnionPayload)
    return outer


def peel_trampoline(payload: bytes | memoryview, node_key: bytes | NodeKey,
                    associated_data: bytes, *, profile: str = "trampoline", base: int = 0,
                    incoming_amount_msat: int, incoming_cltv_expiry: int,
                    current_block_height: int,
                    min_final_cltv_expiry_delta: int = DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
                    expected_path_id: bytes | None = None,
                    known_features: Iterable[int] = ()) -> TrampolineHop:
    """The trampoline layer at the node holding `node_key`: `payload` is the final outer
    payload a peel found (`base` its offset in the decrypted stream); the incoming HTLC's
    amount and expiry and the block height judge the outer payload as a final node's
    (`expected_path_id` and `known_features` serve a recipient inside a blinded path).

    The trampoline onion is peeled with the same key and associated data, tweaked by the
    outer payload's current_path_key inside a blinded trampoline path. There a node that is
    not the path's introduction node (`outer_payload.current_path_key` is set) answers any
    refusal as invalid_onion_blinding (the proposal › Trampoline Payments): `process_hop`
    does; this raises the refusal itself."""
    context = htlc_context(
        amount_msat=incoming_amount_msat, incoming_cltv_expiry=incoming_cltv_expiry,
        cltv_expiry=None, current_block_height=current_block_height,
        min_final_cltv_expiry_delta=min_final_cltv_expiry_delta,
        expected_path_id=expected_path_id, known_features=known_features)
    return peel_trampoline_in(payload, node_key, associated_data, profile, base, context)


def peel_trampoline_in(payload: bytes | memoryview, node_key: bytes | NodeKey,
                       associated_data: bytes, profile: str, base: int,
                       context: HtlcContext) -> TrampolineHop:
    """`peel_trampoline` in the context process_hop has already checked."""
    fmt = trampoline_format(profile)
    raw = bytes(payload)
    outer = _outer(raw, base, fmt)
    require(context, final=True, blinded=False)
    check_final_htlc(outer.amt_to_forward, outer.outgoing_cltv_value, context)
    assert outer.trampoline_onion_packet is not None
    packet = OnionPacket.parse(outer.trampoline_onion_packet, payload_area=None)
    return _inner(fmt, outer, packet, node_key, associated_data, context)


def _incoming(outer: TrampolinePayload) -> tuple[int, int]:
    assert outer.amt_to_forward is not None and outer.outgoing_cltv_value is not None
    total = outer.payment_data.total_msat if outer.payment_data else outer.amt_to_forward
    return total, outer.outgoing_cltv_value


def _inner(fmt: TrampolineFormat, outer: TrampolinePayload, packet: OnionPacket,
           node_key: bytes | NodeKey, associated_data: bytes,
           context: HtlcContext) -> TrampolineHop:
    peeled = peel_onion(packet, node_key, associated_data, payload_area=None,
                        path_key=outer.current_path_key)
    inner, offsets = decode_trampoline_payload(peeled.payload, fmt.profile,
                                               base=peeled.payload_offset)
    end = peeled.payload_offset + len(peeled.payload)
    amount, cltv = _incoming(outer)
    common: dict[str, Any] = {"profile": fmt.profile, "outer_payload": outer, "packet": packet,
              "payload": inner, "raw_payload": bytes(peeled.payload),
              "payload_offset": peeled.payload_offset, "shared_secret": peeled.shared_secret,
              "next_packet": peeled.next_packet, "incoming_amount_msat": amount,
              "incoming_cltv_expiry": cltv}
    if _EXTRA in offsets:
        if not fmt.blinded_hops:
            raise _violation("included", _EXTRA, fmt.profile, offsets[_EXTRA], "trampoline")
        return _blinded(fmt, outer, inner, offsets, end, node_key, context, common)
    if peeled.next_packet is not None:
        _check(offsets, end, fmt.profile, "trampoline",
               required=(_AMT, _CLTV, fmt.outgoing_node_id_type),
               forbidden=(_SCID, _PATH_KEY, fmt.blinded_paths_type))
        return _hop("forward", inner, common, next_node_id=inner.outgoing_node_id)
    if fmt.blinded_paths_type in offsets:
        # The proposal: "MUST NOT include outgoing_node_id"; Eclair's ToBlindedPaths also
        # requires the invoice features.
        required = [_AMT, _CLTV, fmt.blinded_paths_type] + (
            [] if fmt.blinded_hops else [fmt.features_type])
        _check(offsets, end, fmt.profile, "trampoline", required=required,
               forbidden=(_SCID, _PATH_KEY, fmt.outgoing_node_id_type))
        return _hop("pay_blinded_paths", inner, common,
                    blinded_paths=inner.blinded_paths or ())
    if fmt.outgoing_node_id_type in offsets and not fmt.blinded_hops:
        # Eclair PaymentOnion.scala, NodeRelay.ToNonTrampoline.validate: the recipient does
        # not support trampoline; the last trampoline node pays it from the invoice's data.
        _check(offsets, end, fmt.profile, "trampoline",
               required=(_AMT, _CLTV, _DATA, fmt.outgoing_node_id_type, 66099),
               forbidden=(_SCID, _PATH_KEY))
        return _hop("pay_node", inner, common, next_node_id=inner.outgoing_node_id)
    _check(offsets, end, fmt.profile, "trampoline", required=(_AMT, _CLTV),
           forbidden=(_SCID, _PATH_KEY, fmt.outgoing_node_id_type))
    _check_received(inner, amount, cltv)
    return _hop("receive", inner, common)


def _hop(action: str, inner: TrampolinePayload, common: dict[str, Any],
         **extra: Any) -> TrampolineHop:
    assert inner.amt_to_forward is not None and inner.outgoing_cltv_value is not None
    return TrampolineHop(action=action, amt_to_forward=inner.amt_to_forward,
                         outgoing_cltv_value=inner.outgoing_cltv_value,
                         **{"next_node_id": None, **common, **extra})


def _check_received(inner: TrampolinePayload, amount: int, cltv: int) -> None:
    """The proposal's final node (LDK onion_payment.rs, check_trampoline_payment_constraints):
    refuse when the outer expiry is below the trampoline onion's, or the outer amount (its
    total for a multi-part payment) below the trampoline onion's amt_to_forward."""
    assert inner.amt_to_forward is not None and inner.outgoing_cltv_value is not None
    if cltv < inner.outgoing_cltv_value:
        raise FinalIncorrectCltvExpiry(
            f"outer outgoing_cltv_value {cltv} is below the trampoline onion's "
            f"{inner.outgoing_cltv_value}", field="outgoing_cltv_value", tlv_type=_CLTV,
            reason="trampoline_cltv_above_outer")
    if amount < inner.amt_to_forward:
        raise FinalIncorrectHtlcAmount(
            f"outer amount {amount} msat is below the trampoline onion's amt_to_forward "
            f"{inner.amt_to_forward}", field="amt_to_forward", tlv_type=_AMT,
            reason="trampoline_amount_above_outer")


def _blinded(fmt: TrampolineFormat, outer: TrampolinePayload, inner: TrampolinePayload,
             offsets: dict[int, int], end: int, node_key: bytes | NodeKey,
             context: HtlcContext, common: dict[str, Any]) -> TrampolineHop:
    """A trampoline hop inside the recipient's blinded path (the proposal): the path key
    from the trampoline payload (introduction node) or the outer one, never both nor
    neither; encrypted_recipient_data judged as for a blinded payment hop, with the outer
    payload's amount and expiry as the incoming HTLC's."""
    final = common["next_packet"] is None
    required = (_AMT, _CLTV, _EXTRA) if final else (_EXTRA,)
    allowed = (_AMT, _CLTV, _EXTRA, _PATH_KEY, 18) if final else (_EXTRA, _PATH_KEY)
    _check(offsets, end, fmt.profile, "blinded trampoline", required=required, only=allowed)
    if (inner.current_path_key is None) == (outer.current_path_key is None):
        where = "both" if inner.current_path_key is not None else "neither"
        at = offsets.get(_PATH_KEY, end)
        raise InvalidTrampolinePayload(f"current_path_key in {where} of the trampoline and "
                                       "outer payloads", field="current_path_key", offset=at,
                                       tlv_type=_PATH_KEY, reason=f"path_key_in_{where}")
    path_key = inner.current_path_key or outer.current_path_key
    assert path_key is not None
    amount, cltv = _incoming(outer)
    inner_context = HtlcContext(amount, cltv, None, context.min_final_cltv_expiry_delta,
                                context.expected_path_id, context.known_features)
    hop = blinded_payment_hop(
        node_key, path_key, HopPayload(amt_to_forward=inner.amt_to_forward,
                                       outgoing_cltv_value=inner.outgoing_cltv_value,
                                       encrypted_recipient_data=inner.encrypted_recipient_data),
        final=final, context=inner_context)
    if not final and hop.encrypted_data.next_node_id is None:
        raise MissingNextHop("a blinded trampoline hop needs next_node_id", field="next_node_id",
                             tlv_type=4, reason="no_next_node_id")
    assert hop.amt_to_forward is not None and hop.outgoing_cltv_value is not None
    return TrampolineHop(
        action="receive" if final else "forward", amt_to_forward=hop.amt_to_forward,
        outgoing_cltv_value=hop.outgoing_cltv_value,
        next_node_id=hop.encrypted_data.next_node_id, encrypted_data=hop.encrypted_data,
        path_key=path_key, next_path_key=hop.next_path_key,
        introduction_node=inner.current_path_key is not None, **common)


def check_trampoline_relay(hop: TrampolineHop, *, fee_base_msat: int,
                           fee_proportional_millionths: int, cltv_expiry_delta: int) -> None:
    """A relaying trampoline node's own fee and expiry policy on what it was paid
    (`incoming_amount_msat` less `amt_to_forward`, `incoming_cltv_expiry` less
    `outgoing_cltv_value`): too little of either is trampoline_fee_or_expiry_insufficient
    (NODE|26), which carries the node's policy back to the sender (the proposal: "there are
    routes available if the sender retries with the fees and cltv provided")."""
    fee = fee_base_msat + (hop.amt_to_forward * fee_proportional_millionths + 999_999) // 1_000_000
    paid = hop.incoming_amount_msat - hop.amt_to_forward
    delta = hop.incoming_cltv_expiry - hop.outgoing_cltv_value
    if paid >= fee and delta >= cltv_expiry_delta:
        return
    error = TrampolineFeeOrExpiryInsufficient(
        f"paid {paid} msat and {delta} blocks; the node asks {fee} msat and "
        f"{cltv_expiry_delta} blocks", field="amt_to_forward" if paid < fee
        else "outgoing_cltv_value", tlv_type=2 if paid < fee else 4,
        reason="fee_insufficient" if paid < fee else "expiry_delta_insufficient")
    error.fee_base_msat = fee_base_msat
    error.fee_proportional_millionths = fee_proportional_millionths
    error.cltv_expiry_delta = cltv_expiry_delta
    raise error


__all__ = ["ACTIONS", "TrampolineHop", "carries_trampoline", "check_trampoline_relay",
           "peel_trampoline"]
