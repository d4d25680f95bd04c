"""`sphinxamp onion peel --profile trampoline|trampoline-legacy` at a trampoline node: the
trampoline layer shown beside the outer one, checked against the proposal's vector
(lightning/bolts#836 bolt04/trampoline-payment-onion-test.json, Carol's and Eve's steps, as
vectors/trampoline-payment-onion.json records them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import coincurve
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _case(case_id: str) -> dict[str, Any]:
    doc = json.loads((ROOT / "vectors" / "trampoline-payment-onion.json").read_text())
    return next(c for c in doc["trampoline_cases"] if c["id"] == case_id)


def _peel(case: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinxamp", "onion", "peel", case["onion"], "--node-key",
         case["node_key"], "--assoc-data", case["associated_data"], "--amount-msat",
         str(case["incoming_amount_msat"]), "--cltv-expiry", str(case["incoming_cltv_expiry"]),
         "--current-height", str(case["current_block_height"]), *extra],
        capture_output=True, text=True, check=False)


def test_peel_at_a_trampoline_node_shows_its_layer() -> None:
    case = _case("carol-processes")
    proc = _peel(case, "--profile", "trampoline", "--json")
    assert proc.returncode == 0, proc.stderr
    tramp = json.loads(proc.stdout)["trampoline"]
    want = case["expect"]
    assert tramp["action"] == "forward"
    assert tramp["payload"] == want["payload"]
    assert tramp["next_trampoline_onion"] == want["next_trampoline_onion"]
    assert (tramp["next_node_id"], tramp["amt_to_forward"], tramp["outgoing_cltv_value"]) == (
        want["next_node_id"], want["amt_to_forward"], want["outgoing_cltv_value"])
    assert tramp["incoming_amount_msat"] == want["incoming_amount_msat"]
    assert {"type": 14, "name": "outgoing_node_id", "profile": "trampoline"} in tramp["records"]


def test_peel_at_the_recipient() -> None:
    case = _case("eve-receives")
    proc = _peel(case, "--profile", "trampoline")
    assert proc.returncode == 0, proc.stderr
    assert f"trampoline payload: {case['expect']['payload']}" in proc.stdout
    assert "trampoline final: receives 100000000 msat" in proc.stdout


def test_under_bolt_the_trampoline_onion_is_an_unknown_even_type() -> None:
    """BOLT 1: type 20 is unknown to a BOLT 4 reader and even, so refused; no trampoline
    key in the answer."""
    proc = _peel(_case("carol-processes"), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["payload_error"]["tlv_type"] == 20 and "trampoline" not in doc


@pytest.mark.parametrize("command", [["explain", "00"], ["onion", "peel", "00", "--node-key",
                                                         "41" * 32, "--assoc-data", "42" * 32]])
def test_the_profile_choices_name_both_formats(command: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "sphinxamp", *command, "--profile", "eclair"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "trampoline-legacy" in proc.stderr


def test_the_demo_tells_a_trampoline_payment() -> None:
    """Bob (42…42) forwards to Carol (43…43, her node id by coincurve) what his trampoline
    payload says, 100000 msat until block 840040; Carol receives it."""
    proc = subprocess.run([sys.executable, "-m", "sphinxamp", "demo", "--json"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    bob, carol = json.loads(proc.stdout)["trampoline"]
    carol_id = coincurve.PrivateKey(b"\x43" * 32).public_key.format(True).hex()
    assert (bob["action"], bob["next_node_id"]) == ("forward", carol_id)
    assert (bob["amt_to_forward"], bob["outgoing_cltv_value"]) == (100_000, 840_040)
    assert (carol["action"], carol["amt_to_forward"]) == ("receive", 100_000)
    text = subprocess.run([sys.executable, "-m", "sphinxamp", "demo"], capture_output=True,
                          text=True, check=False).stdout
    assert "== A trampoline payment" in text and "never lnd's AMP record" in text
