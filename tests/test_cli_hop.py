"""The CLI judges payloads and peels with process_hop's context: `payload decode --role
intermediate|final [--path-key]` and `onion peel --path-key` (BOLT 4 › `payload` reader
requirements and Failure Messages; BOLT 2 › Removing an HTLC)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from coincurve import PrivateKey

from sphinxamp.cli import main
from tests.blinded_route import BlindedHopSpec, blinded_route_onion, intermediate_data

PATH_KEY = PrivateKey(bytes([0x33]) * 32).public_key.format().hex()
ENC = "0a10 " + "01" * 16
INTRO = ENC + " 0c21" + PATH_KEY


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


def test_introduction_node_payload_is_accepted_as_intermediate(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, obj = run_json(capsys, "payload", "decode", INTRO.replace(" ", ""),
                           "--role", "intermediate")
    assert status == 0
    assert obj["introduction_node"] is True and obj["role"] == "blinded-intermediate"


def test_path_key_in_htlc_and_payload_is_refused_on_type_12(
        capsys: pytest.CaptureFixture[str]) -> None:
    """lnd htlcswitch/hop/payload.go, ValidateParsedPayloadTypes: IncludedViolation of the
    blinding point; inside a blinded route the answer is invalid_onion_blinding."""
    status, obj = run_json(capsys, "payload", "decode", INTRO.replace(" ", ""),
                           "--role", "intermediate", "--path-key", PATH_KEY)
    assert status == 1
    assert obj["failure_code"] == 0xC018 and obj["failure_name"] == "invalid_onion_blinding"
    assert obj["failure_message"] == "update_fail_malformed_htlc"
    assert obj["tlv_type"] == 12 and obj["offset"] == 18
    assert obj["cause"]["failure_code"] == 0x4016 and obj["cause"]["tlv_type"] == 12
    assert obj["sha256_of_onion"] is None  # a payload alone: the onion is not known


def test_blinded_payload_with_no_path_key_anywhere_is_refused(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, obj = run_json(capsys, "payload", "decode", ENC.replace(" ", ""),
                           "--role", "intermediate")
    assert status == 1
    assert obj["failure_code"] == 0x4016 and obj["tlv_type"] == 12 and obj["cause"] is None
    assert obj["failure_message"] == "update_fail_htlc"


def test_lnd_profile_reports_offset_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """lnd htlcswitch/link.go: NewInvalidOnionPayload(failedType, 0): the offset is 0."""
    status, obj = run_json(capsys, "payload", "decode", "020100", "--role", "final",
                           "--profile", "lnd")
    assert status == 1 and (obj["tlv_type"], obj["offset"]) == (0, 0)


def blinded_onion() -> tuple[str, str]:
    onion, path_keys = blinded_route_onion(
        bytes([0x41]) * 32, [], [BlindedHopSpec(bytes([0x61]) * 32, b"", intermediate_data()),
                                 BlindedHopSpec(bytes([0x62]) * 32, b"\x02\x01\x05\x04\x01\x06",
                                                b"\x06\x01\x07")],
        bytes([0x37]) * 32, first_is_introduction=False)
    return onion.hex(), path_keys[0].hex()


def test_peel_with_path_key_answers_blinding_for_a_bad_hmac(
        capsys: pytest.CaptureFixture[str]) -> None:
    onion, path_key = blinded_onion()
    bad = onion[:-2] + ("00" if onion[-2:] != "00" else "01")
    status, obj = run_json(capsys, "onion", "peel", bad, "--node-key", "61" * 32,
                           "--assoc-data", "42" * 32, "--path-key", path_key)
    assert status == 1
    assert obj["failure_code"] == 0xC018
    assert obj["failure_message"] == "update_fail_malformed_htlc"
    assert obj["sha256_of_onion"] == hashlib.sha256(bytes.fromhex(bad)).hexdigest()
    assert obj["cause"]["failure_name"] == "invalid_onion_hmac"


def test_peel_inside_a_blinded_route(capsys: pytest.CaptureFixture[str]) -> None:
    onion, path_key = blinded_onion()
    status, obj = run_json(capsys, "onion", "peel", onion, "--node-key", "61" * 32,
                           "--assoc-data", "42" * 32, "--path-key", path_key,
                           "--amount-msat", "2000", "--cltv-expiry", "900")
    assert status == 0
    assert obj["role"] == "blinded-intermediate" and obj["introduction_node"] is False
    assert obj["payload_error"] is None and obj["next_onion"] is not None
    # payment_relay of intermediate_data: base 1000, 100 ppm, delta 144.
    assert (obj["amt_to_forward"], obj["outgoing_cltv_value"]) == (1000, 900 - 144)


@pytest.mark.parametrize(("missing", "flag"), [("--amount-msat", "--amount-msat"),
                                               ("--cltv-expiry", "--cltv-expiry")])
def test_peel_inside_a_blinded_route_needs_the_htlc(capsys: pytest.CaptureFixture[str],
                                                    missing: str, flag: str) -> None:
    """A blinded hop's payment_relay and payment_constraints depend on the HTLC (BOLT 4 ›
    `payload` Requirements): without it the command fails naming the flag, and judges
    nothing."""
    onion, path_key = blinded_onion()
    given = {"--amount-msat": "2000", "--cltv-expiry": "900"}
    del given[missing]
    status, obj = run_json(capsys, "onion", "peel", onion, "--node-key", "61" * 32,
                           "--assoc-data", "42" * 32, "--path-key", path_key,
                           *[x for kv in given.items() for x in kv])
    assert status == 1 and obj["error"] == "InvalidArgument" and obj["failure_code"] is None
    assert flag in obj["message"]


def test_peel_with_a_batch_id_repeats_its_answer(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Any) -> None:
    onion, path_key = blinded_onion()
    argv = ["onion", "peel", onion, "--node-key", "61" * 32, "--assoc-data", "42" * 32,
            "--path-key", path_key, "--replay-db", str(tmp_path / "r.db"), "--cltv-expiry",
            "900", "--amount-msat", "2000"]
    assert run_json(capsys, *argv, "--batch-id", "chan 7 commit 3")[0] == 0
    assert run_json(capsys, *argv, "--batch-id", "chan 7 commit 3")[0] == 0
    status, obj = run_json(capsys, *argv, "--batch-id", "chan 7 commit 4")
    assert status == 1 and obj["failure_code"] == 0xC018  # a replay, inside a blinded route
    assert obj["cause"]["reason"] == "replayed_onion"


def test_batch_id_without_a_replay_log_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    onion, _ = blinded_onion()
    status, obj = run_json(capsys, "onion", "peel", onion, "--node-key", "61" * 32,
                           "--assoc-data", "42" * 32, "--batch-id", "5")
    assert status == 1 and obj["error"] == "InvalidArgument" and obj["field"] == "replay_db"


def test_cltv_is_the_old_name_of_cltv_expiry(capsys: pytest.CaptureFixture[str]) -> None:
    """--cltv (the replay log's) and --cltv-expiry are one HTLC field: either gives it, two
    different values are refused."""
    onion, path_key = blinded_onion()
    argv = ["onion", "peel", onion, "--node-key", "61" * 32, "--assoc-data", "42" * 32,
            "--path-key", path_key, "--amount-msat", "2000"]
    status, obj = run_json(capsys, *argv, "--cltv", "900")
    assert status == 0 and obj["outgoing_cltv_value"] == 900 - 144
    status, obj = run_json(capsys, *argv, "--cltv", "900", "--cltv-expiry", "901")
    assert status == 1 and obj["field"] == "cltv"


@pytest.mark.parametrize("kind", ["missing-dir", "not-a-db"])
def test_replay_db_that_cannot_be_used_is_a_clear_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Any, kind: str) -> None:
    onion, path_key = blinded_onion()
    db = tmp_path / "none" / "x.db"
    if kind == "not-a-db":
        db = tmp_path / "x.db"
        db.write_bytes(b"this is not an SQLite file, just text" * 40)
    status, obj = run_json(capsys, "onion", "peel", onion, "--node-key", "61" * 32,
                           "--assoc-data", "42" * 32, "--path-key", path_key,
                           "--replay-db", str(db), "--cltv-expiry", "9",
                           "--amount-msat", "2000")
    assert status == 1 and obj["error"] == "InvalidArgument" and obj["field"] == "db"
    assert obj["reason"] == {"missing-dir": "cannot_open", "not-a-db": "not_a_database"}[kind]


def test_explicit_blinded_role_without_path_key_means_the_htlc_had_none(
        capsys: pytest.CaptureFixture[str]) -> None:
    """--path-key is the path key update_add_htlc carried: without it, a blinded payload must
    hold current_path_key itself (BOLT 4 › `payload` reader)."""
    status, obj = run_json(capsys, "payload", "decode", ENC.replace(" ", ""),
                           "--role", "blinded-intermediate")
    assert status == 1 and (obj["tlv_type"], obj["reason"]) == (12, "record_omitted")
    status, obj = run_json(capsys, "payload", "decode", ENC.replace(" ", ""),
                           "--role", "blinded-intermediate", "--path-key", PATH_KEY)
    assert status == 0 and obj["introduction_node"] is False


def test_encrypted_data_shorter_than_its_tag_is_not_valid(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, obj = run_json(capsys, "payload", "decode", "0a00", "--role",
                           "blinded-intermediate", "--path-key", PATH_KEY)
    assert status == 1 and obj["failure_code"] == 0xC018
    assert obj["cause"]["tlv_type"] == 10 and obj["cause"]["reason"] == "length_below_fixed_size"


@pytest.mark.parametrize(("payload", "role", "tlv_type"), [
    # payment_data (8) at a forwarding hop
    ("020203e8 040190 0608 0000000000000001 0821" + "ab" * 32 + "07", "intermediate", 8),
    # short_channel_id (6) at the final hop
    ("020203e8 040190 0608 0000000000000001", "final", 6),
])
def test_payload_decode_leaves_writer_rules_to_lnd(capsys: pytest.CaptureFixture[str],
                                                   payload: str, role: str,
                                                   tlv_type: int) -> None:
    """BOLT 4's reader (› `payload` format › Requirements) has no rule for these writer MUST
    NOTs: profile bolt accepts; lnd refuses (htlcswitch/hop/payload.go,
    ValidateParsedPayloadTypes)."""
    raw = payload.replace(" ", "")
    status, obj = run_json(capsys, "payload", "decode", raw, "--role", role)
    assert status == 0 and obj["role"] == role
    status, obj = run_json(capsys, "payload", "decode", raw, "--role", role, "--profile", "lnd")
    assert status == 1 and (obj["tlv_type"], obj["reason"]) == (tlv_type, "record_included")

