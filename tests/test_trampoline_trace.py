"""`trace` of a trampoline payment (sphinxamp/_explain/_trampoline_trace.py, the route file's
`trampoline` object in sphinxamp/cli/_trampoline_route.py, the trace output): the proposal's
vector (lightning/bolts#836 bolt04/trampoline-payment-onion-test.json, as
vectors/trampoline-payment-onion.json records it) played as a route file, and the example
route file, whose amounts and expiries are the facts the trace must report."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import coincurve
import pytest

from sphinxamp import trace_route
from sphinxamp.cli._route_file import parse_route
from sphinxamp.cli.trace import trace_json
from sphinxamp.errors import InvalidArgument
from sphinxamp.payments import TrampolineHop
from tests.test_cli_reference import check

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "trampoline-route.json"


def _node_id(key_hex: str) -> str:
    """A node id by coincurve directly (not the library's public_key)."""
    return coincurve.PrivateKey(bytes.fromhex(key_hex)).public_key.format(True).hex()


def _vector() -> dict[str, dict[str, Any]]:
    doc = json.loads((ROOT / "vectors" / "trampoline-payment-onion.json").read_text())
    return {c["id"]: c for c in doc["trampoline_cases"]}


def _vector_route() -> dict[str, Any]:
    """Alice's build as a route file: Bob (key 42…42) then the trampoline nodes Carol
    (43…43) and Eve (45…45), with the vector's keys, payloads and carrier."""
    cases = _vector()
    build = cases["alice-builds"]
    keys = {cases["carol-processes"]["node_key"], cases["eve-receives"]["node_key"], "42" * 32}
    by_id = {_node_id(k): k for k in keys}
    return {"format": "sphinxamp-route/1", "session_key": build["session_key"],
            "associated_data": build["associated_data"], "height": 799_000,
            "amount_msat": cases["carol-processes"]["incoming_amount_msat"] + 1000,
            "cltv_expiry": cases["carol-processes"]["incoming_cltv_expiry"] + 40,
            "hops": [{"node_key": by_id[h["pubkey"]], "payload": h["payload"]}
                     for h in build["route"]],
            "trampoline": {"format": build["profile"],
                           "session_key": build["trampoline_session_key"],
                           "carrier": build["carrier"],
                           "hops": [{"node_key": by_id[h["pubkey"]], "payload": h["payload"]}
                                    for h in build["trampoline_hops"]]}}


def _trampolines(trace: Any) -> list[TrampolineHop]:
    return [h.processed.trampoline for h in trace.hops
            if h.processed is not None and h.processed.trampoline is not None]


def test_the_vectors_payment_traced() -> None:
    """The sender's onion is the vector's byte for byte; Carol peels the vector's trampoline
    payload and forwards the vector's trampoline onion to Eve, who finds the vector's."""
    cases = _vector()
    spec, drawn = parse_route(json.dumps(_vector_route()))
    trace = trace_route(spec)
    assert not drawn
    assert trace.onion.hex() == cases["alice-builds"]["expect"]["onion"]
    carol, eve = _trampolines(trace)
    want = cases["carol-processes"]["expect"]
    assert (carol.action, carol.raw_payload.hex()) == ("forward", want["payload"])
    assert carol.next_node_id is not None and carol.next_node_id.hex() == want["next_node_id"]
    assert (carol.amt_to_forward, carol.outgoing_cltv_value) == (
        want["amt_to_forward"], want["outgoing_cltv_value"])
    assert carol.next_packet is not None
    assert carol.next_packet.to_bytes().hex() == want["next_trampoline_onion"]
    got = cases["eve-receives"]["expect"]
    assert (eve.action, eve.raw_payload.hex()) == ("receive", got["payload"])
    assert [h.leg for h in trace.hops] == [0, 0, 1]
    assert len(trace.legs) == 2 and trace.legs[1].first_hop == 2


def test_the_example_reports_each_trampoline_nodes_amounts() -> None:
    route = json.loads(EXAMPLE.read_text())
    spec, _ = parse_route(EXAMPLE.read_text())
    out = trace_json(trace_route(spec), spec.session_key, False)
    nodes = route["trampoline"]["hops"]
    layers = [h["trampoline"] for h in out["hops"] if h["trampoline"] is not None]
    assert [t["action"] for t in layers] == ["forward", "forward", "receive"]
    assert [(t["amt_to_forward"], t["outgoing_cltv_value"]) for t in layers] == [
        (n["payload"]["amt_to_forward"], n["payload"]["outgoing_cltv_value"]) for n in nodes]
    carrier = route["trampoline"]["carrier"]
    assert (layers[0]["incoming_amount_msat"], layers[0]["incoming_cltv_expiry"]) == (
        carrier["total_msat"], carrier["outgoing_cltv_value"])
    # Each node is paid what the previous trampoline payload told it to forward.
    for before, after in itertools.pairwise(layers):
        assert (after["incoming_amount_msat"], after["incoming_cltv_expiry"]) == (
            before["amt_to_forward"], before["outgoing_cltv_value"])
    assert [t["next_node_id"] for t in layers] == [
        _node_id(nodes[1]["node_key"]), _node_id(nodes[2]["node_key"]), None]
    records = {(r["type"], r["name"], r["profile"]) for r in layers[0]["records"]}
    assert (14, "outgoing_node_id", "trampoline") in records
    assert not any(r["name"] == "amp" for t in layers for r in t["records"])
    second = out["legs"][1]
    assert out["hops"][second["first_hop"]]["onion_sha256"] == second["onion_sha256"]
    assert layers[0]["next_trampoline_onion_sha256"] is not None


def test_the_legacy_format_traced() -> None:
    route = json.loads(EXAMPLE.read_text())
    route["trampoline"]["format"] = "trampoline-legacy"
    spec, _ = parse_route(json.dumps(route))
    out = trace_json(trace_route(spec), spec.session_key, False)
    layers = [h["trampoline"] for h in out["hops"] if h["trampoline"] is not None]
    assert [t["action"] for t in layers] == ["forward", "forward", "receive"]
    names = {(r["type"], r["name"], r["profile"]) for r in layers[0]["records"]}
    assert (66098, "outgoing_node_id", "trampoline-legacy") in names
    onion = out["hops"][1]["payload"]["trampoline_onion_packet"]
    # Eclair's format: a 400-byte payload area (SphinxSpec.scala), 466 bytes in all.
    assert len(onion) // 2 == 1 + 33 + 400 + 32


def test_a_refusing_recipient_ends_the_story() -> None:
    """Eve's trampoline payload asks for a later expiry than Dave's onion brings her: the
    proposal's recipient refuses it with final_incorrect_cltv_expiry (18; LDK
    onion_payment.rs, check_trampoline_payment_constraints)."""
    route = json.loads(EXAMPLE.read_text())
    route["trampoline"]["hops"][2]["payload"]["outgoing_cltv_value"] = 800_100
    spec, _ = parse_route(json.dumps(route))
    trace = trace_route(spec)
    last = trace.hops[-1]
    assert last.refusal is not None and last.leg == 2
    assert last.refusal.failure_code == 18


def test_failures_and_messages_are_refused_with_a_trampoline_route() -> None:
    spec, _ = parse_route(EXAMPLE.read_text())
    with pytest.raises(InvalidArgument):
        trace_route(spec, fail_at=0, code="temporary_node_failure")
    with pytest.raises(InvalidArgument):
        trace_route(spec, messages=True)


@pytest.mark.parametrize(("path", "value"), [
    (("trampoline", "format"), "eclair"),
    (("trampoline", "hops"), []),
    (("trampoline", "carrier"), None),
    (("trampoline", "hops", 0, "payload", "short_channel_id"), "1x2x3"),
])
def test_a_bad_trampoline_object_is_refused(path: tuple[Any, ...], value: Any) -> None:
    route = json.loads(EXAMPLE.read_text())
    node = route
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(InvalidArgument) as err:
        parse_route(json.dumps(route))
    assert err.value.field is not None and err.value.field.startswith("trampoline")


def test_the_example_fits_the_schemas() -> None:

    check(json.loads(EXAMPLE.read_text()), "route")
    spec, drawn = parse_route(EXAMPLE.read_text())
    check(trace_json(trace_route(spec), spec.session_key, drawn), "trace")


def test_cli_trace_json_and_text() -> None:
    proc = subprocess.run([sys.executable, "-m", "sphinxamp", "trace", str(EXAMPLE), "--json"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert len(doc["legs"]) == 3
    text = subprocess.run([sys.executable, "-m", "sphinxamp", "trace", str(EXAMPLE)],
                          capture_output=True, text=True, check=False).stdout
    assert "trampoline forward to" in text and "keeps 1000 msat and 144 blocks" in text
    assert "trampoline final: receives 100000 msat" in text
    digest = hashlib.sha256(bytes.fromhex(doc["onion"])).hexdigest()
    assert doc["hops"][0]["onion_sha256"] == digest
