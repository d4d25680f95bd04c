"""Hop processing in one call (BOLT 4 › Onion Decryption, `payload` requirements, Route
Blinding; BOLT 2 › Removing an HTLC): peel, derive the role, decode and judge the payload,
check the replay log, and answer with the failure code the node must send.

The role follows BOLT 4's own structure: the position (final or not) comes from the peel; the
blinded rules apply when the HTLC carried a `path_key` or the payload holds
`encrypted_recipient_data`; no `path_key` in the HTLC but `current_path_key` in the payload
makes this node the introduction node. Inside a blinded route every error becomes
`invalid_onion_blinding`, so nothing tells a probing sender what went wrong there.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from typing import Any, overload

from sphinxamp._codes import BADONION, INVALID_ONION_BLINDING
from sphinxamp._htlc import (
    DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    HtlcContext,
    check_final_htlc,
    htlc_context,
    require,
)
from sphinxamp._htlc_answer import (
    AnswerOptions,
    HtlcAnswer,
    accepted,
    answer_options,
    refuse_message_context,
    refused,
)
from sphinxamp._payload import (
    CURRENT_PATH_KEY,
    HopPayload,
    Role,
    check_profile,
    decode_hop_payload,
    decode_payload,
    derive_role,
    parse_role,
)
from sphinxamp._processed_hop import ProcessedHop
from sphinxamp._trampoline_hop import blinded_trampoline_onion, judge_trampoline
from sphinxamp.blinding._unblind import blinded_payment_hop
from sphinxamp.errors import (
    UPDATE_FAIL_HTLC,
    UPDATE_FAIL_MALFORMED_HTLC,
    DecodeError,
    InvalidArgument,
    InvalidOnionBlinding,
    PolicyError,
    SphinxampError,
)
from sphinxamp.messages._codec import UpdateAddHtlc
from sphinxamp.onion._replay import ReplayLog, check_and_record
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, OnionPacket, PeeledHop, peel_onion
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import NodeKey
from sphinxamp.wire._records import TRAMPOLINE_PROFILES
from sphinxamp.wire._tlv import iter_records

# What a hop refuses on the wire: bytes that do not parse (DecodeError), or bytes a rule or
# the node's state refuses (PolicyError: a replay, payment_constraints, a final-hop HTLC that
# does not match its payload). A caller's own bad value (CallerError) propagates as is.
_REFUSALS = (DecodeError, PolicyError)


@overload
def process_hop(
    packet: UpdateAddHtlc, node_key: bytes | NodeKey, associated_data: None = None, *,
    replay_log: ReplayLog | None = None, batch_id: bytes | None = None,
    payload_area: int | None = PAYMENT_PAYLOAD_AREA, profile: str = "bolt",
    current_block_height: int | None = None,
    min_final_cltv_expiry_delta: int = DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    expected_path_id: bytes | None = None, known_features: Iterable[int] = (),
    next_channel_id: bytes | None = None, next_htlc_id: int | None = None,
    attribution: bool | None = None, hold_time: int | None = None,
) -> HtlcAnswer: ...


@overload
def process_hop(
    packet: bytes | OnionPacket, node_key: bytes | NodeKey, associated_data: bytes, *,
    path_key: bytes | None = None, replay_log: ReplayLog | None = None,
    batch_id: bytes | None = None, payload_area: int | None = PAYMENT_PAYLOAD_AREA,
    profile: str = "bolt", incoming_amount_msat: int | None = None,
    incoming_cltv_expiry: int | None = None, current_block_height: int | None = None,
    min_final_cltv_expiry_delta: int = DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    expected_path_id: bytes | None = None, known_features: Iterable[int] = (),
    cltv_expiry: int | None = None,
) -> ProcessedHop: ...


def process_hop(
    packet: bytes | OnionPacket | UpdateAddHtlc,
    node_key: bytes | NodeKey,
    associated_data: bytes | None = None,
    *,
    path_key: bytes | None = None,
    replay_log: ReplayLog | None = None,
    batch_id: bytes | None = None,
    payload_area: int | None = PAYMENT_PAYLOAD_AREA,
    profile: str = "bolt",
    incoming_amount_msat: int | None = None,
    incoming_cltv_expiry: int | None = None,
    current_block_height: int | None = None,
    min_final_cltv_expiry_delta: int = DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    expected_path_id: bytes | None = None,
    known_features: Iterable[int] = (),
    cltv_expiry: int | None = None,
    next_channel_id: bytes | None = None,
    next_htlc_id: int | None = None,
    attribution: bool | None = None,
    hold_time: int | None = None,
) -> ProcessedHop | HtlcAnswer:
    """Process one incoming onion as the node holding `node_key` would.

    From `update_add_htlc`: `path_key`, `incoming_amount_msat` and `incoming_cltv_expiry`
    (`cltv_expiry=` is its deprecated name). Required where a decision depends on them
    (`InvalidArgument` otherwise, before anything is recorded): a hop inside a blinded route
    needs the amount and expiry, a final hop also `current_block_height` (checked against
    `min_final_cltv_expiry_delta`, BOLT 11's default 18 unless the invoice said otherwise).
    A recipient may state the `path_id` it created its blinded path with and the
    `known_features` allowed_features may list. `replay_log` refuses an onion seen before
    and records this one (as part of the batch `batch_id`, whose answer a second commit
    repeats: see `ReplayLog`). A refusal raises the library's error with `failure_code`,
    `failure_message` (the message that carries it), `sha256_of_onion` where the code's
    data needs it, and `cause` when the code was converted to invalid_onion_blinding.

    Given the decoded `update_add_htlc` instead of the onion, the HTLC's amount, expiry,
    payment_hash (the associated data) and path_key (TLV 0) are read from the message
    (passing any of them as well is an `InvalidArgument`), and the answer is an `HtlcAnswer`:
    the message to send (the forward, with `next_channel_id` and `next_htlc_id`, by default
    32 zero bytes and 0 as the node alone knows its outgoing channel; `update_fail_htlc`
    with attribution data unless `attribution=False`, with `hold_time`; or
    `update_fail_malformed_htlc`), the `ProcessedHop` and the refusal, which is then not
    raised. A caller's own bad value still raises.

    `profile` is "bolt" (BOLT 4 to the letter), "lnd" (lnd's reader), or a trampoline
    profile, "trampoline" (lightning/bolts#836) or "trampoline-legacy" (Eclair, Electrum):
    a final layer carrying that format's trampoline onion then has it peeled with the same
    key, and `ProcessedHop.trampoline` says what to do next (`sphinxamp.payments`); every
    other layer is judged as under "bolt".
    """
    if profile not in TRAMPOLINE_PROFILES:
        check_profile(profile)
    message = packet if isinstance(packet, UpdateAddHtlc) else None
    options = answer_options(with_message=message is not None,
                             next_channel_id=next_channel_id, next_htlc_id=next_htlc_id,
                             attribution=attribution, hold_time=hold_time)
    if message is not None:
        refuse_message_context({
            "associated_data": associated_data, "incoming_amount_msat": incoming_amount_msat,
            "incoming_cltv_expiry": incoming_cltv_expiry, "path_key": path_key,
            "cltv_expiry": cltv_expiry})
        incoming_amount_msat, incoming_cltv_expiry = message.amount_msat, message.cltv_expiry
    elif associated_data is None:
        raise InvalidArgument("a bare onion needs its associated_data (the payment_hash)",
                              field="associated_data", reason="missing")
    context = htlc_context(
        amount_msat=incoming_amount_msat, incoming_cltv_expiry=incoming_cltv_expiry,
        cltv_expiry=cltv_expiry, current_block_height=current_block_height,
        min_final_cltv_expiry_delta=min_final_cltv_expiry_delta,
        expected_path_id=expected_path_id, known_features=known_features)
    if message is not None:
        return _process_message(message, node_key, context, profile, payload_area,
                                replay_log, batch_id, options)
    if replay_log is not None and context.cltv_expiry is None:
        raise InvalidArgument("a replay log needs the HTLC's incoming_cltv_expiry",
                              field="incoming_cltv_expiry", reason="missing_cltv")
    assert not isinstance(packet, UpdateAddHtlc) and associated_data is not None
    return _process(packet, node_key, associated_data, path_key, context, profile,
                    payload_area, replay_log, batch_id)


def _process_message(msg: UpdateAddHtlc, node_key: bytes | NodeKey, context: HtlcContext,
                     profile: str, payload_area: int | None, replay_log: ReplayLog | None,
                     batch_id: bytes | None, options: AnswerOptions) -> HtlcAnswer:
    """The bare-onion decision on the message's onion and context, answered as a message."""
    try:
        hop = _process(msg.onion_routing_packet, node_key, msg.payment_hash, msg.path_key,
                       context, profile, payload_area, replay_log, batch_id)
    except SphinxampError as exc:
        if exc.failure_code is None:  # the caller's error, not the peer's
            raise
        return refused(msg, exc, options, context.current_block_height)
    return accepted(msg, hop, options)


def _process(packet: bytes | OnionPacket, node_key: bytes | NodeKey, associated_data: bytes,
             path_key: bytes | None, context: HtlcContext, profile: str,
             payload_area: int | None, replay_log: ReplayLog | None,
             batch_id: bytes | None) -> ProcessedHop:
    """Peel, judge, record in the replay log, and answer a refusal as the node must."""
    peeled: PeeledHop | None = None
    try:
        peeled = peel_onion(packet, node_key, associated_data, payload_area=payload_area,
                            path_key=path_key)
        try:
            hop = _judge(peeled, node_key, associated_data, path_key, context, profile,
                         payload_area)
        except _REFUSALS:
            _record(replay_log, peeled, context, batch_id)  # an onion refused was still seen
            raise
        _record(replay_log, peeled, context, batch_id)
    except _REFUSALS as exc:  # what the wire sent; a caller's own bad value propagates as is
        # A refused payload that still shows current_path_key is the introduction node's
        # (a dummy hop's refusal too: it is answered for the layer that arrived).
        intro = peeled is not None and not peeled.is_final and path_key is None and (
            carries_path_key(peeled.payload))
        trampoline = blinded_trampoline_onion(peeled, path_key, profile)
        answer = answer_error(exc, packet, in_blinded_route=path_key is not None or (
            trampoline is not None), introduction=intro, peeled=peeled)
        if trampoline is not None:
            answer.sha256_of_onion = hashlib.sha256(trampoline).digest()
        if peeled is not None:
            answer.role = _refused_role(peeled, path_key).value
            answer.introduction_node = intro
        raise answer from None
    return hop


def _refused_role(peeled: PeeledHop, path_key: bytes | None) -> Role:
    """The role of a layer whose payload was refused, from what BOLT 4's structure still
    shows: its position, and a path key in the HTLC or encrypted_recipient_data (10) in the
    payload. A payload that does not even split shows no record."""
    try:
        types = [rtype for rtype, *_ in iter_records(peeled.payload)]
    except DecodeError:
        types = []
    return derive_role(types, final=peeled.is_final, path_key_from_htlc=path_key is not None)


def _record(log: ReplayLog | None, peeled: PeeledHop, context: HtlcContext,
            batch_id: bytes | None) -> None:
    # Recorded once the HMAC verified: an onion nobody could have built is no replay. A
    # caller's error (InvalidArgument) records nothing, so the corrected call is no replay.
    if log is not None:
        assert context.cltv_expiry is not None
        check_and_record(log, peeled.shared_secret, context.cltv_expiry, batch_id)


def _judge(peeled: PeeledHop, node_key: bytes | NodeKey, associated_data: bytes,
           path_key: bytes | None, context: HtlcContext, profile: str,
           payload_area: int | None) -> ProcessedHop:
    """The peeled layer judged: its role, its payload's rules, the context the role needs,
    route blinding or the final node's HTLC checks, and the recipient's own dummy hops.
    Under a trampoline profile a final layer carrying a trampoline onion has it peeled."""
    if profile in TRAMPOLINE_PROFILES:
        trampoline = judge_trampoline(peeled, node_key, associated_data, path_key, context,
                                      profile)
        if trampoline is not None:
            return trampoline
        profile = "bolt"
    payload, role = decode_hop_payload(
        peeled.payload, final=peeled.is_final, path_key_from_htlc=path_key is not None,
        base=peeled.payload_offset, profile=profile)
    introduction = path_key is None and payload.current_path_key is not None
    require(context, final=role.final, blinded=role.blinded)
    blinding: dict[str, Any] = {}
    if role.blinded:
        blinding = _blinded_fields(node_key, path_key or payload.current_path_key, payload,
                                   role, context, peeled.blinding_secret)
    elif role.final:
        check_final_htlc(payload.amt_to_forward, payload.outgoing_cltv_value, context)
    hop = ProcessedHop(
        payload, role, introduction, peeled.shared_secret, peeled.next_packet, peeled.payload,
        peeled.payload_offset, path_key or payload.current_path_key, **blinding)
    if role is Role.BLINDED_INTERMEDIATE and _is_own_node(hop, node_key):
        return _peel_dummy(hop, peeled, node_key, associated_data, context, profile,
                           payload_area, path_key)
    return hop


def _is_own_node(hop: ProcessedHop, node_key: bytes | NodeKey) -> bool:
    """Whether next_node_id is this node's own id: a dummy hop the recipient appended to its
    path (as lnd recognises one: htlcswitch/hop/iterator.go, checkForDummyHop). A key object
    without a `public_key` cannot tell, and forwards as named."""
    nxt = None if hop.encrypted_data is None else hop.encrypted_data.next_node_id
    if nxt is None:
        return False
    if isinstance(node_key, bytes | bytearray | memoryview):
        own: object = crypto.public_key(bytes(node_key), "node_key")
    else:
        own = getattr(node_key, "public_key", None)
    return isinstance(own, bytes) and own == nxt


def _peel_dummy(hop: ProcessedHop, peeled: PeeledHop, node_key: bytes | NodeKey,
                associated_data: bytes, context: HtlcContext, profile: str,
                payload_area: int | None, path_key: bytes | None) -> ProcessedHop:
    """BOLT 4 › Route Blinding: dummy hops at the end of a path are ignored on receipt. The
    recipient applies the dummy's payment_relay and peels the next layer with the next path
    key, as the node it forwards to would (lnd: peelBlindedPathDummyHop). A refusal there is
    answered for the HTLC that arrived: this layer's path key, onion and role."""
    assert hop.next_packet is not None and hop.next_path_key is not None
    inner_context = context.forwarded(hop.amt_to_forward, hop.outgoing_cltv_value)
    inner = _judge(peel_onion(hop.next_packet, node_key, associated_data,
                              payload_area=payload_area, path_key=hop.next_path_key),
                   node_key, associated_data, hop.next_path_key, inner_context, profile,
                   payload_area)
    return dataclasses.replace(inner, introduction_node=hop.introduction_node,
                               shared_secret=peeled.shared_secret, path_key=hop.path_key,
                               dummy_hops=inner.dummy_hops + 1)


def _blinded_fields(node_key: bytes | NodeKey, path_key: bytes | None, payload: HopPayload,
                    role: Role, context: HtlcContext,
                    blinding_secret: bytes | None) -> dict[str, Any]:
    """Route blinding at this hop: decrypt and check encrypted_recipient_data, derive the next
    path key and the forwarded amount and expiry (BOLT 4 › Route Blinding). The keyword
    arguments of `ProcessedHop` it fills. At the final hop the amount and expiry are the
    payload's own; at a forwarding hop they come from the incoming HTLC's and payment_relay.
    `blinding_secret` is the peel's ECDH with the HTLC's path_key, reused (None at an
    introduction node, whose path key comes from its payload)."""
    # The role rules have refused a blinded payload with a path key in neither place.
    assert path_key is not None
    hop = blinded_payment_hop(node_key, path_key, payload, final=role.final,
                              blinding_secret=blinding_secret, context=context)
    return {"encrypted_data": hop.encrypted_data, "next_path_key": hop.next_path_key,
            "amt_to_forward": hop.amt_to_forward, "outgoing_cltv_value": hop.outgoing_cltv_value}


def carries_path_key(payload: bytes) -> bool:
    """Whether a refused payload still shows current_path_key (12): the node is then the
    introduction node and answers as one. A stream that does not even split tells nothing,
    as lnd notes (htlcswitch/link.go: it cannot know whether it was the introduction node)."""
    try:
        return any(rtype == CURRENT_PATH_KEY for rtype, *_ in iter_records(payload))
    except DecodeError:
        return False


def answer_error(exc: SphinxampError, packet: bytes | OnionPacket | None, *,
                 in_blinded_route: bool, introduction: bool,
                 peeled: PeeledHop | None = None) -> SphinxampError:
    """The error as the node answers it (BOLT 4 › Failure Messages › Requirements; BOLT 2 ›
    Removing an HTLC): inside a blinded route — a path_key in the HTLC, or a non-final
    introduction node — every error is invalid_onion_blinding, the underlying one its cause.
    Otherwise a BADONION code goes back in update_fail_malformed_htlc (the node could not
    derive the keys to encrypt a failure), anything else in update_fail_htlc. Without the
    `packet` (a payload judged alone) sha256_of_onion stays unknown (None)."""
    answer = exc
    if in_blinded_route or introduction:
        answer = InvalidOnionBlinding(
            "refused inside a blinded route: " + exc.message, field=exc.field,
            offset=exc.offset, tlv_type=exc.tlv_type, reason=exc.reason)
        answer.cause = exc
    answer.peeled = peeled
    code = answer.failure_code
    if code is None:
        return answer
    # BOLT 2 › Removing an HTLC: update_fail_malformed_htlc carries invalid_onion_blinding
    # only for a node that got path_key in update_add_htlc; without one (an introduction
    # node, or the recipient of a one-hop blinded path) it goes in update_fail_htlc.
    malformed = bool(code & BADONION) and not (
        code == INVALID_ONION_BLINDING and not in_blinded_route)
    answer.failure_message = UPDATE_FAIL_MALFORMED_HTLC if malformed else UPDATE_FAIL_HTLC
    if code & BADONION and packet is not None:
        wire = packet.to_bytes() if isinstance(packet, OnionPacket) else bytes(packet)
        answer.sha256_of_onion = hashlib.sha256(wire).digest()
    return answer


def judge_payload(data: bytes, role: Role | str, *, path_key_from_htlc: bool,
                  profile: str = "bolt") -> tuple[HopPayload, Role, bool]:
    """A hop payload on its own, judged as `process_hop` judges it after the peel: (payload,
    role, introduction_node), or the error the node answers (its `sha256_of_onion` unknown).
    `role` gives the position (intermediate or final) and BOLT 4's structure the rest: the
    blinded rules apply when the HTLC carried a path_key or the payload holds
    encrypted_recipient_data (10); an explicit blinded role forces them."""
    role = parse_role(role)
    try:
        if role.blinded:
            payload = decode_payload(data, role, path_key_from_htlc=path_key_from_htlc,
                                     profile=profile)
        else:
            payload, role = decode_hop_payload(data, final=role.final,
                                               path_key_from_htlc=path_key_from_htlc,
                                               profile=profile)
    except SphinxampError as exc:
        intro = not path_key_from_htlc and not role.final and carries_path_key(data)
        raise answer_error(exc, None, in_blinded_route=path_key_from_htlc,
                           introduction=intro) from None
    return payload, role, not path_key_from_htlc and payload.current_path_key is not None


__all__ = ["ProcessedHop", "judge_payload", "process_hop"]
