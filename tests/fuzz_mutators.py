"""The fuzz/ folder as the structure-aware mutator tests see it.

The harnesses import their helpers as top-level modules (fuzz/ is not a package), so importing
this module puts fuzz/ on sys.path; `fuzz_module` then loads a harness or helper by name.
"""

from __future__ import annotations

import importlib
import runpy
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))  # harnesses import their helpers as top-level modules

# The largest input the mutator tests hand a mutator.
MAX_SIZE = 4096


def fuzz_module(name: str) -> Any:
    """A module of fuzz/, imported by name as the harnesses import it."""
    return importlib.import_module(name)


def corpus_seeds(target: str) -> list[Path]:
    """The seed files of one target's corpus (fuzz/corpus/<target>), in name order."""
    return sorted((FUZZ / "corpus" / target).iterdir())


def check_harness_installs_mutator(monkeypatch: pytest.MonkeyPatch, harness_file: str,
                                   mutator_type: type) -> None:
    """Running the harness as a script hands `_common.main` a `mutator_type`; `setup_kwargs`
    installs it as atheris' custom mutator and crossover, and SPHINXAMP_FUZZ_MUTATOR=plain
    (MUTATOR_ENV) installs nothing."""
    common, mutate = fuzz_module("_common"), fuzz_module("_mutate")
    seen: list[Any] = []
    monkeypatch.setattr(common, "main", lambda test, structured=None: seen.append(structured))
    runpy.run_path(str(FUZZ / harness_file), run_name="__main__")
    assert isinstance(seen[0], mutator_type)
    monkeypatch.setattr(mutate, "_RUNNING", mutate._RUNNING)  # setup_kwargs sets it
    monkeypatch.delenv(mutate.MUTATOR_ENV, raising=False)
    assert set(mutate.setup_kwargs(seen[0])) == {"custom_mutator", "custom_crossover"}
    monkeypatch.setenv(mutate.MUTATOR_ENV, "plain")
    assert mutate.setup_kwargs(seen[0]) == {}


def outer_check_tally(test_one_input: Callable[[bytes], None],
                      steps: Sequence[Sequence[bytes]]) -> list[tuple[int, int]]:
    """Runs each step's inputs through the harness; after each step, how many inputs the
    harness has judged against its outer check and how many passed it, counted from the start
    (`_mutate._DEPTH`)."""
    depth = fuzz_module("_mutate")._DEPTH
    judged, passed = depth.judged, depth.passed
    tally = []
    for step in steps:
        for data in step:
            test_one_input(data)
        tally.append((depth.judged - judged, depth.passed - passed))
    return tally
