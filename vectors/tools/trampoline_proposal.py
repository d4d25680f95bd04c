"""The proposal's payment-onion and onion-error vectors as `sphinxamp-vectors/1` documents.

`trampoline-payment-onion-test.json` (Alice → Bob → Carol → Dave → Eve, Carol and Eve
trampoline nodes) and `trampoline-onion-error-test.json` (the same route failing at Eve, and
a blinded trampoline hop refusing) of lightning/bolts#836, 04-onion-routing.md › Trampoline
Payments: onion builds and peels go to `cases`, the steps at the trampoline nodes and every
failure packet on the way back to `trampoline_cases`.
"""

from __future__ import annotations

from _trampoline_cases import (
    Doc,
    build_case,
    build_step,
    onion_hops,
    payload_area,
    peel_case,
    process_case,
    proposal_document,
    unframed,
    wrap_step,
)


def _payment_cases(official: Doc) -> list[Doc]:
    """Every onion Alice and Carol build, and every node's peel."""
    alice, carol_gen = official["generate_alice"], official["generate_carol"]
    data = alice["associated_data"]
    inner, area = alice["trampoline_onion"], payload_area(alice["trampoline_onion"])
    bob, carol = official["decrypt_bob"], official["decrypt_carol"]
    dave, eve = official["decrypt_dave"], official["decrypt_eve"]
    carol_outer = alice["hops"][1]["payload"]
    return [
        build_case("alice-trampoline-onion", alice["trampoline_session_key"],
                   onion_hops(alice["trampoline_hops"]), data, inner, area),
        build_case("alice-payment-onion", alice["session_key"], onion_hops(alice["hops"]),
                   data, alice["onion"]),
        peel_case("bob", bob["node_privkey"], data, bob["onion"],
                  {"final": False, "next_onion": bob["next_onion"],
                   "payload": unframed(alice["hops"][0]["payload"]["hex"])}),
        peel_case("carol-outer", carol["node_privkey"], data, carol["onion"],
                  {"final": True, "payload": unframed(carol_outer["hex"])}),
        peel_case("carol-trampoline", carol["node_privkey"], data, inner,
                  {"final": False, "next_onion": carol["next_trampoline_onion"],
                   "payload": unframed(alice["trampoline_hops"][0]["payload"]["hex"])}, area),
        build_case("carol-payment-onion", carol_gen["session_key"],
                   onion_hops(carol_gen["hops"]), data, carol_gen["onion"]),
        peel_case("dave", dave["node_privkey"], data, dave["onion"],
                  {"final": False, "next_onion": dave["next_onion"],
                   "payload": unframed(carol_gen["hops"][0]["payload"]["hex"])}),
        peel_case("eve-outer", eve["node_privkey"], data, eve["onion"],
                  {"final": True, "payload": unframed(eve["decrypted_payload"])}),
        peel_case("eve-trampoline", eve["node_privkey"], data, carol["next_trampoline_onion"],
                  {"final": True, "payload": unframed(eve["decrypted_trampoline_payload"])},
                  area),
    ]


def _payment_steps(official: Doc) -> list[Doc]:
    """Alice builds, Carol processes and relays, Eve receives."""
    alice, carol_gen = official["generate_alice"], official["generate_carol"]
    data = alice["associated_data"]
    carol, eve = official["decrypt_carol"], official["decrypt_eve"]
    carol_outer, eve_outer = alice["hops"][1]["payload"], carol_gen["hops"][1]["payload"]
    carol_inner, eve_inner = (hop["payload"] for hop in alice["trampoline_hops"][:2])
    return [
        build_step("alice-builds", (alice["session_key"], alice["trampoline_session_key"]),
                   data, onion_hops(alice["hops"][:1]), onion_hops(alice["trampoline_hops"]),
                   carol_outer,
                   {"trampoline_onion": alice["trampoline_onion"], "onion": alice["onion"]}),
        process_case("carol-processes", carol, data, carol_outer["amt_to_forward"],
                     carol_outer["outgoing_cltv"],
                     {"action": "forward",
                      "next_trampoline_onion": carol["next_trampoline_onion"],
                      "next_node_id": carol_inner["outgoing_node_id"],
                      "amt_to_forward": 100000000, "outgoing_cltv_value": 800000,
                      "incoming_amount_msat": carol_outer["total_amount_msat"],
                      "payload": unframed(carol_inner["hex"])}),
        wrap_step("carol-relays", carol_gen["session_key"], data,
                  onion_hops(carol_gen["hops"][:1]), carol_gen["hops"][1]["node_id"],
                  eve_outer, carol["next_trampoline_onion"], carol_gen["onion"]),
        process_case("eve-receives", eve, data, eve_outer["amt_to_forward"],
                     eve_outer["outgoing_cltv"],
                     {"action": "receive", "amt_to_forward": eve_inner["amt_to_forward"],
                      "outgoing_cltv_value": eve_inner["outgoing_cltv"],
                      "payment_secret": eve_inner["payment_secret"],
                      "total_msat": eve_inner["total_amount_msat"],
                      "payload": unframed(eve["decrypted_trampoline_payload"])}),
    ]


def payment_onion(official: Doc) -> Doc:
    """Alice → Bob → Carol (trampoline) → Dave → Eve (recipient, trampoline)."""
    area = payload_area(official["generate_alice"]["trampoline_onion"])
    return proposal_document(
        "trampoline-payment-onion-test.json",
        official["comment"] + ": the trampoline onion (payload area "
        f"{area} bytes, exactly what its payloads take) inside the payment onion, each "
        "peel, and the steps at the trampoline nodes (`trampoline_cases`).",
        _payment_cases(official), _payment_steps(official))


def _failure_chain(case: Doc) -> list[Doc]:
    """Eve's failure for Alice, wrapped by Dave, relayed by Carol (twice), wrapped by Bob."""
    eve, dave, carol = case["failure_eve"], case["failure_dave"], case["failure_carol"]
    bob, alice = case["failure_bob"], case["failure_alice"]
    failure = dict(eve["failure"])
    name = failure.pop("type")
    return [
        {"id": "eve-fails", "kind": "trampoline-failure-create", "profile": "trampoline",
         "trampoline_shared_secret": eve["trampoline_onion_shared_secret"],
         "outer_shared_secret": eve["onion_shared_secret"],
         "failure": {"name": name, "fields": failure},
         "expect": {"packet": eve["failure_packet"]}},
        {"id": "dave-wraps", "kind": "failure-wrap", "shared_secret": dave["onion_shared_secret"],
         "packet": eve["failure_packet"], "expect": {"packet": dave["failure_packet"]}},
        {"id": "carol-relays", "kind": "trampoline-failure-relay", "profile": "trampoline",
         "downstream_shared_secrets": carol["downstream_shared_secrets"],
         "trampoline_shared_secret": carol["upstream_trampoline_onion_shared_secret"],
         "outer_shared_secret": carol["upstream_onion_shared_secret"],
         "packet": dave["failure_packet"],
         "expect": {"unwrapped": carol["downstream_unwrapped_failure"], "replaced": False,
                    "packet": carol["failure_packet"]}},
        {"id": "bob-wraps", "kind": "failure-wrap", "shared_secret": bob["onion_shared_secret"],
         "packet": carol["failure_packet"], "expect": {"packet": bob["failure_packet"]}},
        _decrypt("alice-decrypts", alice, bob["failure_packet"], "trampoline", 1),
    ]


def _decrypt(ident: str, alice: Doc, packet: str, layer: str, index: int) -> Doc:
    """The origin reads the failure: which layer, which node, what it says."""
    decrypted = dict(alice["decrypted_failure"])
    name = decrypted.pop("type")
    return {"id": ident, "kind": "trampoline-failure-decrypt",
            "outer_shared_secrets": alice["onion_shared_secrets"],
            "trampoline_shared_secrets": alice["trampoline_onion_shared_secrets"],
            "packet": packet,
            "expect": {"layer": layer, "index": index, "failure_name": name,
                       "fields": decrypted,
                       "unwrapped_onion_failure": alice["unwrapped_onion_failure"]}}


def _blinded_cases(case: Doc) -> list[Doc]:
    """Alice → Bob → Carol (trampoline, introduction node of Eve's blinded path) → Dave
    (blinded trampoline hop, refuses) → Eve: the onions and their peels."""
    alice, carol_gen = case["generate_alice"], case["generate_carol"]
    data = alice["associated_data"]
    inner, area = alice["trampoline_onion"], payload_area(alice["trampoline_onion"])
    carol, dave = case["decrypt_carol"], case["decrypt_dave"]
    dave_outer = carol_gen["hops"][0]["payload"]
    t_hops = alice["trampoline_hops"]
    return [
        build_case("blinded-alice-trampoline-onion", alice["trampoline_session_key"],
                   onion_hops(t_hops), data, inner, area, [h["shared_secret"] for h in t_hops]),
        build_case("blinded-alice-payment-onion", alice["session_key"],
                   onion_hops(alice["hops"]), data, alice["onion"],
                   secrets=[h["shared_secret"] for h in alice["hops"]]),
        peel_case("blinded-carol-trampoline", carol["node_privkey"], data, inner,
                  {"final": False, "next_onion": carol["next_trampoline_onion"],
                   "payload": unframed(t_hops[0]["payload"]["hex"])}, area),
        build_case("blinded-carol-payment-onion", carol_gen["session_key"],
                   onion_hops(carol_gen["hops"]), data, carol_gen["onion"]),
        peel_case("blinded-dave-outer", dave["node_privkey"], data, dave["onion"],
                  {"final": True, "payload": unframed(dave_outer["hex"])}),
        peel_case("blinded-dave-trampoline", dave["node_privkey"], data,
                  carol["next_trampoline_onion"],
                  {"final": False, "payload": unframed(t_hops[1]["payload"]["hex"])}, area,
                  path_key=dave_outer["current_path_key"]),
    ]


def _blinded_steps(case: Doc) -> list[Doc]:
    """Alice builds; Carol, the introduction node, relays to Dave; Dave would forward."""
    alice, carol_gen = case["generate_alice"], case["generate_carol"]
    data = alice["associated_data"]
    carol, dave = case["decrypt_carol"], case["decrypt_dave"]
    carol_outer, dave_outer = alice["hops"][1]["payload"], carol_gen["hops"][0]["payload"]
    t_hops = alice["trampoline_hops"]
    relay = carol["trampoline_tlvs"]["encrypted_recipient_data"]
    dave_relay = dave["trampoline_tlvs"]["encrypted_recipient_data"]
    return [
        build_step("blinded-alice-builds", (alice["session_key"],
                   alice["trampoline_session_key"]), data, onion_hops(alice["hops"][:1]),
                   onion_hops(t_hops), carol_outer,
                   {"trampoline_onion": alice["trampoline_onion"], "onion": alice["onion"]}),
        process_case("blinded-carol-processes", carol, data, carol_outer["amt_to_forward"],
                     carol_outer["outgoing_cltv"],
                     {"action": "forward", "introduction_node": True,
                      "next_trampoline_onion": carol["next_trampoline_onion"],
                      "next_node_id": relay["outgoing_node_id"],
                      "next_path_key": dave_outer["current_path_key"],
                      "amt_to_forward": dave_outer["amt_to_forward"],
                      "outgoing_cltv_value": dave_outer["outgoing_cltv"],
                      "payment_relay": relay["payment_relay"]}),
        wrap_step("blinded-carol-relays", carol_gen["session_key"], data, [],
                  carol_gen["hops"][0]["node_id"], dave_outer, carol["next_trampoline_onion"],
                  carol_gen["onion"]),
        process_case("blinded-dave-processes", dave, data, dave_outer["amt_to_forward"],
                     dave_outer["outgoing_cltv"],
                     {"action": "forward", "introduction_node": False,
                      "next_node_id": dave_relay["outgoing_node_id"],
                      "amt_to_forward": t_hops[2]["payload"]["amt_to_forward"],
                      "outgoing_cltv_value": t_hops[2]["payload"]["outgoing_cltv_value"],
                      "payment_relay": dave_relay["payment_relay"]}),
    ]


def _blinded_failures(case: Doc) -> list[Doc]:
    """Dave refuses; Carol turns it into her own failure, Bob wraps it, Alice reads it."""
    dave_outer = case["generate_carol"]["hops"][0]["payload"]
    data = case["generate_alice"]["associated_data"]
    failing, bob = case["failure_carol"], case["failure_bob"]
    return [
        {**process_case("blinded-dave-refuses", case["decrypt_dave"], data,
                        dave_outer["amt_to_forward"], dave_outer["outgoing_cltv"],
                        {"refused": {**case["failure_dave"]["update_fail_malformed_htlc"],
                                     "failure_message": "update_fail_malformed_htlc"}}),
         "current_block_height": dave_outer["outgoing_cltv"],
         "derived": ["current_block_height (chosen so that Dave refuses: the vector does not "
                     "say why he does)"]},
        {"id": "blinded-carol-fails", "kind": "trampoline-failure-create",
         "profile": "trampoline",
         "trampoline_shared_secret": failing["upstream_trampoline_onion_shared_secret"],
         "outer_shared_secret": failing["upstream_onion_shared_secret"],
         "failure": {"name": failing["failure"]["type"], "fields": {}},
         "expect": {"packet": failing["failure_packet"]}},
        {"id": "blinded-bob-wraps", "kind": "failure-wrap",
         "shared_secret": bob["onion_shared_secret"], "packet": failing["failure_packet"],
         "expect": {"packet": bob["failure_packet"]}},
        _decrypt("blinded-alice-decrypts", case["failure_alice"], bob["failure_packet"],
                 "trampoline", 0),
    ]


def onion_error(official: list[Doc]) -> Doc:
    plain, blinded = official
    alice = plain["generate_alice"]
    data = alice["associated_data"]
    inner, area = alice["trampoline_onion"], payload_area(alice["trampoline_onion"])
    cases = [
        build_case("alice-trampoline-onion", alice["trampoline_session_key"],
                   onion_hops(alice["trampoline_hops"]), data, inner, area,
                   [h["shared_secret"] for h in alice["trampoline_hops"]]),
        build_case("alice-payment-onion", alice["session_key"], onion_hops(alice["hops"]),
                   data, alice["onion"], secrets=[h["shared_secret"] for h in alice["hops"]]),
    ]
    return proposal_document(
        "trampoline-onion-error-test.json",
        "Failures of trampoline payments, wrapped twice by trampoline "
        "nodes: " + plain["comment"] + "; and " + blinded["comment"] + ". `cases` "
        "check the onions and their shared secrets, `trampoline_cases` every failure "
        "packet on the way back and the origin's reading.",
        cases + _blinded_cases(blinded),
        _failure_chain(plain) + _blinded_steps(blinded) + _blinded_failures(blinded))
