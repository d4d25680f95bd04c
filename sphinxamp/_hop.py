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

import hashlib
from dataclasses import dataclass
from typing import Any

from ._blinded_hop import blinded_payment_hop
from ._blinding import EncryptedData
from ._codes import BADONION, INVALID_ONION_BLINDING
from ._errors import (
    UPDATE_FAIL_HTLC,
    UPDATE_FAIL_MALFORMED_HTLC,
    DecodeError,
    InvalidArgument,
    InvalidOnionBlinding,
    SphinxampError,
)
from ._nodekey import NodeKey
from ._payload import CURRENT_PATH_KEY, HopPayload, Role, check_profile, decode_hop_payload
from ._replay import ReplayLog, check_and_record
from ._sphinx import PAYMENT_PAYLOAD_AREA, OnionPacket, PeeledHop, peel_onion
from ._tlv import iter_records


@dataclass(frozen=True, slots=True)
class ProcessedHop:
    """What a node makes of one incoming onion: the typed payload judged for its role, and
    what to forward (`next_packet`, None at the final hop)."""

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
    cltv_expiry: int | None = None,
    batch_id: bytes | None = None,
    payload_area: int | None = PAYMENT_PAYLOAD_AREA,
    profile: str = "bolt",
    incoming_amount_msat: int | None = None,
    incoming_cltv_expiry: int | None = None,
) -> ProcessedHop:
    """Process one incoming onion as the node holding `node_key` would.

    `path_key` is the one `update_add_htlc` carried; `replay_log` with the HTLC's
    `cltv_expiry` refuses an onion seen before and records this one (as part of the batch
    `batch_id`, whose answer a second commit repeats: see `ReplayLog`). A refusal raises the
    library's error with `failure_code` (the code on the wire), `failure_message` (the
    message that carries it), `sha256_of_onion` where the code's data needs it, and `cause`
    when the code was converted to invalid_onion_blinding.
    """
    _check_arguments(profile, replay_log, cltv_expiry, incoming_amount_msat,
                     incoming_cltv_expiry)
    peeled: PeeledHop | None = None
    introduction = False
    try:
        peeled = peel_onion(packet, node_key, associated_data, payload_area=payload_area,
                            path_key=path_key)
        if replay_log is not None:
            # Recorded once the HMAC verified: an onion nobody could have built is no replay.
            check_and_record(replay_log, peeled.shared_secret, cltv_expiry or 0, batch_id)
        payload, role = decode_hop_payload(
            peeled.payload, final=peeled.is_final, path_key_from_htlc=path_key is not None,
            base=peeled.payload_offset, profile=profile)
        introduction = path_key is None and payload.current_path_key is not None
        blinding: dict[str, Any] = {}
        if role.blinded:
            blinding = _blinded_fields(node_key, path_key or payload.current_path_key, payload,
                                       role, incoming_amount_msat, incoming_cltv_expiry,
                                       peeled.blinding_secret)
    except DecodeError as exc:  # what the wire sent; a caller's own bad value propagates as is
        # A refused payload that still shows current_path_key is the introduction node's.
        intro = peeled is not None and not peeled.is_final and path_key is None and (
            introduction or carries_path_key(peeled.payload))
        raise answer_error(exc, packet, in_blinded_route=path_key is not None,
                           introduction=intro, peeled=peeled) from None
    return ProcessedHop(
        payload, role, introduction, peeled.shared_secret, peeled.next_packet, peeled.payload,
        peeled.payload_offset, path_key or payload.current_path_key, **blinding)


def _check_arguments(profile: str, replay_log: ReplayLog | None, cltv_expiry: int | None,
                     amount_msat: int | None, incoming_cltv: int | None) -> None:
    check_profile(profile)
    if replay_log is not None and cltv_expiry is None:
        raise InvalidArgument("a replay log needs the HTLC's cltv_expiry", field="cltv_expiry",
                              reason="missing_cltv")
    # The HTLC's own fields, as update_add_htlc carries them (BOLT 2 › Adding an HTLC):
    # amount_msat is a u64, cltv_expiry a u32. A value no peer could send is the caller's
    # mistake, refused before it meets the payload's amounts.
    _check_wire_int(amount_msat, 64, "incoming_amount_msat")
    _check_wire_int(incoming_cltv, 32, "incoming_cltv_expiry")
    _check_wire_int(cltv_expiry, 32, "cltv_expiry")


def _check_wire_int(value: int | None, bits: int, field: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise InvalidArgument(f"{field} must be an integer 0 to 2^{bits} - 1 (a u{bits} on "
                              f"the wire), got {value!r}", field=field, reason="range")


def _blinded_fields(node_key: bytes | NodeKey, path_key: bytes | None, payload: HopPayload,
                    role: Role, amount: int | None, cltv: int | None,
                    blinding_secret: bytes | None) -> dict[str, Any]:
    """Route blinding at this hop: decrypt and check encrypted_recipient_data, derive the next
    path key and the forwarded amount and expiry (BOLT 4 › Route Blinding). The keyword
    arguments of `ProcessedHop` it fills. At the final hop the amount and expiry are the
    payload's own; at a forwarding hop they need the incoming HTLC's (else stay None).
    `blinding_secret` is the peel's ECDH with the HTLC's path_key, reused (None at an
    introduction node, whose path key comes from its payload)."""
    # The role rules have refused a blinded payload with a path key in neither place.
    assert path_key is not None
    hop = blinded_payment_hop(node_key, path_key, payload, final=role.final,
                              amount_msat=amount, cltv_expiry=cltv,
                              blinding_secret=blinding_secret)
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
    malformed = bool(code & BADONION) and not (introduction and code == INVALID_ONION_BLINDING)
    answer.failure_message = UPDATE_FAIL_MALFORMED_HTLC if malformed else UPDATE_FAIL_HTLC
    if code & BADONION and packet is not None:
        wire = packet.to_bytes() if isinstance(packet, OnionPacket) else bytes(packet)
        answer.sha256_of_onion = hashlib.sha256(wire).digest()
    return answer


__all__ = ["ProcessedHop", "process_hop"]
