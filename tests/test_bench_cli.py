"""`sphinxamp bench --json --quick` runs end to end and reports every operation.

Only the shape and sanity of the report are checked, never a timing threshold.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

OPS = ("peel", "peel-final", "build-5", "build-20", "tlv-final", "tlv-forward", "amp-receive")


def test_bench_json_quick_reports_all_seven_ops() -> None:
    out = subprocess.run([sys.executable, "-m", "sphinxamp.cli", "bench", "--json", "--quick"],
                         capture_output=True, text=True, check=True, timeout=600)
    report = json.loads(out.stdout)
    rows = {row["op"]: row for row in report["rows"]}
    assert set(OPS) <= set(rows)
    for op in OPS:
        row = rows[op]
        assert row["ours_us"] > 0 and row["floor_us"] > 0, row
        assert abs(row["ratio"] - row["ours_us"] / row["floor_us"]) < 1e-2 * row["ratio"]
    batch = report["batch"]
    assert batch["packets"] > 0 and batch["speedup"] > 0


def test_bench_vector_route_is_the_bolt4_vector() -> None:
    """The build-5 route rebuilt from the vector's values must give the vector's onion (its
    first and last bytes as printed in bolt04/onion-test.json)."""
    from sphinxamp._bench_cases import ASSOCIATED_DATA, SESSION_KEY, vector_route
    from sphinxamp._sphinx import build_onion

    onion = build_onion(SESSION_KEY, vector_route(), ASSOCIATED_DATA).to_bytes()
    assert onion[:34].hex() == (
        "0002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619")
    assert onion[-32:].hex() == (
        "4051e4ef908828db9cca13277ef65db3fd47ccc2179126aaefb627719f421e20")


def test_benchmarks_runner_and_profile_run_from_a_checkout() -> None:
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "benchmarks/run.py", "--json", "--quick", "--no-batch",
                          "--no-pyln"], cwd=root, capture_output=True, text=True, check=True,
                         timeout=600)
    assert [row["op"] for row in json.loads(out.stdout)["rows"]] == list(OPS)
    prof = subprocess.run([sys.executable, "-m", "benchmarks", "--profile", "tlv-forward",
                           "--calls", "20"], cwd=root, capture_output=True, text=True,
                          check=True, timeout=600)
    assert "decode_payload" in prof.stdout
