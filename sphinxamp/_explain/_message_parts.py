"""What `update_add_htlc`, `update_fulfill_htlc` and `update_fail_htlc` carry, explained
where it sits in the message: the onion processed as the node would (`process_hop`, with the
amount, expiry, payment hash and path key the message gives), the failure `reason` as the
origin decrypts it and `attribution_data` as the origin verifies it (BOLT 4 › Returning
Errors). The kinds `failure` and `attribution` lay the bytes out from offset 0; here their
fields are moved to the offsets the bytes have in the message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sphinxamp._explain._failure import explain_attribution, explain_failure
from sphinxamp._explain._kinds import Keys
from sphinxamp._explain._tree import Explanation, Field
from sphinxamp._hop import process_hop
from sphinxamp.errors import DecodeError, SphinxampError
from sphinxamp.failures import HopAttribution, verify_attribution
from sphinxamp.failures._packet import decrypt_failure
from sphinxamp.messages._codec import UpdateAddHtlc, UpdateFailHtlc, UpdateFulfillHtlc


def _shift(fields: list[Field], by: int) -> list[Field]:
    for f in fields:
        f.offset += by
        _shift(f.children, by)
    return fields


def _nested(explainer: Callable[[bytes, Keys, Explanation], None], into: Field, keys: Keys,
            ex: Explanation) -> None:
    """Run a kind on `into`'s bytes and put its tree under `into`, at message offsets."""
    scratch = Explanation("nested", into.raw)
    explainer(into.raw, keys, scratch)
    ex.notes += scratch.notes
    if scratch.error is not None:
        ex.fail(replace(scratch.error, offset=scratch.error.offset + into.offset))
    if scratch.fields:
        top = scratch.fields[0]
        into.meaning = top.meaning
        into.children = _shift(top.children, into.offset)


def peel_note(msg: UpdateAddHtlc, keys: Keys, ex: Explanation) -> None:
    """The node's decision on the onion (BOLT 4 › Onion Decryption, › Payload Format
    requirements), in one note: where it forwards, or what it answers."""
    if keys.node_key is None:
        return
    try:
        hop = process_hop(msg.onion_routing_packet, keys.node_key, msg.payment_hash,
                          path_key=msg.path_key, incoming_amount_msat=msg.amount_msat,
                          incoming_cltv_expiry=msg.cltv_expiry)
    except SphinxampError as exc:
        if exc.field == "current_block_height":
            ex.notes.append("process_hop: a final hop; its expiry check needs the current "
                            "block height, which a message does not give")
            return
        code = "" if exc.failure_code is None else (
            f" with {exc.failure_name or 'code'} (0x{exc.failure_code:04x})")
        ex.notes.append(f"process_hop: the node refuses the HTLC{code}: {exc.message}")
        return
    payload = hop.payload
    if hop.next_packet is None:
        ex.notes.append(f"process_hop: {hop.role.value} hop, accepts "
                        f"{payload.amt_to_forward} msat at expiry {payload.outgoing_cltv_value}")
        return
    amount = hop.amt_to_forward if hop.amt_to_forward is not None else payload.amt_to_forward
    expiry = (hop.outgoing_cltv_value if hop.outgoing_cltv_value is not None
              else payload.outgoing_cltv_value)
    where = (f"channel {payload.short_channel_id}" if payload.short_channel_id is not None
             else "the next node of the blinded route")
    ex.notes.append(f"process_hop: {hop.role.value} hop, forwards {amount} msat at expiry "
                    f"{expiry} to {where}")


def explain_reason(field: Field, msg: UpdateFailHtlc, keys: Keys, ex: Explanation) -> None:
    """`reason`: the return packet, decrypted with the route's shared secrets (origin side),
    naming the erring hop."""
    if not keys.shared_secrets:
        field.meaning = "return packet, obfuscated by every hop's ammag stream"
        ex.notes.append("reason not decrypted: give the route's shared secrets (in route "
                        "order)")
        return
    _nested(explain_failure, field, keys, ex)
    got = decrypt_failure(msg.reason, keys.shared_secrets)
    if got.hop_index is None:
        ex.notes.append("failure: no hop's HMAC verifies with these shared secrets")
    elif got.message is not None:
        ex.notes.append(f"failure: hop {got.hop_index} (0 = first) failed the HTLC with "
                        f"{got.message.name or 'an unknown code'} "
                        f"(0x{got.message.code:04x})")


def _hop_fields(value: Field, hops: tuple[HopAttribution, ...]) -> list[Field]:
    return [Field(f"hop {h.hop_index}", value.offset, b"",
                  f"hold time {h.hold_time} × 100 ms = {h.hold_time_ms} ms, HMAC "
                  + ("verified" if h.hmac_ok else "does NOT verify"), h.hold_time_ms,
                  decrypted=True) for h in hops]


def explain_attribution_in(value: Field, msg: UpdateFailHtlc | UpdateFulfillHtlc, keys: Keys,
                           ex: Explanation) -> None:
    """TLV 1 `attribution_data`: its layout and, with the shared secrets, each hop's hold
    time and HMAC verdict (the first hop whose HMAC fails is to blame, or its upstream
    neighbour)."""
    _nested(explain_attribution, value, keys, ex)
    if not keys.shared_secrets:
        ex.notes.append("attribution_data not verified: give the route's shared secrets")
        return
    hops: tuple[HopAttribution, ...] | None
    try:
        if isinstance(msg, UpdateFailHtlc):
            got = decrypt_failure(msg.reason, keys.shared_secrets, value.raw)
            hops, problem = got.attribution, got.attribution_error
        else:
            hops, problem = verify_attribution(value.raw, keys.shared_secrets), None
    except DecodeError as exc:
        hops, problem = None, exc
    if hops is None:
        ex.notes.append("attribution_data not verified: "
                        + ("no verdict" if problem is None else problem.message))
        return
    value.children += _hop_fields(value, hops)
    bad = next((h.hop_index for h in hops if not h.hmac_ok), None)
    held = ", ".join(f"hop {h.hop_index} {h.hold_time_ms} ms" for h in hops)
    ex.notes.append("attribution_data verified for every hop checked" if bad is None else
                    f"attribution_data: hop {bad}'s HMAC does not verify (it or its "
                    "upstream neighbour is to blame)")
    ex.notes.append(f"hold times: {held}")


__all__ = ["explain_attribution_in", "explain_reason", "peel_note"]
