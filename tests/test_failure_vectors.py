"""The failure-onion records (vectors/bolt04-failure.json, bolt04-failure-attribution.json)
against the official BOLT 4 files, the import script that writes them, and the runner
failing on a wrong record.

With the official copy beside the checkout the import script must reproduce the committed
files byte for byte (its expectations are the official values, the few derived ones computed
with hashlib and cryptography, not the library); without it, the records still run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sphinxamp.conformance.vectors import run_case, run_document
from tests.official import SHARED
from tests.vector_tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
FILES = {"bolt04-failure.json": "onion-error-test.json",
         "bolt04-failure-attribution.json": "extracted/bolt04-returning-errors-attribution.json"}


def records(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return doc


def importer() -> ModuleType:
    return load_tool("import_failure")


def test_records_name_their_source() -> None:
    for name, src in FILES.items():
        source = records(name)["source"]
        assert source["file"] == src and source["repo"] == "lightning/bolts"
        assert source["commit"] == "a3772650d8ebc06acf457fcadf97968ebfc4dfff"
        if SHARED.is_dir():
            assert (SHARED / src).is_file()


def test_import_script_reproduces_the_committed_files() -> None:
    if not SHARED.is_dir():  # without the official copy there is nothing to import from
        assert set(FILES) <= {p.name for p in VECTORS.glob("*.json")}
        return
    module = importer()
    for name, doc in module.documents(SHARED).items():
        assert module.render(doc) == (VECTORS / name).read_text(), name
    assert module.main(["--check", "--bolts", str(SHARED), "--out", str(VECTORS)]) == 0


def test_import_script_refuses_layers_that_miss_the_official_packet(tmp_path: Path) -> None:
    if not SHARED.is_dir():
        return
    doc = json.loads((SHARED / "onion-error-test.json").read_text())
    doc["errorpacket"] = "00" + doc["errorpacket"][2:]
    with pytest.raises(SystemExit):
        importer().legacy(doc)


def test_legacy_final_packet_is_the_official_one() -> None:
    case = records("bolt04-failure.json")["cases"][1]
    last = case["expect"]["hops"][-1]
    if SHARED.is_dir():
        official = json.loads((SHARED / "onion-error-test.json").read_text())
        assert last["reason"] == official["errorpacket"]
        assert case["shared_secrets"] == [h["hop_shared_secret"]
                                          for h in official["generate"]["hops"]]


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_record_passes(name: str) -> None:
    results = run_document(records(name), name)
    assert results and all(r.passed for r in results), [r.detail for r in results]


def _damaged(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of a case with one expected value changed each."""
    out = []
    for path in (("expect", "failure_code"), ("expect", "fields"), ("expect", "decrypted"),
                 ("expect", "verified"), ("expect", "reason_before_ammag")):
        if path[1] in case["expect"]:
            bad = copy.deepcopy(case)
            value = bad["expect"][path[1]]
            bad["expect"][path[1]] = {"x": 1} if isinstance(value, dict) else \
                [] if isinstance(value, list) else 1 if isinstance(value, int) else "00"
            out.append(bad)
    for key in ("reason", "attribution_data", "obfuscation", "ammag"):
        if "hops" in case["expect"] and key in case["expect"]["hops"][-1]:
            bad = copy.deepcopy(case)
            text = bad["expect"]["hops"][-1][key]
            bad["expect"]["hops"][-1][key] = ("1" if text[0] == "0" else "0") + text[1:]
            out.append(bad)
    return out


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_wrong_expectation_fails(name: str) -> None:
    for case in records(name)["cases"]:
        damaged = _damaged(case)
        assert damaged, case["id"]
        for bad in damaged:
            assert not run_case(bad, name).passed, (case["id"], bad["expect"])
