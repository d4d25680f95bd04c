"""A route's whole story (`trace`): build the onion, process it at every hop with
`process_hop`, optionally fail at hop K and carry the failure back (each hop's ammag layer and
attribution data), and read it at the origin (the erring hop, the message, hold times).

The route is a description (`RouteSpec`): every hop's private key and payload, optionally a
blinded suffix the recipient made. Nothing here prints or reads files: the CLI does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sphinxamp._codes import BADONION, FAILURE_CODES
from sphinxamp._explain._links import LinkRoute, TraceLink, first_message, trace_links
from sphinxamp._explain._trampoline_trace import Leg, TrampolineRoute, walk_trampoline
from sphinxamp._hop import ProcessedHop, process_hop
from sphinxamp._payload import HopPayload
from sphinxamp.blinding._path import EncryptedData, create_blinded_path
from sphinxamp.blinding._unblind import build_blinded_payment_onion
from sphinxamp.errors import InvalidArgument, SphinxampError
from sphinxamp.failures._message import FailureMessage, resolve_code
from sphinxamp.failures._packet import (
    DecryptedFailure,
    FailureReply,
    create_failure,
    decrypt_failure,
    failure_from_malformed,
    wrap_failure,
)
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, build_onion
from sphinxamp.primitives._crypto import public_key


@dataclass(frozen=True, slots=True)
class TraceHop:
    """One hop of the route: its private key, its payload (None inside the blinded suffix,
    where the sender writes it from the path) and the hold time it reports (100 ms units)."""

    node_key: bytes
    payload: bytes | None = None
    encrypted_data: EncryptedData | None = None
    hold_time: int = 0


@dataclass(frozen=True, slots=True)
class RouteSpec:
    session_key: bytes
    associated_data: bytes
    hops: tuple[TraceHop, ...]
    blinded: tuple[TraceHop, ...] = ()
    blinding_session_key: bytes | None = None
    amount_msat: int | None = None  # the HTLC the first hop receives
    cltv_expiry: int | None = None
    final_amount_msat: int | None = None  # what the blinded path's final hop is told
    final_cltv_expiry: int | None = None
    height: int = 0  # the block height a final node reports in its failure
    payload_area: int = PAYMENT_PAYLOAD_AREA
    # What the recipient reveals to settle: with it, a trace's messages end in
    # update_fulfill_htlc (sha256(payment_preimage) must be the associated data).
    payment_preimage: bytes | None = None
    # A trampoline payment: `hops` lead to the first trampoline node, and each trampoline
    # node pays the next (`_trampoline_trace`).
    trampoline: TrampolineRoute | None = None


@dataclass(frozen=True, slots=True)
class HopStory:
    """What hop `index` (0 = first) saw: the packet it got, its processing (or refusal), what
    it sends.

    A trace keeps one onion, not one per hop (an area of 65,469 bytes over 20 hops would be
    1.3 MB): `processed` is the hop's ProcessedHop without its `next_packet` (so read its
    `role`, not `is_final`), and what it passed on is told by `forwards` and
    `next_onion_sha256`."""

    index: int
    node_id: bytes
    onion_sha256: bytes
    path_key: bytes | None
    processed: ProcessedHop | None
    refusal: SphinxampError | None
    forwards: bool = False
    next_onion_sha256: bytes | None = None
    # Which payment onion the hop received: 0 the sender's, k the one trampoline node k-1
    # built (a trampoline payment only); `processed.trampoline` is its trampoline layer.
    leg: int = 0


@dataclass(frozen=True, slots=True)
class FailureStep:
    """One step of the way back: `action` is create, malformed (update_fail_malformed_htlc,
    turned into a packet by the hop upstream) or wrap."""

    hop_index: int
    action: str
    packet: bytes
    attribution_data: bytes | None


@dataclass(frozen=True, slots=True)
class Trace:
    onion: bytes
    shared_secrets: tuple[bytes, ...]
    hops: tuple[HopStory, ...]
    failure_code: int | None = None
    steps: tuple[FailureStep, ...] = ()
    origin: DecryptedFailure | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # With `trace_route(messages=True)`: the messages on every link the HTLC crossed.
    links: tuple[TraceLink, ...] = ()
    # A trampoline payment's payment onions, the sender's first.
    legs: tuple[Leg, ...] = ()


def _built(spec: RouteSpec) -> tuple[bytes, tuple[bytes, ...]]:
    prefix = [(public_key(h.node_key, f"hops[{i}].node_key"), h.payload or b"")
              for i, h in enumerate(spec.hops)]
    if not spec.blinded:
        built = build_onion(spec.session_key, prefix, spec.associated_data, spec.payload_area)
        return built.to_bytes(), built.shared_secrets
    if spec.blinding_session_key is None or spec.final_amount_msat is None \
            or spec.final_cltv_expiry is None:
        raise InvalidArgument("a blinded suffix needs its session_key, amount_msat and "
                              "cltv_expiry", field="blinded", reason="missing_field")
    path = create_blinded_path(spec.blinding_session_key, [
        (public_key(h.node_key, f"blinded.hops[{i}].node_key"), h.encrypted_data or b"")
        for i, h in enumerate(spec.blinded)])
    built = build_blinded_payment_onion(
        spec.session_key, spec.associated_data, path, amount_msat=spec.final_amount_msat,
        cltv_expiry=spec.final_cltv_expiry, prefix=prefix, payload_area=spec.payload_area)
    return built.to_bytes(), built.shared_secrets


def _walk(spec: RouteSpec, onion: bytes) -> list[HopStory]:
    """Every hop processes what the previous one forwarded, until one refuses or the last
    accepts."""
    stories: list[HopStory] = []
    packet: bytes | None = onion
    path_key: bytes | None = None
    amount, cltv = spec.amount_msat, spec.cltv_expiry
    for i, hop in enumerate((*spec.hops, *spec.blinded)):
        if packet is None:
            break
        node_id = public_key(hop.node_key)
        try:
            done = process_hop(packet, hop.node_key, spec.associated_data, path_key=path_key,
                               payload_area=spec.payload_area, incoming_amount_msat=amount,
                               incoming_cltv_expiry=cltv, current_block_height=spec.height)
        except SphinxampError as exc:
            stories.append(HopStory(i, node_id, hashlib.sha256(packet).digest(), path_key,
                                    None, exc))
            break
        digest = hashlib.sha256(packet).digest()
        packet = None if done.next_packet is None else done.next_packet.to_bytes()
        stories.append(HopStory(i, node_id, digest, path_key, replace(done, next_packet=None),
                                None, packet is not None,
                                None if packet is None else hashlib.sha256(packet).digest()))
        path_key = done.next_path_key
        amount = done.amt_to_forward if done.amt_to_forward is not None \
            else done.payload.amt_to_forward
        cltv = done.outgoing_cltv_value if done.outgoing_cltv_value is not None \
            else done.payload.outgoing_cltv_value
    return stories


def failure_fields(code: int, story: HopStory, height: int) -> dict[str, Any]:
    """The fixed fields of `code` as hop `story` fills them (the table says which)."""
    spec = FAILURE_CODES.get(code)
    payload: HopPayload | None = None if story.processed is None else story.processed.payload
    amount = (payload.amt_to_forward if payload is not None else None) or 0
    cltv = (payload.outgoing_cltv_value if payload is not None else None) or 0
    known = {"htlc_msat": amount, "height": height, "cltv_expiry": cltv,
             "incoming_htlc_amt": amount, "sha256_of_onion": story.onion_sha256,
             "type": 0, "offset": 0}
    names = [] if spec is None else [n for n, _ in spec.fields]
    return {n: known[n] for n in names if n in known}


def _fail(spec: RouteSpec, secrets: Sequence[bytes], stories: Sequence[HopStory], at: int,
          code: int) -> list[FailureStep]:
    """The erring hop's answer, then every hop's wrap on the way back to the origin."""
    holds = [h.hold_time for h in (*spec.hops, *spec.blinded)]
    story = stories[at]
    steps: list[FailureStep] = []
    if code & BADONION:
        if at == 0:
            raise InvalidArgument("a BADONION failure at the first hop goes to the origin in "
                                  "update_fail_malformed_htlc: nothing to trace back",
                                  field="fail_at", reason="range")
        steps.append(FailureStep(at, "malformed", story.onion_sha256, None))
        at -= 1
        # BOLT 2 › Removing an HTLC: the upstream node makes the failure packet itself; no
        # attribution data starts here (the erring node sent none).
        reply = FailureReply(failure_from_malformed(secrets[at], story.onion_sha256, code))
        steps.append(FailureStep(at, "create", reply.packet, None))
    else:
        message = FailureMessage.create(code, failure_fields(code, story, spec.height))
        reply = create_failure(secrets[at], message, hold_time=holds[at])
        steps.append(FailureStep(at, "create", reply.packet, reply.attribution_data))
    for j in range(at - 1, -1, -1):
        reply = wrap_failure(secrets[j], reply.packet, reply.attribution_data,
                             hold_time=holds[j])
        steps.append(FailureStep(j, "wrap", reply.packet, reply.attribution_data))
    return steps


def trace_route(spec: RouteSpec, *, fail_at: int | None = None,
                code: int | str | None = None, messages: bool = False) -> Trace:
    """The story of `spec`. With `fail_at` (0 = first hop) and `code`, that hop fails the
    HTLC instead of passing it on and the failure travels back to the origin. With
    `messages`, `links` holds the exact BOLT 2 messages on every link (see `_links`): the
    route must then be a payment onion with a 32-byte payment_hash, amount and expiry.
    A route with `trampoline` is told leg by leg (`_trampoline_trace`), without failures or
    messages."""
    if spec.trampoline is not None:
        return _trampoline_story(spec, fail_at, messages)
    trace = _story(spec, fail_at, code)
    if not messages:
        return trace
    # A route that names no HTLC: the origin sends what the first hop's payload forwards.
    head = trace.hops[0].processed
    payload = None if head is None else head.payload
    first = first_message(
        trace.onion, spec.associated_data,
        spec.amount_msat if payload is None or spec.amount_msat is not None
        else payload.amt_to_forward,
        spec.cltv_expiry if payload is None or spec.cltv_expiry is not None
        else payload.outgoing_cltv_value)
    route = LinkRoute(tuple(h.node_key for h in (*spec.hops, *spec.blinded)),
                      tuple(h.hold_time for h in (*spec.hops, *spec.blinded)),
                      trace.shared_secrets, spec.height, spec.payment_preimage)
    steps = [(s.hop_index, s.action, s.packet, s.attribution_data) for s in trace.steps]
    last = trace.hops[-1]
    accepted = last.processed is not None and last.processed.role.final
    links = trace_links(route, first, len(trace.hops), injected=steps,
                        code=trace.failure_code or 0, accepted=accepted and not steps)
    notes = trace.notes
    if accepted and not steps and spec.payment_preimage is None:
        notes += ("no payment_preimage in the route: the update_fulfill_htlc messages are "
                  "not shown",)
    return replace(trace, links=links, notes=notes)


def _story(spec: RouteSpec, fail_at: int | None, code: int | str | None) -> Trace:
    onion, secrets = _built(spec)
    stories = _walk(spec, onion)
    notes: list[str] = []
    total = len(spec.hops) + len(spec.blinded)
    if fail_at is None:
        return Trace(onion, secrets, tuple(stories))
    if not 0 <= fail_at < total:
        raise InvalidArgument(f"fail_at must be 0 to {total - 1}", field="fail_at",
                              reason="range")
    if fail_at >= len(stories):
        raise InvalidArgument(f"hop {fail_at} never receives the HTLC: hop {len(stories) - 1} "
                              "refused it", field="fail_at", reason="unreached")
    number = resolve_code(code if code is not None else "temporary_node_failure")
    stories = stories[: fail_at + 1]
    steps = _fail(spec, secrets, stories, fail_at, number)
    last = steps[-1]
    origin = decrypt_failure(last.packet, secrets, last.attribution_data)
    if fail_at >= len(spec.hops) and spec.blinded:
        notes.append("inside a blinded route a real node answers invalid_onion_blinding "
                     "whatever went wrong (BOLT 4 › Route Blinding)")
    return Trace(onion, secrets, tuple(stories), number, tuple(steps), origin, tuple(notes))


def _trampoline_story(spec: RouteSpec, fail_at: int | None, messages: bool) -> Trace:
    assert spec.trampoline is not None
    if fail_at is not None or messages or spec.blinded:
        raise InvalidArgument("a trampoline route is traced without --fail-at, --messages or "
                              "a blinded suffix", field="trampoline", reason="unsupported")
    onion, legs, steps = walk_trampoline(
        spec.trampoline, tuple((h.node_key, h.payload or b"") for h in spec.hops),
        spec.session_key, spec.associated_data, (spec.amount_msat, spec.cltv_expiry),
        spec.height)
    stories = tuple(HopStory(i, public_key(s.node_key), s.onion_sha256, None, s.processed,
                             s.refusal, s.next_onion_sha256 is not None, s.next_onion_sha256,
                             s.leg) for i, s in enumerate(steps))
    return Trace(onion, legs[0].shared_secrets, stories, legs=tuple(legs))


def parse_failure_code(value: str | int) -> int:
    """A code given by name or number (decimal or 0x hex)."""
    if isinstance(value, str) and not value.isidentifier():
        try:
            return resolve_code(int(value, 0))
        except ValueError:
            pass
    return resolve_code(value)


__all__ = ["FailureStep", "HopStory", "Leg", "RouteSpec", "Trace", "TraceHop",
           "TrampolineRoute", "failure_fields", "parse_failure_code", "trace_route"]
