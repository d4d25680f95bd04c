"""The proposal's to-blinded-path vectors as a `sphinxamp-vectors/1` document.

`trampoline-to-blinded-path-payment-onion-test.json` of lightning/bolts#836 carries a
blinded path both ways 04-onion-routing.md › Trampoline Payments allows: the last trampoline
node pays the recipient's blinded paths (`recipient_blinded_paths`, type 22), or the
trampoline onion itself runs through the blinded path, its packet in each blinded hop's
payload (type 20).
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


def _bigsize(raw: bytes, pos: int) -> tuple[int, int]:
    first = raw[pos]
    width = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(first, 0)
    if width == 0:
        return first, pos + 1
    return int.from_bytes(raw[pos + 1 : pos + 1 + width], "big"), pos + 1 + width


def _record(stream: str, wanted: int) -> str:
    """The value of record `wanted` in a TLV stream written in an official file."""
    raw, pos = bytes.fromhex(stream), 0
    while pos < len(raw):
        rtype, pos = _bigsize(raw, pos)
        length, pos = _bigsize(raw, pos)
        if rtype == wanted:
            return raw[pos : pos + length].hex()
        pos += length
    raise SystemExit(f"record {wanted} is not in the official stream")


def _path(entry: Doc) -> Doc:
    path, info = entry["blinded_path"], entry["payment_info"]
    return {"first_node_id": path["introduction_node_id"], "first_path_key": path["path_key"],
            "hops": [{"blinded_node_id": h["blinded_node_id"],
                      "encrypted_recipient_data": h["encrypted_data"]} for h in path["hops"]],
            "fee_base_msat": info["fee_base_msat"],
            "fee_proportional_millionths": info["fee_proportional_millionths"],
            "cltv_expiry_delta": info["cltv_expiry_delta"],
            "htlc_minimum_msat": info["min_htlc_msat"],
            "htlc_maximum_msat": info["max_htlc_msat"]}


def _tlv_hops(hops: list[Doc]) -> list[Doc]:
    """This file's hops name their key `pubkey` and their payload `encoded_tlvs`."""
    return onion_hops(hops, "pubkey", "encoded_tlvs")


def _build_alice(ident: str, case: Doc, t_hops: list[Doc]) -> Doc:
    gen, pay = case["generate_trampoline_onion"], case["generate_payment_onion"]
    return build_step(ident, (pay["session_key"], gen["session_key"]), gen["associated_data"],
                      _tlv_hops(pay["hops"][:1]), t_hops, pay["hops"][1]["tlvs"],
                      {"trampoline_onion": gen["trampoline_onion"], "onion": pay["onion"]})


def _paths_cases(case: Doc) -> list[Doc]:
    """The last trampoline node pays the recipient's blinded paths: onions and peels."""
    gen, pay = case["generate_trampoline_onion"], case["generate_payment_onion"]
    data, inner = gen["associated_data"], gen["trampoline_onion"]
    bob, relay = case["relay_payment_bob"], case["relay_payment_carol"]
    dave, eve = case["relay_payment_dave"], case["receive_payment_eve"]
    t_hops = [{"pubkey": gen["trampoline_node_id"], "payload": unframed(gen["encoded_tlvs"])}]
    return [
        build_case("paths-trampoline-onion", gen["session_key"], t_hops, data, inner,
                   payload_area(inner)),
        build_case("paths-payment-onion", pay["session_key"], _tlv_hops(pay["hops"]), data,
                   pay["onion"]),
        peel_case("paths-bob", bob["node_privkey"], data, bob["onion"],
                  {"final": False, "next_onion": bob["next_onion"],
                   "payload": unframed(pay["hops"][0]["encoded_tlvs"])}),
        build_case("paths-carol-blinded-onion", relay["session_key"],
                   _tlv_hops(relay["hops"]), data, relay["onion"]),
        peel_case("paths-dave", dave["node_privkey"], data, dave["onion"],
                  {"final": False, "next_onion": dave["next_onion"],
                   "payload": unframed(relay["hops"][0]["encoded_tlvs"])}),
        peel_case("paths-eve", eve["node_privkey"], data, eve["onion"],
                  {"final": True, "payload": unframed(relay["hops"][1]["encoded_tlvs"])},
                  path_key=eve["path_key"]),
    ]


def _paths_steps(case: Doc) -> list[Doc]:
    """Alice builds; Carol reads the recipient's blinded paths and pays the first."""
    gen = case["generate_trampoline_onion"]
    data = gen["associated_data"]
    carol, relay = case["decrypt_onion_carol"], case["relay_payment_carol"]
    t_hops = [{"pubkey": gen["trampoline_node_id"], "payload": unframed(gen["encoded_tlvs"])}]
    tlvs, to_eve = carol["trampoline_tlvs"], relay["hops"][1]["tlvs"]
    return [
        _build_alice("paths-alice-builds", case, t_hops),
        process_case("paths-carol-processes", carol, data, carol["tlvs"]["amt_to_forward"],
                     carol["tlvs"]["outgoing_cltv_value"],
                     {"action": "pay_blinded_paths", "amt_to_forward": tlvs["amt_to_forward"],
                      "outgoing_cltv_value": tlvs["outgoing_cltv"],
                      "blinded_paths": [_path(p) for p in tlvs["recipient_blinded_paths"]],
                      "recipient_features": _record(unframed(gen["encoded_tlvs"]), 21)}),
        {"id": "paths-carol-pays", "kind": "trampoline-pay-blinded-path",
         "session_key": relay["session_key"], "associated_data": data,
         "path": _path(tlvs["recipient_blinded_paths"][0]),
         "amount_msat": to_eve["amt_to_forward"], "cltv_expiry": to_eve["outgoing_cltv_value"],
         "total_amount_msat": to_eve["total_amount_msat"],
         "expect": {"onion": relay["onion"]}},
    ]


def _hops_cases(case: Doc) -> list[Doc]:
    """The trampoline onion runs through the recipient's blinded path (Dave, then Eve): the
    onions Alice, Carol and Dave build."""
    gen, pay = case["generate_trampoline_onion"], case["generate_payment_onion"]
    data, inner = gen["associated_data"], gen["trampoline_onion"]
    relay_c, relay_d = case["relay_payment_carol"], case["relay_payment_dave"]
    return [
        build_case("hops-trampoline-onion", gen["session_key"], _tlv_hops(gen["hops"]), data,
                   inner, payload_area(inner)),
        build_case("hops-payment-onion", pay["session_key"], _tlv_hops(pay["hops"]), data,
                   pay["onion"]),
        build_case("hops-carol-onion", relay_c["session_key"], _tlv_hops(relay_c["hops"]),
                   data, relay_c["onion"]),
        build_case("hops-dave-onion", relay_d["session_key"], _tlv_hops(relay_d["hops"]),
                   data, relay_d["onion"]),
    ]


def _hops_steps(case: Doc) -> list[Doc]:
    """Alice builds; Carol and Dave (the introduction node) each process and relay; Eve
    receives at the end of the blinded path."""
    data = case["generate_trampoline_onion"]["associated_data"]
    carol, relay_c = case["decrypt_onion_carol"], case["relay_payment_carol"]
    dave, relay_d = case["decrypt_onion_dave"], case["relay_payment_dave"]
    eve = case["receive_payment_eve"]
    to_dave, to_eve = relay_c["hops"][0], relay_d["hops"][0]
    packet_dave = _record(unframed(to_dave["encoded_tlvs"]), 20)
    packet_eve = _record(unframed(to_eve["encoded_tlvs"]), 20)
    dave_data = dave["trampoline_tlvs"]["encrypted_recipient_data"]
    eve_inner = eve["tlvs"]["trampoline_onion"]
    return [
        _build_alice("hops-alice-builds", case,
                     _tlv_hops(case["generate_trampoline_onion"]["hops"])),
        process_case("hops-carol-processes", carol, data, carol["tlvs"]["amt_to_forward"],
                     carol["tlvs"]["outgoing_cltv_value"],
                     {"action": "forward", "next_trampoline_onion": packet_dave,
                      "next_node_id": carol["trampoline_tlvs"]["outgoing_node_id"],
                      "amt_to_forward": carol["trampoline_tlvs"]["amt_to_forward"],
                      "outgoing_cltv_value": carol["trampoline_tlvs"]["outgoing_cltv"]}),
        wrap_step("hops-carol-relays", relay_c["session_key"], data, [], to_dave["pubkey"],
                  to_dave["tlvs"], packet_dave, relay_c["onion"]),
        process_case("hops-dave-processes", dave, data, dave["tlvs"]["amt_to_forward"],
                     dave["tlvs"]["outgoing_cltv_value"],
                     {"action": "forward", "introduction_node": True,
                      "next_trampoline_onion": packet_eve,
                      "next_node_id": dave_data["outgoing_node_id"],
                      "next_path_key": to_eve["tlvs"]["current_path_key"],
                      "amt_to_forward": to_eve["tlvs"]["amt_to_forward"],
                      "outgoing_cltv_value": to_eve["tlvs"]["outgoing_cltv"],
                      "payment_relay": dave_data["payment_relay"]}),
        wrap_step("hops-dave-relays", relay_d["session_key"], data, [], to_eve["pubkey"],
                  to_eve["tlvs"], packet_eve, relay_d["onion"]),
        {**process_case("hops-eve-receives", eve, data, eve["tlvs"]["amt_to_forward"],
                        eve["tlvs"]["outgoing_cltv"],
                        {"action": "receive", "introduction_node": False,
                         "amt_to_forward": eve_inner["amt_to_forward"],
                         "outgoing_cltv_value": eve_inner["outgoing_cltv_value"],
                         "path_id": eve_inner["encrypted_recipient_data"]["path_id"]}),
         "expected_path_id": eve_inner["encrypted_recipient_data"]["path_id"]},
    ]


def to_blinded_path(official: list[Doc]) -> Doc:
    paths, hops = official
    return proposal_document(
        "trampoline-to-blinded-path-payment-onion-test.json",
        "Trampoline payments to a blinded path, both ways the proposal "
        "carries one: " + paths["comment"] + " (recipient_blinded_paths, 22); and "
        + hops["comment"] + " (trampoline hops inside the blinded path).",
        _paths_cases(paths) + _hops_cases(hops), _paths_steps(paths) + _hops_steps(hops))
