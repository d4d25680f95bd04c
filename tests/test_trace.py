"""`trace`: a described route built, processed at every hop and failed back, against the
BOLT 4 vectors (onion-test's onion and secrets, onion-error-test's return packet)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import trace_route
from sphinxamp.cli._route_file import parse_route
from sphinxamp.errors import InvalidArgument

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The CLI as this interpreter runs it, whatever the environment is called.
SPHINXAMP = [sys.executable, "-m", "sphinxamp"]


def _case(name: str, case_id: str) -> dict[str, Any]:
    cases = json.loads((ROOT / "vectors" / name).read_text())["cases"]
    found: dict[str, Any] = next(c for c in cases if c["id"] == case_id)
    return found


def test_bolt04_route_matches_the_vectors() -> None:
    spec, drawn = parse_route((EXAMPLES / "route-bolt04.json").read_text())
    assert not drawn
    trace = trace_route(spec)
    build = _case("bolt04-onion.json", "build-5-hops")
    assert trace.onion.hex() == build["expect"]["onion"]
    secrets = _case("bolt04-failure.json", "return-five-hops")["shared_secrets"]
    assert [s.hex() for s in trace.shared_secrets] == secrets
    assert [h.processed.shared_secret.hex() for h in trace.hops if h.processed] == secrets
    assert [h.processed.raw_payload.hex() for h in trace.hops if h.processed] == [
        h["payload"] for h in build["hops"]]
    assert [h.processed.role.value for h in trace.hops if h.processed] == [
        "intermediate"] * 4 + ["final"]


def test_failure_at_the_last_hop_is_the_vector_packet() -> None:
    spec, _ = parse_route((EXAMPLES / "route-bolt04.json").read_text())
    case = _case("bolt04-failure.json", "return-five-hops")
    trace = trace_route(spec, fail_at=case["erring_hop"], code=0x2002)
    want = next(h for h in case["expect"]["hops"] if h["hop_index"] == 0)["reason"]
    assert trace.steps[-1].packet.hex() == want
    assert [s.action for s in trace.steps] == ["create"] + ["wrap"] * 4
    origin = trace.origin
    assert origin is not None and origin.hop_index == 4 and origin.failure_code == 0x2002
    assert origin.attribution is not None
    assert [(a.hold_time_ms, a.hmac_ok) for a in origin.attribution] == [
        (100 * (i + 1), True) for i in range(5)]


def test_badonion_goes_back_malformed_then_as_a_packet() -> None:
    spec, _ = parse_route((EXAMPLES / "route-bolt04.json").read_text())
    trace = trace_route(spec, fail_at=2, code="invalid_onion_hmac")
    assert [(s.hop_index, s.action) for s in trace.steps] == [
        (2, "malformed"), (1, "create"), (0, "wrap")]
    assert trace.origin is not None and trace.origin.hop_index == 1
    assert trace.origin.message is not None
    assert trace.origin.message.fields["sha256_of_onion"] == trace.hops[2].onion_sha256


def test_blinded_suffix() -> None:
    spec, _ = parse_route((EXAMPLES / "route-blinded.json").read_text())
    trace = trace_route(spec, fail_at=3, code="incorrect_or_unknown_payment_details")
    roles = [h.processed.role.value for h in trace.hops if h.processed]
    assert roles == ["intermediate", "blinded-intermediate", "blinded-intermediate",
                     "blinded-final"]
    carol = trace.hops[1].processed
    assert carol is not None and carol.introduction_node
    # payment_relay: 100125 - 100 base fee; cltv 800244 - 50 (independent arithmetic)
    assert (carol.amt_to_forward, carol.outgoing_cltv_value) == (100025, 800194)
    assert trace.origin is not None and trace.origin.hop_index == 3


def test_bad_requests() -> None:
    spec, _ = parse_route((EXAMPLES / "route-bolt04.json").read_text())
    with pytest.raises(InvalidArgument):
        trace_route(spec, fail_at=5)
    with pytest.raises(InvalidArgument):
        trace_route(spec, fail_at=0, code="invalid_onion_key")
    with pytest.raises(InvalidArgument, match="must be 32 bytes"):
        parse_route('{"hops": [{"node_key": "01", "payload": "0000"}], '
                    '"associated_data": ""}')


def test_cli_trace_json_entry_point() -> None:
    out = subprocess.run([*SPHINXAMP, "trace", str(EXAMPLES / "route-bolt04.json"),
                          "--fail-at", "1", "--code", "temporary_channel_failure", "--json"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert len(doc["hops"]) == 2 and doc["hops"][1]["role"] == "intermediate"
    assert doc["failure"]["origin"]["hop_index"] == 1
    assert doc["failure"]["origin"]["failure_name"] == "temporary_channel_failure"
    bad = subprocess.run([*SPHINXAMP, "trace", str(EXAMPLES / "route-bolt04.json"),
                          "--fail-at", "9", "--json"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout)["field"] == "fail_at"


def test_a_refusing_hop_ends_the_story() -> None:
    """Hop 1's payload is an intermediate payload without short_channel_id: it refuses with
    invalid_onion_payload naming type 6, and no hop after it receives anything."""
    route = json.loads((EXAMPLES / "route-bolt04.json").read_text())
    route["hops"][1]["payload"] = "020236b0040205dc"
    spec, _ = parse_route(json.dumps(route))
    trace = trace_route(spec)
    assert len(trace.hops) == 2 and trace.hops[1].processed is None
    refusal = trace.hops[1].refusal
    assert refusal is not None and refusal.failure_name == "invalid_onion_payload"
    assert refusal.tlv_type == 6
    with pytest.raises(InvalidArgument, match="never receives"):
        trace_route(spec, fail_at=3)


def test_cli_trace_human_story_and_random_session_key(tmp_path: Path) -> None:
    route = json.loads((EXAMPLES / "route-bolt04.json").read_text())
    del route["session_key"]
    path = tmp_path / "route.json"
    path.write_text(json.dumps(route))
    out = subprocess.run([*SPHINXAMP, "trace", str(path), "--fail-at", "0"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "session key drawn at random" in out.stdout.splitlines()[0]
    assert "origin: erring hop 0, temporary_node_failure" in out.stdout
    assert "hop 0: held 100 ms, HMAC ok" in out.stdout
