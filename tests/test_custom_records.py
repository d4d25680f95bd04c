"""The well-known custom record registry and how decoded payloads show custom records."""

from __future__ import annotations

import json

import pytest

from sphinxamp import decode_payload
from sphinxamp.cli import _custom_records as cr
from sphinxamp.errors import EncodeError
from sphinxamp.payments import parse_custom_records
from sphinxamp.wire import TlvRecord

# Registry facts: bLIP 3 (keysend), bLIP 10 (podcasting), satoshis.stream TLV registry.
KNOWN = {
    5482373484: "keysend_preimage",
    7629168: "keysend_message",
    7629169: "podcast_boostagram",
    34349334: "chat_message",
    34349337: "chat_signature",
    34349339: "chat_sender",
    34349343: "chat_timestamp",
}


def test_registry_names() -> None:
    assert {t: cr.name_of(t) for t in KNOWN} == KNOWN
    assert cr.name_of(65537) is None
    assert not cr.is_well_known(8) and cr.is_well_known(7629168)
    assert int.from_bytes(b"tip", "big") == 7629168


def test_tip_note_shows_utf8_only_when_it_decodes() -> None:
    assert cr.describe(7629168, "merci ☕".encode()) == {
        "type": 7629168, "name": "keysend_message", "hex": "6d6572636920e29895",
        "value": "merci ☕"}
    assert "value" not in cr.describe(7629168, b"\xff\xfe")


def test_boostagram_json() -> None:
    boost = {"podcast": "P", "action": "boost", "value_msat_total": 2000, "ts": 33}
    raw = json.dumps(boost).encode()
    assert cr.describe(7629169, raw)["value"] == boost
    assert "value" not in cr.describe(7629169, b"{not json")
    assert "value" not in cr.describe(7629169, b"NaN")
    assert "value" not in cr.describe(7629169, b"[1e999]")


def test_fixed_size_kinds() -> None:
    assert cr.describe(34349343, (1_700_000_000_000_000_000).to_bytes(8, "big"))["value"] \
        == 1_700_000_000_000_000_000
    assert "value" not in cr.describe(34349343, b"\x01" * 7)
    assert cr.describe(34349339, b"\x02" * 33)["value"] == "02" * 33
    assert "value" not in cr.describe(34349339, b"\x02" * 32)


def test_unknown_type_is_hex_only() -> None:
    assert cr.describe(65539, b"\x00\x01") == {"type": 65539, "name": None, "hex": "0001"}


def test_decoded_payload_keeps_custom_records_in_wire_order() -> None:
    # amt 1, cltv 1, then 65537 (odd), 7629168 "tip" note, 34349334 chat (both even: lnd keeps
    # unknown even types in the custom range).
    data = bytes.fromhex("020101" "040101" "fe00010001" "01" "aa"
                         "fe00746970" "02" "6869" "fe020c2116" "03" "796f21")
    payload = decode_payload(data, "final")
    assert [r.type for r in payload.custom_records] == [65537, 7629168, 34349334]
    shown = cr.describe_all(payload.custom_records)
    assert [(d["name"], d.get("value")) for d in shown] == [
        (None, None), ("keysend_message", "hi"), ("chat_message", "yo!")]
    assert payload.encode() == data


def test_parse_custom_records_sorts_and_checks_range() -> None:
    recs = parse_custom_records([(7629169, b"{}"), (65536, b"")])
    assert recs == (TlvRecord(65536, b""), TlvRecord(7629169, b"{}"))
    with pytest.raises(EncodeError):
        parse_custom_records([(65535, b"")])
