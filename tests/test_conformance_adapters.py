"""The kit against other adapters: pyln-proto (exactly its known deviations disagree), and
adapters that crash, print garbage, answer the wrong id or hang (reported, never a hung run)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pytest

from sphinxamp.conformance import AdapterProcess, load_suites, run_cases
from sphinxamp.conformance import deviations as deviation_files
from sphinxamp.conformance.adapter import CRASHED, GARBAGE, GAVE_UP, TIMEOUT
from sphinxamp.conformance.run import ADAPTER_ERROR, AGREE, DEVIATION, DISAGREE, UNSUPPORTED
from sphinxamp.conformance.suites import SUITES
from tests.test_conformance import published_copy

ROOT = Path(__file__).resolve().parents[1]
PYLN = [sys.executable, str(ROOT / "examples" / "adapters" / "pyln_proto_adapter.py")]
PYLN_DEVIATIONS = ROOT / "examples" / "adapters" / "pyln-proto.deviations.json"
BOLT_DIR, _ = published_copy(Path(tempfile.mkdtemp(prefix="bolts-")))


def pyln_report(with_deviations: bool):  # type: ignore[no-untyped-def]
    cases, _ = load_suites(list(SUITES), seed=11, bolt_dir=BOLT_DIR)
    known = deviation_files.load([PYLN_DEVIATIONS]) if with_deviations else []
    with AdapterProcess(PYLN, timeout=30) as adapter:
        return run_cases(cases, adapter, deviations=known), known


@pytest.mark.pyln
def test_pyln_disagrees_exactly_where_its_deviations_say() -> None:
    explained, known = pyln_report(True)
    plain, _ = pyln_report(False)
    assert explained.ok and plain.counts()[ADAPTER_ERROR] == 0
    deviating = {o.case.id for o in explained.outcomes if o.status == DEVIATION}
    disagreeing = {o.case.id for o in plain.outcomes if o.status == DISAGREE}
    # Without the file the very same cases disagree, and nothing else does.
    assert deviating == disagreeing and disagreeing
    assert not plain.ok
    # Every listed deviation shows up: the file describes pyln-proto, not a wish list.
    used = {o.deviation.id for o in explained.outcomes if o.deviation is not None}
    assert used == {d.id for d in known}
    # Everything else pyln supports agrees, the peels of generated routes included.
    agreed = [o for o in explained.outcomes if o.status == AGREE]
    assert {o.case.op for o in agreed} == {"bigsize_decode", "tlv_decode", "onion_build",
                                           "onion_peel"}
    assert {o.case.op for o in explained.outcomes if o.status == UNSUPPORTED} >= {
        "payload_decode", "failure_create", "message_peel", "amp_derive_child"}


@pytest.mark.pyln
def test_d1_shows_both_onions() -> None:
    report, _ = pyln_report(True)
    d1 = [o for o in report.outcomes if o.deviation and o.deviation.id.startswith("D1")]
    assert d1
    for outcome in d1:
        assert outcome.case.op == "onion_build"
        row = outcome.to_json()
        assert row["deviation"]["rule"] == "BOLT 4 › Filler Generation"
        assert row["expected"]["onion"] != (row["got"] or {}).get("onion")


def script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text("import json, sys, time\n" + body)
    return [sys.executable, str(path)]


HELLO = ('    if req.get("op") == "hello":\n'
         '        print(json.dumps({"id": req["id"], "protocol": "sphinxamp-conformance/1",'
         ' "ops": ["bigsize_decode"]}), flush=True); continue\n')
LOOP = "for line in sys.stdin:\n    req = json.loads(line)\n" + HELLO


@pytest.mark.parametrize(("name", "body", "problem"), [
    ("crash", LOOP + "    sys.exit(3)\n", CRASHED),
    ("garbage", LOOP + "    print('hello there', flush=True)\n", GARBAGE),
    ("wrong_id", LOOP + "    print(json.dumps({'id': 'x', 'value': 0, 'length': 1}),"
                        " flush=True)\n", GARBAGE),
    ("hang", LOOP + "    time.sleep(60)\n", TIMEOUT),
])
def test_misbehaving_adapters_are_reported(tmp_path: Path, name: str, body: str,
                                           problem: str) -> None:
    cases = [c for c in load_suites(["valid"], seed=1)[0] if c.op == "bigsize_decode"][:8]
    start = time.monotonic()
    with AdapterProcess(script(tmp_path, name, body), timeout=0.5, max_failures=3) as adapter:
        report = run_cases(cases, adapter)
    assert time.monotonic() - start < 15
    assert not report.ok
    assert [o.status for o in report.outcomes] == [ADAPTER_ERROR] * len(cases)
    details = [o.detail.split(":")[0] for o in report.outcomes]
    assert details[:3] == [problem] * 3 and set(details[3:]) == {GAVE_UP}


def test_an_answer_off_the_schema_is_garbage(tmp_path: Path) -> None:
    body = LOOP + "    print(json.dumps({'id': req['id'], 'value': 'many'}), flush=True)\n"
    cases = [c for c in load_suites(["valid"], seed=1)[0] if c.op == "bigsize_decode"][:2]
    with AdapterProcess(script(tmp_path, "schema", body), timeout=5) as adapter:
        report = run_cases(cases, adapter)
    assert [o.status for o in report.outcomes] == [ADAPTER_ERROR] * 2
    assert "does not follow the schema" in report.outcomes[0].detail


def test_a_missing_command_is_reported(tmp_path: Path) -> None:
    with AdapterProcess([str(tmp_path / "nothing-here")], timeout=1) as adapter:
        reply = adapter.request({"id": 1, "op": "hello"})
    assert reply.problem == CRASHED and "cannot start" in reply.detail


def test_a_crash_is_followed_by_a_restart(tmp_path: Path) -> None:
    """An adapter that dies on one input answers the next from a fresh process."""
    body = LOOP + ("    if req.get('bytes') == 'ff':\n        sys.exit(1)\n"
                   "    print(json.dumps({'id': req['id'], 'value': 1, 'length': 1}),"
                   " flush=True)\n")
    with AdapterProcess(script(tmp_path, "flaky", body), timeout=5) as adapter:
        replies = [adapter.request({"id": i, "op": "bigsize_decode", "bytes": b})
                   for i, b in enumerate(("01", "ff", "01"))]
    assert [r.problem for r in replies] == [None, CRASHED, None]


def test_deviation_files_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    for text in ('{"format": "other"}', '{"format": "sphinxamp-deviations/1", "deviations":'
                 ' [{"id": "x", "kinds": ["sideways"]}]}', "not json"):
        bad.write_text(text)
        with pytest.raises(ValueError):
            deviation_files.load([bad])


def test_an_adapter_that_stops_reading_times_out(tmp_path: Path) -> None:
    """A request far larger than a pipe's buffer, to an adapter that never reads it: the
    deadline holds for the write too."""
    body = "import time\ntime.sleep(60)\n"
    start = time.monotonic()
    with AdapterProcess(script(tmp_path, "deaf", body), timeout=0.5) as adapter:
        reply = adapter.request({"id": 1, "op": "tlv_decode", "stream": "00" * 2_000_000})
    assert reply.problem == TIMEOUT and time.monotonic() - start < 10
