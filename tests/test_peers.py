"""The differential peer checked before use: `benchmarks.peers.check_pyln` on the recorded
BOLT 4 onion vector, the test gate built on it (`@pytest.mark.pyln`: skip with the reason, or
fail under CI=true), and the benchmarks with a broken peer (its column n/a, the run exits 0).

A broken peer is simulated the way cryptography 51 broke pyln-proto: its in-place ChaCha20
raises `ValueError: data and buf must not overlap`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import tests.pyln_compat as pyln_compat
from benchmarks import cases, peers
from benchmarks import run as bench_run
from sphinxamp.cli.bench import harness_command
from tests.pyln_compat import gate, onion_module, require_pyln

ROOT = Path(__file__).resolve().parent.parent
OVERLAP = "ValueError: data and buf must not overlap"
# The rows pyln-proto is timed on (benchmarks/README.md, "peer" column).
PEER_ROWS = {"peel", "peel-final", "build-5", "build-20", "payload-final", "payload-forward",
             "process-hop", "process-hop-memlog"}


def _overlap(*_: object) -> None:
    raise ValueError("data and buf must not overlap")


# --- the check ------------------------------------------------------------------------------


def test_check_names_an_absent_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyln.proto.onion", None)
    problem = peers.check_pyln()
    assert problem is not None
    assert problem.startswith("not importable (ModuleNotFoundError: "), problem


@pytest.mark.pyln
def test_check_names_a_broken_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onion_module(), "chacha20_stream", _overlap)
    assert peers.check_pyln() == OVERLAP


@pytest.mark.pyln
@pytest.mark.parametrize(("field", "part"), [("payload", "payload"),
                                             ("next_onion", "next onion")])
def test_check_names_a_wrong_answer(tmp_path: Path, field: str, part: str) -> None:
    doc = json.loads(peers.VECTOR.read_text())
    case = next(c for c in doc["cases"] if c["id"] == "peel-hop-1")
    value = bytearray.fromhex(case["expect"][field])
    value[-1] ^= 1
    case["expect"][field] = value.hex()
    altered = tmp_path / "bolt04-onion.json"
    altered.write_text(json.dumps(doc))
    assert peers.check_pyln(altered) == (
        f"wrong answer: its {part} differs from bolt04-onion.json peel-hop-1")


def test_check_names_a_missing_vector(tmp_path: Path) -> None:
    problem = peers.check_pyln(tmp_path / "absent.json")
    assert problem is not None and problem.startswith(
        "the check's vector absent.json is unreadable (FileNotFoundError"), problem


def test_check_reason_is_one_short_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peers, "_pyln_peel", lambda case: _raise_long())
    for name in ("pyln", "pyln.proto", "pyln.proto.onion"):  # importable, peer or not
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    problem = peers.check_pyln()
    assert problem is not None and len(problem) == peers.REASON_CHARS
    assert problem.startswith("RuntimeError: xxxx") and problem.endswith("…")


def _raise_long() -> Any:
    raise RuntimeError("x" * 500)


# --- the gate -------------------------------------------------------------------------------


def test_gate_lets_a_working_peer_through() -> None:
    gate(None, ci=False)
    gate(None, ci=True)


def test_gate_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyln_compat, "pyln_problem", lambda: OVERLAP)
    for ci in (None, "false", "1"):  # only the exact value CI sets turns a skip into a failure
        if ci is None:
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("CI", ci)
        with pytest.raises(pytest.skip.Exception,
                           match=f"^pyln-proto cannot be used: {OVERLAP}$"):
            require_pyln()


def test_gate_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyln_compat, "pyln_problem", lambda: OVERLAP)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"pyln-proto cannot be used: {OVERLAP}"):
        require_pyln()


def _marked_test_run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    """A test marked pyln, run by pytest in a process where pyln-proto cannot be imported."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['pyln.proto.onion'] = None\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(tmp_path)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider",
         "tests/test_pyln_differential.py::test_d4_version_not_checked"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_marked_tests_skip_without_the_peer(tmp_path: Path) -> None:
    out = _marked_test_run(tmp_path, None)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"SKIPPED \[1\] .*pyln-proto cannot be used: not importable "
                     r"\(ModuleNotFoundError", out.stdout), out.stdout
    assert "1 skipped" in out.stdout


def test_marked_tests_fail_without_the_peer_under_ci(tmp_path: Path) -> None:
    out = _marked_test_run(tmp_path, "true")
    assert out.returncode == 1, out.stdout + out.stderr
    assert re.search(r"FAILED .*test_d4_version_not_checked - Failed: pyln-proto cannot be "
                     r"used: not importable", out.stdout), out.stdout
    assert "1 failed" in out.stdout


def test_every_test_of_the_peer_is_gated() -> None:
    """A test module that drives pyln-proto (in process or as an adapter) carries the marker,
    and none checks for the peer another way."""
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        if re.search(r"pyln_compat|pyln\.proto|pyln_proto_adapter", text):
            assert "pytest.mark.pyln" in text, path.name
        assert not re.search(r"importorskip\(\s*\"pyln", text), path.name


# --- the benchmarks with a broken peer ------------------------------------------------------


def test_benchmarks_with_a_failing_check(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(peers, "check_pyln", lambda: OVERLAP)
    assert bench_run.main(["--quick", "--json", "--no-batch"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["peer_error"] == OVERLAP
    assert any(OVERLAP in note for note in report["notes"])
    for row in report["rows"]:
        assert row["peer"] is None and row["peer_us"] is None and row["ours_us"] > 0, row
        assert row["peer_error"] == (OVERLAP if row["op"] in PEER_ROWS else None), row


@pytest.mark.pyln
def test_sphinxamp_bench_with_a_broken_peer(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`sphinxamp bench --quick` runs `python -m benchmarks --quick` from the checkout as its
    own process; the peer is broken here, in the harness that command runs."""
    argv, cwd, env = harness_command(argparse.Namespace(json=False, quick=True))
    assert argv[1:] == ["-m", "benchmarks", "--quick"] and cwd == ROOT
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(ROOT)
    monkeypatch.setattr(onion_module(), "chacha20_stream", _overlap)
    assert bench_run.main(["--quick"]) == 0
    table = capsys.readouterr().out
    for op in PEER_ROWS:
        assert re.search(rf"^\| {op} \|[^\n]*\| n/a \({OVERLAP}\) \| n/a \|", table, re.M), op
    assert re.search(r"^\| amp-receive \|[^\n]*\| n/a \| n/a \|", table, re.M)


@pytest.mark.pyln
def test_a_peer_failing_past_its_check_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check peels; a peer whose build alone breaks is caught at its first timed call."""
    monkeypatch.setattr(onion_module().SphinxPath, "compile", _overlap)
    suite = cases.Suite.create(quick=True)
    try:
        assert suite.peer_error is None
        timers = suite.timers()
    finally:
        suite.close()
    reason = f"pyln:build-5: {OVERLAP}"
    assert suite.peer_error == reason
    assert not [name for name in timers if name.startswith("pyln:")]
    assert any(reason in note for note in suite.notes)
