"""`trace_route(messages=True)` and `sphinxamp trace --messages`: the exact BOLT 2 messages on
every link of a traced payment (BOLT 2 › Adding an HTLC; › Removing an HTLC)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from sphinxamp import (
    RouteSpec,
    Trace,
    decode_message,
    decrypt_failure,
    encode_message,
    process_hop,
    trace_route,
)
from sphinxamp._explain._links import TraceLink
from sphinxamp.cli._route_file import parse_route
from sphinxamp.conformance.schema import problems
from sphinxamp.errors import InvalidArgument
from sphinxamp.failures import verify_attribution
from sphinxamp.messages import (
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
    message_to_json,
)

ROOT = Path(__file__).resolve().parent.parent
BLINDED = ROOT / "examples" / "route-blinded.json"
CLEAR = ROOT / "examples" / "route-bolt04.json"
PREIMAGE = bytes([0x77]) * 32


def route(path: Path) -> RouteSpec:
    return parse_route(path.read_text())[0]


def keys(spec: RouteSpec) -> list[bytes]:
    return [h.node_key for h in (*spec.hops, *spec.blinded)]


def forwards(trace: Trace) -> list[UpdateAddHtlc]:
    out = []
    for link in trace.links:
        msg = link.messages[0].message
        assert link.messages[0].direction == "forward" and isinstance(msg, UpdateAddHtlc)
        out.append(msg)
    return out


def back(link: TraceLink) -> list[object]:
    assert all(m.direction == "back" for m in link.messages[1:])
    return [m.message for m in link.messages[1:]]


def test_tlv0_is_on_exactly_the_links_inside_the_blinded_route() -> None:
    spec = route(BLINDED)
    trace = trace_route(spec, messages=True)
    intro = len(spec.hops)  # the introduction node reads its path key from its payload
    assert len(trace.links) == len(keys(spec)) == 4
    assert [m.path_key is not None for m in forwards(trace)] == [
        i > intro for i in range(len(trace.links))]
    # Each path key is the one the hop's processing says it used.
    for i, msg in enumerate(forwards(trace)):
        if msg.path_key is not None:
            processed = trace.hops[i].processed
            assert processed is not None and processed.path_key == msg.path_key


def test_each_forward_is_what_the_next_hop_processes() -> None:
    spec = route(BLINDED)
    trace = trace_route(spec, messages=True)
    for i, (msg, key) in enumerate(zip(forwards(trace), keys(spec), strict=True)):
        wire = trace.links[i].messages[0].wire
        assert decode_message(wire) == msg and encode_message(msg) == wire
        # The onion on link i is the one hop i's story received (the trace's bare walk).
        assert hashlib.sha256(msg.onion_routing_packet).digest() == trace.hops[i].onion_sha256
        assert msg.payment_hash == spec.associated_data and msg.channel_id[-1] == i + 1
        answer = process_hop(msg, key, current_block_height=spec.height)
        processed = trace.hops[i].processed
        assert answer.hop is not None and processed is not None
        assert replace(answer.hop, next_packet=None) == processed
    assert trace.links[0].messages[0].message.amount_msat == spec.amount_msat  # type: ignore[union-attr]


def test_a_route_without_an_htlc_sends_what_the_first_payload_forwards() -> None:
    trace = trace_route(route(CLEAR), messages=True)
    sent = forwards(trace)
    assert [(m.amount_msat, m.cltv_expiry) for m in sent] == [
        (15000, 1500), (15000, 1500), (14000, 1400), (12500, 1250), (10000, 1000)]
    assert all(m.path_key is None for m in sent)


def test_an_injected_failure_comes_back_as_the_steps_say() -> None:
    spec = route(BLINDED)
    trace = trace_route(spec, fail_at=2, code="temporary_node_failure", messages=True)
    assert len(trace.links) == 3
    for step in trace.steps:
        (reply,) = back(trace.links[step.hop_index])
        assert isinstance(reply, UpdateFailHtlc)
        assert (reply.reason, reply.attribution_data) == (step.packet, step.attribution_data)
    (first,) = back(trace.links[0])
    assert isinstance(first, UpdateFailHtlc)
    origin = decrypt_failure(first.reason, trace.shared_secrets, first.attribution_data)
    assert origin.hop_index == 2 and origin.message is not None
    assert origin.message.code == 0x2002
    assert origin.attribution is not None
    assert [a.hold_time_ms for a in origin.attribution] == [200, 300, 100]


def test_an_injected_badonion_failure_is_malformed_on_its_link_only() -> None:
    spec = route(CLEAR)
    trace = trace_route(spec, fail_at=3, code="invalid_onion_hmac", messages=True)
    (malformed,) = back(trace.links[3])
    assert isinstance(malformed, UpdateFailMalformedHtlc)
    assert malformed.failure_code == 0xC005
    assert malformed.sha256_of_onion == trace.hops[3].onion_sha256
    (made,) = back(trace.links[2])
    # BOLT 2: the hop upstream makes the packet; no attribution data starts there.
    assert isinstance(made, UpdateFailHtlc) and made.attribution_data is None
    (first,) = back(trace.links[0])
    assert isinstance(first, UpdateFailHtlc)
    origin = decrypt_failure(first.reason, trace.shared_secrets)
    assert origin.hop_index == 2 and origin.message is not None
    assert origin.message.code == 0xC005
    assert origin.message.fields["sha256_of_onion"] == trace.hops[3].onion_sha256


def test_a_hop_that_refuses_answers_as_process_hop_does() -> None:
    spec = replace(route(CLEAR), height=990)  # the final expiry 1000 is below 990 + 18
    trace = trace_route(spec, messages=True)
    refusal = trace.hops[4].refusal
    assert refusal is not None and refusal.failure_code == 0x400F
    (own,) = back(trace.links[4])
    assert isinstance(own, UpdateFailHtlc) and own.attribution_data is not None
    (first,) = back(trace.links[0])
    assert isinstance(first, UpdateFailHtlc)
    origin = decrypt_failure(first.reason, trace.shared_secrets, first.attribution_data)
    assert origin.hop_index == 4 and origin.message is not None
    assert origin.message.code == refusal.failure_code
    assert origin.message.fields == {"htlc_msat": 10000, "height": 990}


def test_a_settled_payment_is_fulfilled_on_every_link() -> None:
    spec = replace(route(BLINDED), associated_data=hashlib.sha256(PREIMAGE).digest(),
                   payment_preimage=PREIMAGE)
    trace = trace_route(spec, messages=True)
    fulfills = [back(link) for link in trace.links]
    assert all(len(f) == 1 and isinstance(f[0], UpdateFulfillHtlc) for f in fulfills)
    first = fulfills[0][0]
    assert isinstance(first, UpdateFulfillHtlc) and first.payment_preimage == PREIMAGE
    assert first.attribution_data is not None
    verdict = verify_attribution(first.attribution_data, trace.shared_secrets)
    assert [(a.hold_time_ms, a.hmac_ok) for a in verdict] == [
        (200, True), (300, True), (100, True), (500, True)]
    assert not trace.notes


def test_without_the_preimage_no_fulfill_is_invented() -> None:
    trace = trace_route(route(BLINDED), messages=True)
    assert all(len(link.messages) == 1 for link in trace.links)
    assert any("payment_preimage" in n for n in trace.notes)


def test_a_preimage_of_another_hash_is_refused() -> None:
    spec = replace(route(BLINDED), payment_preimage=PREIMAGE)
    with pytest.raises(InvalidArgument) as err:
        trace_route(spec, messages=True)
    assert err.value.field == "payment_preimage"


def test_messages_need_a_payment_onion() -> None:
    spec = replace(route(CLEAR), payload_area=2000)
    assert trace_route(spec).links == ()
    with pytest.raises(InvalidArgument):
        trace_route(spec, messages=True)


# --- the CLI ------------------------------------------------------------------------------

SPHINXAMP = [sys.executable, "-m", "sphinxamp", "trace"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([*SPHINXAMP, *args], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return out


def test_cli_messages_json_on_the_blinded_example() -> None:
    doc = json.loads(run_cli(str(BLINDED), "--messages", "--json").stdout)
    root = json.loads((ROOT / "docs" / "schemas" / "trace.schema.json").read_text())
    assert list(problems(doc, root, root)) == []
    assert [link["index"] for link in doc["links"]] == [0, 1, 2, 3]
    sent = []
    for link in doc["links"]:
        (item,) = link["messages"]  # no preimage in the example: nothing comes back
        assert (item["direction"], item["type"], item["name"]) == (
            "forward", 128, "update_add_htlc")
        msg = decode_message(bytes.fromhex(item["hex"]))
        assert {k: v for k, v in item.items() if k not in ("direction", "hex")} == \
            message_to_json(msg)
        sent.append(msg)
    assert [isinstance(m, UpdateAddHtlc) and m.path_key is not None for m in sent] == [
        False, False, True, True]
    trace = trace_route(route(BLINDED), messages=True)
    assert [m.wire.hex() for link in trace.links for m in link.messages] == [
        item["hex"] for link in doc["links"] for item in link["messages"]]


def test_cli_messages_json_of_a_malformed_failure() -> None:
    doc = json.loads(run_cli(str(BLINDED), "--messages", "--json", "--fail-at", "3",
                             "--code", "invalid_onion_hmac").stdout)
    names = [[m["name"] for m in link["messages"]] for link in doc["links"]]
    assert names == [["update_add_htlc", "update_fail_htlc"]] * 3 + [
        ["update_add_htlc", "update_fail_malformed_htlc"]]
    malformed = doc["links"][3]["messages"][1]
    assert (malformed["direction"], malformed["failure_code"]) == ("back", 0xC005)
    assert malformed["sha256_of_onion"] == doc["hops"][3]["onion_sha256"]
    # The hop upstream of a malformed answer makes the packet without attribution data;
    # the hops before it wrap it starting from zeros (BOLT 4 › Returning Errors).
    assert doc["links"][2]["messages"][1]["attribution_data"] is None
    assert doc["links"][0]["messages"][1]["attribution_data"] is not None


def test_cli_messages_text_prints_hex_and_fields() -> None:
    text = run_cli(str(BLINDED), "--messages").stdout
    trace = trace_route(route(BLINDED), messages=True)
    for link in trace.links:
        assert link.messages[0].wire.hex() in text
    assert "link 0 (origin ↔ hop 0):" in text and "link 3 (hop 2 ↔ hop 3):" in text
    assert "→ update_add_htlc (128)" in text
    assert "      amount_msat = 100125" in text
    plain = run_cli(str(BLINDED)).stdout
    assert "update_add_htlc" not in plain and "links" not in json.loads(
        run_cli(str(BLINDED), "--json").stdout)


def test_cli_reads_the_preimage_from_the_route_file(tmp_path: Path) -> None:
    """A route file's payment_preimage (its SHA256 the associated data) makes the CLI's
    messages end in update_fulfill_htlc on every link, carrying that preimage."""
    doc = json.loads(BLINDED.read_text())
    doc["associated_data"] = hashlib.sha256(PREIMAGE).hexdigest()
    doc["payment_preimage"] = PREIMAGE.hex()
    path = tmp_path / "settled.json"
    path.write_text(json.dumps(doc))
    out = json.loads(run_cli(str(path), "--messages", "--json").stdout)
    root = json.loads((ROOT / "docs" / "schemas" / "trace.schema.json").read_text())
    assert list(problems(out, root, root)) == []
    backs = [link["messages"][1:] for link in out["links"]]
    assert [[m["name"] for m in b] for b in backs] == [["update_fulfill_htlc"]] * 4
    assert {m["payment_preimage"] for b in backs for m in b} == {PREIMAGE.hex()}
    doc["payment_preimage"] = "77" * 31
    path.write_text(json.dumps(doc))
    bad = subprocess.run([*SPHINXAMP, str(path), "--messages", "--json"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "payment_preimage" in bad.stdout + bad.stderr
