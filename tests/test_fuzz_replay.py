"""fuzz/replay.py: a replay that checked nothing must not read as "no crash"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPLAY = ROOT / "fuzz" / "replay.py"


def replay(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPLAY), *argv], capture_output=True, text=True,
                          check=False, timeout=120)


def test_replay_is_executable_as_the_fuzz_readme_runs_it() -> None:
    assert os.access(REPLAY, os.X_OK)


@pytest.mark.parametrize(("argv", "said"), [
    (["tlv_stream", "/nonexistent/crash-1"], "/nonexistent/crash-1: no such file or directory"),
    (["tlv_stream", "{empty}"], "no input file in"),
    (["no_such_target", "{seeds}"], "unknown target 'no_such_target'"),
])
def test_nothing_replayed_exits_2_and_says_why(tmp_path: Path, argv: list[str],
                                               said: str) -> None:
    (tmp_path / "empty").mkdir()
    seeds = str(ROOT / "fuzz" / "corpus" / "bigsize")
    done = replay(*(a.format(empty=tmp_path / "empty", seeds=seeds) for a in argv))
    assert done.returncode == 2
    assert said in done.stderr and "nothing was replayed" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_replay_counts_what_it_ran() -> None:
    seeds = sorted((ROOT / "fuzz" / "corpus" / "bigsize").iterdir())
    done = replay("bigsize", *(str(p) for p in seeds[:5]))
    assert done.returncode == 0, done.stderr
    assert "5 input(s) through bigsize, 0 failed" in done.stderr
