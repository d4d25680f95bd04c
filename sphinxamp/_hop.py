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
from dataclasses import dataclass
from typing import Any

from sphinxamp._codes import BADONION, INVALID_ONION_BLINDING
from sphinxamp._htlc import (
    DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    HtlcContext,
    check_final_htlc,
    htlc_context,
    require,
)
from sphinxamp._payload import CURRENT_PATH_KEY, HopPayload, Role, check_profile, decode_hop_payload
from sphinxamp.blinding._path import EncryptedData
from sphinxamp.blinding._unblind import blinded_payment_hop
from sphinxamp.errors import (
    UPDATE_FAIL_HTLC,
    UPDATE_FAIL_MALFORMED_HTLC,
    DecodeError,
    InvalidArgument,
    InvalidOnionBlinding,
    PaymentError,
    SphinxampError,
)
from sphinxamp.onion._replay import ReplayLog, check_and_record
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, OnionPacket, PeeledHop, peel_onion
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import NodeKey
from sphinxamp.wire._tlv import iter_records

# What a hop refuses on the wire: bytes or rules (DecodeError), or a final-hop HTLC that does
# not match its payload (PaymentError).
_REFUSALS = (DecodeError, PaymentError)


@dataclass(frozen=True, slots=True)
class ProcessedHop:
    """What a node makes of one incoming onion: the typed payload judged for its role, and
    what to forward (`next_packet`, None at the final hop).

    After `dummy_hops` > 0 (the recipient peeled its own dummy hops, BOLT 4 › Route
    Blinding) the payload, role, raw payload and blinded fields are the last layer's, while
    `shared_secret`, `path_key` and `introduction_node` stay those of the onion that arrived:
    the ones a failure or attribution data answers with."""

    payload: HopPayload
    role: Role
    introduction_node: bool
    shared_secret: bytes
    next_packet: OnionPacket | None
    raw_payload: bytes
    # Where the payload starts in the decrypted hop_payloads (after its BigSize length):
    # the reference point of invalid_onion_payload offsets.
    payload_offset: int
    # The path key in effect at this hop: the HTLC's, or current_path_key at an
    # introduction node; None outside a blinded route.
    path_key: bytes | None
    # Route blinding: the decrypted encrypted_recipient_data, the path key for the next
    # node, and the amount and expiry derived from payment_relay.
    encrypted_data: EncryptedData | None = None
    next_path_key: bytes | None = None
    amt_to_forward: int | None = None
    outgoing_cltv_value: int | None = None
    dummy_hops: int = 0

    @property
    def is_final(self) -> bool:
        return self.next_packet is None


def process_hop(
    packet: bytes | OnionPacket,
    node_key: bytes | NodeKey,
    associated_data: bytes,
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
) -> ProcessedHop:
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
    """
    check_profile(profile)
    context = htlc_context(
        amount_msat=incoming_amount_msat, incoming_cltv_expiry=incoming_cltv_expiry,
        cltv_expiry=cltv_expiry, current_block_height=current_block_height,
        min_final_cltv_expiry_delta=min_final_cltv_expiry_delta,
        expected_path_id=expected_path_id, known_features=known_features)
    if replay_log is not None and context.cltv_expiry is None:
        raise InvalidArgument("a replay log needs the HTLC's incoming_cltv_expiry",
                              field="incoming_cltv_expiry", reason="missing_cltv")
    return _process(packet, node_key, associated_data, path_key, context, profile,
                    payload_area, replay_log, batch_id)


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
        raise answer_error(exc, packet, in_blinded_route=path_key is not None,
                           introduction=intro, peeled=peeled) from None
    return hop


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
    route blinding or the final node's HTLC checks, and the recipient's own dummy hops."""
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


__all__ = ["ProcessedHop", "process_hop"]
