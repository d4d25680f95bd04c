"""Hop processing from the whole `update_add_htlc` (BOLT 2 › Adding an HTLC; › Removing an
HTLC): the HTLC's `amount_msat`, `cltv_expiry`, `payment_hash` (the onion's associated data,
BOLT 4 › Packet Structure) and `path_key` (TLV 0 `blinded_path`) come from the message, and the
answer is the message the node sends next: the `update_add_htlc` it forwards, the
`update_fail_htlc` or `update_fail_malformed_htlc` it answers a refusal with, or nothing at a
final hop that accepted (it settles or fails the HTLC later, on its own terms).

The decision is `process_hop`'s on the bare onion; this module only reads the context from
the message and writes the answer, so the codes are the same on both paths.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sphinxamp._codes import BADONION, FAILURE_CODES
from sphinxamp._processed_hop import ProcessedHop
from sphinxamp.errors import UPDATE_FAIL_MALFORMED_HTLC, InvalidArgument, SphinxampError
from sphinxamp.failures._message import FailureMessage
from sphinxamp.failures._packet import create_failure
from sphinxamp.messages._codec import UpdateAddHtlc, UpdateFailHtlc, UpdateFailMalformedHtlc

# The outgoing channel and the id of the HTLC on it are the forwarding node's own state, which
# no onion tells: by default 32 zero bytes and 0, for the node to set before it sends.
DEFAULT_NEXT_CHANNEL_ID = bytes(32)
DEFAULT_NEXT_HTLC_ID = 0
# What `process_hop` reads from the message itself: passing it as well is the caller's error.
MESSAGE_CONTEXT = ("associated_data", "incoming_amount_msat", "incoming_cltv_expiry",
                   "path_key", "cltv_expiry")
# bLIP 4 › Specification: the 3 least significant bits of `accountable` carry the signal.
_ACCOUNTABLE, _UNACCOUNTABLE, _SIGNAL_BITS = 7, 0, 0b111

HtlcMessage = UpdateAddHtlc | UpdateFailHtlc | UpdateFailMalformedHtlc


@dataclass(frozen=True, slots=True)
class HtlcAnswer:
    """What a node sends for one incoming `update_add_htlc`, and what it made of the onion.

    `message` is the `update_add_htlc` to the next hop, the `update_fail_htlc` or
    `update_fail_malformed_htlc` back to the previous one (same `channel_id` and `id` as the
    incoming message), or None at a final hop that accepted. `hop` is the `ProcessedHop`
    (None after a refusal), `error` the typed refusal (None when accepted)."""

    message: HtlcMessage | None
    hop: ProcessedHop | None
    error: SphinxampError | None

    @property
    def accepted(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class AnswerOptions:
    """How the answer is written: the outgoing channel and HTLC id of a forward, and whether
    a failure carries attribution data with this hop's hold time (100 ms units)."""

    next_channel_id: bytes = DEFAULT_NEXT_CHANNEL_ID
    next_htlc_id: int = DEFAULT_NEXT_HTLC_ID
    attribution: bool = True
    hold_time: int = 0


def refuse_message_context(given: Mapping[str, object]) -> None:
    """`InvalidArgument` when a value the message carries was passed beside it."""
    named = [name for name in MESSAGE_CONTEXT if given.get(name) is not None]
    if named:
        raise InvalidArgument(f"{', '.join(named)}: read from the update_add_htlc itself; "
                              "pass the message alone", field=named[0],
                              reason="context_from_message")


def _uint(name: str, value: object, bits: int, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << bits:
        raise InvalidArgument(f"{name} must be a u{bits}, got {value!r}", field=name,
                              reason="out_of_range")
    return value


def answer_options(*, with_message: bool, next_channel_id: object, next_htlc_id: object,
                   attribution: object, hold_time: object) -> AnswerOptions:
    """The options checked: they shape a message, so only a message call takes them."""
    given = {"next_channel_id": next_channel_id, "next_htlc_id": next_htlc_id,
             "attribution": attribution, "hold_time": hold_time}
    named = [name for name, value in given.items() if value is not None]
    if not with_message and named:
        raise InvalidArgument(f"{named[0]} shapes the answer message: it needs an "
                              "update_add_htlc, not a bare onion", field=named[0],
                              reason="needs_message")
    if next_channel_id is not None and (not isinstance(next_channel_id, bytes)
                                        or len(next_channel_id) != 32):
        raise InvalidArgument("next_channel_id must be 32 bytes", field="next_channel_id",
                              reason="wrong_length")
    if attribution is not None and not isinstance(attribution, bool):
        raise InvalidArgument("attribution must be True or False", field="attribution",
                              reason="not_bool")
    return AnswerOptions(
        DEFAULT_NEXT_CHANNEL_ID if next_channel_id is None else next_channel_id,
        _uint("next_htlc_id", next_htlc_id, 64, DEFAULT_NEXT_HTLC_ID),
        attribution is not False, _uint("hold_time", hold_time, 32, 0))


def forwarded_accountable(incoming: int | None) -> int | None:
    """bLIP 4 › Requirements: an HTLC that arrived accountable goes out accountable; any other
    value counts as unaccountable and goes out as 0. An HTLC that arrived without the record
    goes out without it (nothing was signalled to relay)."""
    if incoming is None:
        return None
    return _ACCOUNTABLE if incoming & _SIGNAL_BITS == _ACCOUNTABLE else _UNACCOUNTABLE


def accepted(msg: UpdateAddHtlc, hop: ProcessedHop, options: AnswerOptions) -> HtlcAnswer:
    """The forward of an accepted hop, or no message at the final hop. Inside a blinded route
    the amount and expiry are payment_relay's and the next hop gets the next path key as TLV
    0 (BOLT 4 › Route Blinding); elsewhere they are the payload's."""
    if hop.next_packet is None:
        return HtlcAnswer(None, hop, None)
    amount = hop.amt_to_forward if hop.amt_to_forward is not None \
        else hop.payload.amt_to_forward
    cltv = hop.outgoing_cltv_value if hop.outgoing_cltv_value is not None \
        else hop.payload.outgoing_cltv_value
    # BOLT 4 › `payload` Requirements: a forwarding payload outside a blinded route without
    # both is refused before this point, and a blinded hop derives both.
    assert amount is not None and cltv is not None
    forward = UpdateAddHtlc(
        options.next_channel_id, options.next_htlc_id, amount, msg.payment_hash, cltv,
        hop.next_packet.to_bytes(), hop.next_path_key, forwarded_accountable(msg.accountable))
    return HtlcAnswer(forward, hop, None)


def _failure_fields(code: int, msg: UpdateAddHtlc,
                    current_block_height: int | None) -> dict[str, Any]:
    """BOLT 4 › Failure Messages: the fixed fields of `code` the incoming HTLC fills (the
    error supplies invalid_onion_payload's type and offset and sha256_of_onion itself)."""
    spec = FAILURE_CODES.get(code)
    known: dict[str, Any] = {"htlc_msat": msg.amount_msat, "cltv_expiry": msg.cltv_expiry,
                             "incoming_htlc_amt": msg.amount_msat,
                             "height": current_block_height or 0}
    names = () if spec is None else [name for name, _ in spec.fields]
    return {name: known[name] for name in names if name in known}


def refused(msg: UpdateAddHtlc, error: SphinxampError, options: AnswerOptions,
            current_block_height: int | None) -> HtlcAnswer:
    """The message answering a refusal (BOLT 2 › Removing an HTLC): the message hop
    processing chose (`failure_message`; a BADONION code it did not route through that choice
    goes back malformed), with the HTLC's own `channel_id` and `id`."""
    code = error.failure_code
    assert code is not None  # the caller answers only errors that carry a code
    malformed = error.failure_message == UPDATE_FAIL_MALFORMED_HTLC or (
        error.failure_message is None and bool(code & BADONION))
    if malformed:
        sha = error.sha256_of_onion or hashlib.sha256(msg.onion_routing_packet).digest()
        return HtlcAnswer(UpdateFailMalformedHtlc(msg.channel_id, msg.id, sha, code), None,
                          error)
    peeled = error.peeled
    if peeled is None:  # no shared secret to encrypt with: only a BADONION refusal lacks one
        raise error
    message = FailureMessage.from_error(error, **_failure_fields(code, msg, current_block_height))
    reply = create_failure(peeled.shared_secret, message, hold_time=options.hold_time,
                           attribution=options.attribution)
    return HtlcAnswer(UpdateFailHtlc(msg.channel_id, msg.id, reply.packet,
                                     reply.attribution_data), None, error)


__all__ = ["DEFAULT_NEXT_CHANNEL_ID", "DEFAULT_NEXT_HTLC_ID", "AnswerOptions", "HtlcAnswer",
           "HtlcMessage", "accepted", "answer_options", "forwarded_accountable",
           "refuse_message_context", "refused"]
