"""The benchmark harness (benchmarks/, outside the library) runs end to end from a checkout,
through `python -m benchmarks` and through `sphinxamp bench`; without it (a wheel) the command
refuses with a clear error instead of a traceback.

Only the shape and sanity of the report are checked, never a timing threshold.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
OPS = ("peel", "peel-final", "build-5", "build-20", "payload-final", "payload-forward",
       "process-hop", "process-hop-memlog", "process-hop-sqlite", "amp-receive",
       "secp256k1-public")
KEYS = {"op", "ours_us", "floor_us", "ratio", "peer", "peer_us", "goal", "met"}
ENTRY = [sys.executable, "-m", "sphinxamp"]


def _check_rows(report: dict[str, Any], ops: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    rows = report["rows"]
    by_op = {row["op"]: row for row in rows}
    assert set(ops) <= set(by_op)
    for op in ops:
        row = by_op[op]
        assert set(row) >= KEYS, row
        ours, floor, ratio = row["ours_us"], row["floor_us"], row["ratio"]
        assert ours > 0 and floor > 0, row
        assert abs(ratio - ours / floor) < 1e-2 * ratio
        assert row["met"] in (True, False, None)
    return by_op


@pytest.mark.pyln  # the peer's figures are checked too
def test_bench_command_json_quick_reports_every_goal() -> None:
    out = subprocess.run([*ENTRY, "bench", "--json", "--quick"],
                         capture_output=True, text=True, check=True, timeout=600)
    report = json.loads(out.stdout)
    rows = _check_rows(report, (*OPS, "peel-many"))
    assert rows["payload-final"]["peer"] == "pyln-proto" and rows["payload-final"]["peer_us"] > 0
    assert rows["build-5"]["goal"] == "ratio <= 1.05"
    assert report["peel_many"]["packets"] > 0 and report["peel_many"]["speedup"] > 0
    assert report["memory"]["peak_bytes"] > 0
    # The public-API fallback is priced against the binding it replaces, with no goal.
    assert rows["secp256k1-public"]["goal"] is None


def test_bench_vector_route_is_the_bolt4_vector() -> None:
    """The build-5 route rebuilt from the vector's values must give the vector's onion (its
    first and last bytes as printed in bolt04/onion-test.json)."""
    from benchmarks.cases import ASSOCIATED_DATA, SESSION_KEY, vector_route
    from sphinxamp import build_onion

    onion = build_onion(SESSION_KEY, vector_route(), ASSOCIATED_DATA).to_bytes()
    assert onion[:34].hex() == (
        "0002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619")
    assert onion[-32:].hex() == (
        "4051e4ef908828db9cca13277ef65db3fd47ccc2179126aaefb627719f421e20")


def test_benchmarks_module_and_profile_run_from_a_checkout() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--json", "--quick", "--no-batch",
                          "--no-pyln", "--no-fuzz"], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=600)
    report = json.loads(out.stdout)
    assert [row["op"] for row in report["rows"]] == list(OPS)
    _check_rows(report, OPS)
    prof = subprocess.run([sys.executable, "benchmarks/run.py", "--profile", "payload-forward",
                           "--calls", "20"], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=600)
    assert "decode_hop_payload" in prof.stdout


def test_bench_without_the_harness_is_a_clear_error(tmp_path: Path) -> None:
    """A `sphinxamp` package with no benchmarks/ beside it, as a wheel installs it."""
    shutil.copytree(ROOT / "sphinxamp", tmp_path / "sphinxamp",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for args in (["bench", "--quick", "--json"], ["bench", "--quick"]):
        out = subprocess.run([sys.executable, "-m", "sphinxamp.cli", *args], cwd=tmp_path,
                             env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr + out.stdout
        text = out.stdout if "--json" in args else out.stderr
        assert "benchmark harness is not available" in text
        assert str(tmp_path / "benchmarks") in text
        if "--json" in args:
            assert json.loads(out.stdout)["reason"] == "benchmarks_unavailable"
