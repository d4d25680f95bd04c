"""Replay every committed fuzz seed (fuzz/corpus/<target>/*) through its harness.

This is the fuzzers' regression mode: crashers found by a campaign are kept as `regress-*`
seeds, so a fix that regresses fails here on every CI run, with no atheris needed.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
CORPUS = FUZZ / "corpus"


def _cases() -> list[Any]:
    cases: list[Any] = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        for seed in sorted(p for p in folder.iterdir() if p.is_file()):
            cases.append(pytest.param(folder.name, seed, id=f"{folder.name}/{seed.name}"))
    return cases


def _harness(target: str) -> ModuleType:
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))  # harnesses import their helpers as top-level modules
    return importlib.import_module(f"fuzz_{target}")


def test_every_corpus_has_a_harness() -> None:
    targets = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    harnesses = {p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py")}
    assert targets == harnesses, f"corpus and harness sets differ: {targets ^ harnesses}"


@pytest.mark.parametrize("harness", sorted(FUZZ.glob("fuzz_*.py")), ids=lambda p: p.stem)
def test_harness_survives_the_coverage_stub(harness: Path) -> None:
    """OSS-Fuzz/ClusterFuzzLite coverage builds prepend a coverage.py stub to the harness file;
    a `from __future__` import below it is a SyntaxError and the whole build fails."""
    stub = "import atexit\natexit.register(print)\n"
    compile(stub + harness.read_text(), str(harness), "exec")


def test_harnesses_import_without_atheris() -> None:
    """CI and the corpus replay have no atheris: the harnesses must import all the same."""
    names = sorted(p.stem for p in FUZZ.glob("fuzz_*.py"))
    code = ("import sys; sys.modules['atheris'] = None; sys.path.insert(0, sys.argv[1])\n"
            "for name in sys.argv[2:]: __import__(name)")
    proc = subprocess.run([sys.executable, "-c", code, str(FUZZ), *names],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize(("target", "seed"), _cases())
def test_seed(target: str, seed: Path) -> None:
    _harness(target).test_one_input(seed.read_bytes())
