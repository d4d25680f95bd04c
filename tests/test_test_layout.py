"""The tests mirror the package: every module under sphinxamp/ has a test module of its own.

A module `sphinxamp/…/_stem.py` is covered by `tests/test_stem.py` or `tests/test_stem_*.py`
(the stem without its leading underscore; for a package's `__init__.py`, the package's name),
or by an entry of `BY_CONCEPT` below, for modules whose tests are named by what they test
rather than by the file. An entry overrides the name rule, so a name that happens to match
another module's test (`messages/_json.py` and `tests/test_json.py`) is pointed at the right
one.

Not checked module by module: every `__main__.py` (it only calls the CLI), and the internals
of `sphinxamp/cli/` and `sphinxamp/conformance/`, which are covered as folders by
`tests/test_cli*.py` and `tests/test_conformance*.py`; those two families must exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sphinxamp"
TESTS = ROOT / "tests"

# Folders covered as a whole, by the test modules whose names start with the prefix given.
FOLDERS = {"cli": "test_cli", "conformance": "test_conformance"}

# Module (path from the repository root) → the test module named by the concept it tests.
BY_CONCEPT: dict[str, str] = {
    # The top level: the tasks as the README runs them.
    "sphinxamp/__init__.py": "tests/test_quickstart.py",
    "sphinxamp/debug.py": "tests/test_explain.py",
    # explain / trace internals, by the kind of input they explain.
    "sphinxamp/_explain/_bolt12_data.py": "tests/test_bolt12.py",
    "sphinxamp/_explain/_failure.py": "tests/test_explain.py",
    "sphinxamp/_explain/_guess.py": "tests/test_explain_auto_keys.py",
    "sphinxamp/_explain/_kinds.py": "tests/test_explain_kinds.py",
    "sphinxamp/_explain/_links.py": "tests/test_trace_messages.py",
    "sphinxamp/_explain/_log.py": "tests/test_explain_log.py",
    "sphinxamp/_explain/_message.py": "tests/test_explain_messages.py",
    "sphinxamp/_explain/_message_parts.py": "tests/test_explain_messages.py",
    "sphinxamp/_explain/_onion.py": "tests/test_explain.py",
    "sphinxamp/_explain/_tlv.py": "tests/test_explain.py",
    "sphinxamp/_explain/_tree.py": "tests/test_explain.py",
    # process_hop's answer to a whole update_add_htlc.
    "sphinxamp/_htlc_answer.py": "tests/test_hop_messages.py",
    "sphinxamp/_processed_hop.py": "tests/test_hop_messages.py",
    "sphinxamp/_sqlite.py": "tests/test_store_files.py",
    "sphinxamp/onion/__init__.py": "tests/test_sphinx.py",
    "sphinxamp/blinding/_path.py": "tests/test_blinding.py",
    "sphinxamp/blinding/_unblind.py": "tests/test_blinding.py",
    "sphinxamp/failures/__init__.py": "tests/test_failure_api.py",
    "sphinxamp/failures/_message.py": "tests/test_failure.py",
    "sphinxamp/failures/_packet.py": "tests/test_failure.py",
    # BOLT 2 messages: codecs and their JSON form.
    "sphinxamp/messages/__init__.py": "tests/test_wire.py",
    "sphinxamp/messages/_codec.py": "tests/test_wire.py",
    "sphinxamp/messages/_json.py": "tests/test_wire.py",
    "sphinxamp/payments/__init__.py": "tests/test_amp.py",
    "sphinxamp/payments/_route.py": "tests/test_amp.py",  # the payment builder's route onion
    "sphinxamp/primitives/__init__.py": "tests/test_crypto.py",
    # The receiver's rules, over both stores.
    "sphinxamp/receiver/_invoices.py": "tests/test_receiver.py",
    "sphinxamp/receiver/_machine.py": "tests/test_receiver.py",
    "sphinxamp/receiver/_resolution.py": "tests/test_receiver.py",
    "sphinxamp/receiver/_sqlite.py": "tests/test_receiver_store.py",
    "sphinxamp/wire/_records.py": "tests/test_payload.py",
    "sphinxamp/wire/_tlv_codecs.py": "tests/test_tlv.py",
    "sphinxamp/wire/_tlv_field.py": "tests/test_tlv_fast_fill.py",
}


def modules(package: Path) -> list[str]:
    """The modules checked one by one, as paths from the repository root."""
    found = []
    for path in sorted(package.rglob("*.py")):
        inside = path.relative_to(package).parts
        if path.name == "__main__.py" or (len(inside) > 1 and inside[0] in FOLDERS):
            continue
        found.append(path.relative_to(package.parent).as_posix())
    return found


def stem(module: str) -> str:
    """`sphinxamp/wire/_tlv.py` → `tlv`; `sphinxamp/wire/__init__.py` → `wire`."""
    parts = module.split("/")
    name = parts[-2] if parts[-1] == "__init__.py" else parts[-1].removesuffix(".py")
    return name.lstrip("_")


def uncovered(module_list: Iterable[str], test_names: set[str],
              by_concept: Mapping[str, str]) -> list[str]:
    """The modules with neither a test named after them nor a `by_concept` entry."""
    missing = []
    for module in module_list:
        if module in by_concept:
            continue
        name = stem(module)
        if not any(t == f"test_{name}" or t.startswith(f"test_{name}_") for t in test_names):
            missing.append(module)
    return missing


def _test_names() -> set[str]:
    return {p.stem for p in TESTS.glob("test_*.py")}


def test_every_module_has_a_test_module() -> None:
    missing = uncovered(modules(PACKAGE), _test_names(), BY_CONCEPT)
    assert not missing, (f"no tests/test_<stem>.py for {missing}: add one, or a commented "
                         "BY_CONCEPT entry naming the test module that covers it")


def test_concept_entries_name_existing_modules_and_tests() -> None:
    gone = [m for m in BY_CONCEPT if not (ROOT / m).is_file()]
    assert not gone, f"BY_CONCEPT names modules that no longer exist: {gone}"
    absent = sorted({t for t in BY_CONCEPT.values() if not (ROOT / t).is_file()})
    assert not absent, f"BY_CONCEPT names test modules that do not exist: {absent}"
    assert all(t.startswith("tests/test_") for t in BY_CONCEPT.values())


def test_concept_entries_are_not_skipped_modules() -> None:
    """An entry for a module this test does not look at would never be checked."""
    checked = set(modules(PACKAGE))
    assert [m for m in BY_CONCEPT if m not in checked] == []


@pytest.mark.parametrize(("folder", "prefix"), sorted(FOLDERS.items()))
def test_folders_covered_as_a_whole_have_their_tests(folder: str, prefix: str) -> None:
    assert (PACKAGE / folder).is_dir()
    assert any(name == prefix or name.startswith(prefix + "_") for name in _test_names())


@pytest.mark.parametrize(("module", "expected"), [
    ("sphinxamp/_codes.py", "codes"),
    ("sphinxamp/primitives/_nodekey.py", "nodekey"),
    ("sphinxamp/receiver/__init__.py", "receiver"),
    ("sphinxamp/_explain/__init__.py", "explain"),
    ("sphinxamp/errors.py", "errors"),
])
def test_stem_of_a_module(module: str, expected: str) -> None:
    assert stem(module) == expected


def test_the_rule_finds_a_module_without_tests() -> None:
    """The check itself: the name rule, its `_*` suffix, and a concept entry."""
    names = {"test_tlv_fast", "test_wire"}
    listed = ["sphinxamp/wire/_tlv.py", "sphinxamp/wire/__init__.py", "sphinxamp/_new.py",
              "sphinxamp/_tlvx.py", "sphinxamp/_other.py"]
    assert uncovered(listed, names, {"sphinxamp/_other.py": "tests/test_wire.py"}) == [
        "sphinxamp/_new.py", "sphinxamp/_tlvx.py"]


def test_skipped_paths_are_only_main_and_the_two_folders(tmp_path: Path) -> None:
    package = tmp_path / "sphinxamp"
    for rel in ("__init__.py", "__main__.py", "_a.py", "cli/__init__.py", "cli/x.py",
                "conformance/vectors/bolt.py", "wire/__main__.py", "wire/_b.py"):
        (package / rel).parent.mkdir(parents=True, exist_ok=True)
        (package / rel).write_text("")
    assert modules(package) == ["sphinxamp/__init__.py", "sphinxamp/_a.py",
                                "sphinxamp/wire/_b.py"]
