"""Replay every committed fuzz seed (fuzz/corpus/<target>/*) through its harness.

This is the fuzzers' regression mode: crashers found by a campaign are kept as `regress-*`
seeds, so a fix that regresses fails here on every CI run, with no atheris needed.
"""

from __future__ import annotations

import importlib
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


@pytest.mark.parametrize(("target", "seed"), _cases())
def test_seed(target: str, seed: Path) -> None:
    _harness(target).test_one_input(seed.read_bytes())
