"""Write the trampoline vector files from the proposal's vectors and the implementations' tests.

The proposal (lightning/bolts#836, branch `trampoline-onion` at the commit below) publishes
three files under `bolt04/`: `trampoline-payment-onion-test.json`,
`trampoline-onion-error-test.json` and `trampoline-to-blinded-path-payment-onion-test.json`.
`--bolts` names the folder holding them. Each becomes a `sphinxamp-vectors/1` document:
`cases` hold what the runner's existing kinds check (`onion-build`, `onion-peel`: the trampoline
onion is a Sphinx packet with a payload area of its own size), and `trampoline_cases` hold the
trampoline steps (build, process at a trampoline node, failures wrapped twice, payloads),
which tests/test_trampoline_vectors.py runs.

The legacy format (Eclair, Electrum) has no published vector file: its document is made from
values in the implementations' tests, written below with the test each comes from, where two
implementations agree (Eclair's trampoline packet is also LDK's, msgs.rs,
encoding_final_onion_hop_data_with_eclair_trampoline_packet).

Every value is copied from those sources; `current_block_height`, which no vector gives, is
chosen here (any height 18 blocks below the final expiry gives the same answer) and listed
under `derived`.

Usage: python vectors/tools/import_trampoline.py --bolts DIR [--out DIR] [--check]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tool import render, tool_main

SCHEMA = "sphinxamp-vectors/1"
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent
DEFAULT_BOLTS = HERE.parents[2] / "shared" / "vectors" / "bolts-trampoline"
REPO, BRANCH = "lightning/bolts", "trampoline-onion"
COMMIT = "644b82f1b931a1e1dfca449f30eaf661822a85ef"
ECLAIR, ECLAIR_COMMIT = "ACINQ/eclair", "5b765e026b64631043fa9bbdde2151b6e9cc854b"
LDK, LDK_COMMIT = "lightningdevkit/rust-lightning", "cfee4b75593b5f676b998713fa60847311cfb270"
HEIGHT = 799000
HEIGHT_NOTE = "current_block_height (no vector gives one)"

Doc = dict[str, Any]


def _hex(text: str) -> str:
    return text.replace(" ", "")


def _unframed(text: str) -> str:
    """A payload as the official files write it (BigSize length first) without its length."""
    raw = _hex(text)
    first = int(raw[:2], 16)
    return raw[{0xFD: 6, 0xFE: 10, 0xFF: 18}.get(first, 2):]


def _area(onion: str) -> int:
    return len(onion) // 2 - 66


def _source(file: str) -> Doc:
    return {"file": file, "path": f"bolt04/{file}", "repo": REPO, "branch": BRANCH,
            "commit": COMMIT, "section": "04-onion-routing.md › Trampoline Payments"}


def _hops(hops: list[Doc], key: str = "node_id", payload: str = "payload") -> list[Doc]:
    out = []
    for hop in hops:
        text = hop[payload]["hex"] if payload == "payload" else hop[payload]
        out.append({"pubkey": hop.get(key) or hop["pubkey"], "payload": _unframed(text)})
    return out


def _carrier(tlvs: Doc) -> Doc:
    out = {"amt_to_forward": tlvs["amt_to_forward"],
           "outgoing_cltv_value": tlvs.get("outgoing_cltv", tlvs.get("outgoing_cltv_value"))}
    if "payment_secret" in tlvs:
        out["payment_secret"] = tlvs["payment_secret"]
        out["total_msat"] = tlvs["total_amount_msat"]
    if "current_path_key" in tlvs:
        out["current_path_key"] = tlvs["current_path_key"]
    return out


def _build(ident: str, session: str, hops: list[Doc], data: str, onion: str,
           area: int = 1300, secrets: list[str] | None = None) -> Doc:
    case = {"id": ident, "kind": "onion-build", "session_key": session, "hops": hops,
            "associated_data": data, "payload_area": area, "expect": {"onion": onion}}
    if secrets is not None:
        case["expect"]["shared_secrets"] = secrets
    return case


def _peel(ident: str, key: str, data: str, onion: str, expect: Doc, area: int = 1300,
          path_key: str | None = None) -> Doc:
    case = {"id": ident, "kind": "onion-peel", "node_key": key, "associated_data": data,
            "onion": onion, "payload_area": area, "expect": expect}
    if path_key is not None:
        case["path_key"] = path_key
    return case


def _process(ident: str, step: Doc, data: str, amount: int, cltv: int, expect: Doc) -> Doc:
    return {"id": ident, "kind": "trampoline-process", "profile": "trampoline",
            "node_key": step["node_privkey"], "associated_data": data, "onion": step["onion"],
            "incoming_amount_msat": amount, "incoming_cltv_expiry": cltv,
            "current_block_height": HEIGHT, "derived": [HEIGHT_NOTE], "expect": expect}


def payment_onion(official: Doc) -> Doc:
    """Alice → Bob → Carol (trampoline) → Dave → Eve (recipient, trampoline)."""
    alice, carol_gen = official["generate_alice"], official["generate_carol"]
    data = alice["associated_data"]
    inner, area = alice["trampoline_onion"], _area(alice["trampoline_onion"])
    bob, carol = official["decrypt_bob"], official["decrypt_carol"]
    dave, eve = official["decrypt_dave"], official["decrypt_eve"]
    carol_outer, eve_outer = alice["hops"][1]["payload"], carol_gen["hops"][1]["payload"]
    cases = [
        _build("alice-trampoline-onion", alice["trampoline_session_key"],
               _hops(alice["trampoline_hops"]), data, inner, area),
        _build("alice-payment-onion", alice["session_key"], _hops(alice["hops"]), data,
               alice["onion"]),
        _peel("bob", bob["node_privkey"], data, bob["onion"],
              {"final": False, "next_onion": bob["next_onion"],
               "payload": _unframed(alice["hops"][0]["payload"]["hex"])}),
        _peel("carol-outer", carol["node_privkey"], data, carol["onion"],
              {"final": True, "payload": _unframed(carol_outer["hex"])}),
        _peel("carol-trampoline", carol["node_privkey"], data, inner,
              {"final": False, "next_onion": carol["next_trampoline_onion"],
               "payload": _unframed(alice["trampoline_hops"][0]["payload"]["hex"])}, area),
        _build("carol-payment-onion", carol_gen["session_key"], _hops(carol_gen["hops"]), data,
               carol_gen["onion"]),
        _peel("dave", dave["node_privkey"], data, dave["onion"],
              {"final": False, "next_onion": dave["next_onion"],
               "payload": _unframed(carol_gen["hops"][0]["payload"]["hex"])}),
        _peel("eve-outer", eve["node_privkey"], data, eve["onion"],
              {"final": True, "payload": _unframed(eve["decrypted_payload"])}),
        _peel("eve-trampoline", eve["node_privkey"], data, carol["next_trampoline_onion"],
              {"final": True, "payload": _unframed(eve["decrypted_trampoline_payload"])}, area),
    ]
    eve_inner = alice["trampoline_hops"][1]["payload"]
    steps = [
        {"id": "alice-builds", "kind": "trampoline-build", "profile": "trampoline",
         "session_key": alice["session_key"],
         "trampoline_session_key": alice["trampoline_session_key"], "associated_data": data,
         "route": _hops(alice["hops"][:1]), "trampoline_hops": _hops(alice["trampoline_hops"]),
         "carrier": _carrier(carol_outer),
         "expect": {"trampoline_onion": inner, "onion": alice["onion"]}},
        _process("carol-processes", carol, data, carol_outer["amt_to_forward"],
                 carol_outer["outgoing_cltv"],
                 {"action": "forward", "next_trampoline_onion": carol["next_trampoline_onion"],
                  "next_node_id": alice["trampoline_hops"][0]["payload"]["outgoing_node_id"],
                  "amt_to_forward": 100000000, "outgoing_cltv_value": 800000,
                  "incoming_amount_msat": carol_outer["total_amount_msat"],
                  "payload": _unframed(alice["trampoline_hops"][0]["payload"]["hex"])}),
        {"id": "carol-relays", "kind": "trampoline-wrap", "profile": "trampoline",
         "session_key": carol_gen["session_key"], "associated_data": data,
         "route": _hops(carol_gen["hops"][:1]),
         "trampoline_node_id": carol_gen["hops"][1]["node_id"],
         "carrier": _carrier(eve_outer), "packet": carol["next_trampoline_onion"],
         "expect": {"onion": carol_gen["onion"]}},
        _process("eve-receives", eve, data, eve_outer["amt_to_forward"],
                 eve_outer["outgoing_cltv"],
                 {"action": "receive", "amt_to_forward": eve_inner["amt_to_forward"],
                  "outgoing_cltv_value": eve_inner["outgoing_cltv"],
                  "payment_secret": eve_inner["payment_secret"],
                  "total_msat": eve_inner["total_amount_msat"],
                  "payload": _unframed(eve["decrypted_trampoline_payload"])}),
    ]
    return {"schema": SCHEMA, "source": _source("trampoline-payment-onion-test.json"),
            "description": official["comment"] + ": the trampoline onion (payload area "
            f"{area} bytes, exactly what its payloads take) inside the payment onion, each "
            "peel, and the steps at the trampoline nodes (`trampoline_cases`).",
            "cases": cases, "trampoline_cases": steps}


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
    decrypted = dict(alice["decrypted_failure"])
    name = decrypted.pop("type")
    return {"id": ident, "kind": "trampoline-failure-decrypt",
            "outer_shared_secrets": alice["onion_shared_secrets"],
            "trampoline_shared_secrets": alice["trampoline_onion_shared_secrets"],
            "packet": packet,
            "expect": {"layer": layer, "index": index, "failure_name": name,
                       "fields": decrypted,
                       "unwrapped_onion_failure": alice["unwrapped_onion_failure"]}}


def _blinded_chain(case: Doc) -> tuple[list[Doc], list[Doc]]:
    """Alice → Bob → Carol (trampoline, introduction node of Eve's blinded path) → Dave
    (blinded trampoline hop, refuses) → Eve."""
    alice, carol_gen = case["generate_alice"], case["generate_carol"]
    data = alice["associated_data"]
    inner, area = alice["trampoline_onion"], _area(alice["trampoline_onion"])
    carol, dave = case["decrypt_carol"], case["decrypt_dave"]
    carol_outer, dave_outer = alice["hops"][1]["payload"], carol_gen["hops"][0]["payload"]
    t_hops = alice["trampoline_hops"]
    cases = [
        _build("blinded-alice-trampoline-onion", alice["trampoline_session_key"], _hops(t_hops),
               data, inner, area, [h["shared_secret"] for h in t_hops]),
        _build("blinded-alice-payment-onion", alice["session_key"], _hops(alice["hops"]), data,
               alice["onion"], secrets=[h["shared_secret"] for h in alice["hops"]]),
        _peel("blinded-carol-trampoline", carol["node_privkey"], data, inner,
              {"final": False, "next_onion": carol["next_trampoline_onion"],
               "payload": _unframed(t_hops[0]["payload"]["hex"])}, area),
        _build("blinded-carol-payment-onion", carol_gen["session_key"],
               _hops(carol_gen["hops"]), data, carol_gen["onion"]),
        _peel("blinded-dave-outer", dave["node_privkey"], data, dave["onion"],
              {"final": True, "payload": _unframed(dave_outer["hex"])}),
        _peel("blinded-dave-trampoline", dave["node_privkey"], data,
              carol["next_trampoline_onion"],
              {"final": False, "payload": _unframed(t_hops[1]["payload"]["hex"])}, area,
              path_key=dave_outer["current_path_key"]),
    ]
    relay = carol["trampoline_tlvs"]["encrypted_recipient_data"]
    dave_relay = dave["trampoline_tlvs"]["encrypted_recipient_data"]
    failing = case["failure_carol"]
    steps = [
        {"id": "blinded-alice-builds", "kind": "trampoline-build", "profile": "trampoline",
         "session_key": alice["session_key"],
         "trampoline_session_key": alice["trampoline_session_key"], "associated_data": data,
         "route": _hops(alice["hops"][:1]), "trampoline_hops": _hops(t_hops),
         "carrier": _carrier(carol_outer),
         "expect": {"trampoline_onion": inner, "onion": alice["onion"]}},
        _process("blinded-carol-processes", carol, data, carol_outer["amt_to_forward"],
                 carol_outer["outgoing_cltv"],
                 {"action": "forward", "introduction_node": True,
                  "next_trampoline_onion": carol["next_trampoline_onion"],
                  "next_node_id": relay["outgoing_node_id"],
                  "next_path_key": dave_outer["current_path_key"],
                  "amt_to_forward": dave_outer["amt_to_forward"],
                  "outgoing_cltv_value": dave_outer["outgoing_cltv"],
                  "payment_relay": relay["payment_relay"]}),
        {"id": "blinded-carol-relays", "kind": "trampoline-wrap", "profile": "trampoline",
         "session_key": carol_gen["session_key"], "associated_data": data, "route": [],
         "trampoline_node_id": carol_gen["hops"][0]["node_id"],
         "carrier": _carrier(dave_outer), "packet": carol["next_trampoline_onion"],
         "expect": {"onion": carol_gen["onion"]}},
        _process("blinded-dave-processes", dave, data, dave_outer["amt_to_forward"],
                 dave_outer["outgoing_cltv"],
                 {"action": "forward", "introduction_node": False,
                  "next_node_id": dave_relay["outgoing_node_id"],
                  "amt_to_forward": t_hops[2]["payload"]["amt_to_forward"],
                  "outgoing_cltv_value": t_hops[2]["payload"]["outgoing_cltv_value"],
                  "payment_relay": dave_relay["payment_relay"]}),
        {**_process("blinded-dave-refuses", dave, data, dave_outer["amt_to_forward"],
                    dave_outer["outgoing_cltv"],
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
         "shared_secret": case["failure_bob"]["onion_shared_secret"],
         "packet": failing["failure_packet"],
         "expect": {"packet": case["failure_bob"]["failure_packet"]}},
        _decrypt("blinded-alice-decrypts", case["failure_alice"],
                 case["failure_bob"]["failure_packet"], "trampoline", 0),
    ]
    return cases, steps


def onion_error(official: list[Doc]) -> Doc:
    plain, blinded = official
    alice = plain["generate_alice"]
    data = alice["associated_data"]
    inner, area = alice["trampoline_onion"], _area(alice["trampoline_onion"])
    cases = [
        _build("alice-trampoline-onion", alice["trampoline_session_key"],
               _hops(alice["trampoline_hops"]), data, inner, area,
               [h["shared_secret"] for h in alice["trampoline_hops"]]),
        _build("alice-payment-onion", alice["session_key"], _hops(alice["hops"]), data,
               alice["onion"], secrets=[h["shared_secret"] for h in alice["hops"]]),
    ]
    more_cases, more_steps = _blinded_chain(blinded)
    return {"schema": SCHEMA, "source": _source("trampoline-onion-error-test.json"),
            "description": "Failures of trampoline payments, wrapped twice by trampoline "
            "nodes: " + plain["comment"] + "; and " + blinded["comment"] + ". `cases` "
            "check the onions and their shared secrets, `trampoline_cases` every failure "
            "packet on the way back and the origin's reading.",
            "cases": cases + more_cases, "trampoline_cases": _failure_chain(plain) + more_steps}


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


def _to_paths(case: Doc) -> tuple[list[Doc], list[Doc]]:
    """The last trampoline node pays the recipient's blinded paths (recipient_blinded_paths)."""
    gen, pay = case["generate_trampoline_onion"], case["generate_payment_onion"]
    data, inner = gen["associated_data"], gen["trampoline_onion"]
    area = _area(inner)
    bob, carol = case["relay_payment_bob"], case["decrypt_onion_carol"]
    relay, dave, eve = case["relay_payment_carol"], case["relay_payment_dave"], \
        case["receive_payment_eve"]
    t_hops = [{"pubkey": gen["trampoline_node_id"], "payload": _unframed(gen["encoded_tlvs"])}]
    cases = [
        _build("paths-trampoline-onion", gen["session_key"], t_hops, data, inner, area),
        _build("paths-payment-onion", pay["session_key"], _hops(pay["hops"], "pubkey",
               "encoded_tlvs"), data, pay["onion"]),
        _peel("paths-bob", bob["node_privkey"], data, bob["onion"],
              {"final": False, "next_onion": bob["next_onion"],
               "payload": _unframed(pay["hops"][0]["encoded_tlvs"])}),
        _build("paths-carol-blinded-onion", relay["session_key"],
               _hops(relay["hops"], "pubkey", "encoded_tlvs"), data, relay["onion"]),
        _peel("paths-dave", dave["node_privkey"], data, dave["onion"],
              {"final": False, "next_onion": dave["next_onion"],
               "payload": _unframed(relay["hops"][0]["encoded_tlvs"])}),
        _peel("paths-eve", eve["node_privkey"], data, eve["onion"],
              {"final": True, "payload": _unframed(relay["hops"][1]["encoded_tlvs"])},
              path_key=eve["path_key"]),
    ]
    tlvs = carol["trampoline_tlvs"]
    steps = [
        {"id": "paths-alice-builds", "kind": "trampoline-build", "profile": "trampoline",
         "session_key": pay["session_key"], "trampoline_session_key": gen["session_key"],
         "associated_data": data, "route": _hops(pay["hops"][:1], "pubkey", "encoded_tlvs"),
         "trampoline_hops": t_hops, "carrier": _carrier(pay["hops"][1]["tlvs"]),
         "expect": {"trampoline_onion": inner, "onion": pay["onion"]}},
        _process("paths-carol-processes", carol, data, carol["tlvs"]["amt_to_forward"],
                 carol["tlvs"]["outgoing_cltv_value"],
                 {"action": "pay_blinded_paths", "amt_to_forward": tlvs["amt_to_forward"],
                  "outgoing_cltv_value": tlvs["outgoing_cltv"],
                  "blinded_paths": [_path(p) for p in tlvs["recipient_blinded_paths"]],
                  "recipient_features": _record(_unframed(gen["encoded_tlvs"]), 21)}),
        {"id": "paths-carol-pays", "kind": "trampoline-pay-blinded-path",
         "session_key": relay["session_key"], "associated_data": data,
         "path": _path(tlvs["recipient_blinded_paths"][0]),
         "amount_msat": relay["hops"][1]["tlvs"]["amt_to_forward"],
         "cltv_expiry": relay["hops"][1]["tlvs"]["outgoing_cltv_value"],
         "total_amount_msat": relay["hops"][1]["tlvs"]["total_amount_msat"],
         "expect": {"onion": relay["onion"]}},
    ]
    return cases, steps


def _blinded_hops(case: Doc) -> tuple[list[Doc], list[Doc]]:
    """The trampoline onion runs through the recipient's blinded path (Dave, then Eve)."""
    gen, pay = case["generate_trampoline_onion"], case["generate_payment_onion"]
    data, inner = gen["associated_data"], gen["trampoline_onion"]
    area = _area(inner)
    carol, relay_c = case["decrypt_onion_carol"], case["relay_payment_carol"]
    dave, relay_d, eve = case["decrypt_onion_dave"], case["relay_payment_dave"], \
        case["receive_payment_eve"]
    t_hops = _hops(gen["hops"], "pubkey", "encoded_tlvs")
    to_dave, to_eve = relay_c["hops"][0], relay_d["hops"][0]
    packet_dave = _record(_unframed(to_dave["encoded_tlvs"]), 20)
    packet_eve = _record(_unframed(to_eve["encoded_tlvs"]), 20)
    cases = [
        _build("hops-trampoline-onion", gen["session_key"], t_hops, data, inner, area),
        _build("hops-payment-onion", pay["session_key"],
               _hops(pay["hops"], "pubkey", "encoded_tlvs"), data, pay["onion"]),
        _build("hops-carol-onion", relay_c["session_key"],
               _hops(relay_c["hops"], "pubkey", "encoded_tlvs"), data, relay_c["onion"]),
        _build("hops-dave-onion", relay_d["session_key"],
               _hops(relay_d["hops"], "pubkey", "encoded_tlvs"), data, relay_d["onion"]),
    ]
    dave_data = dave["trampoline_tlvs"]["encrypted_recipient_data"]
    eve_inner = eve["tlvs"]["trampoline_onion"]
    steps = [
        {"id": "hops-alice-builds", "kind": "trampoline-build", "profile": "trampoline",
         "session_key": pay["session_key"], "trampoline_session_key": gen["session_key"],
         "associated_data": data, "route": _hops(pay["hops"][:1], "pubkey", "encoded_tlvs"),
         "trampoline_hops": t_hops, "carrier": _carrier(pay["hops"][1]["tlvs"]),
         "expect": {"trampoline_onion": inner, "onion": pay["onion"]}},
        _process("hops-carol-processes", carol, data, carol["tlvs"]["amt_to_forward"],
                 carol["tlvs"]["outgoing_cltv_value"],
                 {"action": "forward", "next_trampoline_onion": packet_dave,
                  "next_node_id": carol["trampoline_tlvs"]["outgoing_node_id"],
                  "amt_to_forward": carol["trampoline_tlvs"]["amt_to_forward"],
                  "outgoing_cltv_value": carol["trampoline_tlvs"]["outgoing_cltv"]}),
        {"id": "hops-carol-relays", "kind": "trampoline-wrap", "profile": "trampoline",
         "session_key": relay_c["session_key"], "associated_data": data, "route": [],
         "trampoline_node_id": to_dave["pubkey"], "carrier": _carrier(to_dave["tlvs"]),
         "packet": packet_dave, "expect": {"onion": relay_c["onion"]}},
        _process("hops-dave-processes", dave, data, dave["tlvs"]["amt_to_forward"],
                 dave["tlvs"]["outgoing_cltv_value"],
                 {"action": "forward", "introduction_node": True,
                  "next_trampoline_onion": packet_eve,
                  "next_node_id": dave_data["outgoing_node_id"],
                  "next_path_key": to_eve["tlvs"]["current_path_key"],
                  "amt_to_forward": to_eve["tlvs"]["amt_to_forward"],
                  "outgoing_cltv_value": to_eve["tlvs"]["outgoing_cltv"],
                  "payment_relay": dave_data["payment_relay"]}),
        {"id": "hops-dave-relays", "kind": "trampoline-wrap", "profile": "trampoline",
         "session_key": relay_d["session_key"], "associated_data": data, "route": [],
         "trampoline_node_id": to_eve["pubkey"], "carrier": _carrier(to_eve["tlvs"]),
         "packet": packet_eve, "expect": {"onion": relay_d["onion"]}},
        {**_process("hops-eve-receives", eve, data, eve["tlvs"]["amt_to_forward"],
                    eve["tlvs"]["outgoing_cltv"],
                    {"action": "receive", "introduction_node": False,
                     "amt_to_forward": eve_inner["amt_to_forward"],
                     "outgoing_cltv_value": eve_inner["outgoing_cltv_value"],
                     "path_id": eve_inner["encrypted_recipient_data"]["path_id"]}),
         "expected_path_id": eve_inner["encrypted_recipient_data"]["path_id"]},
    ]
    return cases, steps


def to_blinded_path(official: list[Doc]) -> Doc:
    paths_cases, paths_steps = _to_paths(official[0])
    hops_cases, hops_steps = _blinded_hops(official[1])
    return {"schema": SCHEMA,
            "source": _source("trampoline-to-blinded-path-payment-onion-test.json"),
            "description": "Trampoline payments to a blinded path, both ways the proposal "
            "carries one: " + official[0]["comment"] + " (recipient_blinded_paths, 22); and "
            + official[1]["comment"] + " (trampoline hops inside the blinded path).",
            "cases": paths_cases + hops_cases, "trampoline_cases": paths_steps + hops_steps}


# --- values from the implementations' tests (legacy format; LDK where it agrees) ------------

# Eclair SphinxSpec.scala, test "create trampoline payment packet": the five
# `trampolinePaymentPayloads` (with their BigSize length) sent to the BOLT 4 test keys 0x41…0x45
# with session key 0x41…, associated data 0x42…, a 400-byte payload area, and the packet.
ECLAIR_SPHINX_PAYLOADS = (
    (
        "2a02020231040190f8210324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab"
        "1c"),
    (
        "35fa33010000000000000000000000040000000000000000000000000ff0000000000000000000000000"
        "000000000000000000000000"),
    (
        "23f821032c0b7cf95324a07d05398b240174dc0c2be444d96b159aa6c7f7b1e668680991"),
    (
        "4003060303030303032b060000000000032d0200032f0a00000000000000000000311e00000000000000"
        "0000000000000000000000000000000000000000000000"),
    (
        "23f82102eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"),
)
ECLAIR_NODE_IDS = (
    "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619",
    "0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c",
    "027f31ebc5462c1fdce1b737ecff52d37d75dea43ce11c74d25aa297165faa2007",
    "032c0b7cf95324a07d05398b240174dc0c2be444d96b159aa6c7f7b1e668680991",
    "02edabbd16b41c8371b92ef2f04c1185b4f03b6dcd52ba9b78d9d7c89c8f221145",
)
ECLAIR_PACKET_400 = (
    "0002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619cff34152f3a36e52"
    "ca94e74927203a560392b9cc7ce3c45809c6be52166c24a595716880f95f178bf5b30c8ca262744d656e"
    "4012980ec037cc7b35c9f43eb265ecc97974a598ff045cee0ecc99e303f3706509aa43ba7c8a88cba175"
    "fccf9a8f5016ef06d3b935dbb15196d7ce16dc1a7157845566901d7b2197e52cab4ce48701a2aa5a5249"
    "b5aed3b5b40bfefa9c40ab669d55e8a6b1058f02941bf119a7a69129db7c5f7eafaa166578c720619561"
    "dd14b3277db557ec7dcdb793771aef0f2f667cfdbe7e5b6eb3bd48bb0fbb30acc853fcdd7218ed9b6189"
    "816a7f41c5e0695f0471425951787e2ea8c5391cda7b0fe30c80913ef585234ce442808f7ef9425bcd81"
    "5c3ba9114a3d48735c6283a24743b94ce93cdc9a27670398d1ee83e68dbdd71c9f39f1d635804a45faa6"
    "9cfbbcb20a6d82b677ddd5b6cede1f2518dbc20f044f591fb6ea042838e7ff8514af58fc7c201ddbc6ca"
    "7c01c480f511870823384ca70e54da6006a8cb254cd68f5ab289b89c6ba512c064515c356ede847c3761"
    "76339f2c9921ecc29325e613593aa2ba4ad37970adee4b3ef8427cad4cf32a37ab1dbe0e539aef146ad6"
    "75cdfd96")
# Eclair PaymentOnionSpec.scala (tests named after each) and LDK msgs.rs.
PAYLOADS = {
    # "encode/decode node relay per-hop payload"
    "eclair_node_relay": (
        "2e0202023104012afe000102322102eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1"
        "f283686619"),
    # "encode/decode node relay to legacy per-hop payload"
    "eclair_to_legacy": (
        "fa0202023104012a0822eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"
        "0451fe00010231010afe000102322102eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edce"
        "a1f283686619fe000102339b01036d6caac248af96f6afa7f904f550253a0f3ef3f5aa2fe6838a95b216"
        "691468e200000000000000010000000a00000064009002025f7117a78150fe2ef97db7cfc83bd57b2e2c"
        "0d0dd25eaf467a4a1c2a45ce148600000000000000020000001400000096000c02a051267759c3a149e3"
        "e72372f4e0c4054ba597ebfd0eda78a2273023667205ee00000000000000030000001e000000c80018"),
    # "encode/decode node relay to blinded paths per-hop payload"
    "eclair_to_blinded_paths": (
        "820202015504030c9c73fe0001023103020000fe000102366a0100000000000001d40232882c4982576e"
        "00f0d6bd4998f5b3e92d47ecc8fbad5b6a5e7521819d891d9e0103823aa560d631e9d7b686be4a9227e5"
        "77009afb5173023b458a6a6aff056ac9800000000003e8000002a60052000000000000012c0000000000"
        "3d09000000"),
    # "encode/decode final per-hop payload"
    "eclair_final_with_trampoline": (
        "fd02030202023104012a0820eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f28368"
        "6619fe00010234fd01d20002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f28368"
        "6619cff34152f3a36e52ca94e74927203a560392b9cc7ce3c45809c6be52166c24a595716880f95f178b"
        "f5b30ca63141f74db6e92795c6130877cfdac3d4bd3087ee73c65d627ddd709112a848cc99e303f37065"
        "09aa43ba7c8a88cba175fccf9a8f5016ef06d3b935dbb15196d7ce16dc1a7157845566901d7b2197e52c"
        "ab4ce487014b14816e5805f9fcacb4f8f88b8ff176f1b94f6ce6b00bc43221130c17d20ef629db7c5f7e"
        "afaa166578c720619561dd14b3277db557ec7dcdb793771aef0f2f667cfdbeae3ac8d331c5994779dffb"
        "31e5fc0dbdedc0c592ca6d21c18e47fe3528d6975c19517d7e2ea8c5391cf17d0fe30c80913ed887234c"
        "cb48808f7ef9425bcd815c3b586210979e3bb286ef2851bf9ce04e28c40a203df98fd648d2f1936fd2f1"
        "def0e77eecb277229b4b682322371c0a1dbfcd723a991993df8cc1f2696b84b055b40a1792a29f710295"
        "a18fbd351b0f3ff34cd13941131b8278ba79303c89117120eea691738a9954908195143b039dbeed98f2"
        "6a92585f3d15cf742c953799d3272e0545e9b744be9d3b4cbb079bfc4b35190eee9f59a1d7b41ba2f773"
        "179f322dafb4b1af900c289ebd6c"),
    # encoding_outbound_trampoline_payload
    "ldk_recipient_blinded_paths": (
        "71020408f0d18004030c35001503020000165f032c0b7cf95324a07d05398b240174dc0c2be444d96b15"
        "9aa6c7f7b1e66868099102eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f2836866"
        "1900000001f4000003e800240000000000000001000000001dcd65000000"),
    # encode_trampoline_blinded_path_payload (Eve)
    "ldk_blinded_receive_eve": (
        "e4020408f0d18004030c35000ad1bcd747394fbd4d99588da075a623316e15a576df5bc785cccc7cd6ec"
        "7b398acce6faf520175f9ec920f2ef261cdb83dc28cc3a0eeb970107b3306489bf771ef5b1213bca811d"
        "345285405861d08a655b6c237fa247a8b4491beee20c878a60e9816492026d8feb9dafa84585b253978d"
        "b6a0aa2945df5ef445c61e801fb82f43d5f00716baf9fc9b3de50bc22950a36bda8fc27bfb1242e5860c"
        "7e687438d4133e058770361a19b6c271a2a07788d34dccc27e39b9829b061a4d960eac4a2c2b0f4de506"
        "c24f9af3868c0aff6dda27281c120408f0d180"),
    # encode_trampoline_blinded_path_payload (Dave)
    "ldk_blinded_forward_dave": (
        "690a440ccf3c8a58deaa603f657ee2a5ed9d604eb5c8ca1e5f801989afa8f3ea6d789bbdde2c7e7a1ef9"
        "ca8c38d2c54760febad8446d3f273ddb537569ef56613846ccd3aba78a0c2102988face71e92c345a068"
        "f740191fd8e53be14f0bb957ef730d3c5f76087b960e"),
    # encoding_final_onion_hop_data_with_eclair_trampoline_packet
    "ldk_eclair_packet": (
        "0002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619cff34152f3a36e52"
        "ca94e74927203a560392b9cc7ce3c45809c6be52166c24a595716880f95f178bf5b30ca63141f74db6e9"
        "2795c6130877cfdac3d4bd3087ee73c65d627ddd709112a848cc99e303f3706509aa43ba7c8a88cba175"
        "fccf9a8f5016ef06d3b935dbb15196d7ce16dc1a7157845566901d7b2197e52cab4ce487014b14816e58"
        "05f9fcacb4f8f88b8ff176f1b94f6ce6b00bc43221130c17d20ef629db7c5f7eafaa166578c720619561"
        "dd14b3277db557ec7dcdb793771aef0f2f667cfdbeae3ac8d331c5994779dffb31e5fc0dbdedc0c592ca"
        "6d21c18e47fe3528d6975c19517d7e2ea8c5391cf17d0fe30c80913ed887234ccb48808f7ef9425bcd81"
        "5c3b586210979e3bb286ef2851bf9ce04e28c40a203df98fd648d2f1936fd2f1def0e77eecb277229b4b"
        "682322371c0a1dbfcd723a991993df8cc1f2696b84b055b40a1792a29f710295a18fbd351b0f3ff34cd1"
        "3941131b8278ba79303c89117120eea691738a9954908195143b039dbeed98f26a92585f3d15cf742c95"
        "3799d3272e0545e9b744be9d3b4cbb079bfc4b35190eee9f59a1d7b41ba2f773179f322dafb4b1af900c"
        "289ebd6c"),
}


def _payload_case(ident: str, profile: str, payload: str, source: str, expect: Doc) -> Doc:
    return {"id": ident, "kind": "trampoline-payload", "profile": profile,
            "payload": _unframed(payload), "from": source, "expect": expect}


def implementations() -> Doc:
    """The legacy format from Eclair's tests, and LDK's payload encodings where another
    source (Eclair, or the proposal's vectors) agrees with them."""
    hops = [{"pubkey": node, "payload": _unframed(p)}
            for node, p in zip(ECLAIR_NODE_IDS, ECLAIR_SPHINX_PAYLOADS, strict=True)]
    cases = [
        _build("eclair-trampoline-packet-400", "41" * 32, hops, "42" * 32, ECLAIR_PACKET_400,
               400),
        _peel("eclair-trampoline-packet-first-hop", "41" * 32, "42" * 32, ECLAIR_PACKET_400,
              {"final": False, "payload": _unframed(ECLAIR_SPHINX_PAYLOADS[0])}, 400),
    ]
    node = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"
    legacy = [
        _payload_case("eclair-node-relay", "trampoline-legacy", PAYLOADS["eclair_node_relay"],
                      "PaymentOnionSpec.scala: encode/decode node relay per-hop payload",
                      {"records": [[2, "amt_to_forward", "bolt"],
                                   [4, "outgoing_cltv_value", "bolt"],
                                   [66098, "outgoing_node_id", "trampoline-legacy"]],
                       "action": "forward", "outgoing_node_id": node}),
        _payload_case("eclair-to-non-trampoline", "trampoline-legacy",
                      PAYLOADS["eclair_to_legacy"],
                      "PaymentOnionSpec.scala: encode/decode node relay to legacy per-hop "
                      "payload",
                      {"records": [[2, "amt_to_forward", "bolt"],
                                   [4, "outgoing_cltv_value", "bolt"],
                                   [8, "payment_data", "bolt"],
                                   [66097, "invoice_features", "trampoline-legacy"],
                                   [66098, "outgoing_node_id", "trampoline-legacy"],
                                   [66099, "invoice_routing_info", "trampoline-legacy"]],
                       "action": "pay_node", "outgoing_node_id": node,
                       "total_msat": 1105, "recipient_features": "0a"}),
        _payload_case("eclair-to-blinded-paths", "trampoline-legacy",
                      PAYLOADS["eclair_to_blinded_paths"],
                      "PaymentOnionSpec.scala: encode/decode node relay to blinded paths "
                      "per-hop payload",
                      {"records": [[2, "amt_to_forward", "bolt"],
                                   [4, "outgoing_cltv_value", "bolt"],
                                   [66097, "invoice_features", "trampoline-legacy"],
                                   [66102, "outgoing_blinded_paths", "trampoline-legacy"]],
                       "action": "pay_blinded_paths", "blinded_paths": 1,
                       "first_node_id": "0100000000000001d4"}),
        _payload_case("eclair-outer-with-trampoline-onion", "trampoline-legacy",
                      PAYLOADS["eclair_final_with_trampoline"],
                      "PaymentOnionSpec.scala: encode/decode final per-hop payload; its "
                      "packet is LDK msgs.rs "
                      "encoding_final_onion_hop_data_with_eclair_trampoline_packet's",
                      {"records": [[2, "amt_to_forward", "bolt"],
                                   [4, "outgoing_cltv_value", "bolt"],
                                   [8, "payment_data", "bolt"],
                                   [66100, "trampoline_onion_packet", "trampoline-legacy"]],
                       "trampoline_onion_packet": PAYLOADS["ldk_eclair_packet"]}),
    ]
    proposal = [
        _payload_case("ldk-recipient-blinded-paths", "trampoline",
                      PAYLOADS["ldk_recipient_blinded_paths"],
                      "msgs.rs: encoding_outbound_trampoline_payload",
                      {"records": [[2, "amt_to_forward", "bolt"],
                                   [4, "outgoing_cltv_value", "bolt"],
                                   [21, "recipient_features", "trampoline"],
                                   [22, "recipient_blinded_paths", "trampoline"]],
                       "action": "pay_blinded_paths", "blinded_paths": 1,
                       "recipient_features": "020000"}),
        _payload_case("ldk-blinded-receive", "trampoline", PAYLOADS["ldk_blinded_receive_eve"],
                      "msgs.rs: encode_trampoline_blinded_path_payload (Eve); the proposal's "
                      "trampoline-to-blinded-path vector encodes the same bytes",
                      {"records": [[2, "amt_to_forward", "bolt"],
                                   [4, "outgoing_cltv_value", "bolt"],
                                   [10, "encrypted_recipient_data", "bolt"],
                                   [18, "total_amount_msat", "bolt"]]}),
        _payload_case("ldk-blinded-forward", "trampoline", PAYLOADS["ldk_blinded_forward_dave"],
                      "msgs.rs: encode_trampoline_blinded_path_payload (Dave); the proposal's "
                      "trampoline-to-blinded-path vector encodes the same bytes",
                      {"records": [[10, "encrypted_recipient_data", "bolt"],
                                   [12, "current_path_key", "bolt"]]}),
    ]
    return {"schema": SCHEMA,
            "source": {"file": "generated", "repo": ECLAIR, "commit": ECLAIR_COMMIT,
                       "path": "eclair-core/src/test/scala/fr/acinq/eclair/crypto/"
                               "SphinxSpec.scala",
                       "test": "create trampoline payment packet",
                       "also": [{"repo": ECLAIR, "commit": ECLAIR_COMMIT,
                                 "path": "eclair-core/src/test/scala/fr/acinq/eclair/wire/"
                                         "protocol/PaymentOnionSpec.scala",
                                 "used_for": "legacy trampoline payloads (66097-66102)"},
                                {"repo": LDK, "commit": LDK_COMMIT,
                                 "path": "lightning/src/ln/msgs.rs",
                                 "used_for": "the proposal's payloads, and Eclair's packet"}],
                       "section": None},
            "description": "No file of vectors exists for the legacy format: Eclair's "
            "byte-exact trampoline packet (a 400-byte payload area) and payloads, LDK's "
            "payload encodings, each case naming the test it comes from; every payload here "
            "is also in a second source (LDK, Eclair or the proposal's vectors) except "
            "Eclair's legacy relay payloads, which Electrum's lnwire/onion_wire.csv types "
            "alike.", "cases": cases, "trampoline_cases": legacy + proposal}


FILES = {
    "trampoline-payment-onion.json": "trampoline-payment-onion-test.json",
    "trampoline-onion-error.json": "trampoline-onion-error-test.json",
    "trampoline-to-blinded-path.json": "trampoline-to-blinded-path-payment-onion-test.json",
}
MAKERS = {"trampoline-payment-onion.json": payment_onion,
          "trampoline-onion-error.json": onion_error,
          "trampoline-to-blinded-path.json": to_blinded_path}


def build_all(bolts: Path) -> dict[str, str]:
    texts = {}
    for name, official in FILES.items():
        doc = json.loads((bolts / official).read_text())
        texts[name] = render(MAKERS[name](doc), ascii_only=True)
    texts["trampoline-implementations.json"] = render(implementations(), ascii_only=True)
    return texts


def main(argv: list[str] | None = None) -> int:
    return tool_main(__doc__.splitlines()[0], build_all, DEFAULT_BOLTS, DEFAULT_OUT, argv)


if __name__ == "__main__":
    raise SystemExit(main())
