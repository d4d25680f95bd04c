"""The fast fuzz targets' rows of `python -m benchmarks` (benchmarks/fuzz_rate.py): one row
`fuzz:<target>` per fast target with its goal in executions per second; without atheris every
row reads n/a with the reason, `met` null, and the run still exits 0.

Only the shape of the rows is checked, never a rate.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import core, fuzz_rate

ROOT = Path(__file__).resolve().parent.parent
# The goals, in executions per second under atheris on one core.
GOALS = {"bigsize_fast": 50_000, "tlv_stream_fast": 50_000, "tlv_typed_fast": 50_000,
         "payload_intermediate_fast": 20_000, "payload_final_fast": 20_000,
         "payload_blinded_intermediate_fast": 20_000, "payload_blinded_final_fast": 20_000,
         "peel_raw_fast": 10_000}
HIDE_ATHERIS = ("import runpy, sys; sys.modules['atheris'] = None; "
                "sys.argv = ['benchmarks', *sys.argv[1:]]; "
                "runpy.run_module('benchmarks', run_name='__main__')")


def test_every_fast_target_has_a_goal() -> None:
    assert sorted(fuzz_rate._targets.fast_targets()) == sorted(GOALS)
    for target, rate in GOALS.items():
        assert core.GOALS[f"fuzz:{target}"] == ("per_s >=", rate)


def test_without_atheris_the_rows_read_na_with_the_reason() -> None:
    """As CI's `python -m benchmarks --quick` runs, before atheris is installed."""
    out = subprocess.run([sys.executable, "-c", HIDE_ATHERIS, "--json", "--quick", "--no-batch",
                          "--no-pyln"], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=600)
    report = json.loads(out.stdout)
    rows = {row["op"]: row for row in report["rows"] if row["op"].startswith("fuzz:")}
    assert sorted(rows) == sorted(f"fuzz:{t}" for t in GOALS)
    for op, row in rows.items():
        assert row["ours_us"] is None and row["met"] is None, row
        assert row["goal"] == f"per_s >= {GOALS[op.removeprefix('fuzz:')]}"
        assert "atheris is not installed" in row["note"]
    assert any("atheris is not installed" in note for note in report["notes"])
    text = subprocess.run([sys.executable, "-c", HIDE_ATHERIS, "--quick", "--no-batch",
                           "--no-pyln"], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=600).stdout
    assert "| fuzz:bigsize_fast | n/a (atheris is not installed" in text


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None,
                    reason="atheris is not installed: no fuzzing process to measure")
def test_a_fast_target_row_from_a_short_atheris_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fuzz_rate._targets, "fast_targets", lambda: ["bigsize_fast"])
    [row] = fuzz_rate.rows(1.0)
    doc: dict[str, Any] = row.to_dict()
    assert doc["op"] == "fuzz:bigsize_fast" and doc["note"] is None, doc
    assert doc["execs"] > 0 and doc["execs_per_s"] > 0 and doc["execs_per_s_wall"] > 0
    assert doc["ours_us"] == pytest.approx(1e6 / doc["execs_per_s"], rel=1e-3)
    assert doc["goal"] == "per_s >= 50000" and doc["met"] in (True, False)
    assert doc["goal_value"] == pytest.approx(doc["execs_per_s"], rel=1e-3)
