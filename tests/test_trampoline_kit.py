"""The conformance kit's trampoline ops (sphinxamp/conformance/ops_trampoline.py): sphinxamp's
own answers against the recorded vectors (the proposal's, lightning/bolts#836
bolt04/trampoline-*-test.json, and Eclair's PaymentOnionSpec.scala payloads, as
vectors/trampoline-*.json record them), and the runner's rule that an adapter is judged on a
trampoline format only when its hello names it (`trampoline_formats`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.conformance import AdapterProcess, load_suites, run_cases
from sphinxamp.conformance.ops import answer
from sphinxamp.conformance.reference import hello
from sphinxamp.conformance.run import AGREE, DISAGREE, UNSUPPORTED
from sphinxamp.conformance.schema import answer_problems, request_problems
from sphinxamp.conformance.suites import recorded_cases

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _cases(kind: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(VECTORS.glob("trampoline-*.json")):
        for case in json.loads(path.read_text())["trampoline_cases"]:
            if case["kind"] == kind:
                out.append((path.name, case))
    return out


@pytest.mark.parametrize(("name", "case"), [
    pytest.param(n, c, id=c["id"]) for n, c in _cases("trampoline-process")
    if "refused" not in c["expect"]])
def test_the_peel_answers_the_vectors(name: str, case: dict[str, Any]) -> None:
    """A trampoline node's two peels give the vector's trampoline payload and the trampoline
    onion it forwards (byte for byte, where the vector records them)."""
    req = {"op": "trampoline_peel", "onion": case["onion"], "node_key": case["node_key"],
           "associated_data": case["associated_data"], "format": case["profile"]}
    assert request_problems({"id": 1, **req}) == []
    got = answer(req)
    assert "error" not in got, got
    assert answer_problems("trampoline_peel", {"id": 1, **got}) == []
    expect = case["expect"]
    if "payload" in expect:
        assert got["payload"] == expect["payload"]
    if "next_trampoline_onion" in expect:
        assert got["next_onion"] == expect["next_trampoline_onion"]
    if expect["action"] == "receive":
        assert got["next_onion"] is None


@pytest.mark.parametrize(("name", "case"), [
    pytest.param(n, c, id=c["id"]) for n, c in _cases("trampoline-payload")])
def test_the_payload_decode_answers_the_vectors(name: str, case: dict[str, Any]) -> None:
    got = answer({"op": "trampoline_payload_decode", "payload": case["payload"],
                  "format": case["profile"]})
    assert "error" not in got, got
    assert [r["type"] for r in got["records"]] == [t for t, _, _ in case["expect"]["records"]]
    assert got["outgoing_node_id"] == case["expect"].get("outgoing_node_id")


_NODE = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"


def test_type_14_is_the_next_node_in_the_proposal_and_unknown_in_the_legacy_format() -> None:
    payload = "02021388040203e80e21" + _NODE
    proposal = answer({"op": "trampoline_payload_decode", "payload": payload,
                       "format": "trampoline"})
    assert proposal["outgoing_node_id"] == _NODE
    legacy = answer({"op": "trampoline_payload_decode", "payload": payload,
                     "format": "trampoline-legacy"})
    assert legacy["error"]["tlv_type"] == 14 and legacy["error"]["reason"] == "unknown_even_type"


def test_the_reference_hello_declares_both_formats() -> None:
    said = hello()
    assert said["trampoline_formats"] == ["trampoline", "trampoline-legacy"]
    assert {"trampoline_payload_decode", "trampoline_peel"} <= set(said["ops"])
    assert answer_problems("hello", {"id": 0, **said}) == []


# --- the runner with fake adapters ------------------------------------------------------------

_CASES = [c for c in recorded_cases() if c.op.startswith("trampoline_")]


def _adapter(tmp_path: Path, hello_fields: dict[str, Any], body: str) -> list[str]:
    """An adapter that says `hello_fields` and answers each request with `body` (Python, with
    `req` in scope, setting `out`)."""
    said = {"protocol": "sphinxamp-conformance/2", **hello_fields}
    path = tmp_path / "adapter.py"
    path.write_text(
        "import json, sys\n"
        "from sphinxamp.conformance.reference import handle_line\n"
        "for line in sys.stdin:\n"
        "    req = json.loads(line)\n"
        "    if req.get('op') == 'hello':\n"
        f"        out = {{'id': req['id'], **{said!r}}}\n"
        "    else:\n"
        + "".join(f"        {line}\n" for line in body.splitlines())
        + "    print(json.dumps(out), flush=True)\n")
    return [sys.executable, str(path)]


# Refuses every trampoline request; answers bigsize_decode as sphinxamp does, so a run has
# something compared (a run that compares nothing fails by design).
_WRONG = ("out = handle_line(line) if req['op'] == 'bigsize_decode' else {'id': req['id'], "
          "'error': {'failure_code': 16399, 'tlv_type': None, 'offset': None, 'message': 'no'}}")
_BIGSIZE = [c for c in load_suites(["valid"], seed=1)[0] if c.op == "bigsize_decode"][:2]
_RIGHT = "out = handle_line(line)"


def test_an_adapter_naming_no_format_is_not_judged(tmp_path: Path) -> None:
    """It lists the ops but no `trampoline_formats`, and refuses everything: no finding."""
    ops = ["bigsize_decode", "trampoline_payload_decode", "trampoline_peel"]
    with AdapterProcess(_adapter(tmp_path, {"ops": ops}, _WRONG), timeout=30) as adapter:
        report = run_cases([*_BIGSIZE, *_CASES], adapter)
    assert {o.status for o in report.outcomes if o.case in _CASES} == {UNSUPPORTED}
    assert report.ok, report.failures()
    assert report.ran == len(_BIGSIZE)
    assert all("trampoline_formats" in s["reason"] for s in report.skipped)
    assert sum(s["cases"] for s in report.skipped) == len(_CASES)


def test_an_adapter_without_the_ops_is_not_judged(tmp_path: Path) -> None:
    with AdapterProcess(_adapter(tmp_path, {"ops": ["bigsize_decode"]}, _WRONG),
                        timeout=30) as adapter:
        report = run_cases([*_BIGSIZE, *_CASES], adapter)
    assert {o.status for o in report.outcomes if o.case in _CASES} == {UNSUPPORTED}
    assert report.ok, report.failures()


def test_only_the_declared_format_is_judged(tmp_path: Path) -> None:
    """Proposal format declared and answered right; legacy cases not sent."""
    said = {"ops": ["trampoline_payload_decode", "trampoline_peel"],
            "trampoline_formats": ["trampoline"]}
    body = ("out = handle_line(line) if req.get('format') == 'trampoline' else "
            + _WRONG.removeprefix("out = "))
    with AdapterProcess(_adapter(tmp_path, said, body), timeout=30) as adapter:
        report = run_cases(_CASES, adapter)
    by_format: dict[str, set[str]] = {}
    for o in report.outcomes:
        by_format.setdefault(o.case.request["format"], set()).add(o.status)
    assert by_format == {"trampoline": {AGREE}, "trampoline-legacy": {UNSUPPORTED}}
    assert report.ok


def test_a_declared_format_answered_wrong_is_reported(tmp_path: Path) -> None:
    """The judge can fail: an adapter that declares the proposal's format and reads type 14
    as something else (no outgoing_node_id) disagrees."""
    said = {"ops": ["trampoline_payload_decode"], "trampoline_formats": ["trampoline"]}
    body = "out = handle_line(line)\nout['outgoing_node_id'] = None"
    cases = [c for c in _CASES if c.op == "trampoline_payload_decode"]
    cases.append(type(cases[0])("kit:tramp14", "recorded", "trampoline_payload_decode",
                                {"payload": "02021388040203e80e21" + _NODE,
                                 "format": "trampoline"}, "test", "rule"))
    with AdapterProcess(_adapter(tmp_path, said, body), timeout=30) as adapter:
        report = run_cases(cases, adapter)
    statuses = {o.case.id: o.status for o in report.outcomes}
    assert statuses["kit:tramp14"] == DISAGREE
    assert not report.ok


def test_sphinxamp_agrees_with_itself_on_every_trampoline_case(tmp_path: Path) -> None:
    said = {"ops": ["trampoline_payload_decode", "trampoline_peel"],
            "trampoline_formats": ["trampoline", "trampoline-legacy"]}
    with AdapterProcess(_adapter(tmp_path, said, _RIGHT), timeout=30) as adapter:
        report = run_cases(_CASES, adapter)
    assert len(_CASES) >= 12
    assert {o.status for o in report.outcomes} == {AGREE}
