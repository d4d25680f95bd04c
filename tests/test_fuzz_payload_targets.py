"""The four payload fuzz targets are generated from one module (fuzz/_payload_target.py):
the committed entry files are exactly what it writes, each keeps its corpus directory, and
each harness checks its own role."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from sphinxamp import Role

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))  # harnesses import their helpers as top-level modules
_checks = importlib.import_module("_checks")
_payload_target = importlib.import_module("_payload_target")


def test_entry_files_are_the_generated_ones() -> None:
    # fuzz_payload_<role>_fast.py are the fast targets beside these (fuzz/_payload_fast.py).
    names = sorted(p.stem.removeprefix("fuzz_payload_") for p in FUZZ.glob("fuzz_payload_*.py")
                   if not p.stem.endswith("_fast"))
    assert names == sorted(_payload_target.ROLES)
    for name in names:
        text = (FUZZ / f"fuzz_payload_{name}.py").read_text()
        assert text == _payload_target.entry_source(name), f"regenerate fuzz_payload_{name}.py"
        assert (FUZZ / "corpus" / f"payload_{name}").is_dir()


@pytest.mark.parametrize("name", sorted(_payload_target.ROLES))
def test_each_target_checks_its_role(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Role] = []

    def spy(data: bytes, role: Role) -> object:
        seen.append(role)
        return _checks.check_payload(data, role)

    monkeypatch.setattr(_payload_target, "check_payload", spy)
    module = importlib.import_module(f"fuzz_payload_{name}")
    module.test_one_input(bytes.fromhex("02020001040100"))
    assert seen == [Role(name.replace("_", "-"))]
