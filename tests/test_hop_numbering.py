"""One hop numbering everywhere: hops count from 0, the first node after the sender, as
`hops[0]` in JSON and in BOLT 4's vectors (bolt04/onion-error-test.json: "A simple error
returned by node hops[4]", the last of its five hops; our copy is vectors/bolt04-failure.json,
case return-five-hops, erring_hop 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIVE_HOPS = next(c for c in json.loads((ROOT / "vectors" / "bolt04-failure.json").read_text())
                 ["cases"] if c["id"] == "return-five-hops")
NODE = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"
OTHER = "0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c"
PAYLOAD = "02023a98040205dc06080000000000000001"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def hop_numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^\s*hop (\d+)\b", text, flags=re.MULTILINE)]


def test_demo_counts_its_five_hops_from_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["demo"], capsys)
    first = out[: out.index("\n== ", 1)]  # the payment onion story
    assert status == 0
    assert hop_numbers(first) == [0, 1, 2, 3, 4]
    assert "The sender offers hop 0 an HTLC" in first
    assert f"hop 0  node {NODE}" in first


def test_onion_build_lists_hops_from_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["onion", "build", "--session-key", "41" * 32, "--assoc-data",
                          "42" * 32, "--hop", f"{NODE}={PAYLOAD}", "--hop",
                          f"{OTHER}={PAYLOAD}"], capsys)
    assert status == 0 and hop_numbers(out) == [0, 1]


@pytest.mark.parametrize(("hops", "named"), [
    ([f"{NODE}"], "hops[0]: expected --hop PUBKEY=PAYLOADHEX"),
    ([f"{NODE}={PAYLOAD}", f"{NODE[:-2]}={PAYLOAD}"], "hops[1].pubkey must be 33 bytes"),
    ([f"{NODE}={PAYLOAD}", f"02{'00' * 32}={PAYLOAD}"], "hops[1].pubkey is not a valid point"),
    ([f"{NODE}=00"], "hops[0].payload of 1 bytes"),
])
def test_onion_build_errors_name_the_hop_from_0(capsys: pytest.CaptureFixture[str],
                                                 hops: list[str], named: str) -> None:
    argv = ["onion", "build", "--session-key", "41" * 32, "--assoc-data", "42" * 32]
    for hop in hops:
        argv += ["--hop", hop]
    status, _, err = run(argv, capsys)
    assert status == 1 and named in err, err
    assert "--hop 1" not in err and "hop 1:" not in err  # no second numbering beside it


def _decrypt(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    last = FIVE_HOPS["expect"]["hops"][-1]  # the erring node first: the origin gets this
    assert last["hop_index"] == 0
    packet = last["reason"]  # the spec's errorpacket
    return run(["failure", "decrypt", packet, "--shared-secrets",
                ",".join(FIVE_HOPS["shared_secrets"]), *extra], capsys)


def test_failure_decrypt_names_the_spec_hop(capsys: pytest.CaptureFixture[str]) -> None:
    assert FIVE_HOPS["erring_hop"] == 4 == FIVE_HOPS["expect"]["decrypted"]["hop_index"]
    status, out, _ = _decrypt(capsys, "--json")
    assert status == 0 and json.loads(out)["hop_index"] == 4
    status, out, _ = _decrypt(capsys)
    assert status == 0 and out.startswith("hop 4:"), out


def _trace(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    return run(["trace", str(ROOT / "examples" / "route-bolt04.json"), "--fail-at", "2",
                *extra], capsys)


def test_trace_counts_from_0_and_names_the_whole_route(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _trace(capsys)
    assert status == 0
    assert out.startswith("onion: 1366 bytes over 5 hops"), out  # the route, not the hops run
    assert "origin: erring hop 2," in out
    assert re.findall(r"^hop (\d+)  node", out, flags=re.MULTILINE) == ["0", "1", "2"]
    status, out, _ = _trace(capsys, "--json")
    doc: dict[str, Any] = json.loads(out)
    assert [h["index"] for h in doc["hops"]] == [0, 1, 2]
    assert len(doc["shared_secrets"]) == 5
    assert doc["failure"]["origin"]["hop_index"] == 2
    assert [s["hop_index"] for s in doc["failure"]["steps"]] == [2, 1, 0]


def test_trace_fail_at_past_the_route_names_the_last_hop(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["trace", str(ROOT / "examples" / "route-bolt04.json"), "--fail-at",
                          "5"], capsys)
    assert status == 1 and "fail_at must be 0 to 4" in err, err


def test_blinded_path_create_lists_hops_from_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["blinded-path", "create", "--session-key", "41" * 32, "--hop",
                          f"{NODE}=", "--hop", f"{OTHER}="], capsys)
    assert status == 0 and hop_numbers(out) == [0, 1], out


def test_blinded_path_create_errors_name_the_hop_from_0(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["blinded-path", "create", "--session-key", "41" * 32, "--hop",
                          f"{NODE}=", "--hop", f"{OTHER}=0000"], capsys)
    assert status == 1 and "error: hops[1].encrypted_data_tlv: unknown even type 0" in err, err
