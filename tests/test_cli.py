"""The `sphinxamp` commands, driven in-process through `main` (tests/test_quickstart.py runs
them as real processes).

Expected bytes come from the official BOLT 4 vectors as `vectors/bolt04-onion.json` records
them (`bolt04/onion-test.json` for the onion, `bolt04/onion-error-test.json` for the per-hop
shared secrets of the same route) or from reading payload bytes by hand against BOLT 1/4;
none is output of this code.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.cli import main

# The project's record of `bolt04/onion-test.json`, with the per-hop shared secrets of the
# same route from `bolt04/onion-error-test.json`; node i's private key is 0x40+i repeated.
_VECTOR = json.loads((Path(__file__).resolve().parent.parent / "vectors" / "bolt04-onion.json")
                     .read_text(encoding="utf-8"))
_BUILD = next(c for c in _VECTOR["cases"] if c["kind"] == "onion-build")
SESSION_KEY: str = _BUILD["session_key"]
ASSOC_DATA: str = _BUILD["associated_data"]
NODE_KEYS = [f"{b:02x}" * 32 for b in range(0x41, 0x46)]
PUBKEYS: list[str] = [hop["pubkey"] for hop in _BUILD["hops"]]
# As the official file gives them: with their BigSize length prefix.
FRAMED_PAYLOADS: list[str] = [hop["payload_with_length"] for hop in _BUILD["hops"]]
EXPECTED_ONION: str = _BUILD["expect"]["onion"]
SHARED_SECRETS: list[str] = _BUILD["expect"]["shared_secrets"]

ERROR_KEYS = {"error", "failure_code", "failure_name", "tlv_type", "offset", "message"}
INVALID_ONION_VERSION, INVALID_ONION_HMAC, INVALID_ONION_KEY = 0xC004, 0xC005, 0xC006
INVALID_ONION_PAYLOAD = 0x4016


def unframe(framed: str) -> tuple[str, int]:
    """Payload hex without its BigSize length, and the prefix size (1 or 3 bytes here)."""
    raw = bytes.fromhex(framed)
    size = 3 if raw[0] == 0xFD else 1
    length = int.from_bytes(raw[1:3], "big") if size == 3 else raw[0]
    assert len(raw) == size + length
    return raw[size:].hex(), size


PAYLOADS = [unframe(p)[0] for p in FRAMED_PAYLOADS]
BUILD_ARGS = ["onion", "build", "--session-key", SESSION_KEY, "--assoc-data", ASSOC_DATA,
              *(a for k, p in zip(PUBKEYS, PAYLOADS, strict=True) for a in ("--hop", f"{k}={p}"))]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    status, out, _ = run(capsys, *argv, "--json")
    return status, json.loads(out)


# The HTLC the vector's final hop receives: amt_to_forward 10000 msat, expiry 1000, at a
# height 100 blocks before it.
HTLC_FLAGS = ("--amount-msat", "10000", "--cltv-expiry", "1000", "--current-height", "900")


def peel_args(onion: str, hop: int, *extra: str) -> list[str]:
    return ["onion", "peel", onion, "--node-key", NODE_KEYS[hop], "--assoc-data", ASSOC_DATA,
            *HTLC_FLAGS, *extra]


def assert_error(status: int, obj: Any, error: str, code: int | None) -> None:
    assert status == 1
    assert set(obj) >= ERROR_KEYS
    assert obj["error"] == error
    assert obj["failure_code"] == code


def flip(hex_onion: str, index: int, value: int | None = None) -> str:
    raw = bytearray.fromhex(hex_onion)
    raw[index] = raw[index] ^ 1 if value is None else value
    return raw.hex()


# --- onion build ---------------------------------------------------------------------------


def test_build_reproduces_the_bolt4_onion(capsys: pytest.CaptureFixture[str]) -> None:
    status, obj = run_json(capsys, *BUILD_ARGS)
    assert status == 0
    assert set(obj) == {"onion", "shared_secrets"}
    assert obj["onion"] == EXPECTED_ONION
    assert obj["shared_secrets"] == SHARED_SECRETS


def test_build_human_output_starts_with_the_hex_alone(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, *BUILD_ARGS)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == EXPECTED_ONION
    dump = "\n".join(lines[1:])
    for label in ("version", "public_key", "hop_payloads (1300 bytes", "hmac"):
        assert label in dump
    # The hmac is the packet's last 32 bytes, at offset 1 + 33 + 1300.
    assert any(line.split()[:2] == ["1334", EXPECTED_ONION[-64:-32]] for line in lines)


def test_build_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["onion", "build", "--session-key", SESSION_KEY, "--assoc-data", ASSOC_DATA]
    status, obj = run_json(capsys, *base, "--hop", PUBKEYS[0])
    assert_error(status, obj, "DecodeError", None)
    # 1300 bytes cannot hold one 275-byte frame per hop for five hops (5 × 307 > 1300).
    long_hops = [a for k in PUBKEYS for a in ("--hop", f"{k}={PAYLOADS[4]}")]
    status, obj = run_json(capsys, *base, *long_hops)
    assert_error(status, obj, "EncodeError", None)
    status, obj = run_json(capsys, *base, "--hop", f"{'04' + PUBKEYS[0][2:]}={PAYLOADS[0]}")
    assert_error(status, obj, "EncodeError", None)


# --- onion peel ----------------------------------------------------------------------------


def test_peel_every_hop_of_the_bolt4_onion(capsys: pytest.CaptureFixture[str]) -> None:
    onion = EXPECTED_ONION
    for hop in range(5):
        status, obj = run_json(capsys, *peel_args(onion, hop))
        assert status == 0
        assert {"payload", "tlv", "shared_secret", "next_onion"} <= set(obj)
        assert obj["payload"] == PAYLOADS[hop]
        assert obj["shared_secret"] == SHARED_SECRETS[hop]
        assert obj["final"] is (hop == 4)
        assert obj["payload_offset"] == unframe(FRAMED_PAYLOADS[hop])[1]
        assert obj["tlv_error"] is None and obj["payload_error"] is None
        if hop < 4:
            assert obj["role"] == "intermediate"
            assert len(bytes.fromhex(obj["next_onion"])) == 1366
            onion = obj["next_onion"]
        else:
            assert obj["role"] == "final"
            assert obj["next_onion"] is None


def test_peel_tlv_records_follow_the_payload_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    _, first = run_json(capsys, *peel_args(EXPECTED_ONION, 0))
    # 12 | 02 02 3a98 | 04 02 05dc | 06 08 0000000000000001, offsets in the decrypted stream.
    assert [(r["type"], r["name"], r["value"], r["offset"], r["length"]) for r in first["tlv"]] == [
        (2, "amt_to_forward", "3a98", 1, 2),
        (4, "outgoing_cltv_value", "05dc", 5, 2),
        (6, "short_channel_id", "0000000000000001", 9, 8),
    ]
    assert [r["decoded"] for r in first["tlv"]] == [0x3A98, 0x05DC, "0x0x1"]
    _, second = run_json(capsys, *peel_args(first["next_onion"], 1))
    unknown = second["tlv"][-1]
    assert (unknown["type"], unknown["name"], unknown["length"]) == (513, None, 60)
    assert unknown["value"] == "0102030405060708090a0b0c0d0e0f" * 4


def test_peel_final_hop_decodes_payment_data(capsys: pytest.CaptureFixture[str]) -> None:
    onion = EXPECTED_ONION
    for hop in range(4):
        onion = run_json(capsys, *peel_args(onion, hop))[1]["next_onion"]
    status, obj = run_json(capsys, *peel_args(onion, 4))
    assert status == 0
    assert [r["type"] for r in obj["tlv"]] == [2, 4, 8, 301]
    assert obj["tlv"][0]["offset"] == 3  # after the 3-byte length fd0110
    assert obj["tlv"][2]["decoded"] == {
        "payment_secret": "24a33562c54507a9334e79f0dc4f17d407e6d7c61f0e2f3d0d38599502f61704",
        "total_msat": 0x2710,
    }
    status, out, _ = run(capsys, *peel_args(onion, 4))
    assert "final" in out and "next_onion: none" in out


def test_peel_human_output_labels_records(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, *peel_args(EXPECTED_ONION, 0))
    assert status == 0
    assert "type 2 amt_to_forward len 2 = 15000" in out
    assert "type 6 short_channel_id len 8 = 0x0x1" in out
    assert SHARED_SECRETS[0] in out


@pytest.mark.parametrize(
    ("onion", "error", "code"),
    [
        (flip(EXPECTED_ONION, 100), "InvalidOnionHmac", INVALID_ONION_HMAC),
        (flip(EXPECTED_ONION, 1365), "InvalidOnionHmac", INVALID_ONION_HMAC),
        (flip(EXPECTED_ONION, 0, 1), "InvalidOnionVersion", INVALID_ONION_VERSION),
        (flip(EXPECTED_ONION, 1, 5), "InvalidOnionKey", INVALID_ONION_KEY),
    ],
    ids=["hop_payloads", "hmac", "version", "key"],
)
def test_peel_bad_onion_errors(
    capsys: pytest.CaptureFixture[str], onion: str, error: str, code: int
) -> None:
    status, obj = run_json(capsys, *peel_args(onion, 0))
    assert_error(status, obj, error, code)
    assert obj["failure_name"] == {
        INVALID_ONION_HMAC: "invalid_onion_hmac",
        INVALID_ONION_VERSION: "invalid_onion_version",
        INVALID_ONION_KEY: "invalid_onion_key",
    }[code]


def test_peel_with_wrong_key_or_data_fails_the_hmac(capsys: pytest.CaptureFixture[str]) -> None:
    status, obj = run_json(capsys, *peel_args(EXPECTED_ONION, 1))
    assert_error(status, obj, "InvalidOnionHmac", INVALID_ONION_HMAC)
    args = peel_args(EXPECTED_ONION, 0)
    args[args.index(ASSOC_DATA)] = "43" * 32
    status, obj = run_json(capsys, *args)
    assert_error(status, obj, "InvalidOnionHmac", INVALID_ONION_HMAC)


def test_peel_human_error_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, *peel_args(flip(EXPECTED_ONION, 0, 1), 0))
    assert status == 1 and out == ""
    assert "invalid_onion_version" in err and "0xc004" in err


def test_peel_reads_the_onion_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(EXPECTED_ONION + "\n"))
    status, obj = run_json(capsys, *peel_args("-", 0))
    assert status == 0 and obj["payload"] == PAYLOADS[0]


def one_hop_onion(capsys: pytest.CaptureFixture[str], payload: str) -> str:
    status, obj = run_json(capsys, "onion", "build", "--session-key", "11" * 32,
                           "--assoc-data", ASSOC_DATA, "--hop", f"{PUBKEYS[0]}={payload}")
    assert status == 0
    return str(obj["onion"])


def test_peel_reports_a_malformed_payload_without_failing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Type 1 with length 5 and one byte of value: the stream runs past its end (BOLT 1).
    onion = one_hop_onion(capsys, "0105ff")
    status, obj = run_json(capsys, *peel_args(onion, 0))
    assert status == 0
    assert obj["payload"] == "0105ff" and obj["final"] is True
    assert obj["tlv"] == []
    assert obj["tlv_error"]["error"] == "TlvError"
    assert obj["tlv_error"]["tlv_type"] == 1
    assert obj["payload_error"]["failure_code"] == INVALID_ONION_PAYLOAD
    status, obj = run_json(capsys, *peel_args(onion, 0, "--strict"))
    assert_error(status, obj, "InvalidOnionPayload", INVALID_ONION_PAYLOAD)
    assert obj["tlv_type"] == 1


def test_peel_judges_the_payload_for_its_role(capsys: pytest.CaptureFixture[str]) -> None:
    # A final hop without outgoing_cltv_value (BOLT 4: the reader MUST fail it).
    onion = one_hop_onion(capsys, "02022710")
    status, obj = run_json(capsys, *peel_args(onion, 0))
    assert status == 0 and obj["tlv_error"] is None
    err = obj["payload_error"]
    assert (err["failure_code"], err["tlv_type"], err["offset"]) == (INVALID_ONION_PAYLOAD, 4, 5)


def test_peel_infers_a_blinded_role(capsys: pytest.CaptureFixture[str]) -> None:
    # encrypted_recipient_data (10) and current_path_key (12): an introduction node's payload;
    # at the final hop BOLT 4 also requires amt_to_forward, missing before type 10 at offset 1.
    onion = one_hop_onion(capsys, "0a10" + "00" * 16 + "0c21" + PUBKEYS[0])
    status, obj = run_json(capsys, *peel_args(onion, 0))
    assert status == 0 and obj["role"] == "blinded-final"
    assert [r["name"] for r in obj["tlv"]] == ["encrypted_recipient_data", "current_path_key"]
    err = obj["payload_error"]
    assert (err["failure_code"], err["tlv_type"], err["offset"]) == (INVALID_ONION_PAYLOAD, 2, 1)


def test_onion_message_sized_packets(capsys: pytest.CaptureFixture[str]) -> None:
    status, obj = run_json(capsys, "onion", "build", "--session-key", SESSION_KEY,
                           "--assoc-data", ASSOC_DATA, "--hop", f"{PUBKEYS[0]}={PAYLOADS[3]}",
                           "--payload-area", "32768")
    assert status == 0
    assert len(obj["onion"]) == 2 * 32834  # BOLT 4 › Onion Messages: 32834-byte packets
    assert obj["shared_secrets"] == SHARED_SECRETS[:1]
    status, peeled = run_json(capsys, *peel_args(obj["onion"], 0, "--payload-area", "auto"))
    assert status == 0 and peeled["payload"] == PAYLOADS[3] and peeled["final"] is True
    status, err = run_json(capsys, *peel_args(obj["onion"], 0))
    assert_error(status, err, "DecodeError", None)  # not the 1366 bytes of a payment onion


def test_peel_refuses_a_bad_node_key(capsys: pytest.CaptureFixture[str]) -> None:
    args = peel_args(EXPECTED_ONION, 0)
    args[args.index(NODE_KEYS[0])] = "00" * 32
    status, obj = run_json(capsys, *args)
    assert status == 1 and set(obj) >= ERROR_KEYS
    args[args.index("00" * 32)] = "41" * 31
    status, obj = run_json(capsys, *args)
    assert status == 1 and set(obj) >= ERROR_KEYS


def test_peel_wrong_packet_size(capsys: pytest.CaptureFixture[str]) -> None:
    status, obj = run_json(capsys, *peel_args(EXPECTED_ONION[:-2], 0))
    assert_error(status, obj, "DecodeError", None)


# --- payload decode ------------------------------------------------------------------------


def test_payload_decode_intermediate(capsys: pytest.CaptureFixture[str]) -> None:
    # short_channel_id 840000x1234x1: block 0x0cd140, tx 0x0004d2, output 0x0001 (BOLT 7).
    payload = "0203989680" "04030cd1e8" "06080cd1400004d20001"
    status, obj = run_json(capsys, "payload", "decode", payload, "--role", "intermediate")
    assert status == 0
    assert [(r["type"], r["name"], r["decoded"]) for r in obj["records"]] == [
        (2, "amt_to_forward", 10_000_000),
        (4, "outgoing_cltv_value", 840_168),
        (6, "short_channel_id", "840000x1234x1"),
    ]
    assert [r["offset"] for r in obj["records"]] == [0, 5, 10]
    assert obj["fields"] == {"amt_to_forward": 10_000_000, "outgoing_cltv_value": 840_168,
                             "short_channel_id": "840000x1234x1"}


def test_payload_decode_final_with_custom_and_unknown_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # payment_data (8), an unknown odd type 33, and custom record 65537 (fe00010001).
    payload = ("0202" "03e8" "0401" "64" "0821" + "ab" * 32 + "07"
               + "2101" "ff" + "fe00010001" "02" "c0de")
    status, obj = run_json(capsys, "payload", "decode", payload, "--role", "final")
    assert status == 0
    kinds = [(r["type"], r["kind"]) for r in obj["records"]]
    assert kinds == [(2, "known"), (4, "known"), (8, "known"), (33, "unknown"),
                     (65537, "custom")]
    assert obj["records"][2]["decoded"] == {"payment_secret": "ab" * 32, "total_msat": 7}
    assert obj["records"][4]["value"] == "c0de"
    status, out, _ = run(capsys, "payload", "decode", payload, "--role", "final")
    assert status == 0 and "65537" in out and "payment_secret=" + "ab" * 32 in out


def test_payload_decode_names_well_known_custom_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Type 7629168 (0x746970, "tip"), the keysend message record, BigSize fe00746970.
    payload = "02022710" "040203e8" "fe00746970" "05" + b"hello".hex()
    status, obj = run_json(capsys, "payload", "decode", payload, "--role", "final")
    assert status == 0
    record = obj["records"][2]
    assert (record["type"], record["kind"], record["offset"]) == (7629168, "custom", 8)
    assert (record["name"], record["decoded"]) == ("keysend_message", "hello")


@pytest.mark.parametrize(
    ("payload", "role", "tlv_type", "offset"),
    [
        # Intermediate hop without amt_to_forward: missing before the type-4 record at 0.
        ("040203e806080000000000000001", "intermediate", 2, 0),
        # Intermediate hop without short_channel_id: missing at the end of the 8 bytes.
        ("02022710040203e8", "intermediate", 6, 8),
        # Unknown even type 20 after three valid records (BOLT 1: it's ok to be odd).
        ("02022710040203e8060800000000000000011400", "intermediate", 20, 18),
        # A truncated integer with a leading zero: amt_to_forward 0x0027 10 is not minimal.
        ("0203002710040203e8", "final", 2, 0),
    ],
)
def test_payload_decode_refusals(
    capsys: pytest.CaptureFixture[str], payload: str, role: str, tlv_type: int, offset: int
) -> None:
    status, obj = run_json(capsys, "payload", "decode", payload, "--role", role)
    assert_error(status, obj, "InvalidOnionPayload", INVALID_ONION_PAYLOAD)
    assert obj["failure_name"] == "invalid_onion_payload"
    assert (obj["tlv_type"], obj["offset"]) == (tlv_type, offset)


def test_payload_decode_bad_role_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["payload", "decode", "0202", "--role", "sideways"])
    assert exc.value.code == 2
    capsys.readouterr()


# --- tlv decode ----------------------------------------------------------------------------


def test_tlv_decode_records(capsys: pytest.CaptureFixture[str]) -> None:
    status, obj = run_json(capsys, "tlv", "decode", "0100" "0201ff" "fd0100" "02" "abcd")
    assert status == 0
    assert obj["records"] == [
        {"type": 1, "name": None, "value": "", "offset": 0, "length": 0},
        {"type": 2, "name": None, "value": "ff", "offset": 2, "length": 1},
        {"type": 256, "name": None, "value": "abcd", "offset": 5, "length": 2},
    ]
    status, out, _ = run(capsys, "tlv", "decode", "0100" "0201ff")
    assert status == 0 and "type 2 len 1" in out


@pytest.mark.parametrize(
    ("stream", "tlv_type", "offset", "reason"),
    [
        ("0201ff0100", 1, 3, "not_strictly_increasing"),
        ("0100" "0100", 1, 2, "duplicate_type"),
        ("0105ff", 1, 2, "value_truncated"),
        ("fd00fc00", None, 0, "type_not_minimal"),
        ("01fd0001" "00", 1, 1, "length_not_minimal"),
    ],
)
def test_tlv_decode_errors(
    capsys: pytest.CaptureFixture[str], stream: str, tlv_type: int | None, offset: int,
    reason: str,
) -> None:
    status, obj = run_json(capsys, "tlv", "decode", stream)
    assert_error(status, obj, "TlvError", None)
    assert (obj["tlv_type"], obj["offset"], obj["reason"]) == (tlv_type, offset, reason)


def test_tlv_decode_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("0x0201ff\n"))
    status, obj = run_json(capsys, "tlv", "decode", "-")
    assert status == 0 and obj["records"][0]["value"] == "ff"


@pytest.mark.parametrize(
    "argv",
    [
        ["tlv", "decode", "zz"],
        ["tlv", "decode", "abc"],
        ["payload", "decode", "02-02", "--role", "final"],
        ["onion", "peel", "nothex", "--node-key", "41" * 32, "--assoc-data", ASSOC_DATA],
        ["onion", "build", "--session-key", "g1", "--assoc-data", ASSOC_DATA,
         "--hop", f"{PUBKEYS[0]}=0202"],
    ],
)
def test_bad_hex_is_a_decode_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, obj = run_json(capsys, *argv)
    assert_error(status, obj, "DecodeError", None)
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == "" and err.startswith("sphinxamp: error:")


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    capsys.readouterr()
