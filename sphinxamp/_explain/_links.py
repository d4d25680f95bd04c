"""The messages a traced payment puts on each link (BOLT 2 › Adding an HTLC; › Removing an
HTLC): the `update_add_htlc` every hop forwards, as `process_hop` answers it from the message
it received, then what comes back: `update_fail_htlc` / `update_fail_malformed_htlc` from the
hop that failed and each relaying hop's wrap, or `update_fulfill_htlc` from the recipient with
attribution data (BOLT 4 › Returning Errors: the fulfill carries the same TLV).

Link i carries the HTLC from hop i-1 (the origin for link 0) to hop i. The channels are the
trace's own: link i's `channel_id` is i + 1 as a 32-byte big-endian number, every HTLC id 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sphinxamp._hop import process_hop
from sphinxamp.errors import InvalidArgument
from sphinxamp.failures._attribution import create_attribution, wrap_attribution
from sphinxamp.failures._packet import failure_from_malformed, wrap_failure
from sphinxamp.messages._codec import (
    ONION_ROUTING_PACKET_SIZE,
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
    WireMessage,
    encode_message,
)

FORWARD, BACK = "forward", "back"


@dataclass(frozen=True, slots=True)
class LinkMessage:
    """One message on a link: `direction` is "forward" (toward the recipient) or "back"."""

    direction: str
    message: WireMessage

    @property
    def wire(self) -> bytes:
        return encode_message(self.message)


@dataclass(frozen=True, slots=True)
class TraceLink:
    """Link `index`: the update_add_htlc sent on it, then the answer that came back on it."""

    index: int
    messages: tuple[LinkMessage, ...]


@dataclass(frozen=True, slots=True)
class LinkRoute:
    """What the messages need of a traced route, hop by hop."""

    node_keys: tuple[bytes, ...]
    hold_times: tuple[int, ...]
    shared_secrets: tuple[bytes, ...]
    height: int
    payment_preimage: bytes | None


# One step of the way back as the trace records it: (hop_index, action, packet,
# attribution_data), action create, wrap or malformed (the packet is then sha256_of_onion).
Step = tuple[int, str, bytes, bytes | None]


def channel_id(link: int) -> bytes:
    return (link + 1).to_bytes(32, "big")


def first_message(onion: bytes, associated_data: bytes, amount_msat: int | None,
                  cltv_expiry: int | None) -> UpdateAddHtlc:
    """The origin's update_add_htlc: the payment onion, its associated data as
    payment_hash, the route's amount and expiry; `InvalidArgument` for a route no such
    message can carry."""
    if len(onion) != ONION_ROUTING_PACKET_SIZE:
        raise InvalidArgument(f"update_add_htlc carries a {ONION_ROUTING_PACKET_SIZE}-byte "
                              f"onion; this route's is {len(onion)}", field="payload_area",
                              reason="not_a_payment_onion")
    if len(associated_data) != 32:
        raise InvalidArgument("the associated data is update_add_htlc's payment_hash: 32 "
                              "bytes", field="associated_data", reason="wrong_length")
    if amount_msat is None or cltv_expiry is None:
        raise InvalidArgument("update_add_htlc needs the route's amount_msat and cltv_expiry",
                              field="amount_msat" if amount_msat is None else "cltv_expiry",
                              reason="missing_field")
    return UpdateAddHtlc(channel_id(0), 0, amount_msat, associated_data, cltv_expiry, onion)


def walk(route: LinkRoute, first: UpdateAddHtlc, hops: int
         ) -> tuple[list[UpdateAddHtlc], UpdateFailHtlc | UpdateFailMalformedHtlc | None]:
    """Hops 0 .. hops-1 each answer the update_add_htlc they receive: the messages sent on
    the links (the origin's first), and the answer of a hop that refused."""
    sent = [first]
    for i in range(hops):
        answer = process_hop(sent[i], route.node_keys[i], current_block_height=route.height,
                             next_channel_id=channel_id(i + 1), hold_time=route.hold_times[i])
        if answer.message is None:  # a recipient that accepted
            break
        if not isinstance(answer.message, UpdateAddHtlc):
            return sent, answer.message
        sent.append(answer.message)
    return sent, None


def steps_back(route: LinkRoute, reply: UpdateFailHtlc | UpdateFailMalformedHtlc, at: int
               ) -> list[Step]:
    """The way back from hop `at`'s refusal: its own answer, then, for a malformed one, the
    packet the hop upstream makes of it (BOLT 2 › Removing an HTLC), then every wrap."""
    secrets, holds = route.shared_secrets, route.hold_times
    if isinstance(reply, UpdateFailMalformedHtlc):
        steps: list[Step] = [(at, "malformed", reply.sha256_of_onion, None)]
        if at == 0:
            return steps
        at -= 1
        packet = failure_from_malformed(secrets[at], reply.sha256_of_onion, reply.failure_code)
        steps.append((at, "create", packet, None))
        data = None
    else:
        steps, packet, data = [(at, "create", reply.reason, reply.attribution_data)], \
            reply.reason, reply.attribution_data
    for j in range(at - 1, -1, -1):
        relayed = wrap_failure(secrets[j], packet, data, hold_time=holds[j])
        packet, data = relayed.packet, relayed.attribution_data
        steps.append((j, "wrap", packet, data))
    return steps


def _back(step: Step, code: int) -> LinkMessage:
    hop, action, packet, data = step
    if action == "malformed":
        return LinkMessage(BACK, UpdateFailMalformedHtlc(channel_id(hop), 0, packet, code))
    return LinkMessage(BACK, UpdateFailHtlc(channel_id(hop), 0, packet, data))


def fulfills(route: LinkRoute, final: int) -> list[LinkMessage]:
    """update_fulfill_htlc from the recipient (hop `final`) back to the origin, each with the
    attribution data of every hop so far (BOLT 4 › Returning Errors: on success the HMACs
    cover no packet)."""
    preimage = route.payment_preimage
    assert preimage is not None
    data = create_attribution(route.shared_secrets[final], route.hold_times[final])
    out = [LinkMessage(BACK, UpdateFulfillHtlc(channel_id(final), 0, preimage, data))]
    for j in range(final - 1, -1, -1):
        data = wrap_attribution(route.shared_secrets[j], route.hold_times[j], data)
        out.append(LinkMessage(BACK, UpdateFulfillHtlc(channel_id(j), 0, preimage, data)))
    return out


def check_preimage(preimage: bytes | None, payment_hash: bytes) -> None:
    if preimage is not None and hashlib.sha256(preimage).digest() != payment_hash:
        raise InvalidArgument("payment_preimage does not hash to the payment_hash (the "
                              "associated data)", field="payment_preimage",
                              reason="preimage_mismatch")


def assemble(count: int, sent: Sequence[UpdateAddHtlc], back: Sequence[LinkMessage]
             ) -> tuple[TraceLink, ...]:
    """Links 0 .. count-1: the forward on each, then whatever came back on it."""
    by_link: dict[int, list[LinkMessage]] = {i: [] for i in range(count)}
    for i, msg in enumerate(sent):
        by_link[i].append(LinkMessage(FORWARD, msg))
    for item in back:
        assert isinstance(item.message, UpdateFailHtlc | UpdateFailMalformedHtlc
                          | UpdateFulfillHtlc)
        by_link[int.from_bytes(item.message.channel_id, "big") - 1].append(item)
    return tuple(TraceLink(i, tuple(by_link[i])) for i in range(count))


def trace_links(route: LinkRoute, first: UpdateAddHtlc, reached: int, *,
                injected: Sequence[Step] = (), code: int = 0,
                accepted: bool = False) -> tuple[TraceLink, ...]:
    """The links of a trace whose HTLC reached hops 0 .. reached-1. `injected` is the way
    back of a failure the trace made hop `reached - 1` send (`code`, for a malformed step);
    otherwise a hop that refused answers as `process_hop` does, and an accepting recipient
    fulfills when the route names the preimage."""
    check_preimage(route.payment_preimage, first.payment_hash)
    if injected:
        sent, _ = walk(route, first, reached - 1)
        return assemble(reached, sent, [_back(s, code) for s in injected])
    sent, refusal = walk(route, first, reached)
    back: list[LinkMessage] = []
    if refusal is not None:
        reply_code = refusal.failure_code if isinstance(refusal, UpdateFailMalformedHtlc) else 0
        back = [_back(s, reply_code) for s in steps_back(route, refusal, reached - 1)]
    elif accepted and route.payment_preimage is not None:
        back = fulfills(route, reached - 1)
    return assemble(reached, sent[:reached], back)


__all__ = ["BACK", "FORWARD", "LinkMessage", "LinkRoute", "Step", "TraceLink", "channel_id",
           "first_message", "trace_links"]
