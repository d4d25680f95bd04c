"""fuzz/_common.bounded: the memory ceiling a harness puts on each call, in both of its modes.

Under a fuzzing process tracing stays on and each call is measured from a reset peak (a
start/stop pair per input leaks in CPython and ended long campaigns out of memory); in a
replay each call is traced alone. Either way an allocation sized past the input's ceiling is
caught, and memory held before the call is not charged to it.
"""

from __future__ import annotations

import importlib
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))  # harnesses import their helpers as top-level modules

# Imported by name at run time, as the harnesses do: fuzz/ is not a package.
_common = importlib.import_module("_common")


@pytest.fixture(params=[True, False], ids=["fuzzing", "replay"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    monkeypatch.setattr(_common, "_fuzzing", lambda: request.param)
    yield request.param
    if tracemalloc.is_tracing():
        tracemalloc.stop()


def test_an_allocation_past_the_ceiling_is_caught(mode: bool) -> None:
    with pytest.raises(AssertionError, match="peaked at"):
        _common.bounded(10, lambda: bytearray(4 * _common.MEM_BASE))


def test_memory_held_before_the_call_is_not_charged_to_it(mode: bool) -> None:
    held = bytearray(8 * _common.MEM_BASE)
    for _ in range(3):
        _common.bounded(10, lambda: bytes(100))
    assert len(held) == 8 * _common.MEM_BASE


def test_a_fuzzing_process_keeps_tracing_between_calls(mode: bool) -> None:
    _common.bounded(10, lambda: bytes(100))
    assert tracemalloc.is_tracing() is mode
