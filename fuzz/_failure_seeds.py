"""Seeds of the failure-onion targets, from the project's failure vector files
(vectors/bolt04-failure.json, bolt04-failure-attribution.json), every code of the table with
sample fields, and a few hand-made edge cases."""

from __future__ import annotations

import json
from typing import Any

import _common

from sphinxamp._codes import FAILURE_CODES
from sphinxamp.failures._message import FailureMessage

TARGETS = ("failure_message", "failure_decrypt", "attribution")
_FILES = ("bolt04-failure.json", "bolt04-failure-attribution.json")
_SAMPLES: dict[str, int | bytes] = {
    "sha256": b"\x11" * 32, "channel_update": b"\x01\x02\x03", "u16": 1, "u32": 700_000,
    "u64": 1000, "bigsize": 0xFD00}
_EDGE_MESSAGES = ("", "20", "2002", "200201", "2002fd", "7777", "7777aabb", "4016fe",
                  "1007ffff", "c005" + "00" * 31, "400f" + "00" * 12 + "0100", "400f" + "00" * 11)


def _cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in _FILES:
        out += json.loads((_common.REPO / "vectors" / name).read_text())["cases"]
    return out


def _messages(cases: list[dict[str, Any]]) -> dict[str, bytes]:
    out = {f"edge-msg{i}": bytes.fromhex(h) for i, h in enumerate(_EDGE_MESSAGES)}
    for case in cases:
        if "failure_message" in case:
            out[f"vec-{case['id']}"] = bytes.fromhex(case["failure_message"])
    for code in FAILURE_CODES.values():
        fields = {name: _SAMPLES[wire] for name, wire in code.fields}
        out[f"gen-{code.name}"] = FailureMessage.create(code.code, fields).encode()
    return out


def _decrypt_seeds(cases: list[dict[str, Any]], messages: dict[str, bytes]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for case in cases:
        if case["kind"] != "failure-return":
            continue
        last = case["expect"]["hops"][-1]
        out[f"vec-{case['id']}-packet"] = b"\x00" + bytes.fromhex(last["reason"])
        if "attribution_data" in last:
            out[f"vec-{case['id']}-attributed"] = b"\x02" + bytes.fromhex(
                last["attribution_data"]) + bytes.fromhex(last["reason"])
    for i, (stem, message) in enumerate(sorted(messages.items())):
        if len(message) <= 400:
            out[f"gen-relay-{stem}"] = bytes((1, i % 5, (i * 3) % 8)) + message
    return out


def _attribution_seeds(cases: list[dict[str, Any]]) -> dict[str, bytes]:
    out = {"edge-zeros": b"\x04\x00" + bytes(920), "edge-short": b"\x04\x00" + bytes(919),
           "edge-wrap-zeros": b"\x04\x01" + bytes(920),
           "edge-chain": b"\x13\x02" + bytes(range(80))}
    for case in cases:
        for step in case["expect"].get("hops", []):
            if "attribution_data" in step:
                data = bytes.fromhex(step["attribution_data"])
                out[f"vec-{case['id']}-{step['hop_index']}"] = b"\x04\x00" + data
                out[f"vec-{case['id']}-{step['hop_index']}-wrap"] = b"\x04\x01" + data
    return out


def seeds() -> dict[str, dict[str, bytes]]:
    cases = _cases()
    messages = _messages(cases)
    return {"failure_message": messages, "failure_decrypt": _decrypt_seeds(cases, messages),
            "attribution": _attribution_seeds(cases)}
