"""The conformance kit against the reference adapter: every case of every suite agrees, the
malformed cases' stated failure codes and offsets are what the library answers, answers follow
the protocol's schema, and the generated suites are reproducible."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp.conformance import (
    OPS,
    PROTOCOL,
    AdapterProcess,
    load_schema,
    load_suites,
    run_cases,
    suites,
)
from sphinxamp.conformance.cases import Case, expectation_problems
from sphinxamp.conformance.generate import valid_cases
from sphinxamp.conformance.judge import EVERYTHING, understanding
from sphinxamp.conformance.malformed import malformed_cases, seal
from sphinxamp.conformance.ops import answer
from sphinxamp.conformance.reference import handle_line
from sphinxamp.conformance.schema import answer_problems, request_problems
from sphinxamp.conformance.suites import SUITES
from sphinxamp.conformance.vectors.bolt import check_file
from tests.official import SHARED

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = [sys.executable, "-m", "sphinxamp.conformance"]


def published_copy(folder: Path) -> tuple[Path | None, list[str]]:
    """The official files of the shared copy whose SHA-256 is the one SOURCES.md records,
    linked into `folder`; and the names of those that differ (altered since the snapshot)."""
    if not (SHARED / "SOURCES.md").is_file():
        return None, []
    table = (SHARED / "SOURCES.md").read_text(encoding="utf-8")
    digests = dict(re.findall(r"^\| `([\w-]+\.json)` \|.*`([0-9a-f]{64})` \|", table, re.M))
    folder.mkdir(parents=True, exist_ok=True)
    altered = []
    for name, digest in digests.items():
        if hashlib.sha256((SHARED / name).read_bytes()).hexdigest() == digest:
            shutil.copyfile(SHARED / name, folder / name)  # a copy: nothing writes to shared/
        else:
            altered.append(name)
    return folder, altered


def rebuilt_onion_test(path: Path) -> Path:
    """onion-test.json in its published shape, from the project's record of it."""
    recorded = json.loads((ROOT / "vectors" / "bolt04-onion.json").read_text())
    build = next(c for c in recorded["cases"] if c["kind"] == "onion-build")
    peel = [c for c in recorded["cases"] if c["kind"] == "onion-peel"]
    path.write_text(json.dumps({
        "generate": {"session_key": build["session_key"],
                     "associated_data": build["associated_data"],
                     "hops": [{"pubkey": h["pubkey"], "payload": h["payload_with_length"]}
                              for h in build["hops"]]},
        "onion": build["expect"]["onion"], "decode": [c["node_key"] for c in peel]}))
    return path


@pytest.fixture(scope="module")
def bolt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    return published_copy(tmp_path_factory.mktemp("bolts"))[0]


def all_cases(bolt_dir: Path | None) -> list[Case]:
    cases, _ = load_suites(list(SUITES), seed=7, bolt_dir=bolt_dir)
    return cases


def test_reference_adapter_agrees_on_every_suite(bolt_dir: Path | None) -> None:
    cases = all_cases(bolt_dir)
    with AdapterProcess(REFERENCE, timeout=30) as adapter:
        report = run_cases(cases, adapter)
    counts = report.counts()
    assert report.ok and counts["agree"] == len(cases), counts
    assert report.hello is not None and set(report.hello["ops"]) == set(OPS)
    assert {c.op for c in cases} == set(OPS), "every op has cases"


def test_stated_expectations_hold(bolt_dir: Path | None) -> None:
    """Official values, recorded values and the malformed cases' own failure codes and
    offsets (written from the rule in malformed.py) are what the library answers."""
    for case in all_cases(bolt_dir):
        problems = expectation_problems(case.expect, answer({"op": case.op, **case.request}))
        assert not problems, (case.id, problems)


def test_every_official_file_has_cases(tmp_path: Path) -> None:
    folder, altered = published_copy(tmp_path / "bolts")
    cases, notes = load_suites(["bolt"], bolt_dir=folder)
    if folder is None:
        assert cases == [] and "no --bolt-dir" in notes[0]
        return
    files = {c.origin.split()[0] for c in cases}
    assert files | set(altered) == {
        "onion-test.json", "onion-error-test.json", "route-blinding-test.json",
        "blinded-payment-onion-test.json", "blinded-onion-message-onion-test.json"}
    assert notes == [f"bolt: {folder / name} not found" for name in suites.BOLT_FILES
                     if name in altered]


def test_an_altered_official_file_is_flagged(tmp_path: Path) -> None:
    """A copy that is no longer as published fails `vectors check --bolt` (the shared copy's
    altered files if it has any, else a copy altered here)."""
    _, altered = published_copy(tmp_path / "bolts")
    folder = tmp_path / "altered"
    folder.mkdir()
    path = rebuilt_onion_test(folder / "onion-test.json")
    assert all(r.passed for r in check_file(path))
    doc = json.loads(path.read_text())
    doc["onion"] = doc["onion"][:-2] + ("00" if doc["onion"][-2:] != "00" else "01")
    path.write_text(json.dumps(doc))
    for name in [str(path), *(str(SHARED / n) for n in altered)]:
        results = check_file(Path(name))
        assert results and not all(r.passed for r in results), name
    # A run says when sphinxamp itself departs from what the case's source states.
    cases, _ = load_suites(["bolt"], bolt_dir=folder)
    with AdapterProcess(REFERENCE, timeout=30) as adapter:
        report = run_cases(cases, adapter)
    assert report.ok and any("sphinxamp departs from onion-test.json generate" in n
                             for n in report.notes)


def test_malformed_suite_violates_each_rule_once() -> None:
    cases = malformed_cases(3)
    assert len({c.id for c in cases}) == len(cases)
    for case in cases:
        got = answer({"op": case.op, **case.request})
        assert "error" in got, case.id
    codes = {c.expect["error"]["failure_code"] for c in cases}
    assert {0xC004, 0xC005, 0xC006, 0x4016, None} <= codes


def test_generated_suites_are_seeded() -> None:
    first = [c.to_json() for c in valid_cases(5) + malformed_cases(5)]
    again = [c.to_json() for c in valid_cases(5) + malformed_cases(5)]
    other = [c.to_json() for c in valid_cases(6)]
    assert first == again
    assert first[: len(other)] != other


def test_answers_and_requests_follow_the_schema(bolt_dir: Path | None) -> None:
    for number, case in enumerate(all_cases(bolt_dir)):
        request = case.wire(number)
        assert not request_problems(request), case.id
        reply = handle_line(json.dumps(request))
        assert reply["id"] == number
        assert not answer_problems(case.op, reply), (case.id, answer_problems(case.op, reply))
    hello = handle_line('{"id": "h", "op": "hello"}')
    assert not answer_problems("hello", hello)
    assert hello["protocol"] == PROTOCOL in load_schema()["$defs"]["hello_answer"][
        "properties"]["protocol"]["enum"]
    # The reference reads both optional records, and says so.
    assert understanding(hello) == EVERYTHING


@pytest.mark.parametrize(("op", "bad"), [
    ("onion_peel", {"id": 1, "payload": "0g", "next_onion": None}),
    ("onion_peel", {"id": 1, "payload": "00"}),
    ("bigsize_decode", {"id": 1, "value": -1, "length": 1}),
    ("tlv_decode", {"id": 1, "error": {"failure_code": None, "message": "x"}}),
    ("amp_derive_child", {"id": 1, "preimage": "00" * 31, "hash": "00" * 32}),
])
def test_schema_refuses_broken_answers(op: str, bad: dict[str, object]) -> None:
    assert answer_problems(op, bad)


def test_reference_answers_bad_requests_without_dying() -> None:
    for line in ("not json", "[1]", '{"id": 3, "op": "onion_peel"}',
                 '{"id": 4, "op": "bigsize_decode", "bytes": "zz"}'):
        reply = handle_line(line)
        assert reply["error"]["message"].startswith("bad request"), line
    assert handle_line('{"id": 5, "op": "teleport"}') == {"id": 5, "unsupported": True}


def test_seal_reaches_the_payload_reader() -> None:
    """A sealed packet's HMAC verifies (so peel gets to the frame): checked with the
    official first hop's key and a frame whose length is below 2."""
    from sphinxamp.errors import InvalidOnionPayload
    from sphinxamp.onion._sphinx import peel_onion
    from sphinxamp.primitives._crypto import public_key

    key, ad = bytes([0x41]) * 32, bytes([0x42]) * 32
    packet = seal(b"\x01\x00" + bytes(1298), public_key(key), bytes([7]) * 32, ad)
    with pytest.raises(InvalidOnionPayload):
        peel_onion(packet, key, ad)


REQUEST_FIELDS = st.fixed_dictionaries({}, optional={
    "bytes": st.binary(max_size=12).map(bytes.hex),
    "stream": st.binary(max_size=40).map(bytes.hex),
    "payload": st.binary(max_size=40).map(bytes.hex), "final": st.booleans(),
    "path_key": st.booleans() | st.none() | st.binary(max_size=33).map(bytes.hex),
    "known_types": st.lists(st.integers(0, 300), max_size=3),
    "onion": st.binary(max_size=80).map(bytes.hex),
    "node_key": st.binary(max_size=33).map(bytes.hex),
    "associated_data": st.binary(max_size=4).map(bytes.hex),
    "child_index": st.integers(-1, 2**33) | st.text(max_size=3),
    "root": st.binary(max_size=33).map(bytes.hex), "share": st.binary(max_size=33).map(bytes.hex),
    "hops": st.lists(st.fixed_dictionaries({"pubkey": st.binary(max_size=33).map(bytes.hex),
                                            "payload": st.binary(max_size=5).map(bytes.hex)}),
                     max_size=2),
})


@settings(deadline=None, max_examples=150)
@given(st.sampled_from(sorted(OPS)), REQUEST_FIELDS, st.integers() | st.text(max_size=4))
def test_reference_answers_any_request_within_the_protocol(op: str, fields: dict[str, object],
                                                          ident: object) -> None:
    """Whatever a request holds, the reference answers it (never raises) with an answer the
    schema accepts: outputs, a refusal, or a bad-request refusal."""
    reply = handle_line(json.dumps({"id": ident, "op": op, **fields}))
    assert reply["id"] == ident
    assert not answer_problems(op, reply), (reply, answer_problems(op, reply))
