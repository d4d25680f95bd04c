"""The demo's blinded-path and failure stories tell what the BOLT text predicts for their
fixed inputs (the demo is the Quickstart's first command, so it must stay right)."""

from __future__ import annotations

import json
from fractions import Fraction
from math import ceil

import pytest

from sphinxamp.cli import main


def demo_json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["demo", "--json"]) == 0
    doc: dict[str, object] = json.loads(capsys.readouterr().out)
    return doc


def test_blinded_story_forwards_what_payment_relay_says(
        capsys: pytest.CaptureFixture[str]) -> None:
    hops = demo_json(capsys)["blinded"]["hops"]  # type: ignore[index]
    assert [h["role"] for h in hops] == ["intermediate", "blinded-intermediate", "blinded-final"]
    assert [h["introduction_node"] for h in hops] == [False, True, False]
    # BOLT 4 › Route Blinding: amt_to_forward = ceil((incoming - fee_base) * 1e6 /
    # (1e6 + fee_proportional)); outgoing_cltv_value = incoming cltv - cltv_expiry_delta.
    expect = ceil(Fraction((101_010 - 1_000) * 1_000_000, 1_000_000 + 100))
    assert (hops[1]["amt_to_forward"], hops[1]["outgoing_cltv_value"]) == (expect, 840_080)
    assert hops[1]["next_path_key"] is not None


def test_failure_story_names_hop_3_and_every_hold_time(
        capsys: pytest.CaptureFixture[str]) -> None:
    failure = demo_json(capsys)["failure"]
    assert failure["hop_index"] == 3  # type: ignore[index]
    assert failure["failure_name"] == "temporary_node_failure"  # type: ignore[index]
    assert [(a["hold_time_ms"], a["hmac_ok"]) for a in failure["attribution"]] == [  # type: ignore[index]
        (100, True), (100, True), (100, True), (300, True)]


def test_demo_text_tells_both_stories(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "introduction node" in out and "the origin reads: hop 3" in out
