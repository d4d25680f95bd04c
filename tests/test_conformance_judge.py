"""Judging as the text does: each difference graded by its rule, a MAY a note that fails no
run; optional records judged by what the adapter's hello declares; writer rules out of the
reader's cases; the code the text gives each case."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp._codes import INVALID_ONION_BLINDING, INVALID_ONION_PAYLOAD
from sphinxamp.conformance import OPS, AdapterProcess, load_suites, run_cases
from sphinxamp.conformance.generate import valid_cases
from sphinxamp.conformance.judge import (
    EVERYTHING,
    UNDECLARED,
    Understanding,
    judge,
    not_understood,
    understanding,
)
from sphinxamp.conformance.malformed import malformed_cases
from sphinxamp.conformance.ops import answer
from sphinxamp.conformance.protocol import (
    ACCEPT_REFUSE,
    FAILURE_CODE,
    LOCATION,
    MAY,
    MUST,
    SHOULD,
    Difference,
    compare,
)
from sphinxamp.conformance.run import AGREE, DISAGREE, NOTE
from sphinxamp.wire._records import KEYSEND_TYPE

PAYLOAD = OPS["payload_decode"]


def refusal(code: int | None, tlv_type: int | None = None, offset: int | None = None
            ) -> dict[str, Any]:
    return {"error": {"failure_code": code, "tlv_type": tlv_type, "offset": offset,
                      "message": "no"}}


def test_location_of_invalid_onion_payload_is_a_may() -> None:
    want = refusal(INVALID_ONION_PAYLOAD, 6, 7)
    for got in (refusal(INVALID_ONION_PAYLOAD), refusal(INVALID_ONION_PAYLOAD, 6, 0)):
        diff = compare(want, got, compared=("records",))
        assert diff is not None and (diff.kind, diff.grade) == (LOCATION, MAY)
        assert "may include that `type` and its byte `offset`" in diff.text


def test_failure_codes_are_graded_by_the_text() -> None:
    """invalid_onion_payload and the BADONION codes of a plain hop are the node's choice (MAY);
    invalid_onion_blinding is a MUST; accepting what must be refused is a MUST."""
    diff = compare(refusal(INVALID_ONION_PAYLOAD, 2, 0), refusal(0x2002), compared=())
    assert diff is not None and (diff.kind, diff.grade) == (FAILURE_CODE, MAY)
    diff = compare(refusal(INVALID_ONION_BLINDING), refusal(INVALID_ONION_PAYLOAD, 2, 0),
                   compared=())
    assert diff is not None and (diff.kind, diff.grade) == (FAILURE_CODE, MUST)
    diff = compare(refusal(INVALID_ONION_PAYLOAD, 2, 0), {"records": []}, compared=())
    assert diff is not None and (diff.kind, diff.grade) == (ACCEPT_REFUSE, MUST)


def test_a_bare_non_minimal_bigsize_is_a_should() -> None:
    req = {"op": "bigsize_decode", "bytes": "fd00fc"}
    diff = judge(OPS["bigsize_decode"], req, answer(req), {"value": 252, "length": 3})
    assert diff is not None and diff.grade == SHOULD and "should be checked" in diff.text
    req = {"op": "bigsize_decode", "bytes": "fd00"}
    diff = judge(OPS["bigsize_decode"], req, answer(req), {"value": 0, "length": 2})
    assert diff is not None and diff.grade == MUST


def fine(diff: Difference | None) -> bool:
    return diff is None or diff.grade == MAY


def case_by_id(key: str) -> dict[str, Any]:
    case = next(c for c in valid_cases(1) if c.id == f"valid:{key}")
    return {"op": case.op, **case.request}


@pytest.mark.parametrize("key", ["payload:optional:final-keysend", "payload:optional:final-amp"])
def test_optional_records_follow_the_hello(key: str) -> None:
    req = case_by_id(key)
    read = answer(req)
    assert "error" not in read  # sphinxamp understands both
    rtype = KEYSEND_TYPE if "keysend" in key else 14
    unknown = next(t for t in (rtype,) if t in {r["type"] for r in read["records"]})
    refused = refusal(INVALID_ONION_PAYLOAD, unknown, None)
    none = Understanding(True, frozenset())
    # Declared as not understood: refusing is right (BOLT 1, unknown even), reading is not.
    # (Without the offset the refusal is a note at most: its location is a MAY.)
    assert fine(judge(PAYLOAD, req, read, refused, none))
    diff = judge(PAYLOAD, req, read, read, none)
    assert diff is not None and (diff.kind, diff.grade) == (ACCEPT_REFUSE, MUST)
    # Declared as understood: the other way round.
    assert judge(PAYLOAD, req, read, read, EVERYTHING) is None
    diff = judge(PAYLOAD, req, read, refused, EVERYTHING)
    assert diff is not None and diff.grade == MUST
    # Not declared: either is right.
    assert judge(PAYLOAD, req, read, read, UNDECLARED) is None
    assert fine(judge(PAYLOAD, req, read, refused, UNDECLARED))
    assert not_understood(req, unknown, 0)["error"]["failure_code"] == INVALID_ONION_PAYLOAD


def test_hello_declarations() -> None:
    assert understanding(None) == UNDECLARED
    assert understanding({"protocol": "sphinxamp-conformance/1", "ops": []}) == UNDECLARED
    assert understanding({"optional_records": []}) == Understanding(True, frozenset())
    assert understanding({"features": [55]}).records == {KEYSEND_TYPE}
    assert understanding({"features": [30], "optional_records": [KEYSEND_TYPE, 99, True]}
                         ).records == {14, KEYSEND_TYPE}


@pytest.mark.parametrize("key", ["payload:writer:intermediate-payment-data",
                                 "payload:writer:final-short-channel-id"])
def test_writer_rules_are_no_reader_rules(key: str) -> None:
    """BOLT 4's writer MUST NOTs (payment_data at a forwarding hop, short_channel_id at the
    final hop) have no reader rule: profile bolt accepts, profile lnd refuses."""
    req = case_by_id(key)
    assert "error" not in answer(req, "bolt"), answer(req, "bolt")
    assert answer(req, "lnd")["error"]["failure_code"] == INVALID_ONION_PAYLOAD
    ids = {c.id for c in malformed_cases(1)}
    assert "malformed:payload:intermediate:includes-8" not in ids
    assert "malformed:payload:final:includes-6" not in ids


def test_the_code_the_text_gives() -> None:
    cases = {c.id: c for c in malformed_cases(1)}

    def code(key: str) -> object:
        return cases[f"malformed:{key}"].expect["error"]["failure_code"]

    # current_path_key at a hop that is not final, path_key from update_add_htlc.
    assert code("payload:intermediate:includes-12") == INVALID_ONION_BLINDING
    assert code("payload:path-key-twice") == INVALID_ONION_BLINDING
    assert code("payload:blinded-final:omits-18") == INVALID_ONION_BLINDING
    assert code("payload:final:includes-12") == INVALID_ONION_PAYLOAD
    # From the reference: a current_path_key that is a point makes a forwarding hop's error
    # invalid_onion_blinding; a record that is no point sets no key.
    point = "0c21" + "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    for value, want in ((point, INVALID_ONION_BLINDING), ("0c0102", INVALID_ONION_PAYLOAD)):
        req = {"op": "payload_decode", "payload": "020105040101" + value, "final": False,
               "path_key": False}
        assert answer(req)["error"]["failure_code"] == want, value
    # Unblinding on its own is no payment: no payment failure code.
    assert code("blinded:undecryptable") is None
    assert code("blinded:no-payment-relay") == INVALID_ONION_BLINDING


def test_a_run_fails_on_must_only(tmp_path: Path) -> None:
    """An adapter that refuses every payload with invalid_onion_payload and no location: on
    the malformed payload cases its missing location is a note, its code where the text
    requires invalid_onion_blinding a MUST disagreement; only the latter fails the run."""
    body = ("import json, sys\nfor line in sys.stdin:\n    req = json.loads(line)\n"
            "    if req['op'] == 'hello':\n        out = {'protocol': "
            "'sphinxamp-conformance/2', 'ops': ['payload_decode'], 'optional_records': []}\n"
            "    else:\n        out = {'error': {'failure_code': 16406, 'tlv_type': None, "
            "'offset': None, 'message': 'no'}}\n"
            "    print(json.dumps({'id': req['id'], **out}), flush=True)\n")
    path = tmp_path / "refuser.py"
    path.write_text(body)
    cases = [c for c in load_suites(["malformed"], seed=1)[0] if c.op == "payload_decode"]
    with AdapterProcess([sys.executable, str(path)], timeout=10) as adapter:
        report = run_cases(cases, adapter)
    status = {o.case.id: o.status for o in report.outcomes}
    assert status["malformed:payload:intermediate:omits-6"] == NOTE
    assert status["malformed:payload:path-key-twice"] == DISAGREE
    grades = report.grades()
    assert grades[MUST][DISAGREE] and grades[MAY][NOTE] and not report.ok
    payload_only = [c for c in cases
                    if c.expect["error"]["failure_code"] == INVALID_ONION_PAYLOAD]
    with AdapterProcess([sys.executable, str(path)], timeout=10) as adapter:
        report = run_cases(payload_only, adapter)
    assert {o.status for o in report.outcomes} <= {AGREE, NOTE} and report.ok
    assert report.to_json()["grades"][MAY][NOTE] == report.counts()[NOTE] > 0
    assert not any("optional_records" in n for n in report.notes)
    # A version-1 hello declares nothing: the run says how keysend/AMP payloads are judged.
    path.write_text(body.replace("'sphinxamp-conformance/2'", "'sphinxamp-conformance/1'")
                    .replace(", 'optional_records': []", ""))
    with AdapterProcess([sys.executable, str(path)], timeout=10) as adapter:
        report = run_cases(payload_only[:1], adapter)
    assert any("no optional_records or features declared" in n for n in report.notes)
    assert not any("protocol" in n for n in report.notes)  # version 1 is still understood


@pytest.mark.parametrize(("served", "judged", "status"), [
    ("bolt", "bolt", AGREE), ("lnd", "lnd", AGREE), ("bolt", "lnd", DISAGREE),
    ("lnd", "bolt", DISAGREE)])
def test_writer_cases_follow_the_profile(served: str, judged: str, status: str) -> None:
    """A BOLT reader accepting the writer-rule payloads agrees under profile bolt and is
    told apart under profile lnd, and lnd's refusals the other way round."""
    cases = [c for c in valid_cases(1) if ":writer:" in c.id]
    command = [sys.executable, "-m", "sphinxamp.conformance", "--profile", served]
    with AdapterProcess(command, timeout=30) as adapter:
        report = run_cases(cases, adapter, profile=judged)
    assert len(cases) == 2 and {o.status for o in report.outcomes} == {status}
