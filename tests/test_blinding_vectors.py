"""The route-blinding and onion-message records (vectors/bolt04-route-blinding.json,
bolt04-blinded-payment-onion.json, bolt04-blinded-onion-message.json) against the official
BOLT 4 files, the import script that writes them, and the runner failing on wrong records.

With the official copy beside the checkout, every expected value is compared with the value
the official file holds (not with what the library computes); the import script must
reproduce the committed files byte for byte.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sphinxamp.cli import main
from sphinxamp.conformance.vectors import run_case
from tests.official import SHARED
from tests.vector_tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
FILES = {"bolt04-route-blinding.json": "route-blinding-test.json",
         "bolt04-blinded-payment-onion.json": "blinded-payment-onion-test.json",
         "bolt04-blinded-onion-message.json": "blinded-onion-message-onion-test.json"}


def records(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return doc


def cases(name: str) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in records(name)["cases"]}


def official(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SHARED / name).read_text())
    return doc


def importer() -> ModuleType:
    return load_tool("import_blinding")


def test_records_name_their_source() -> None:
    for name, src in FILES.items():
        source = records(name)["source"]
        assert source["file"] == src and source["path"] == f"bolt04/{src}"
        assert source["repo"] == "lightning/bolts"
        assert source["commit"] == "a3772650d8ebc06acf457fcadf97968ebfc4dfff"


def test_import_script_reproduces_the_committed_files(tmp_path: Path) -> None:
    if not SHARED.is_dir():  # without the official copy: the records still run and pass
        for name in FILES:
            assert all(run_case(c, name).passed for c in records(name)["cases"])
        return
    tool = importer()
    assert tool.main(["--bolts", str(SHARED), "--out", str(tmp_path)]) == 0
    for name in FILES:
        assert (tmp_path / name).read_text() == (VECTORS / name).read_text(), name
    assert tool.main(["--bolts", str(SHARED), "--out", str(VECTORS), "--check"]) == 0


def test_route_blinding_records_are_the_official_values() -> None:
    if not SHARED.is_dir():
        return
    doc, got = official("route-blinding-test.json"), cases("bolt04-route-blinding.json")
    create = got["create"]["expect"]
    assert create["first_node_id"] == doc["route"]["first_node_id"]
    assert create["first_path_key"] == doc["route"]["first_path_key"]
    for want, hop in zip(doc["route"]["hops"], create["hops"], strict=True):
        assert (hop["blinded_node_id"], hop["encrypted_recipient_data"]) == \
            (want["blinded_node_id"], want["encrypted_data"])
    for hop in doc["unblind"]["hops"]:
        case = got[f"unblind-{hop['alias'].lower()}"]
        assert case["expect"]["decrypted_data"] == hop["decrypted_data"]
        assert case["expect"]["next_path_key"] == hop["next_path_key"]
        assert case["node_key"] == hop["node_privkey"] and case["path_key"] == hop["path_key"]
    for hop in doc["generate"]["hops"]:
        assert got[f"tlv-{hop['alias'].lower()}"]["expect"]["encoded"] == hop["encoded_tlvs"]


def test_payment_records_are_the_official_values() -> None:
    if not SHARED.is_dir():
        return
    doc, got = official("blinded-payment-onion-test.json"), \
        cases("bolt04-blinded-payment-onion.json")
    assert got["build"]["expect"]["onion"] == doc["generate"]["onion"]
    hops = doc["decrypt"]["hops"]
    for i, hop in enumerate(hops):
        case = got[f"hop-{hop['alias'].lower()}"]
        assert case["onion"] == hop["onion"]
        assert case["expect"]["next_onion"] == (hops[i + 1]["onion"] if i + 1 < len(hops)
                                                else None)
        assert case["expect"]["payload"] == \
            doc["generate"]["full_route"]["hops"][i]["payload"][2:]
    # The one derived amount that the official file pins: what Dave forwards is what Eve's
    # payload says she receives.
    eve = doc["generate"]["full_route"]["hops"][-1]["tlvs"]
    assert got["hop-dave"]["expect"]["amt_to_forward"] == eve["amt_to_forward"]
    assert got["hop-dave"]["expect"]["outgoing_cltv_value"] == eve["outgoing_cltv_value"]


def test_message_records_are_the_official_values() -> None:
    if not SHARED.is_dir():
        return
    doc, got = official("blinded-onion-message-onion-test.json"), \
        cases("bolt04-blinded-onion-message.json")
    assert got["build"]["expect"]["onion_message_packet"] == \
        doc["onionmessage"]["onion_message_packet"]
    for i, hop in enumerate(doc["decrypt"]["hops"]):
        case = got[f"peel-{hop['alias'].lower()}"]
        assert case["onion_message"] == hop["onion_message"]
        assert case["expect"]["next_node_id"] == hop.get("next_node_id")
        assert case["expect"]["encrypted_data"] == doc["generate"]["hops"][i]["encrypted_data_tlv"]


def _corrupt(case: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(case)
    expect = bad["expect"]
    key = next(k for k in ("encoded", "onion", "onion_message", "decrypted_data",
                           "fee_base_msat", "next_onion", "next_onion_message", "error", "payload",
                           "encrypted_data", "dropped",
                           "hops") if k in expect and expect[k] is not None)
    value = expect[key]
    if isinstance(value, int):
        expect[key] = value + 1
    elif isinstance(value, list):
        expect[key] = value[:-1]
    elif isinstance(value, dict):
        expect[key] = {**value, "unknown_tag_99": "00"}
    else:
        expect[key] = value[:-1] + ("0" if value[-1] != "0" else "1")
    return bad


def every_case() -> list[Any]:
    return [pytest.param(c, id=f"{name}::{c['id']}")
            for name in FILES for c in records(name)["cases"]]


@pytest.mark.parametrize("case", every_case())
def test_each_case_passes_and_a_wrong_expectation_fails(case: dict[str, Any]) -> None:
    assert run_case(case).passed, run_case(case).detail
    result = run_case(_corrupt(case))
    assert not result.passed and result.detail


def test_vectors_check_runs_the_blinding_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vectors", "check", "--json"]) in (0, 1)
    out = capsys.readouterr().out
    for name in FILES:
        assert name in out
    kinds = {c["kind"] for name in FILES for c in records(name)["cases"]}
    assert kinds == {"encrypted-data-tlv", "blinded-path-create", "blinded-hop-unblind",
                     "blinded-payinfo", "blinded-payment-build", "blinded-payment-hop",
                     "onion-message-build", "onion-message-peel"}
