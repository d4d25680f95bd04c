"""Write the route-blinding and onion-message vector files from the official BOLT 4 vectors.

Reads `route-blinding-test.json`, `blinded-payment-onion-test.json` and
`blinded-onion-message-onion-test.json` (a copy of `lightning/bolts` at the commit below) and
writes `bolt04-route-blinding.json`, `bolt04-blinded-payment-onion.json` and
`bolt04-blinded-onion-message.json` next to this folder, deterministically (sorted keys), so
`--check` can compare the committed files with a fresh run.

Expectations are official values. The few that the official files do not hold are derived
here from the spec's formulas with a few lines of integer arithmetic, never with the library,
and listed under each case's `derived`: the amounts and expiries the blinded payment hops
forward (BOLT 4 › `payload` Requirements: amt_to_forward is the ceiling of
(amount − fee_base)·10^6 / (10^6 + fee_proportional)), and the refusal cases made by damaging
official data.

Usage: python vectors/tools/import_blinding.py [--bolts DIR] [--out DIR] [--check]
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
DEFAULT_BOLTS = HERE.parents[2] / "shared" / "vectors" / "bolts"
REPO, COMMIT = "lightning/bolts", "a3772650d8ebc06acf457fcadf97968ebfc4dfff"

Doc = dict[str, Any]


def source(name: str, section: str, **extra: Any) -> Doc:
    return {"file": name, "path": f"bolt04/{name}", "repo": REPO, "commit": COMMIT,
            "section": section, **extra}


def strip_length(framed: str) -> str:
    """A hop payload without its BigSize length (the payloads here are below 0xfd bytes)."""
    data = bytes.fromhex(framed)
    assert data[0] == len(data) - 1, framed[:8]
    return data[1:].hex()


def flip(hexdata: str, at: int = 0) -> str:
    data = bytearray(bytes.fromhex(hexdata))
    data[at] ^= 0x01
    return data.hex()


# --- route-blinding-test.json --------------------------------------------------------------


def route_blinding(official: Doc) -> Doc:
    gen, route, unblind = official["generate"]["hops"], official["route"], official["unblind"]
    cases: list[Doc] = []
    for hop in gen:
        cases.append({"id": f"tlv-{hop['alias'].lower()}", "kind": "encrypted-data-tlv",
                      "tlvs": hop["tlvs"], "expect": {"encoded": hop["encoded_tlvs"]}})
    routes, expected = [], []
    for hop in gen:
        if "session_key" in hop:
            routes.append({"session_key": hop["session_key"], "hops": []})
        routes[-1]["hops"].append({"alias": hop["alias"], "node_id": hop["node_id"],
                                   "encrypted_data_tlv": hop["encoded_tlvs"]})
        expected.append({"path_privkey": hop["path_privkey"], "path_key": hop["path_key"],
                         "shared_secret": hop["shared_secret"], "rho": hop["rho"],
                         "blinded_node_id": hop["blinded_node_id"],
                         "encrypted_recipient_data": hop["encrypted_data"]})
    for want, got in zip(route["hops"], expected, strict=True):
        assert (want["blinded_node_id"], want["encrypted_data"]) == \
            (got["blinded_node_id"], got["encrypted_recipient_data"])
    cases.append({"id": "create", "kind": "blinded-path-create", "routes": routes,
                  "note": "two routes (Bob->Carol, Dave->Eve) joined by Carol's "
                          "next_path_key_override",
                  "expect": {"first_node_id": route["first_node_id"],
                             "first_path_key": route["first_path_key"], "hops": expected}})
    for hop, data in zip(unblind["hops"], route["hops"], strict=True):
        expect = {k: hop[k] for k in ("decrypted_data", "next_path_key", "blinded_privkey")}
        expect["next_path_key_override"] = hop.get("next_path_key_override")
        cases.append({"id": f"unblind-{hop['alias'].lower()}", "kind": "blinded-hop-unblind",
                      "node_key": hop["node_privkey"], "path_key": hop["path_key"],
                      "encrypted_recipient_data": data["encrypted_data"], "expect": expect})
    bob, carol = unblind["hops"][0], unblind["hops"][1]
    bob_data = route["hops"][0]["encrypted_data"]
    refusals = [
        ("refuse-tampered-first-byte", bob["node_privkey"], bob_data and flip(bob_data, 0),
         "decryption_failed"),
        ("refuse-tampered-tag", bob["node_privkey"], flip(bob_data, len(bob_data) // 2 - 1),
         "decryption_failed"),
        ("refuse-wrong-node", carol["node_privkey"], bob_data, "decryption_failed"),
        ("refuse-shorter-than-tag", bob["node_privkey"], bob_data[:30], "too_short"),
    ]
    for case_id, key, data, reason in refusals:
        cases.append({"id": case_id, "kind": "blinded-hop-unblind", "node_key": key,
                      "path_key": bob["path_key"], "encrypted_recipient_data": data,
                      "derived": ["encrypted_recipient_data", "expect"],
                      "expect": {"error": reason, "error_class": "UndecryptableData"}})
    return {"schema": SCHEMA, "source": source("route-blinding-test.json",
                                              "04-onion-routing.md › Route Blinding"),
            "description": "Route blinding: encrypted_data_tlv encoding, creating a blinded "
                           "route from two concatenated routes, unblinding at every hop, and "
                           "the AEAD refusing damaged data.", "cases": cases}


# --- blinded-payment-onion-test.json -------------------------------------------------------


def forward(amount: int, cltv: int, relay: Doc) -> tuple[int, int]:
    base, prop = relay.get("fee_base_msat", 0), relay.get("fee_proportional_millionths", 0)
    return -(-(amount - base) * 1_000_000 // (1_000_000 + prop)), \
        cltv - relay["cltv_expiry_delta"]


def payment_hops(gen: Doc, dec: list[Doc], full: list[Doc]) -> list[Doc]:
    """One `blinded-payment-hop` case per hop of the official decrypt section; the amounts
    forwarded inside the blinded part are derived with `forward`."""
    cases: list[Doc] = []
    amount = full[0]["tlvs"]["amt_to_forward"]
    cltv = full[0]["tlvs"]["outgoing_cltv_value"]
    path_key = None
    for i, (hop, route_hop) in enumerate(zip(dec, full, strict=True)):
        last = i == len(dec) - 1
        case: Doc = {"id": f"hop-{hop['alias'].lower()}", "kind": "blinded-payment-hop",
                     "onion": hop["onion"], "node_key": hop["node_privkey"],
                     "associated_data": gen["associated_data"], "path_key": path_key}
        expect: Doc = {"payload": strip_length(route_hop["payload"]),
                       "next_onion": None if last else dec[i + 1]["onion"],
                       "next_path_key": hop.get("next_path_key")}
        if i == 0:
            expect["role"] = "intermediate"
        else:
            data = route_hop["tlvs"]["encrypted_recipient_data"]
            case["incoming_amount_msat"], case["incoming_cltv_expiry"] = amount, cltv
            expect.update(role="blinded-final" if last else "blinded-intermediate",
                          introduction_node=i == 1, encrypted_data=data)
            if last:
                expect["amt_to_forward"] = route_hop["tlvs"]["amt_to_forward"]
                expect["outgoing_cltv_value"] = route_hop["tlvs"]["outgoing_cltv_value"]
                assert (amount, cltv) == (expect["amt_to_forward"],
                                          expect["outgoing_cltv_value"])
            else:
                amount, cltv = forward(amount, cltv, data["payment_relay"])
                expect["amt_to_forward"], expect["outgoing_cltv_value"] = amount, cltv
                case["derived"] = ["expect.amt_to_forward", "expect.outgoing_cltv_value"]
            if i > 1:
                case.setdefault("derived", []).insert(0, "incoming_amount_msat")
        case["expect"] = expect
        cases.append(case)
        path_key = hop.get("next_path_key")
    return cases


def payment_route(gen: Doc, blinding: Doc) -> tuple[Doc, Doc]:
    """The blinded route the sender was given, and the case that creates it again."""
    full = gen["full_route"]["hops"]
    blinded = gen["blinded_route"]
    path = {"first_node_id": blinded["first_node_id"],
            "first_path_key": blinded["first_path_key"],
            "hops": [{"blinded_node_id": h["blinded_node_id"],
                      "encrypted_recipient_data": h["encrypted_data"]} for h in blinded["hops"]]}
    # The same recipients and session keys as route-blinding-test.json: its first path key
    # and Carol's override are this route's.
    rb = blinding["generate"]["hops"]
    assert rb[0]["path_key"] == blinded["first_path_key"]
    routes = [{"session_key": rb[0]["session_key"], "hops": []},
              {"session_key": rb[2]["session_key"], "hops": []}]
    for i, (hop, rbhop) in enumerate(zip(full[1:], rb, strict=True)):
        routes[i // 2]["hops"].append({"alias": hop["alias"], "node_id": rbhop["node_id"],
                                       "tlvs": hop["tlvs"]["encrypted_recipient_data"]})
    return path, {"id": "create", "kind": "blinded-path-create", "routes": routes,
                  "note": "session keys and node ids from route-blinding-test.json",
                  "expect": {"first_node_id": path["first_node_id"],
                             "first_path_key": path["first_path_key"],
                             "hops": [{"blinded_node_id": h["blinded_node_id"],
                                       "encrypted_recipient_data": h["encrypted_recipient_data"]}
                                      for h in path["hops"]]}}


def blinded_payment(official: Doc, blinding: Doc) -> Doc:
    gen, dec = official["generate"], official["decrypt"]["hops"]
    full = gen["full_route"]["hops"]
    path, create = payment_route(gen, blinding)
    cases: list[Doc] = [
        create,
        {"id": "payinfo", "kind": "blinded-payinfo",
         "relays": [{"fee_base_msat": 0, **h["tlvs"]["encrypted_recipient_data"]
                     ["payment_relay"]} for h in full[1:-1]],
         "min_final_cltv_expiry_delta": 0,
         "expect": {k: v for k, v in gen["blinded_payinfo"].items() if k != "comment"}},
    ]
    final = full[-1]["tlvs"]
    cases.append({"id": "build", "kind": "blinded-payment-build",
                  "session_key": gen["session_key"], "associated_data": gen["associated_data"],
                  "prefix": [{"pubkey": full[0]["pubkey"],
                              "payload": strip_length(full[0]["payload"])}],
                  "path": path, "amount_msat": gen["final_amount_msat"],
                  "cltv_expiry": gen["final_cltv"],
                  "total_amount_msat": final["total_amount_msat"],
                  "expect": {"onion": gen["onion"]}})
    cases += payment_hops(gen, dec, full)
    bob = cases[4]
    cases.append({**bob, "id": "refuse-expiry-above-max", "incoming_cltv_expiry": 750151,
                  "derived": ["incoming_cltv_expiry", "expect"],
                  "expect": {"error": "expiry_above_maximum", "error_class": "ExpiryAboveMaximum",
                             "failure_name": "invalid_onion_blinding"}})
    cases.append({**bob, "id": "refuse-amount-below-minimum", "incoming_amount_msat": 49,
                  "derived": ["incoming_amount_msat", "expect"],
                  "expect": {"error": "amount_below_minimum", "error_class": "AmountBelowMinimum",
                             "failure_name": "invalid_onion_blinding"}})
    return {"schema": SCHEMA,
            "source": source("blinded-payment-onion-test.json",
                             "04-onion-routing.md › Route Blinding; › `payload` format",
                             also=[{"file": "route-blinding-test.json",
                                    "used_for": "the session keys and node ids that created "
                                                "the blinded route"}]),
            "description": "A payment onion into a partially blinded route: the route created, "
                           "its aggregate fees, the onion built, and every hop processed.",
            "cases": cases}


# --- blinded-onion-message-onion-test.json -------------------------------------------------


def message_peels(dec: list[Doc], hops: list[Doc]) -> list[Doc]:
    """One `onion-message-peel` case per node of the official decrypt section."""
    cases: list[Doc] = []
    for i, hop in enumerate(dec):
        last = i == len(dec) - 1
        expect: Doc = {"dropped": None, "final": last,
                       "next_node_id": hop.get("next_node_id"),
                       "next_onion_message": None if last else dec[i + 1]["onion_message"],
                       "encrypted_data": hops[i]["encrypted_data_tlv"]}
        if last:
            expect["payload"] = hop["tlvs"]
        cases.append({"id": f"peel-{hop['alias'].lower()}", "kind": "onion-message-peel",
                      "onion_message": hop["onion_message"], "node_key": hop["privkey"],
                      "expect": expect})
    return cases


def onion_message(official: Doc) -> Doc:
    gen, route, dec = official["generate"], official["route"], official["decrypt"]["hops"]
    hops = gen["hops"]
    ids = [route["first_node_id"]] + [h["tlvs"]["next_node_id"] for h in hops[:-1]]
    routes = [{"session_key": hops[0]["path_key_secret"], "hops": []},
              {"session_key": hops[1]["path_key_secret"], "hops": []}]
    expected = []
    for i, (hop, node_id) in enumerate(zip(hops, ids, strict=True)):
        routes[min(i, 1)]["hops"].append({"alias": hop["alias"], "node_id": node_id,
                                          "encrypted_data_tlv": hop["encrypted_data_tlv"]})
        expected.append({"path_privkey": hop["path_key_secret"], "path_key": hop["E"],
                         "shared_secret": hop["ss"], "rho": hop["rho"],
                         "blinded_node_id": hop["blinded_node_id"],
                         "encrypted_recipient_data": hop["encrypted_recipient_data"]})
    cases: list[Doc] = [{"id": "create", "kind": "blinded-path-create", "routes": routes,
                         "note": "the sender's hop to Alice joined to Dave's Bob->Dave path",
                         "expect": {"first_node_id": route["first_node_id"],
                                    "first_path_key": route["first_path_key"],
                                    "hops": expected}}]
    dave_path = {"first_node_id": ids[1],
                 "first_path_key": hops[0]["tlvs"]["next_path_key_override"],
                 "hops": route["hops"][1:]}
    msg = official["onionmessage"]
    cases.append({"id": "build", "kind": "onion-message-build", "session_key": gen["session_key"],
                  "path": dave_path, "prefix": [ids[0]],
                  "prefix_session_key": hops[0]["path_key_secret"],
                  "payload": {k: v for k, v in msg.items() if k.startswith("unknown_tag_")},
                  "expect": {"onion_message_packet": msg["onion_message_packet"],
                             "onion_message": dec[0]["onion_message"]}})
    cases += message_peels(dec, hops)
    cases.append({"id": "drop-wrong-node", "kind": "onion-message-peel",
                  "onion_message": dec[1]["onion_message"], "node_key": dec[2]["privkey"],
                  "derived": ["expect"], "expect": {"dropped": "hmac_mismatch"}})
    cases.append({"id": "drop-bad-type", "kind": "onion-message-peel",
                  "onion_message": "0200" + dec[1]["onion_message"][4:],
                  "node_key": dec[1]["privkey"], "derived": ["onion_message", "expect"],
                  "expect": {"dropped": "message_type"}})
    return {"schema": SCHEMA,
            "source": source("blinded-onion-message-onion-test.json",
                             "04-onion-routing.md › Onion Messages"),
            "description": "An onion message over a blinded path joined to a sender-made hop: "
                           "the path, the message built, and what each node makes of it.",
            "cases": cases}


def documents(bolts: Path) -> dict[str, Doc]:
    def load(name: str) -> Doc:
        doc: Doc = json.loads((bolts / name).read_text())
        return doc

    blinding = load("route-blinding-test.json")
    return {"bolt04-route-blinding.json": route_blinding(blinding),
            "bolt04-blinded-payment-onion.json":
                blinded_payment(load("blinded-payment-onion-test.json"), blinding),
            "bolt04-blinded-onion-message.json":
                onion_message(load("blinded-onion-message-onion-test.json"))}


def main(argv: list[str] | None = None) -> int:
    return tool_main(__doc__.splitlines()[0],
                     lambda bolts: {n: render(d) for n, d in documents(bolts).items()},
                     DEFAULT_BOLTS, DEFAULT_OUT, argv)


if __name__ == "__main__":
    sys.exit(main())
