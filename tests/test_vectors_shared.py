"""The recorded vectors against the official BOLT vectors, and the import script.

The official copy sits next to the checkout (`../shared/vectors/bolts`). When it is there, the
official files are rebuilt from the project's records and must come out equal, so every
official case is recorded with the same inputs and expectations, and the import script run
on them must reproduce the committed files byte for byte. Without it, the same rebuilt files
feed the import script (which proves the records lose nothing and the script is
deterministic), and the records are checked to name their sources.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.official import SHARED
from tests.vector_tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"

# The files the project's records come from, and the upstream snapshot they were taken at.
OFFICIAL = {
    "extracted/bolt01-bigsize.json",
    "extracted/bolt01-tlv.json",
    "extracted/bolt01-message-extension.json",
    "onion-test.json",
    "onion-error-test.json",
}
COMMIT = "a3772650d8ebc06acf457fcadf97968ebfc4dfff"
# Recorded by vectors/tools/import_blinding.py (compared in tests/test_blinding_vectors.py).
BLINDING_OFFICIAL = {"route-blinding-test.json", "blinded-payment-onion-test.json",
                     "blinded-onion-message-onion-test.json"}
# Recorded by vectors/tools/import_failure.py (compared in tests/test_failure_vectors.py).
FAILURE_OFFICIAL = {"extracted/bolt04-returning-errors-attribution.json"}
RECORDED_SOURCES = OFFICIAL | BLINDING_OFFICIAL | FAILURE_OFFICIAL


def records(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return doc


def importer() -> ModuleType:
    return load_tool("import_bolts")


def strip_length(framed: str) -> str:
    """A hop payload without its BigSize length prefix (one byte below 0xfd, else fd + u16)."""
    data = bytes.fromhex(framed)
    if data[0] < 0xFD:
        length, start = data[0], 1
    else:
        assert data[0] == 0xFD
        length, start = int.from_bytes(data[1:3], "big"), 3
    assert length == len(data) - start
    return data[start:].hex()


# --- official documents rebuilt from the records --------------------------------------------


def _official_source(src: dict[str, Any]) -> dict[str, Any]:
    return {"repo": src["repo"], "commit": src["commit"], "file": src["spec_file"],
            "section": src["section"]}


def rebuilt_bigsize() -> dict[str, Any]:
    doc = records("bolt01-bigsize.json")
    decode = [{"name": c["name"], "bytes": c["bytes"], "value": c["expect"].get("value"),
               "error": c["expect"].get("error"), "spec_error_string": c["spec_error_string"]}
              for c in doc["cases"] if c["kind"] == "bigsize-decode"]
    encode = [{"name": c["name"], "value": c["value"], "bytes": c["expect"]["bytes"]}
              for c in doc["cases"] if c["kind"] == "bigsize-encode"]
    return {"source": _official_source(doc["source"]), "decode": decode, "encode": encode}


def _tlv_case(case: dict[str, Any]) -> dict[str, Any]:
    expect = case["expect"]
    out = {k: case[k] for k in ("id", "namespaces", "stream", "spec_notation", "group")}
    out["valid"] = expect["valid"]
    if expect["valid"]:
        out["decoded"] = expect["records"]
    else:
        out["error"] = expect["error"]
        if "record" in expect:
            out["record"] = expect["record"]
    if "note" in case:
        out["note"] = case["note"]
    return out


def rebuilt_tlv() -> dict[str, Any]:
    doc, compose = records("bolt01-tlv.json"), records("bolt01-tlv-compose.json")
    rules: dict[str, str] = {}
    for case in compose["cases"]:
        rules.setdefault(case["rule"], "success" if case["expect"]["valid"] else "failure")
    return {"source": _official_source(doc["source"]),
            "namespaces": doc["common"]["namespace_defs"],
            "composition_rules": [{"rule": r, "expect": e} for r, e in rules.items()],
            "cases": [_tlv_case(c) for c in doc["cases"]]}


def rebuilt_message_extension() -> dict[str, Any]:
    doc = records("bolt01-message-extension.json")
    common = doc["common"]
    return {"source": _official_source(doc["source"]), "base_message": common["base_message"],
            "base_message_type": common["message_type"],
            "base_message_name": common["message_name"], "assumption": common["assumption"],
            "cases": [{"message": c["message"], "valid": c["expect"]["valid"],
                       "reason": c["expect"]["reason"]} for c in doc["cases"]]}


def rebuilt_onion() -> tuple[dict[str, Any], dict[str, Any]]:
    """onion-test.json (without its prose comment) and the part of onion-error-test.json the
    records use: the same route's shared secrets."""
    cases = records("bolt04-onion.json")["cases"]
    build, peels = cases[0], cases[1:]
    onion = {"generate": {"session_key": build["session_key"],
                          "associated_data": build["associated_data"],
                          "hops": [{"pubkey": h["pubkey"], "payload": h["payload_with_length"]}
                                   for h in build["hops"]]},
             "onion": build["expect"]["onion"],
             "decode": [p["node_key"] for p in peels]}
    error = {"generate": {"session_key": build["session_key"],
                          "hops": [{"pubkey": h["pubkey"], "hop_shared_secret": s}
                                   for h, s in zip(build["hops"], build["expect"]["shared_secrets"],
                                                   strict=True)]}}
    return onion, error


def rebuilt_official() -> dict[str, dict[str, Any]]:
    onion, error = rebuilt_onion()
    return {"extracted/bolt01-bigsize.json": rebuilt_bigsize(),
            "extracted/bolt01-tlv.json": rebuilt_tlv(),
            "extracted/bolt01-message-extension.json": rebuilt_message_extension(),
            "onion-test.json": onion, "onion-error-test.json": error}


def _project(official: dict[str, Any], name: str) -> dict[str, Any]:
    """The part of an official file the records keep (all of it but prose)."""
    if name == "onion-test.json":
        return {k: official[k] for k in ("generate", "onion", "decode")}
    if name == "onion-error-test.json":
        gen = official["generate"]
        return {"generate": {"session_key": gen["session_key"],
                             "hops": [{"pubkey": h["pubkey"],
                                       "hop_shared_secret": h["hop_shared_secret"]}
                                      for h in gen["hops"]]}}
    return official


def write_tree(folder: Path, docs: dict[str, dict[str, Any]]) -> Path:
    for rel, doc in docs.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(json.dumps(doc))
    return folder


# --- tests ------------------------------------------------------------------------------


def test_every_official_case_is_recorded() -> None:
    rebuilt = rebuilt_official()
    assert set(rebuilt) == OFFICIAL
    if SHARED.is_dir():
        for name, doc in rebuilt.items():
            official = json.loads((SHARED / name).read_text())
            assert doc == _project(official, name), name
        return
    # No official copy here: at least every count matches the spec's appendices and vector.
    bigsize = rebuilt["extracted/bolt01-bigsize.json"]
    assert (len(bigsize["decode"]), len(bigsize["encode"])) == (18, 8)
    assert len(rebuilt["extracted/bolt01-tlv.json"]["cases"]) == 57
    assert len(rebuilt["extracted/bolt01-message-extension.json"]["cases"]) == 5
    assert len(rebuilt["onion-test.json"]["decode"]) == 5


def official(name: str) -> dict[str, Any]:
    """An official file, or its rebuilt form when the official copy is not here."""
    if SHARED.is_dir():
        doc: dict[str, Any] = json.loads((SHARED / name).read_text())
        return doc
    return rebuilt_official()[name]


def test_peel_expectations_are_the_official_payloads_and_secrets() -> None:
    onion, error = official("onion-test.json"), official("onion-error-test.json")
    peels = records("bolt04-onion.json")["cases"][1:]
    hops = onion["generate"]["hops"]
    for i, peel in enumerate(peels):
        assert peel["node_key"] == onion["decode"][i]
        assert peel["associated_data"] == onion["generate"]["associated_data"]
        assert peel["expect"]["payload_with_length"] == hops[i]["payload"]
        assert peel["expect"]["payload"] == strip_length(hops[i]["payload"])
        assert peel["expect"]["shared_secret"] == error["generate"]["hops"][i]["hop_shared_secret"]
        assert peel["expect"]["final"] is (i == len(peels) - 1)
    assert peels[0]["onion"] == onion["onion"]


def test_records_name_their_sources() -> None:
    names = sorted(p.name for p in VECTORS.glob("bolt0*.json"))
    assert names
    for name in names:
        source = records(name)["source"]
        assert source["repo"] == "lightning/bolts" and source["commit"] == COMMIT, name
        if source["file"] == "generated":
            assert source["derived_from"] in RECORDED_SOURCES, name
        else:
            assert source["file"] in RECORDED_SOURCES, name
        for extra in source.get("also", []):
            assert extra["file"] in RECORDED_SOURCES and extra["used_for"], name
    if SHARED.is_dir():
        assert COMMIT in (SHARED / "SOURCES.md").read_text()
        for rel in OFFICIAL:
            assert (SHARED / rel).is_file(), rel
        for rel in (r for r in OFFICIAL if r.startswith("extracted/")):
            assert json.loads((SHARED / rel).read_text())["source"]["commit"] == COMMIT


@pytest.fixture
def bolts_dir(tmp_path: Path) -> Path:
    """The official copy when present, else the official files rebuilt from the records."""
    if SHARED.is_dir():
        return SHARED
    return write_tree(tmp_path / "bolts", rebuilt_official())


def _committed() -> dict[str, str]:
    return {name: (VECTORS / name).read_text() for name in importer().DOCUMENTS}


def test_import_script_reproduces_the_committed_files(bolts_dir: Path) -> None:
    module = importer()
    assert module.build_all(bolts_dir) == _committed()
    assert module.main(["--check", "--bolts", str(bolts_dir), "--out", str(VECTORS)]) == 0


def test_import_script_loses_nothing(tmp_path: Path) -> None:
    """Official files rebuilt from the records import to the very same records."""
    folder = write_tree(tmp_path / "bolts", rebuilt_official())
    assert importer().build_all(folder) == _committed()


def test_import_script_writes_and_check_flags_a_stale_file(
    bolts_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    module = importer()
    assert module.main(["--bolts", str(bolts_dir), "--out", str(out)]) == 0
    assert {p.name: p.read_text() for p in out.glob("*.json")} == _committed()
    stale = out / "bolt01-tlv.json"
    stale.write_text(stale.read_text().replace('"tlv-57"', '"tlv-58"'))
    assert module.main(["--check", "--bolts", str(bolts_dir), "--out", str(out)]) == 1
    assert "differs: bolt01-tlv.json" in capsys.readouterr().out


def test_import_script_refuses_a_route_that_does_not_build_the_official_onion(
    tmp_path: Path,
) -> None:
    """A payload changed in the generate inputs (not in the onion) must stop the import."""
    docs = rebuilt_official()
    hop = docs["onion-test.json"]["generate"]["hops"][2]
    assert re.fullmatch(r"12[0-9a-f]{36}", hop["payload"])
    hop["payload"] = hop["payload"][:-2] + ("00" if hop["payload"][-2:] != "00" else "01")
    folder = write_tree(tmp_path / "bolts", docs)
    with pytest.raises(SystemExit, match="official onion"):
        importer().onion_doc(folder)


def test_import_script_refuses_a_peel_chain_that_does_not_reproduce(tmp_path: Path) -> None:
    """The intermediate packets are written only if peeling reproduces every official value:
    a shared secret changed at hop 4 must stop the import there."""
    docs = rebuilt_official()
    hop = docs["onion-error-test.json"]["generate"]["hops"][3]
    hop["hop_shared_secret"] = "00" * 32
    folder = write_tree(tmp_path / "bolts", docs)
    with pytest.raises(SystemExit, match="hop 4"):
        importer().onion_doc(folder)
