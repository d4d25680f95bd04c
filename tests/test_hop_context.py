"""process_hop with the HTLC's context (BOLT 4 › `payload` format › Requirements, the reader;
› Route Blinding; › Failure Messages; BOLT 2 › Removing an HTLC): the context a decision needs
is required, the final node checks the HTLC against its payload and the block height, a
recipient states the path_id and the features it knows, and peels its own dummy hops.

The blinded routes are built from the BOLT text with coincurve and cryptography directly
(tests/blinded_route.py), not with the library's own route blinding.
"""

from __future__ import annotations

import hashlib

import pytest
from coincurve import PrivateKey as CcKey

from sphinxamp import Role, build_onion, process_hop
from sphinxamp.errors import (
    InvalidArgument,
    InvalidOnionBlinding,
    InvalidOnionPayload,
    SphinxampError,
)
from sphinxamp.onion import MemoryReplayLog
from sphinxamp.primitives import PrivateNodeKey
from tests.blinded_route import BlindedHopSpec, blinded_route_onion, blinded_tlv

AD = bytes([0x42]) * 32
SESSION = bytes([0x41]) * 32
PATH_SESSION = bytes([0x36]) * 32
KEYS = [bytes([i]) * 32 for i in range(0x71, 0x71 + 4)]
PUBS = [CcKey(k).public_key.format() for k in KEYS]
SCID = bytes.fromhex("06 08 0000010000020003")
# amt_to_forward 1000, outgoing_cltv_value 400.
CLEAR = bytes.fromhex("020203e8 04020190")
# The blinded final payload: amt_to_forward 1000, outgoing_cltv_value 400, total 1_000_000.
BLINDED_FINAL = bytes.fromhex("020203e8 04020190 1203 0f4240")
HEIGHT = 382  # 400 = HEIGHT + 18, the BOLT 11 default min_final_cltv_expiry_delta
OK = {"incoming_amount_msat": 1000, "incoming_cltv_expiry": 400, "current_block_height": HEIGHT}
PATH_ID = b"\x77" * 32


def relay_data(next_hop: tuple[int, bytes], *, max_cltv: int = 1_000_000) -> bytes:
    """A forwarding hop's encrypted_data_tlv: the next hop (2 scid or 4 next_node_id),
    payment_relay (cltv delta 144, 100 ppm, base 1000) and payment_constraints."""
    return blinded_tlv({
        next_hop[0]: next_hop[1],
        10: (144).to_bytes(2, "big") + (100).to_bytes(4, "big") + (1000).to_bytes(2, "big"),
        12: max_cltv.to_bytes(4, "big") + b"\x01",
    })


def final_data(**extra: bytes) -> bytes:
    records = {6: PATH_ID}
    records.update({int(k[1:]): v for k, v in extra.items()})
    return blinded_tlv(records)


def blinded_final_hop(data: bytes) -> tuple[bytes, bytes]:
    """A path_key-carrying final hop (the introduction node is someone else)."""
    onion, keys = blinded_route_onion(SESSION, [], [BlindedHopSpec(KEYS[0], BLINDED_FINAL,
                                                                   data)],
                                      PATH_SESSION, first_is_introduction=False)
    return onion, keys[0]


# --- spec disagreement 1: a one-hop blinded path answers in update_fail_htlc ---------------


@pytest.mark.parametrize("why", ["undecryptable", "cltv_below_outgoing"])
def test_one_hop_blinded_path_fails_in_update_fail_htlc(why: str) -> None:
    """BOLT 2 › Removing an HTLC: update_fail_malformed_htlc is for a node that got path_key
    in update_add_htlc; the recipient of a one-hop blinded path got none (its payload held
    current_path_key), so it answers in update_fail_htlc (with attribution data where
    supported: BOLT 2, `option_attribution_data`, path_key not set)."""
    if why == "undecryptable":
        # Record 10 of 18 bytes that no rho authenticates.
        spec = BlindedHopSpec(KEYS[0], BLINDED_FINAL + bytes.fromhex("0a12") + bytes(18), None)
        context = OK
    else:
        spec = BlindedHopSpec(KEYS[0], BLINDED_FINAL, final_data())
        context = {**OK, "incoming_cltv_expiry": 399, "current_block_height": HEIGHT - 1}
    onion, _ = blinded_route_onion(SESSION, [], [spec], PATH_SESSION)
    with pytest.raises(SphinxampError) as info:
        process_hop(onion, KEYS[0], AD, **context)  # type: ignore[call-overload]
    err = info.value
    assert err.failure_code == 0xC018
    assert err.failure_message == "update_fail_htlc"
    assert err.sha256_of_onion == hashlib.sha256(onion).digest()


def test_a_path_key_carrying_hop_still_fails_malformed() -> None:
    onion, path_key = blinded_final_hop(final_data())
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(onion, KEYS[0], AD, path_key=path_key,  # type: ignore[call-overload]
                    **{**OK, "incoming_cltv_expiry": 399})
    assert info.value.failure_message == "update_fail_malformed_htlc"


# --- the context is required where a decision depends on it --------------------------------


@pytest.mark.parametrize("missing", ["incoming_amount_msat", "incoming_cltv_expiry"])
def test_blinded_hop_without_the_htlc_amount_or_expiry_is_a_caller_error(missing: str) -> None:
    """BOLT 4 › `payload` Requirements: payment_constraints and payment_relay are judged
    against the incoming HTLC's amount and expiry; without them nothing can be decided."""
    onion, keys = blinded_route_onion(
        SESSION, [], [BlindedHopSpec(KEYS[0], b"", relay_data((2, SCID[2:]), max_cltv=500)),
                      BlindedHopSpec(KEYS[1], BLINDED_FINAL, final_data())],
        PATH_SESSION, first_is_introduction=False)
    context = {"incoming_amount_msat": 5000, "incoming_cltv_expiry": 600}
    del context[missing]
    log = MemoryReplayLog()
    with pytest.raises(InvalidArgument) as info:
        process_hop(onion, KEYS[0], AD, path_key=keys[0], **context)  # type: ignore[call-overload]
    assert info.value.field == missing and missing in info.value.message
    # Refused before the replay log recorded anything: the retry with the context is no
    # replay, and its expiry 600 is above max_cltv_expiry 500.
    if missing == "incoming_amount_msat":
        with pytest.raises(InvalidArgument):
            process_hop(onion, KEYS[0], AD, path_key=keys[0], replay_log=log, **context)  # type: ignore[call-overload]
        assert len(log) == 0
    with pytest.raises(InvalidOnionBlinding) as refused:
        process_hop(onion, KEYS[0], AD, path_key=keys[0], replay_log=log,
                    incoming_amount_msat=5000, incoming_cltv_expiry=600)
    assert refused.value.cause is not None
    assert refused.value.cause.reason == "expiry_above_maximum"


def test_cltv_expiry_is_a_deprecated_alias_that_still_checks() -> None:
    """`cltv_expiry=` (the replay log's old keyword) is the same HTLC field: the constraints
    are checked with it, and a DeprecationWarning names the new keyword."""
    onion, keys = blinded_route_onion(
        SESSION, [], [BlindedHopSpec(KEYS[0], b"", relay_data((2, SCID[2:]), max_cltv=500)),
                      BlindedHopSpec(KEYS[1], BLINDED_FINAL, final_data())],
        PATH_SESSION, first_is_introduction=False)
    with pytest.warns(DeprecationWarning, match="incoming_cltv_expiry"), \
            pytest.raises(InvalidOnionBlinding) as info:
        process_hop(onion, KEYS[0], AD, path_key=keys[0], incoming_amount_msat=5000,
                    cltv_expiry=600, replay_log=MemoryReplayLog())
    assert info.value.cause is not None and info.value.cause.reason == "expiry_above_maximum"
    with pytest.warns(DeprecationWarning), pytest.raises(InvalidArgument) as both:
        process_hop(onion, KEYS[0], AD, path_key=keys[0], incoming_amount_msat=5000,
                    cltv_expiry=600, incoming_cltv_expiry=601)
    assert both.value.field == "cltv_expiry"


@pytest.mark.parametrize("missing", ["incoming_amount_msat", "incoming_cltv_expiry",
                                     "current_block_height"])
def test_final_hop_needs_amount_expiry_and_height(missing: str) -> None:
    onion = build_onion(SESSION, [(PUBS[0], CLEAR)], AD).to_bytes()
    context = dict(OK)
    del context[missing]
    with pytest.raises(InvalidArgument) as info:
        process_hop(onion, KEYS[0], AD, **context)  # type: ignore[call-overload]
    assert info.value.field == missing


def test_forwarding_hop_outside_a_blinded_route_needs_no_context() -> None:
    onion = build_onion(SESSION, [(PUBS[0], CLEAR + SCID), (PUBS[1], CLEAR)], AD).to_bytes()
    assert process_hop(onion, KEYS[0], AD).role is Role.INTERMEDIATE


@pytest.mark.parametrize("name", ["incoming_amount_msat", "incoming_cltv_expiry",
                                  "current_block_height"])
@pytest.mark.parametrize("bad", [-1, 2**64, True, "1000"])
def test_context_values_out_of_range_are_caller_errors(name: str, bad: object) -> None:
    onion = build_onion(SESSION, [(PUBS[0], CLEAR)], AD).to_bytes()
    with pytest.raises(InvalidArgument) as info:
        process_hop(onion, KEYS[0], AD, **{**OK, name: bad})  # type: ignore[call-overload]
    assert info.value.field == name


# --- the final node (BOLT 4 › `payload` Requirements; › Failure Messages) ------------------


@pytest.mark.parametrize(("change", "code", "reason"), [
    ({"incoming_cltv_expiry": 399, "current_block_height": HEIGHT - 1}, 18,
     "final_incorrect_cltv_expiry"),
    ({"incoming_amount_msat": 999}, 19, "final_incorrect_htlc_amount"),
    ({"current_block_height": HEIGHT + 1}, 0x400F, "expiry_too_soon"),
])
def test_final_node_checks_the_htlc(change: dict[str, int], code: int, reason: str) -> None:
    """BOLT 4 › `payload` Requirements, the final node: MUST return an error if incoming
    amount_msat < amt_to_forward, cltv_expiry < outgoing_cltv_value, or cltv_expiry <
    current_block_height + min_final_cltv_expiry_delta; › Failure Messages names
    final_incorrect_cltv_expiry, final_incorrect_htlc_amount and, for an expiry unreasonably
    near the present, incorrect_or_unknown_payment_details."""
    onion = build_onion(SESSION, [(PUBS[0], CLEAR)], AD).to_bytes()
    assert process_hop(onion, KEYS[0], AD, **OK).is_final  # type: ignore[call-overload]
    with pytest.raises(SphinxampError) as info:
        process_hop(onion, KEYS[0], AD, **{**OK, **change})  # type: ignore[call-overload]
    assert (info.value.failure_code, info.value.reason) == (code, reason)
    assert info.value.failure_message == "update_fail_htlc"


def test_min_final_cltv_expiry_delta_is_the_recipients() -> None:
    onion = build_onion(SESSION, [(PUBS[0], CLEAR)], AD).to_bytes()
    context = {**OK, "current_block_height": HEIGHT - 22}
    with pytest.raises(SphinxampError) as info:
        process_hop(onion, KEYS[0], AD, min_final_cltv_expiry_delta=41, **context)  # type: ignore[call-overload]
    assert info.value.reason == "expiry_too_soon"
    process_hop(onion, KEYS[0], AD, min_final_cltv_expiry_delta=40, **context)  # type: ignore[call-overload]


def test_blinded_final_node_checks_the_height() -> None:
    onion, path_key = blinded_final_hop(final_data())
    process_hop(onion, KEYS[0], AD, path_key=path_key, **OK)  # type: ignore[call-overload]
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(onion, KEYS[0], AD, path_key=path_key,  # type: ignore[call-overload]
                    **{**OK, "current_block_height": HEIGHT + 1})
    assert info.value.cause is not None and info.value.cause.reason == "expiry_too_soon"


# --- path_id and allowed_features (BOLT 4 › Route Blinding; › `payload` Requirements) -------


def test_recipient_ignores_a_path_whose_path_id_is_not_its_own() -> None:
    """BOLT 4 › Route Blinding, the reader of encrypted_recipient_data: the final recipient
    MUST ignore the message if the path_id does not match the blinded route it created; for
    a payment that is a failure, invalid_onion_blinding inside the route."""
    onion, path_key = blinded_final_hop(final_data())
    hop = process_hop(onion, KEYS[0], AD, path_key=path_key, expected_path_id=PATH_ID, **OK)  # type: ignore[call-overload]
    assert hop.encrypted_data is not None and hop.encrypted_data.path_id == PATH_ID
    for other in (b"\x78" * 32, PATH_ID[:-1], b""):
        with pytest.raises(InvalidOnionBlinding) as info:
            process_hop(onion, KEYS[0], AD, path_key=path_key, expected_path_id=other, **OK)  # type: ignore[call-overload]
        assert info.value.cause is not None and info.value.cause.reason == "path_id_mismatch"
    bare, bare_key = blinded_final_hop(blinded_tlv({1: b"\x00" * 3}))
    with pytest.raises(InvalidOnionBlinding):
        process_hop(bare, KEYS[0], AD, path_key=bare_key, expected_path_id=PATH_ID, **OK)  # type: ignore[call-overload]


def test_allowed_features_are_judged_against_the_known_features() -> None:
    """BOLT 4 › `payload` Requirements: MUST return an error if allowed_features contains an
    unknown feature bit (even if it is odd); a bit the node knows is fine."""
    onion, path_key = blinded_final_hop(final_data(t14=b"\x02\x00"))  # bit 9
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(onion, KEYS[0], AD, path_key=path_key, **OK)  # type: ignore[call-overload]
    assert info.value.cause is not None and info.value.cause.reason == "unknown_feature"
    hop = process_hop(onion, KEYS[0], AD, path_key=path_key, known_features={9}, **OK)  # type: ignore[call-overload]
    assert hop.encrypted_data is not None and hop.encrypted_data.allowed_feature_bits == [9]


# --- dummy hops (BOLT 4 › Route Blinding: MAY add dummy hops, ignored on receipt) -----------


def dummy_route(dummies: int, *, introduction: bool) -> tuple[bytes, bytes | None]:
    """A path ending at KEYS[0] with `dummies` dummy hops after it: each of the recipient's
    forwarding hops names the recipient itself as next_node_id (as lnd writes them:
    htlcswitch/hop/iterator.go, checkForDummyHop)."""
    own = (4, PUBS[0])
    hops = [BlindedHopSpec(KEYS[0], b"", relay_data(own)) for _ in range(dummies)]
    hops.append(BlindedHopSpec(KEYS[0], BLINDED_FINAL, final_data()))
    onion, keys = blinded_route_onion(SESSION, [], hops, PATH_SESSION,
                                      first_is_introduction=introduction)
    return onion, None if introduction else keys[0]


@pytest.mark.parametrize("dummies", [1, 2])
@pytest.mark.parametrize("introduction", [True, False])
@pytest.mark.parametrize("key_kind", ["raw", "object"])
def test_recipient_peels_its_own_dummy_hops(dummies: int, introduction: bool,
                                            key_kind: str) -> None:
    """lnd htlcswitch/hop/iterator.go, deriveBlindedRouteForwardingInfo and
    peelBlindedPathDummyHop: a next_node_id that is the node's own id is a dummy hop; the
    node applies its payment_relay and peels the next layer with the next path key."""
    onion, path_key = dummy_route(dummies, introduction=introduction)
    # Each dummy's relay: ceil((amount − 1000) / 1.0001), expiry − 144; 1000 msat / 400 at
    # the end needs 2100 / 544 for one dummy, 3201 / 688 for two.
    amount, cltv = {1: (2100, 544), 2: (3201, 688)}[dummies]
    key = KEYS[0] if key_kind == "raw" else PrivateNodeKey(KEYS[0])
    hop = process_hop(onion, key, AD, path_key=path_key, incoming_amount_msat=amount,
                      incoming_cltv_expiry=cltv, current_block_height=HEIGHT,
                      expected_path_id=PATH_ID)
    assert hop.is_final and hop.role is Role.BLINDED_FINAL
    assert hop.dummy_hops == dummies
    assert hop.introduction_node is introduction
    assert hop.payload.amt_to_forward == 1000 and hop.encrypted_data is not None
    with pytest.raises(SphinxampError) as info:
        process_hop(onion, key, AD, path_key=path_key, incoming_amount_msat=amount - 1000,
                    incoming_cltv_expiry=cltv, current_block_height=HEIGHT)
    err = info.value
    assert err.failure_code == 0xC018
    assert err.failure_message == ("update_fail_htlc" if introduction
                                   else "update_fail_malformed_htlc")
    assert err.sha256_of_onion == hashlib.sha256(onion).digest()


def test_a_next_node_id_of_another_node_is_forwarded() -> None:
    onion, keys = blinded_route_onion(
        SESSION, [], [BlindedHopSpec(KEYS[0], b"", relay_data((4, PUBS[1]))),
                      BlindedHopSpec(KEYS[1], BLINDED_FINAL, final_data())],
        PATH_SESSION, first_is_introduction=False)
    hop = process_hop(onion, KEYS[0], AD, path_key=keys[0], incoming_amount_msat=2100,
                      incoming_cltv_expiry=544)
    assert not hop.is_final and hop.dummy_hops == 0
    assert hop.encrypted_data is not None and hop.encrypted_data.next_node_id == PUBS[1]


# --- spec disagreement 5: writer MUST NOTs are lnd's reader refusals only -------------------


@pytest.mark.parametrize(("hops", "index", "tlv_type"), [
    # short_channel_id at the final hop: a writer MUST NOT (BOLT 4 › `payload` Requirements).
    ([CLEAR + SCID, CLEAR + SCID], 1, 6),
    # payment_data at a forwarding hop: a writer MUST NOT.
    ([CLEAR + SCID + bytes.fromhex("0821") + b"\xab" * 32 + b"\x07", CLEAR], 0, 8),
    # lnd's AMP record (14) at a forwarding hop.
    ([CLEAR + SCID + bytes.fromhex("0e41") + b"\x01" * 64 + b"\x05", CLEAR], 0, 14),
])
def test_writer_rules_are_refused_by_lnd_only(hops: list[bytes], index: int,
                                              tlv_type: int) -> None:
    """BOLT 4's reader (› `payload` format › Requirements, "The reader:") has no rule for
    these records; lnd's does: htlcswitch/hop/payload.go, ValidateParsedPayloadTypes
    ("The exit hop and all blinded hops should omit the next hop id", "Intermediate nodes
    should never receive MPP fields", "... AMP fields")."""
    onion = build_onion(SESSION, [(PUBS[i], p) for i, p in enumerate(hops)], AD).to_bytes()
    packets = [onion]
    for i in range(index):
        nxt = process_hop(packets[-1], KEYS[i], AD).next_packet
        assert nxt is not None
        packets.append(nxt.to_bytes())
    context = OK if index == len(hops) - 1 else {}
    if tlv_type == 6:
        context = {**OK, "incoming_cltv_expiry": 400}
    hop = process_hop(packets[-1], KEYS[index], AD, **context)  # type: ignore[call-overload]
    assert hop.raw_payload == hops[index]
    with pytest.raises(InvalidOnionPayload) as info:
        process_hop(packets[-1], KEYS[index], AD, profile="lnd", **context)  # type: ignore[call-overload]
    assert (info.value.tlv_type, info.value.reason) == (tlv_type, "record_included")
    assert info.value.failure_message == "update_fail_htlc"


def test_a_replay_log_without_the_htlc_expiry_is_the_callers_error() -> None:
    """The log forgets entries by the HTLC's expiry (BOLT 4 › Onion Decryption: a reused onion
    MUST be detected for as long as the HTLC can be claimed): without it nothing can be kept."""
    onion = build_onion(SESSION, [(PUBS[0], CLEAR + SCID), (PUBS[1], CLEAR)], AD).to_bytes()
    log = MemoryReplayLog()
    with pytest.raises(InvalidArgument) as info:
        process_hop(onion, KEYS[0], AD, replay_log=log)
    assert info.value.field == "incoming_cltv_expiry"
    # Nothing was recorded: the corrected call is the onion's first sight, not a replay.
    assert process_hop(onion, KEYS[0], AD, replay_log=log, incoming_cltv_expiry=600).role \
        is Role.INTERMEDIATE


def test_a_forwarding_payload_that_does_not_split_is_no_introduction_node() -> None:
    """A stream that does not even split shows no current_path_key, so the node cannot know it
    was an introduction node (lnd, htlcswitch/link.go) and answers invalid_onion_payload in
    update_fail_htlc, not invalid_onion_blinding."""
    broken = CLEAR + b"\x0c\xfd"  # type 12's length is a BigSize cut short
    onion = build_onion(SESSION, [(PUBS[0], broken), (PUBS[1], CLEAR)], AD).to_bytes()
    with pytest.raises(SphinxampError) as info:
        process_hop(onion, KEYS[0], AD)
    assert info.value.failure_code == 0x4016
    assert info.value.failure_message == "update_fail_htlc"
