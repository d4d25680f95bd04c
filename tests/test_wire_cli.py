"""`sphinxamp wire decode` / `wire encode` as a user runs them: a subprocess per call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.wire_reference import (
    FIRST_PATH_KEY,
    attribution_case,
    bolt04_onion,
    onion_message_case,
    ref_message,
)

ONION, PAYMENT_HASH = bolt04_onion()
REASON, FAIL_ATTRIBUTION, _ = attribution_case()
ONION_MESSAGE, ONION_MESSAGE_PACKET = onion_message_case()

ADD_HTLC = ref_message("update_add_htlc", {
    "channel_id": b"\x01" * 32, "id": 3, "amount_msat": 15_000, "payment_hash": PAYMENT_HASH,
    "cltv_expiry": 800_000, "onion_routing_packet": ONION},
    [(0, FIRST_PATH_KEY), (106823, b"\x07"), (106825, b"\xab")])
FAIL_HTLC = ref_message("update_fail_htlc", {"channel_id": b"\x01" * 32, "id": 3,
                                             "reason": REASON}, [(1, FAIL_ATTRIBUTION)])


def wire(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sphinxamp", "wire", *args], input=stdin,
                          capture_output=True, text=True, check=False, timeout=60)


@pytest.mark.parametrize("message", [ADD_HTLC, FAIL_HTLC, ONION_MESSAGE],
                         ids=["update_add_htlc", "update_fail_htlc", "onion_message"])
def test_decode_json_then_encode_gives_the_same_bytes(message: bytes, tmp_path: Path) -> None:
    decoded = wire("decode", message.hex(), "--json")
    assert decoded.returncode == 0, decoded.stderr
    obj = json.loads(decoded.stdout)
    assert obj["type"] == int.from_bytes(message[:2], "big")
    path = tmp_path / "message.json"
    path.write_text(decoded.stdout)
    encoded = wire("encode", str(path))
    assert encoded.returncode == 0, encoded.stderr
    assert encoded.stdout.strip() == message.hex()
    from_stdin = wire("encode", "-", "--json", stdin=decoded.stdout)
    assert json.loads(from_stdin.stdout) == {"hex": message.hex()}


def test_decode_json_names_the_fields_and_records() -> None:
    obj = json.loads(wire("decode", ADD_HTLC.hex(), "--json").stdout)
    assert obj["name"] == "update_add_htlc"
    assert obj["onion_routing_packet"] == ONION.hex()
    assert obj["payment_hash"] == PAYMENT_HASH.hex()
    assert (obj["id"], obj["amount_msat"], obj["cltv_expiry"]) == (3, 15_000, 800_000)
    assert (obj["path_key"], obj["accountable"]) == (FIRST_PATH_KEY.hex(), 7)
    assert obj["unknown_tlvs"] == [{"type": 106825, "value": "ab"}]
    fail = json.loads(wire("decode", FAIL_HTLC.hex(), "--json").stdout)
    assert (fail["len"], fail["reason"]) == (len(REASON), REASON.hex())
    assert fail["attribution_data"] == FAIL_ATTRIBUTION.hex()


def test_decode_text_lists_every_field(tmp_path: Path) -> None:
    path = tmp_path / "message.hex"
    path.write_text(ONION_MESSAGE.hex() + "\n")
    out = wire("decode", f"@{path}")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"onion_message (type 513), {len(ONION_MESSAGE)} bytes"
    assert f"  path_key: {ONION_MESSAGE[2:35].hex()}" in lines
    assert f"  onion_message_packet: {ONION_MESSAGE_PACKET.hex()}" in lines
    text = wire("decode", "-", stdin=ADD_HTLC.hex()).stdout
    assert "accountable (update_add_htlc_tlvs type 106823): 7" in text
    assert "path_key (update_add_htlc_tlvs type 0 blinded_path): " + FIRST_PATH_KEY.hex() in text
    assert "unknown odd TLV type 106825 (update_add_htlc_tlvs): ab" in text


@pytest.mark.parametrize("hexstr", [
    ADD_HTLC[:-1].hex(), ADD_HTLC[:100].hex(), "", "0081", "zz",
    FAIL_HTLC.hex() + "0200", ADD_HTLC.hex() + "0100",
])
def test_malformed_message_is_one_line_exit_1(hexstr: str) -> None:
    out = wire("decode", hexstr)
    assert out.returncode == 1
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith("sphinxamp: error: ")
    assert "Traceback" not in out.stderr
    as_json = wire("decode", hexstr, "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["reason"]


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"type": 999}', '{"type": 131, "channel_id": "00", "id": 1, '
    '"reason": ""}', '{"type": 135, "channel_id": "' + "00" * 32 + '", "id": 1, '
    '"sha256_of_onion": "' + "00" * 32 + '", "failure_code": 16389}',
])
def test_encode_refuses_what_no_reader_accepts(text: str) -> None:
    out = wire("encode", "-", stdin=text)
    assert out.returncode == 1
    assert len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr
