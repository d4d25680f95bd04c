"""fuzz/_compare (`fuzz/run --compare-mutators`): both mutators run for the budget, the depth
counts and the ratios come out of what the processes wrote, and a process that executed
nothing fails the comparison.

The interpreter is a stand-in script: as a harness it writes a libFuzzer-style status line
and the depth file with figures the test chose, and records which mutator it was given; as
coverage.py it does nothing (no inner features). The arithmetic is checked against those
figures, not against anything the code under test computed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))

_compare = importlib.import_module("_compare")
runner = importlib.import_module("runner")

# judged / passed_outer / execs per mutator, as the stand-in harness reports them.
FIGURES = {"plain": (1000, 20, 1000), "structured": (900, 810, 900)}

FAKE = """#!{python}
import json, os, sys, time
if len(sys.argv) > 1 and sys.argv[1] == "-m":
    sys.exit(0)  # coverage.py: nothing measured
mutator = os.environ["SPHINXAMP_FUZZ_MUTATOR"]
judged, passed, execs = {figures}[mutator]
with open(os.environ["SPHINXAMP_FUZZ_DEPTH"], "w") as out:
    json.dump({{"judged": judged, "passed_outer": passed}}, out)
with open("{record}", "a") as out:
    out.write(mutator + "\\n")
time.sleep(1.2)
if {silent}:
    sys.exit(0)
sys.stderr.write("#%d\\tDONE   cov: 10 ft: 20 corp: 3/30b exec/s: 5\\n" % execs)
"""


def _fake(tmp_path: Path, silent: bool = False) -> tuple[Path, Path]:
    record = tmp_path / "mutators.txt"
    script = tmp_path / "python"
    script.write_text(FAKE.format(python=sys.executable, figures=FIGURES, record=record,
                                  silent=silent))
    script.chmod(0o755)
    return script, record


def _args(python: Path, *targets: str) -> argparse.Namespace:
    args: argparse.Namespace = runner.parse_args(
        ["--compare-mutators", "--seconds", "1", "--python", str(python), *targets])
    assert args.compare_mutators
    return args


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_compare, "OUT", tmp_path / "compare")


def test_both_mutators_run_and_the_ratios_follow_the_depth_counts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    python, record = _fake(tmp_path)
    assert _compare.run_compare(_args(python, "peel_raw"), {}) == 0
    assert record.read_text().split() == ["plain", "structured"]
    report = json.loads((tmp_path / "compare" / "peel_raw" / "compare.json").read_text())
    plain, structured = report["runs"]
    assert (plain["execs"], plain["passed_outer"]) == (1000, 20)
    assert structured["share"] == pytest.approx(810 / 900)
    assert report["inner_exec_ratio"] == pytest.approx(810 / 20)
    out = capsys.readouterr().out
    assert "40.5x" in out and "2.0%" in out and "90.0%" in out


def test_a_run_that_executed_nothing_fails(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    python, _ = _fake(tmp_path, silent=True)
    assert _compare.run_compare(_args(python, "encrypted_data_aead"), {}) == 1
    assert "executed no input" in capsys.readouterr().err


def test_a_target_without_an_outer_check_is_refused(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    python, record = _fake(tmp_path)
    assert _compare.run_compare(_args(python, "bigsize"), {}) == 2
    assert "layered target" in capsys.readouterr().err and not record.exists()


def test_goals_are_ten_times_the_inner_execs_and_one_and_a_half_the_features() -> None:
    runs = [_compare.Run("plain", passed_outer=10, lines=100, branches=0),
            _compare.Run("structured", passed_outer=100, lines=150, branches=0)]
    assert _compare.Comparison("t", 1, (0, 0), runs).goals_met
    runs[1].lines = 149
    assert not _compare.Comparison("t", 1, (0, 0), runs).goals_met


def test_every_layered_target_names_existing_inner_modules() -> None:
    repo = FUZZ.parent
    for target, prefixes in _compare.INNER.items():
        assert (FUZZ / f"fuzz_{target}.py").is_file(), target
        for prefix in prefixes:
            assert list(repo.glob(prefix + "*")), prefix
