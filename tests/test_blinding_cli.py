"""The CLI contract of route blinding and onion messages: `blinded-path create`,
`message build|peel`, and what `onion peel` adds inside a blinded route, checked against the
official BOLT 4 vectors (values copied from the recorded vector files, which
tests/test_blinding_vectors.py compares with the official ones).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import (
    EncryptedData,
    OnionMessagePayload,
    build_onion_message,
    create_blinded_path,
    public_key,
)
from sphinxamp.cli import main

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
# The CLI as this interpreter runs it, whatever the environment is called.
ENTRY = [sys.executable, "-m", "sphinxamp"]


def cases(name: str) -> dict[str, dict[str, Any]]:
    doc = json.loads((VECTORS / name).read_text())
    return {c["id"]: c for c in doc["cases"]}


ROUTE = cases("bolt04-route-blinding.json")
PAYMENT = cases("bolt04-blinded-payment-onion.json")
MESSAGE = cases("bolt04-blinded-onion-message.json")


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    status = main(argv)
    return status, json.loads(capsys.readouterr().out)


def create_argv(route: dict[str, Any]) -> list[str]:
    argv = ["blinded-path", "create", "--session-key", route["session_key"]]
    for hop in route["hops"]:
        argv += ["--hop", f"{hop['node_id']}={hop['encrypted_data_tlv']}"]
    return argv


def test_blinded_path_create_reproduces_both_official_routes(
        capsys: pytest.CaptureFixture[str]) -> None:
    create = ROUTE["create"]
    expected = create["expect"]["hops"]
    seen = 0
    for route in create["routes"]:
        status, out = run_json([*create_argv(route), "--json"], capsys)
        assert status == 0
        assert set(out) == {"first_node_id", "first_path_key", "hops"}
        assert out["first_node_id"] == route["hops"][0]["node_id"]
        assert out["first_path_key"] == expected[seen]["path_key"]
        for hop in out["hops"]:
            assert set(hop) == {"blinded_node_id", "encrypted_recipient_data"}
            assert hop["blinded_node_id"] == expected[seen]["blinded_node_id"]
            assert hop["encrypted_recipient_data"] == expected[seen]["encrypted_recipient_data"]
            seen += 1
    assert seen == len(expected)


def test_blinded_path_create_text_pad_and_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    route = ROUTE["create"]["routes"][0]
    assert main(create_argv(route)) == 0
    text = capsys.readouterr().out
    assert f"first_path_key {route_first_key(0)}" in text
    status, out = run_json([*create_argv(route), "--pad", "--json"], capsys)
    assert status == 0 and len({len(h["encrypted_recipient_data"]) for h in out["hops"]}) == 1
    status, err = run_json(["blinded-path", "create", "--session-key", "01" * 32, "--hop",
                            "nonsense", "--json"], capsys)
    assert status == 1 and err["reason"] == "hop_syntax"
    node = route["hops"][0]["node_id"]
    status, err = run_json(["blinded-path", "create", "--session-key", "01" * 32, "--hop",
                            f"{node}=1000", "--json"], capsys)
    assert status == 1 and err["reason"] == "unknown_even_type"


def official_message_hops() -> list[str]:
    """The official route's hops as `message build` takes them: the blinded id and the
    onionmsg_tlv (encrypted_recipient_data, plus `hello` as type 1 at the last node)."""
    hops = MESSAGE["create"]["expect"]["hops"]
    out = []
    for i, hop in enumerate(hops):
        data = bytes.fromhex(hop["encrypted_recipient_data"])
        payload = bytes((4, len(data))) + data
        if i == len(hops) - 1:
            payload = b"\x01\x05hello" + payload
        out += ["--hop", f"{hop['blinded_node_id']}={payload.hex()}"]
    return out


def test_message_build_reproduces_the_official_message(capsys: pytest.CaptureFixture[str]) -> None:
    build = MESSAGE["build"]
    path_key = MESSAGE["create"]["expect"]["first_path_key"]
    status, out = run_json(["message", "build", "--session-key", build["session_key"],
                            *official_message_hops(), "--path-key", path_key, "--json"], capsys)
    assert status == 0 and out["payload_area"] == 1300
    assert out["onion"] == build["expect"]["onion_message_packet"]
    assert out["onion_message"] == build["expect"]["onion_message"]


def test_message_peel_walks_the_official_message(capsys: pytest.CaptureFixture[str]) -> None:
    onion, path_key = MESSAGE["peel-alice"]["onion_message"], None
    for name in ("peel-alice", "peel-bob", "peel-carol", "peel-dave"):
        case = MESSAGE[name]
        argv = ["message", "peel", onion, "--node-key", case["node_key"], "--json"]
        if path_key is not None:
            argv += ["--path-key", path_key]
        status, out = run_json(argv, capsys)
        assert status == 0
        assert {"payload", "tlv", "encrypted_data", "next_node_id", "next_path_key",
                "next_onion"} <= set(out)
        assert out["next_node_id"] == case["expect"]["next_node_id"]
        nxt = case["expect"]["next_onion_message"]
        if nxt is None:
            assert out["next_onion"] is None and out["next_path_key"] is None
            assert out["encrypted_data"]["path_id"].startswith("deadbeef")
            assert [r["type"] for r in out["tlv"]] == [1, 4]
            return
        # onion_message = 0201 ‖ path_key ‖ len ‖ packet
        assert out["next_path_key"] == nxt[4:70] and out["next_onion"] == nxt[74:]
        onion, path_key = out["next_onion"], out["next_path_key"]
    raise AssertionError("the message never reached Dave")


def test_message_peel_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    case = MESSAGE["drop-wrong-node"]
    status, out = run_json(["message", "peel", case["onion_message"], "--node-key",
                            case["node_key"], "--json"], capsys)
    assert status == 0 and out["dropped"] == "hmac_mismatch"
    assert main(["message", "peel", case["onion_message"], "--node-key", case["node_key"]]) == 0
    assert capsys.readouterr().out.startswith("dropped: hmac_mismatch")


def peel_argv(case: dict[str, Any], *extra: str) -> list[str]:
    argv = ["onion", "peel", case["onion"], "--node-key", case["node_key"], "--assoc-data",
            case["associated_data"], "--json", *extra]
    if case.get("path_key"):
        argv += ["--path-key", case["path_key"]]
    if case.get("incoming_amount_msat") is not None:
        argv += ["--amount-msat", str(case["incoming_amount_msat"]),
                 "--cltv-expiry", str(case["incoming_cltv_expiry"])]
    if case["expect"].get("next_onion", "") is None:  # the final hop: the vector has no height
        argv += ["--current-height", "0"]
    return argv


@pytest.mark.parametrize("name", ["hop-alice", "hop-bob", "hop-carol", "hop-dave", "hop-eve"])
def test_onion_peel_inside_a_blinded_route(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    case = PAYMENT[name]
    expect = case["expect"]
    status, out = run_json(peel_argv(case), capsys)
    assert status == 0 and out["payload_error"] is None
    assert out["next_path_key"] == expect["next_path_key"]
    assert out["amt_to_forward"] == expect.get("amt_to_forward")
    assert out["outgoing_cltv_value"] == expect.get("outgoing_cltv_value")
    if name == "hop-alice":
        assert out["encrypted_data"] is None
    else:
        assert out["encrypted_data"]["payment_constraints"] == \
            expect["encrypted_data"]["payment_constraints"]


def test_onion_peel_refuses_broken_payment_constraints(capsys: pytest.CaptureFixture[str]) -> None:
    case = {**PAYMENT["hop-bob"], "incoming_cltv_expiry": 750_151}
    status, out = run_json(peel_argv(case), capsys)
    assert status == 0
    error = out["payload_error"]
    assert error["failure_name"] == "invalid_onion_blinding"
    assert error["cause"]["error"] == "ExpiryAboveMaximum"
    assert out["encrypted_data"] is None and out["amt_to_forward"] is None
    status, err = run_json(peel_argv(case, "--strict"), capsys)
    assert status == 1 and err["reason"] == "expiry_above_maximum"


def test_entry_point_as_a_process() -> None:
    route = ROUTE["create"]["routes"][1]
    done = subprocess.run([*ENTRY, *create_argv(route), "--json"], capture_output=True,
                          text=True, check=True, timeout=60)
    out = json.loads(done.stdout)
    assert out["first_path_key"] == route_first_key(1)
    case = MESSAGE["peel-dave"]
    done = subprocess.run([*ENTRY, "message", "peel", case["onion_message"], "--node-key",
                           case["node_key"], "--json"], capture_output=True, text=True,
                          check=True, timeout=60)
    assert json.loads(done.stdout)["next_onion"] is None


def route_first_key(index: int) -> str:
    """The first path key of the index-th official route (Bob's, then Dave's)."""
    hops = ROUTE["create"]["expect"]["hops"]
    first = 0 if index == 0 else len(ROUTE["create"]["routes"][0]["hops"])
    key: str = hops[first]["path_key"]
    return key


def test_message_peel_shows_the_reply_path(capsys: pytest.CaptureFixture[str]) -> None:
    node = bytes([0x41]) * 32
    reply = create_blinded_path(bytes([9]) * 32, [(public_key(node), EncryptedData(
        path_id=b"reply"))])
    path = create_blinded_path(bytes([8]) * 32, [(public_key(node), EncryptedData(
        path_id=b"here"))])
    message = build_onion_message(bytes([7]) * 32, path,
                                  OnionMessagePayload(reply_path=reply.encode()))
    status, out = run_json(["message", "peel", message.to_bytes().hex(), "--node-key",
                            node.hex(), "--json"], capsys)
    assert status == 0 and out["reply_path"] == reply.to_json()
    assert out["encrypted_data"] == {"path_id": b"here".hex()}
