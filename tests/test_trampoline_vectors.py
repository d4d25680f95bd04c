"""The recorded trampoline vectors (vectors/trampoline-*.json), step by step, byte for byte.

Their `cases` (onion builds and peels) run through the vector runner with the other files
(tests/test_vectors.py); their `trampoline_cases` run here through the public API: the
proposal's own vectors (lightning/bolts#836, branch trampoline-onion, bolt04/trampoline-*.json,
made into records by vectors/tools/import_trampoline.py), Eclair's legacy packet and payloads
(SphinxSpec.scala "create trampoline payment packet"; PaymentOnionSpec.scala) and LDK's payload
encodings (msgs.rs encoding_outbound_trampoline_payload, encode_trampoline_blinded_path_payload),
recorded from vectors/tools/trampoline_implementations.py.
Every expected value is the source's; nothing is recorded from this library.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import (
    BlindedPath,
    FailureMessage,
    build_blinded_payment_onion,
    process_hop,
    wrap_failure,
)
from sphinxamp.blinding import BlindedHop
from sphinxamp.errors import SphinxampError
from sphinxamp.failures import (
    create_trampoline_failure,
    decrypt_trampoline_failure,
    read_trampoline_failure,
    relay_trampoline_failure,
    trampoline_failure_message,
)
from sphinxamp.messages import UpdateAddHtlc, UpdateFailMalformedHtlc
from sphinxamp.payments import (
    PaymentBlindedPath,
    TrampolineCarrier,
    build_trampoline_payment,
    decode_trampoline_payload,
    wrap_trampoline_onion,
)
from sphinxamp.wire import profile_record

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
FILES = ("trampoline-payment-onion.json", "trampoline-onion-error.json",
         "trampoline-to-blinded-path.json", "trampoline-implementations.json")
Case = dict[str, Any]
h = bytes.fromhex


def _steps() -> list[Any]:
    out = []
    for name in FILES:
        doc = json.loads((VECTORS / name).read_text())
        out += [pytest.param(c, id=f"{name}::{c['id']}") for c in doc["trampoline_cases"]]
    return out


def _carrier(c: Case) -> TrampolineCarrier:
    return TrampolineCarrier(
        c["amt_to_forward"], c["outgoing_cltv_value"],
        h(c["payment_secret"]) if "payment_secret" in c else None, c.get("total_msat"),
        h(c["current_path_key"]) if "current_path_key" in c else None)


def _route(hops: list[Case]) -> list[tuple[bytes, bytes]]:
    return [(h(x["pubkey"]), h(x["payload"])) for x in hops]


def build(case: Case) -> None:
    payment = build_trampoline_payment(
        h(case["session_key"]), _route(case["route"]), _route(case["trampoline_hops"]),
        h(case["associated_data"]), _carrier(case["carrier"]), profile=case["profile"],
        trampoline_session=h(case["trampoline_session_key"]))
    assert payment.trampoline.to_bytes().hex() == case["expect"]["trampoline_onion"]
    assert payment.to_bytes().hex() == case["expect"]["onion"]


def wrap(case: Case) -> None:
    onion = wrap_trampoline_onion(
        h(case["session_key"]), _route(case["route"]), h(case["trampoline_node_id"]),
        _carrier(case["carrier"]), h(case["packet"]), h(case["associated_data"]),
        profile=case["profile"])
    assert onion.to_bytes().hex() == case["expect"]["onion"]


def process(case: Case) -> None:
    expect = case["expect"]
    call = {"profile": case["profile"], "incoming_amount_msat": case["incoming_amount_msat"],
            "incoming_cltv_expiry": case["incoming_cltv_expiry"],
            "current_block_height": case["current_block_height"]}
    if "expected_path_id" in case:
        call["expected_path_id"] = h(case["expected_path_id"])
    if "refused" in expect:
        with pytest.raises(SphinxampError) as info:
            process_hop(h(case["onion"]), h(case["node_key"]), h(case["associated_data"]),
                        **call)
        refused = expect["refused"]
        assert info.value.failure_code == refused["failure_code"]
        assert info.value.failure_message == refused["failure_message"]
        assert info.value.sha256_of_onion == h(refused["sha256_of_onion"])
        return
    hop = process_hop(h(case["onion"]), h(case["node_key"]), h(case["associated_data"]), **call)
    assert hop.is_final and hop.trampoline is not None
    _check_hop(hop.trampoline, expect)


def _check_hop(t: Any, expect: Case) -> None:
    assert t.action == expect["action"]
    assert (t.amt_to_forward, t.outgoing_cltv_value) == (
        expect["amt_to_forward"], expect["outgoing_cltv_value"])
    if "next_trampoline_onion" in expect:
        assert t.next_packet.to_bytes().hex() == expect["next_trampoline_onion"]
    for key in ("next_node_id", "next_path_key"):
        if key in expect:
            assert getattr(t, key).hex() == expect[key]
    if "introduction_node" in expect:
        assert t.introduction_node is expect["introduction_node"]
    if "payment_relay" in expect:
        relay = t.encrypted_data.payment_relay
        assert {k: getattr(relay, k) for k in expect["payment_relay"]} == expect["payment_relay"]
    if "payload" in expect:
        assert t.raw_payload.hex() == expect["payload"]
    if "payment_secret" in expect:
        assert t.payload.payment_data.payment_secret.hex() == expect["payment_secret"]
        assert t.payload.payment_data.total_msat == expect["total_msat"]
    if "incoming_amount_msat" in expect:
        assert t.incoming_amount_msat == expect["incoming_amount_msat"]
    if "path_id" in expect:
        assert t.encrypted_data.path_id.hex() == expect["path_id"]
    if "blinded_paths" in expect:
        assert [_path_json(p) for p in t.blinded_paths] == expect["blinded_paths"]
    if "recipient_features" in expect:
        assert t.payload.recipient_features.hex() == expect["recipient_features"]


def _path_json(p: PaymentBlindedPath) -> Case:
    return {"first_node_id": p.path.first_node_id.hex(),
            "first_path_key": p.path.first_path_key.hex(),
            "hops": [{"blinded_node_id": x.blinded_node_id.hex(),
                      "encrypted_recipient_data": x.encrypted_recipient_data.hex()}
                     for x in p.path.hops],
            "fee_base_msat": p.fee_base_msat,
            "fee_proportional_millionths": p.fee_proportional_millionths,
            "cltv_expiry_delta": p.cltv_expiry_delta, "htlc_minimum_msat": p.htlc_minimum_msat,
            "htlc_maximum_msat": p.htlc_maximum_msat}


def pay_blinded_path(case: Case) -> None:
    """The last trampoline node pays the recipient's blinded path with the task the library
    offers for it (a plain blinded payment onion)."""
    p = case["path"]
    path = BlindedPath(h(p["first_node_id"]), h(p["first_path_key"]), tuple(
        BlindedHop(h(x["blinded_node_id"]), h(x["encrypted_recipient_data"]))
        for x in p["hops"]))
    onion = build_blinded_payment_onion(
        h(case["session_key"]), h(case["associated_data"]), path,
        amount_msat=case["amount_msat"], cltv_expiry=case["cltv_expiry"],
        total_amount_msat=case["total_amount_msat"])
    assert onion.to_bytes().hex() == case["expect"]["onion"]


def failure_create(case: Case) -> None:
    failure = case["failure"]
    name, fields = failure["name"], failure["fields"]
    message = FailureMessage.create(name, fields) if name == (
        "incorrect_or_unknown_payment_details") else trampoline_failure_message(name, **fields)
    packet = create_trampoline_failure(h(case["trampoline_shared_secret"]),
                                       h(case["outer_shared_secret"]), message,
                                       profile=case["profile"])
    assert packet.hex() == case["expect"]["packet"]


def failure_wrap(case: Case) -> None:
    wrapped = wrap_failure(h(case["shared_secret"]), h(case["packet"]), attribution=False)
    assert wrapped.packet.hex() == case["expect"]["packet"]


def failure_relay(case: Case) -> None:
    secrets = [h(s) for s in case["downstream_shared_secrets"]]
    relayed = relay_trampoline_failure(
        h(case["packet"]), secrets, h(case["trampoline_shared_secret"]),
        h(case["outer_shared_secret"]), profile=case["profile"])
    assert relayed.replaced is case["expect"]["replaced"]
    assert relayed.downstream.hop_index is None  # no node of Carol's own route erred
    # What Carol holds once her route's layers are off: the failure for the origin.
    stripped = h(case["packet"])
    for secret in secrets:
        stripped = wrap_failure(secret, stripped, attribution=False).packet
    assert stripped.hex() == case["expect"]["unwrapped"]
    assert relayed.packet.hex() == case["expect"]["packet"]


def failure_decrypt(case: Case) -> None:
    expect = case["expect"]
    outer = [h(s) for s in case["outer_shared_secrets"]]
    failure = decrypt_trampoline_failure(h(case["packet"]), outer,
                                         [h(s) for s in case["trampoline_shared_secrets"]])
    assert (failure.layer, failure.index, failure.name) == (
        expect["layer"], expect["index"], expect["failure_name"])
    assert failure.message is not None
    fields = dict(failure.message.fields)
    if not fields:
        read = read_trampoline_failure(failure.message)
        fields = dict(read[1]) if read else {}
    assert fields == expect["fields"]
    stripped = h(case["packet"])
    for secret in outer:
        stripped = wrap_failure(secret, stripped, attribution=False).packet
    assert stripped.hex() == expect["unwrapped_onion_failure"]


def payload(case: Case) -> None:
    """Decode under the case's profile, name every record by the profile that names it, and
    re-encode to the same bytes."""
    expect, raw = case["expect"], h(case["payload"])
    decoded, _ = decode_trampoline_payload(raw, case["profile"])
    assert [list(r) for r in decoded.named_records()] == expect["records"]
    assert [[t, *(profile_record(t, case["profile"]) or ())] for t, *_ in
            decoded.named_records()] == expect["records"]
    assert decoded.encode() == raw
    if "outgoing_node_id" in expect:
        assert decoded.outgoing_node_id is not None
        assert decoded.outgoing_node_id.hex() == expect["outgoing_node_id"]
    if "blinded_paths" in expect:
        assert decoded.blinded_paths is not None
        assert len(decoded.blinded_paths) == expect["blinded_paths"]
        if "first_node_id" in expect:
            assert decoded.blinded_paths[0].path.first_node_id.hex() == expect["first_node_id"]
    if "recipient_features" in expect:
        assert decoded.recipient_features is not None
        assert decoded.recipient_features.hex() == expect["recipient_features"]
    if "total_msat" in expect:
        assert decoded.payment_data is not None
        assert decoded.payment_data.total_msat == expect["total_msat"]
    if "trampoline_onion_packet" in expect:
        assert decoded.trampoline_onion_packet is not None
        assert decoded.trampoline_onion_packet.hex() == expect["trampoline_onion_packet"]


HANDLERS: dict[str, Callable[[Case], None]] = {
    "trampoline-build": build, "trampoline-wrap": wrap, "trampoline-process": process,
    "trampoline-pay-blinded-path": pay_blinded_path,
    "trampoline-failure-create": failure_create, "failure-wrap": failure_wrap,
    "trampoline-failure-relay": failure_relay, "trampoline-failure-decrypt": failure_decrypt,
    "trampoline-payload": payload,
}


@pytest.mark.parametrize("case", _steps())
def test_trampoline_step(case: Case) -> None:
    HANDLERS[case["kind"]](case)


def test_every_file_has_steps_of_known_kinds_and_cites_its_source() -> None:
    for name in FILES:
        doc = json.loads((VECTORS / name).read_text())
        assert doc["schema"] == "sphinxamp-vectors/1" and doc["source"]["repo"]
        assert {c["kind"] for c in doc["trampoline_cases"]} <= set(HANDLERS), name
        ids = [c["id"] for c in doc["cases"] + doc["trampoline_cases"]]
        assert len(ids) == len(set(ids)), name


def test_a_changed_byte_fails_the_step() -> None:
    """The steps can fail: one hex digit changed in an expected onion is caught."""
    doc = json.loads((VECTORS / FILES[0]).read_text())
    step = dict(doc["trampoline_cases"][0])
    onion = step["expect"]["onion"]
    step["expect"] = {**step["expect"], "onion": onion[:-1] + ("0" if onion[-1] != "0" else "1")}
    with pytest.raises(AssertionError):
        build(step)


def test_the_blinded_refusal_hashes_the_trampoline_onion() -> None:
    """The proposal's failure_dave answers sha256 of the trampoline onion Dave received, not
    of the outer onion (LDK decode_next_payment_hop answers Malformed the same way)."""
    doc = json.loads((VECTORS / "trampoline-onion-error.json").read_text())
    steps = {c["id"]: c for c in doc["trampoline_cases"]}
    received = steps["blinded-carol-processes"]["expect"]["next_trampoline_onion"]
    refused = steps["blinded-dave-refuses"]["expect"]["refused"]
    assert hashlib.sha256(h(received)).hexdigest() == refused["sha256_of_onion"]


def test_the_blinded_refusal_as_a_message() -> None:
    """Given the whole update_add_htlc, Dave's answer is the proposal's
    update_fail_malformed_htlc: invalid_onion_blinding with the trampoline onion's hash."""
    doc = json.loads((VECTORS / "trampoline-onion-error.json").read_text())
    step = {c["id"]: c for c in doc["trampoline_cases"]}["blinded-dave-refuses"]
    msg = UpdateAddHtlc(bytes(32), 0, step["incoming_amount_msat"], h(step["associated_data"]),
                        step["incoming_cltv_expiry"], h(step["onion"]))
    answer = process_hop(msg, h(step["node_key"]), profile="trampoline",
                         current_block_height=step["current_block_height"])
    refused = step["expect"]["refused"]
    assert isinstance(answer.message, UpdateFailMalformedHtlc)
    assert answer.message.failure_code == refused["failure_code"]
    assert answer.message.sha256_of_onion == h(refused["sha256_of_onion"])
