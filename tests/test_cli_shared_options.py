"""The shared options read the same everywhere: every command taking --path-key refuses a value
that is not a 33-byte valid compressed point, and every command taking --node-key one that is
not a valid private key, each with the error object naming the field (exit status 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.cli import main

NODE_KEY = "41" * 32
POINT = "02" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"  # G
# 0x02 ‖ 32 bytes whose x is not on secp256k1 (x = 5: 5^3 + 7 = 132 is no square mod p).
NOT_A_POINT = "02" + "00" * 31 + "05"
ONION = "00" + POINT + "00" * 1300 + "00" * 32

# Every command taking --path-key, with its other required arguments.
PATH_KEY_COMMANDS = {
    "onion peel": ["onion", "peel", ONION, "--node-key", NODE_KEY, "--assoc-data", "42" * 32],
    "payload decode": ["payload", "decode", "020100", "--role", "final"],
    "message build": ["message", "build", "--session-key", NODE_KEY, "--hop", f"{POINT}=0400"],
    "message peel": ["message", "peel", ONION, "--node-key", NODE_KEY],
    "explain": ["explain", ONION, "--as", "onion"],
}


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    status = main([*argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("command", sorted(PATH_KEY_COMMANDS))
@pytest.mark.parametrize(("value", "reason"), [("02" * 32, "wrong_length"),
                                               (NOT_A_POINT, "invalid_point")])
def test_path_key_must_be_a_valid_point(capsys: pytest.CaptureFixture[str], command: str,
                                        value: str, reason: str) -> None:
    status, obj = run_json(capsys, [*PATH_KEY_COMMANDS[command], "--path-key", value])
    assert status == 1
    assert (obj["error"], obj["field"], obj["reason"]) == ("InvalidArgument", "path_key", reason)


def test_the_point_the_refusals_are_measured_against_is_accepted(
        capsys: pytest.CaptureFixture[str]) -> None:
    """G itself passes the reader: payload decode then judges the payload, not the key."""
    status, obj = run_json(capsys, [*PATH_KEY_COMMANDS["payload decode"], "--path-key", POINT])
    assert obj.get("field") != "path_key"
    assert status == 1 and obj["failure_name"] == "invalid_onion_blinding"


def node_key_commands(tmp_path: Path) -> dict[str, list[str]]:
    """Every command taking --node-key, with its other required arguments (--node-key last)."""
    return {
        "onion peel": ["onion", "peel", ONION, "--assoc-data", "42" * 32],
        "message peel": ["message", "peel", ONION],
        "explain": ["explain", ONION, "--as", "onion"],
        "amp receive": ["amp", "receive", "--db", ":memory:"],
        "fuzz corpus": ["fuzz", "corpus", "--assoc-data", "42" * 32, "--out",
                        str(tmp_path / "corpus")],
    }


@pytest.mark.parametrize("command", ["onion peel", "message peel", "explain", "amp receive",
                                     "fuzz corpus"])
@pytest.mark.parametrize(("value", "reason"), [("00" * 32, "invalid_secret"),
                                               ("ff" * 32, "invalid_secret"),
                                               ("41" * 31, "wrong_length")])
def test_node_key_must_be_a_private_key(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        command: str, value: str, reason: str) -> None:
    argv = [*node_key_commands(tmp_path)[command], "--node-key", value]
    status, obj = run_json(capsys, argv)
    assert status == 1
    assert (obj["field"], obj["reason"]) == ("node_key", reason)
    assert not (tmp_path / "corpus").exists()  # refused before anything is written
