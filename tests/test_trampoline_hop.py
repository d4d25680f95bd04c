"""Trampoline payments end to end through `process_hop`, in both formats: 1 to 3 trampoline
nodes, with and without a blinded path to the recipient, and the failure of any node carried
back to the origin, which names it.

The network is tests/trampoline_network.py: origin → B → T1 → X1 → … → Tn → Xn → R. The
values each node must see are computed there from the fee and expiry delta every trampoline
node charges, not read back from the library. The formats' rules come from the proposal
(lightning/bolts#836 › Trampoline Payments) and Eclair (PaymentOnion.scala, NodeRelay.*);
the proposal's own byte-exact vectors run in tests/test_trampoline_vectors.py.

The legacy format carries the recipient's blinded paths (outgoing_blinded_paths, 66102) but
no trampoline hop inside a blinded path: Eclair's NodeRelay payloads refuse
encrypted_recipient_data (PaymentOnion.scala, ForbiddenTlv(UInt64(10))), and so does this
profile (test_legacy_refuses_a_blinded_trampoline_hop).
"""

from __future__ import annotations

from typing import Any

import pytest

from sphinxamp import FailureMessage, create_failure, process_hop, public_key, wrap_failure
from sphinxamp.errors import (
    EncodeError,
    FinalIncorrectCltvExpiry,
    FinalIncorrectHtlcAmount,
    InvalidOnionPayload,
    InvalidTrampolinePayload,
    TrampolineFeeOrExpiryInsufficient,
)
from sphinxamp.failures import (
    create_trampoline_failure,
    decrypt_trampoline_failure,
    read_trampoline_failure,
    relay_trampoline_failure,
    trampoline_failure_from_error,
    trampoline_failure_message,
)
from sphinxamp.payments import (
    TrampolineCarrier,
    TrampolinePayload,
    build_trampoline_onion,
    build_trampoline_payment,
    check_trampoline_relay,
)
from tests.trampoline_network import (
    AD,
    AMOUNT,
    DELTA,
    FEE,
    FINAL_CLTV,
    HEIGHT,
    PATH_ID,
    SECRET,
    Run,
    key,
    pay,
)

FORMATS = ("trampoline", "trampoline-legacy")
# (blinded, blinded_hops): plain recipient; blinded paths handed to the last trampoline
# node; trampoline hops through the blinded path (proposal only).
SHAPES = [(False, False), (True, False), (True, True)]


def _cases() -> list[Any]:
    out: list[Any] = []
    for profile in FORMATS:
        for n in (1, 2, 3):
            for blinded, hops in SHAPES:
                if profile == "trampoline-legacy" and hops:
                    continue
                out.append(pytest.param(profile, n, blinded, hops,
                                        id=f"{profile}-{n}-{'hops' if hops else blinded}"))
    return out


def _area(profile: str, blinded: bool) -> str:
    # Blinded paths do not fit Eclair's former 400 bytes beyond one trampoline node: the
    # exact size, as Eclair and Electrum build it today.
    return "exact" if profile == "trampoline-legacy" and blinded else "format"


@pytest.mark.parametrize(("profile", "n", "blinded", "hops"), _cases())
def test_payment_reaches_the_recipient(profile: str, n: int, blinded: bool, hops: bool) -> None:
    run = pay(profile, n, blinded=blinded, blinded_hops=hops, area=_area(profile, blinded))
    for i, name in enumerate(run.trampolines):
        t = run.hops[name].trampoline
        assert t is not None and run.hops[name].is_final and t.profile == profile
        still = n - 1 - i
        # What the origin told this node to send on, and what it was paid for it.
        if blinded and i == n - 1:
            assert t.action == ("forward" if hops else "pay_blinded_paths")
            assert (t.amt_to_forward, t.outgoing_cltv_value) == (
                (AMOUNT, FINAL_CLTV + DELTA) if hops else (AMOUNT, FINAL_CLTV))
        else:
            assert t.action == "forward"
            assert (t.amt_to_forward, t.outgoing_cltv_value) == (
                AMOUNT + FEE * still, FINAL_CLTV + DELTA * still)
        if i == 0:
            assert t.incoming_amount_msat == AMOUNT + FEE * n
        assert t.incoming_amount_msat - t.amt_to_forward == FEE
        if t.action == "forward":
            nxt = run.trampolines[i + 1] if i + 1 < n else ("I" if hops else "R")
            assert t.next_node_id == public_key(key(nxt)) and t.next_packet is not None
    recipient = run.hops["R"]
    if blinded and not hops:  # a plain blinded payment from the last trampoline node
        assert recipient.trampoline is None and recipient.role.value == "blinded-final"
        assert recipient.encrypted_data is not None
        assert recipient.encrypted_data.path_id == PATH_ID
        assert recipient.payload.amt_to_forward == AMOUNT
        return
    t = recipient.trampoline
    assert t is not None and t.action == "receive" and t.is_final
    assert (t.amt_to_forward, t.outgoing_cltv_value) == (AMOUNT, FINAL_CLTV)
    if hops:
        assert t.encrypted_data is not None and t.encrypted_data.path_id == PATH_ID
        intro = run.hops["I"].trampoline
        assert intro is not None and intro.introduction_node and intro.next_path_key
        assert not t.introduction_node and t.path_key == intro.next_path_key
    else:
        assert t.payload.payment_data is not None
        assert t.payload.payment_data.payment_secret == SECRET


# --- failures back to the origin -----------------------------------------------------------


def _back(run: Run, packet: bytes, start: str) -> bytes:
    """Carry a failure from node `start` back to the origin, each node doing its part: a
    plain node wraps, a trampoline node relays (strips its own route, then wraps or replaces)."""
    order = ["B"]
    for i, name in enumerate(run.trampolines):
        order += [name, f"X{i + 1}"]
    order = order[: order.index(start)] if start in order else order
    for name in reversed(order):
        hop = run.hops[name]
        t = hop.trampoline
        if t is None:
            packet = wrap_failure(hop.shared_secret, packet, attribution=False).packet
        else:
            packet = relay_trampoline_failure(packet, run.legs[name], t.shared_secret,
                                              hop.shared_secret, profile=run.profile).packet
    return packet


def _origin(run: Run, packet: bytes) -> tuple[str | None, str | None]:
    nodes = [public_key(key(n)) for n in run.trampoline_nodes]
    failure = decrypt_trampoline_failure(
        packet, run.outer_secrets, run.trampoline_secrets,
        outer_nodes=[public_key(key("B")), public_key(key("T1"))], trampoline_nodes=nodes)
    by_id = {public_key(key(n)): n for n in ["B", *run.trampoline_nodes]}
    return (None if failure.node_id is None else by_id[failure.node_id]), failure.name


@pytest.mark.parametrize("n", [1, 2, 3])
def test_recipient_failure_is_named_through_every_trampoline(n: int) -> None:
    """The proposal: the recipient's failure is wrapped with its trampoline secret and its
    outer one; each trampoline node wraps it twice more; the origin names R."""
    run = pay("trampoline", n)
    r = run.hops["R"]
    assert r.trampoline is not None
    message = FailureMessage.create("incorrect_or_unknown_payment_details",
                                    {"htlc_msat": AMOUNT, "height": HEIGHT})
    packet = create_trampoline_failure(r.trampoline.shared_secret, r.shared_secret, message)
    assert _origin(run, _back(run, packet, "R")) == ("R", "incorrect_or_unknown_payment_details")


@pytest.mark.parametrize("n", [2, 3])
def test_intermediate_trampoline_failure_is_named(n: int) -> None:
    run = pay("trampoline", n)
    failing = run.trampolines[-1]
    hop = run.hops[failing]
    assert hop.trampoline is not None
    packet = create_trampoline_failure(
        hop.trampoline.shared_secret, hop.shared_secret,
        trampoline_failure_message("trampoline_fee_or_expiry_insufficient", fee_base_msat=2000,
                                   fee_proportional_millionths=10, cltv_expiry_delta=144))
    named, name = _origin(run, _back(run, packet, failing))
    assert (named, name) == (failing, "trampoline_fee_or_expiry_insufficient")


def test_a_plain_node_between_trampolines_is_answered_by_the_trampoline_before_it() -> None:
    """X1 (T1's own route) fails: T1 can read it, and answers the origin with its own
    temporary_trampoline_failure (the proposal: "they may replace it with their own error")."""
    run = pay("trampoline", 2)
    x1 = run.hops["X1"]
    packet = create_failure(x1.shared_secret, FailureMessage.create("temporary_node_failure"),
                            attribution=False).packet
    relayed = relay_trampoline_failure(packet, run.legs["T1"],
                                       run.hops["T1"].trampoline.shared_secret,  # type: ignore[union-attr]
                                       run.hops["T1"].shared_secret)
    assert relayed.replaced and relayed.downstream.hop_index == 0
    packet = wrap_failure(run.hops["B"].shared_secret, relayed.packet, attribution=False).packet
    named, name = _origin(run, packet)
    assert (named, name) == ("T1", "temporary_trampoline_failure")
    assert read_trampoline_failure(trampoline_failure_message("temporary_trampoline_failure")) \
        == ("temporary_trampoline_failure", {})


def test_an_outer_hop_failure_is_named_as_one() -> None:
    run = pay("trampoline", 1)
    b = run.hops["B"]
    packet = create_failure(b.shared_secret, FailureMessage.create("temporary_node_failure"),
                            attribution=False).packet
    failure = decrypt_trampoline_failure(packet, run.outer_secrets, run.trampoline_secrets)
    assert (failure.layer, failure.index, failure.name) == ("outer", 0, "temporary_node_failure")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_legacy_failures_are_for_the_previous_trampoline(n: int) -> None:
    """Eclair wraps a trampoline node's failure with its outer secret only
    (PaymentPacket.scala, buildHtlcFailure); each trampoline node before it reads it and
    answers with its own: the origin names T1, as the last hop of its own route."""
    run = pay("trampoline-legacy", n)
    r = run.hops["R"]
    assert r.trampoline is not None
    message = FailureMessage.create("incorrect_or_unknown_payment_details",
                                    {"htlc_msat": AMOUNT, "height": HEIGHT})
    packet = create_trampoline_failure(r.trampoline.shared_secret, r.shared_secret, message,
                                       profile="trampoline-legacy")
    failure = decrypt_trampoline_failure(_back(run, packet, "R"), run.outer_secrets,
                                         run.trampoline_secrets)
    assert (failure.layer, failure.index) == ("outer", 1)
    assert failure.name == "temporary_trampoline_failure"


# --- refusals --------------------------------------------------------------------------------


def test_legacy_refuses_a_blinded_trampoline_hop() -> None:
    payload = TrampolinePayload("trampoline-legacy", encrypted_recipient_data=bytes(40))
    hops = [(public_key(key("T1")), payload),
            (public_key(key("R")), TrampolinePayload("trampoline-legacy", AMOUNT, FINAL_CLTV))]
    payment = build_trampoline_payment(
        bytes([0x41]) * 32, [], hops, AD, TrampolineCarrier(AMOUNT, FINAL_CLTV),
        profile="trampoline-legacy")
    with pytest.raises(InvalidTrampolinePayload) as info:
        process_hop(payment.to_bytes(), key("T1"), AD, profile="trampoline-legacy",
                    incoming_amount_msat=AMOUNT, incoming_cltv_expiry=FINAL_CLTV,
                    current_block_height=HEIGHT)
    assert (info.value.tlv_type, info.value.reason) == (10, "record_included")
    assert info.value.failure_code == 0x4016


def test_legacy_400_bytes_cannot_hold_blinded_paths_after_two_trampolines() -> None:
    with pytest.raises(EncodeError):
        pay("trampoline-legacy", 2, blinded=True)


def test_the_recipient_refuses_an_outer_onion_below_the_trampoline_values() -> None:
    """The proposal's final node (LDK check_trampoline_payment_constraints): the outer expiry
    below the trampoline onion's is final_incorrect_cltv_expiry, the outer amount below its
    amt_to_forward final_incorrect_htlc_amount."""
    node = public_key(key("R"))
    for carrier, error in ((TrampolineCarrier(AMOUNT, FINAL_CLTV - 1), FinalIncorrectCltvExpiry),
                           (TrampolineCarrier(AMOUNT - 1, FINAL_CLTV), FinalIncorrectHtlcAmount)):
        payment = build_trampoline_payment(
            bytes([0x41]) * 32, [], [(node, TrampolinePayload(
                "trampoline", AMOUNT, FINAL_CLTV))], AD, carrier)
        with pytest.raises(error):
            process_hop(payment.to_bytes(), key("R"), AD, profile="trampoline",
                        incoming_amount_msat=carrier.amt_to_forward,
                        incoming_cltv_expiry=carrier.outgoing_cltv_value,
                        current_block_height=HEIGHT)


def test_bolt_profile_refuses_the_trampoline_record_and_bolt_is_untouched() -> None:
    """Profile "bolt" keeps BOLT 1's rule: type 20 is an unknown even type there."""
    node = public_key(key("R"))
    inner = build_trampoline_onion(bytes([0x43]) * 32, [(node, TrampolinePayload(
        "trampoline", AMOUNT, FINAL_CLTV))], AD)
    payment = build_trampoline_payment(
        bytes([0x41]) * 32, [], [(node, TrampolinePayload("trampoline", AMOUNT, FINAL_CLTV))],
        AD, TrampolineCarrier(AMOUNT, FINAL_CLTV))
    assert len(inner.to_bytes()) == len(payment.trampoline.to_bytes())
    with pytest.raises(InvalidOnionPayload) as info:
        process_hop(payment.to_bytes(), key("R"), AD, incoming_amount_msat=AMOUNT,
                    incoming_cltv_expiry=FINAL_CLTV, current_block_height=HEIGHT)
    assert (info.value.tlv_type, info.value.reason) == (20, "unknown_even_type")


def test_a_fee_policy_refusal_reaches_the_origin_with_the_policy() -> None:
    """T2 asks more than FEE: trampoline_fee_or_expiry_insufficient with its policy as the
    message's data (the proposal › Failure Messages, NODE|26), wrapped twice, named T2."""
    run = pay("trampoline", 2)
    hop = run.hops["T2"]
    t = hop.trampoline
    assert t is not None
    check_trampoline_relay(t, fee_base_msat=FEE, fee_proportional_millionths=0,
                           cltv_expiry_delta=DELTA)  # what it was paid: accepted
    with pytest.raises(TrampolineFeeOrExpiryInsufficient) as info:
        check_trampoline_relay(t, fee_base_msat=FEE + 1, fee_proportional_millionths=0,
                               cltv_expiry_delta=DELTA)
    assert info.value.failure_code == 0x201A and info.value.reason == "fee_insufficient"
    with pytest.raises(TrampolineFeeOrExpiryInsufficient) as late:
        check_trampoline_relay(t, fee_base_msat=0, fee_proportional_millionths=0,
                               cltv_expiry_delta=DELTA + 1)
    assert late.value.reason == "expiry_delta_insufficient"
    message = trampoline_failure_from_error(info.value)
    packet = create_trampoline_failure(t.shared_secret, hop.shared_secret, message)
    failure = decrypt_trampoline_failure(_back(run, packet, "T2"), run.outer_secrets,
                                         run.trampoline_secrets)
    assert (failure.layer, failure.index, failure.name) == ("trampoline", 1,
                                                            "trampoline_fee_or_expiry_insufficient")
    assert failure.message is not None
    assert read_trampoline_failure(failure.message) == (
        "trampoline_fee_or_expiry_insufficient",
        {"fee_base_msat": FEE + 1, "fee_proportional_millionths": 0, "cltv_expiry_delta": DELTA})
