"""`explain` in auto mode uses the keys it is given, and decrypted records say what they hold.

The encrypted_recipient_data come from the project's record of BOLT 4's route-blinding-test.json
(vectors/bolt04-route-blinding.json): each decrypts under its node key and path key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import explain
from sphinxamp.blinding._onion_message import ONIONMSG_RECORDS
from sphinxamp.blinding._path import ENCRYPTED_DATA_RECORDS

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
OTHER_KEY = bytes([0x43] * 32)


def unblind_cases() -> list[dict[str, Any]]:
    doc = json.loads((VECTORS / "bolt04-route-blinding.json").read_text())
    return [c for c in doc["cases"] if c["kind"] == "blinded-hop-unblind"
            and c["id"].startswith("unblind-")]


@pytest.mark.parametrize("case", unblind_cases(), ids=lambda c: str(c["id"]))
def test_auto_decrypts_encrypted_data_when_the_keys_open_it(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["encrypted_recipient_data"])
    keys = {"node_key": bytes.fromhex(case["node_key"]),
            "path_key": bytes.fromhex(case["path_key"])}
    found = explain(data, **keys)  # type: ignore[arg-type]
    assert found.kind == "encrypted-data", found.guess
    assert found.guess is not None and "tag verified" in found.guess
    assert found.error is None
    (blob,) = found.fields
    records = [f for f in blob.children if f.name != "tag"]
    assert records and all(f.decrypted for f in records)
    # Every record read says what it holds, as the undecrypted view of the same data does.
    assert all(f.meaning for f in records), [f.name for f in records if not f.meaning]
    assert found.to_json() == explain(data, "encrypted-data", **keys).to_json() | {  # type: ignore[arg-type]
        "guess": found.guess}


@pytest.mark.parametrize("case", unblind_cases()[:1], ids=lambda c: str(c["id"]))
def test_auto_does_not_claim_data_the_keys_do_not_open(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["encrypted_recipient_data"])
    found = explain(data, node_key=OTHER_KEY, path_key=bytes.fromhex(case["path_key"]))
    assert found.kind != "encrypted-data"


@pytest.mark.parametrize("spec", [*ENCRYPTED_DATA_RECORDS, *ONIONMSG_RECORDS],
                         ids=lambda s: str(s.name))
def test_every_blinding_and_onion_message_record_is_described(spec: Any) -> None:
    assert spec.description
