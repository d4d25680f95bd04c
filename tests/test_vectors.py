"""The recorded vectors (vectors/*.json) through the conformance runner and `vectors check`.

Every case is its own test. The counts below are those of BOLT 1 Appendix A/B/C and BOLT 4
onion-test.json; the corruption tests show the runner and the command can fail.
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.cli import main
from sphinxamp.conformance import vectors as conformance
from sphinxamp.conformance.vectors import KIND_HANDLERS, CaseResult, run_case, run_document

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"


def vector_files() -> list[Path]:
    return sorted(p for p in VECTORS.rglob("*.json")
                  if "tools" not in p.relative_to(VECTORS).parts)


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return doc


def all_cases() -> list[Any]:
    params = []
    for path in vector_files():
        doc = json.loads(path.read_text())
        rel = path.relative_to(VECTORS).as_posix()
        for case in doc["cases"]:
            merged = {**doc.get("common", {}), **case}
            params.append(pytest.param(rel, merged, id=f"{rel}::{case['id']}"))
    return params


@pytest.mark.parametrize(("file", "case"), all_cases())
def test_vector_case(file: str, case: dict[str, Any]) -> None:
    result = run_case(case, file)
    assert result.passed, result.detail
    assert (result.file, result.id, result.kind) == (file, case["id"], case["kind"])


def test_every_file_is_a_sphinxamp_vectors_document() -> None:
    for path in vector_files():
        doc = json.loads(path.read_text())
        assert doc["schema"] == "sphinxamp-vectors/1", path.name
        assert doc["description"] and doc["cases"], path.name
        ids = [c["id"] for c in doc["cases"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate ids"
        assert all(c["kind"] in KIND_HANDLERS for c in doc["cases"]), path.name


def test_bigsize_counts_are_appendix_a() -> None:
    kinds = Counter(c["kind"] for c in load("bolt01-bigsize.json")["cases"])
    assert kinds == {"bigsize-decode": 18, "bigsize-encode": 8}


def test_tlv_counts_are_appendix_b() -> None:
    cases = load("bolt01-tlv.json")["cases"]
    assert [c["id"] for c in cases] == [f"tlv-{i:02d}" for i in range(1, 58)]
    assert {c["kind"] for c in cases} == {"tlv-decode"}
    # Appendix B: 33 decoding failures, 7 ignored, 12 with values, 5 stream failures.
    groups = Counter(c["group"] for c in cases)
    assert groups == {"decode_failure": 33, "decode_success_ignored": 7,
                      "decode_success_values": 12, "stream_failure": 5}


def test_compose_cases_cover_every_invalid_stream() -> None:
    """Rule 1 puts each invalid Appendix B stream, in each namespace it fails in, behind a
    valid one; rule 2 joins valid streams."""
    tlv = load("bolt01-tlv.json")["cases"]
    wanted = {(ns, c["id"]) for c in tlv if not c["expect"]["valid"] for ns in c["namespaces"]}
    compose = load("bolt01-tlv-compose.json")["cases"]
    failing = {(c["namespaces"][0], c["parts"][1]) for c in compose if not c["expect"]["valid"]}
    assert failing == wanted
    assert any(c["expect"]["valid"] for c in compose)
    by_id = {c["id"]: c for c in tlv}
    for case in compose:
        assert case["streams"] == [by_id[p]["stream"] for p in case["parts"]]


def test_message_extension_counts_are_appendix_c() -> None:
    cases = load("bolt01-message-extension.json")["cases"]
    assert [c["expect"]["valid"] for c in cases] == [True, True, False, False, False]


def test_onion_vector_shape_and_chain() -> None:
    """One build and five peels; the recorded packets link up hop by hop, starting from the
    official onion, and each hop's payload is the one the build was given."""
    cases = load("bolt04-onion.json")["cases"]
    build, peels = cases[0], cases[1:]
    assert build["kind"] == "onion-build" and len(build["hops"]) == 5
    assert [c["kind"] for c in peels] == ["onion-peel"] * 5
    assert peels[0]["onion"] == build["expect"]["onion"]
    for here, there in itertools.pairwise(peels):
        assert here["expect"]["next_onion"] == there["onion"]
    assert [p["expect"]["final"] for p in peels] == [False] * 4 + [True]
    assert peels[-1]["expect"]["next_onion"] is None
    assert [p["expect"]["payload"] for p in peels] == [h["payload"] for h in build["hops"]]
    assert [p["expect"]["shared_secret"] for p in peels] == build["expect"]["shared_secrets"]
    # Only the packets after the first were recorded from the library.
    assert peels[0]["derived"] == ["expect.next_onion"]
    assert all(set(p["derived"]) <= {"onion", "expect.next_onion"} for p in peels)
    assert all(len(bytes.fromhex(p["onion"])) == 1366 for p in peels)


# --- the runner can fail ------------------------------------------------------------------


def _flip_hex(text: str) -> str:
    return text[:-1] + ("1" if text[-1] != "1" else "2")


def _corrupt(case: dict[str, Any]) -> dict[str, Any]:
    """One wrong expectation per kind, each a value the spec rules out."""
    bad = copy.deepcopy(case)
    expect = bad["expect"]
    if "value" in expect:
        expect["value"] += 1
    elif "bytes" in expect:
        expect["bytes"] = _flip_hex(expect["bytes"])
    elif expect.get("records"):
        fields = expect["records"][0]["fields"]
        key = next(iter(fields))
        fields[key] = fields[key] + 1 if isinstance(fields[key], int) else "00"
    elif "valid" in expect:
        expect["valid"] = not expect["valid"]
    elif "onion" in expect:
        expect["onion"] = _flip_hex(expect["onion"])
    elif "error" in expect:
        expect["error"] = "invalid_onion_key" if expect["error"] != "invalid_onion_key" \
            else "invalid_onion_hmac"
    else:
        expect["payload"] = _flip_hex(expect["payload"])
    return bad


BUILTIN_KINDS = frozenset({"bigsize-decode", "bigsize-encode", "tlv-decode", "tlv-compose",
                           "message-extension", "onion-build", "onion-peel"})


def _cases_by_kind() -> list[Any]:
    """The first case of every kind and expectation shape."""
    seen: dict[tuple[str, str, bool], Any] = {}
    for path in vector_files():
        doc = json.loads(path.read_text())
        for case in doc["cases"]:
            if case["kind"] not in BUILTIN_KINDS:
                continue
            expect = case["expect"]
            shape = (case["kind"], ",".join(sorted(expect)), bool(expect.get("records")))
            label = f"{shape[0]}[{shape[1]}{'+records' if shape[2] else ''}]"
            seen.setdefault(shape, pytest.param({**doc.get("common", {}), **case}, id=label))
    return list(seen.values())


@pytest.mark.parametrize("case", _cases_by_kind())
def test_a_wrong_expectation_fails(case: dict[str, Any]) -> None:
    assert run_case(case).passed
    result = run_case(_corrupt(case))
    assert not result.passed
    assert result.detail


@pytest.mark.parametrize(
    "case",
    [
        {"id": "no-input", "kind": "tlv-decode"},
        {"id": "bad-hex", "kind": "bigsize-decode", "bytes": "zz", "expect": {"value": 0}},
        {"id": "no-expect", "kind": "onion-build", "session_key": "41" * 32,
         "associated_data": "", "hops": []},
        {"id": "wrong-type", "kind": "bigsize-encode", "value": "x", "expect": {"bytes": ""}},
        {"id": "unknown", "kind": "no-such-kind", "expect": {}},
        {"kind": "bigsize-encode"},
    ],
    ids=lambda c: str(c.get("id", "no-id")),
)
def test_a_malformed_case_is_a_failed_result(case: dict[str, Any]) -> None:
    result = run_case(case, "f.json")
    assert isinstance(result, CaseResult)
    assert not result.passed and result.detail


@pytest.mark.parametrize("doc", [[], {"schema": "other/1", "cases": []},
                                 {"schema": "sphinxamp-vectors/1", "cases": {}},
                                 {"schema": "sphinxamp-vectors/1", "cases": [3]}])
def test_a_malformed_document_is_a_failed_result(doc: object) -> None:
    results = run_document(doc, "f.json")
    assert results and not any(r.passed for r in results)


def test_results_are_frozen() -> None:
    result = run_document(load("bolt01-bigsize.json"), "x")[0]
    with pytest.raises(AttributeError):
        result.passed = False  # type: ignore[misc]


def test_a_registered_kind_is_dispatched(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def handler(case: Any) -> tuple[bool, str]:
        seen.append(case["x"])
        return case["x"] == 1, "checked"

    monkeypatch.setitem(KIND_HANDLERS, "test-kind", handler)
    doc = {"schema": "sphinxamp-vectors/1", "common": {"x": 1},
           "cases": [{"id": "a", "kind": "test-kind"}, {"id": "b", "kind": "test-kind", "x": 2}]}
    assert [r.passed for r in run_document(doc)] == [True, False]
    assert seen == [1, 2]
    conformance.register_kind("test-kind-2", handler)
    try:
        assert KIND_HANDLERS["test-kind-2"] is handler
    finally:
        del KIND_HANDLERS["test-kind-2"]


# --- the command ------------------------------------------------------------------------


def vector_names(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json")
                  if "tools" not in p.relative_to(folder).parts)


def _total_cases(folder: Path) -> int:
    return sum(len(json.loads((folder / name).read_text())["cases"])
               for name in vector_names(folder))


def test_vectors_check_json_all_pass(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    status = main(["vectors", "check", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["failed"] == 0
    assert report["passed"] == _total_cases(VECTORS) == len(report["results"])
    assert report["files"] == vector_names(VECTORS)
    assert set(report["results"][0]) == {"file", "id", "kind", "passed", "detail"}


def test_vectors_check_human_last_line(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["vectors", "check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{_total_cases(VECTORS)} passed, 0 failed"
    assert "bolt01-tlv.json: 57 passed, 0 failed" in lines


def _copy_vectors(tmp_path: Path) -> Path:
    folder = tmp_path / "vectors"
    shutil.copytree(VECTORS, folder)
    return folder


def test_vectors_check_fails_on_a_corrupted_vector(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy_vectors(tmp_path)
    path = folder / "bolt01-bigsize.json"
    doc = json.loads(path.read_text())
    assert doc["cases"][1]["expect"] == {"value": 252}  # Appendix A: fc decodes to 252
    doc["cases"][1]["expect"]["value"] = 253
    path.write_text(json.dumps(doc))
    total = _total_cases(folder)

    assert main(["vectors", "check", "--dir", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{total - 1} passed, 1 failed"
    assert any(line.startswith("FAIL bolt01-bigsize.json decode-02") for line in lines)
    assert "bolt01-bigsize.json: 25 passed, 1 failed" in lines

    assert main(["vectors", "check", "--dir", str(folder), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["passed"], report["failed"]) == (total - 1, 1)
    [failed] = [r for r in report["results"] if not r["passed"]]
    assert (failed["file"], failed["id"]) == ("bolt01-bigsize.json", "decode-02")


def test_vectors_check_fails_on_unreadable_json(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy_vectors(tmp_path)
    (folder / "broken.json").write_text("{not json")
    (folder / "tools" / "ignored.json").write_text("{not json either")
    assert main(["vectors", "check", "--dir", str(folder), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 1
    assert "broken.json" in report["files"]
    assert not any(name.startswith("tools") for name in report["files"])


def test_vectors_check_fails_when_no_case_is_found(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vectors", "check", "--dir", str(tmp_path), "--json"]) == 1
    error = json.loads(capsys.readouterr().out)
    assert error["error"] == "SphinxampError" and "no vector cases" in error["message"]
    assert main(["vectors", "check", "--dir", str(tmp_path / "absent")]) == 1


def test_vectors_check_reads_sub_folders(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "more").mkdir()
    shutil.copy(VECTORS / "bolt01-bigsize.json", tmp_path / "more" / "a.json")
    assert main(["vectors", "check", "--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "26 passed, 0 failed"
