"""Seeds of the route-blinding and onion-message targets, from the project's blinding vector
files (vectors/bolt04-route-blinding.json, bolt04-blinded-payment-onion.json,
bolt04-blinded-onion-message.json) and a few hand-made edge cases."""

from __future__ import annotations

import json
from typing import Any

import _blinding_checks as ref
import _common

from sphinxamp.blinding._path import EncryptedData, create_blinded_path
from sphinxamp.wire._bigsize import encode_bigsize

TARGETS = ("encrypted_data", "encrypted_data_aead", "onionmsg_tlv", "blinded_hop",
           "onion_message")
_FILES = ("bolt04-route-blinding.json", "bolt04-blinded-payment-onion.json",
          "bolt04-blinded-onion-message.json")
_EDGE_DATA = ("", "1000", "0200", "0100", "0a0700240000009627", "0c05000b69e505",
              "0e0102", "02080000000000000001" + "0421" + ref.NODE_IDS[1].hex(),
              "0201", "fd0231", "0821" + "04" * 33)
_EDGE_PAYLOADS = ("", "0400", "4000", "4600", "0201ff", "01056865", "0410" + "00" * 16,
                  "04004000420044", "fe00010000")


def _cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in _FILES:
        out += json.loads((_common.REPO / "vectors" / name).read_text())["cases"]
    return out


def _plaintexts(cases: list[dict[str, Any]]) -> set[bytes]:
    found = {bytes.fromhex(h) for h in _EDGE_DATA}
    for case in cases:
        if case["kind"] == "encrypted-data-tlv":
            found.add(bytes.fromhex(case["expect"]["encoded"]))
        if case["kind"] == "blinded-hop-unblind" and "decrypted_data" in case["expect"]:
            found.add(bytes.fromhex(case["expect"]["decrypted_data"]))
        for route in case.get("routes", []):
            for hop in route["hops"]:
                data = (EncryptedData.from_json(hop["tlvs"]).encode() if "tlvs" in hop
                        else bytes.fromhex(hop["encrypted_data_tlv"]))
                found.add(data)
    return found


def _messages(cases: list[dict[str, Any]]) -> dict[str, bytes]:
    out = {}
    for case in cases:
        if case["kind"] != "onion-message-peel":
            continue
        key = bytes.fromhex(case["node_key"])
        index = ref.NODE_KEYS.index(key) if key in ref.NODE_KEYS else 0
        wire = bytes.fromhex(case["onion_message"])
        out[f"vec-{case['id']}"] = bytes((index,)) + wire
        out[f"vec-{case['id']}-bare"] = bytes((index | 0x80,)) + wire[2:35] + wire[37:]
    return out


def seeds() -> dict[str, dict[str, bytes]]:
    cases = _cases()
    plain = sorted(_plaintexts(cases))
    out: dict[str, dict[str, bytes]] = {t: {} for t in TARGETS}
    for i, data in enumerate(plain):
        out["encrypted_data"][f"vec-data{i}"] = data
        out["encrypted_data_aead"][f"vec-seal{i}"] = b"\x01" + data
        out["encrypted_data_aead"][f"vec-open{i}"] = b"\x00" + ref.seal(data)[1]
        for amount, cltv in ((110_125, 749_150), (49, 749_150), (110_125, 750_151),
                             (0, 0)):
            out["blinded_hop"][f"vec-hop{i}-{amount}-{cltv}"] = (
                amount.to_bytes(8, "big") + cltv.to_bytes(4, "big") + data)
    for case in cases:
        for hop in case.get("expect", {}).get("hops", []):
            if "encrypted_recipient_data" in hop:
                out["encrypted_data_aead"][f"vec-{case['id']}"] = b"\x00" + bytes.fromhex(
                    hop["encrypted_recipient_data"])
        if case["kind"] == "onion-message-peel" and "payload" in case["expect"]:
            payload = case["expect"]["payload"]
            stream = bytes.fromhex("0105" + payload["unknown_tag_1"] + "04") + bytes(
                (len(payload["encrypted_recipient_data"]) // 2,)) + bytes.fromhex(
                payload["encrypted_recipient_data"])
            out["onionmsg_tlv"][f"vec-{case['id']}"] = stream
    reply = create_blinded_path(ref.PATH_SESSION, [(ref.NODE_IDS[0], b"\x06\x01\x00"),
                                                   (ref.NODE_IDS[1], b"")]).encode()
    out["onionmsg_tlv"]["edge-reply-path"] = b"\x02" + encode_bigsize(len(reply)) + reply
    out["onionmsg_tlv"]["edge-reply-path-sciddir"] = (
        b"\x02" + encode_bigsize(len(reply) - 24) + b"\x00" + bytes(8) + reply[33:])
    for i, hexstr in enumerate(_EDGE_PAYLOADS):
        out["onionmsg_tlv"][f"edge-payload{i}"] = bytes.fromhex(hexstr)
    out["onion_message"].update(_messages(cases))
    out["onion_message"]["edge-empty"] = b"\x00"
    forward = EncryptedData(next_node_id=ref.NODE_IDS[1]).encode()
    final = EncryptedData(path_id=b"id").encode()
    for name, mode, plaintext, extra in (
            ("final", 0x40, final, b""), ("final-invoice", 0x40, final, b"\x42\x01\x00"),
            ("final-two-fields", 0x40, final, b"\x40\x00\x42\x00"),
            ("forward", 0x60, forward, b""), ("forward-extra", 0x60, forward, b"\x40\x00"),
            ("forward-path-id", 0x60, forward + final, b""),
            ("unknown-even", 0x40, final, b"\x46\x00")):
        out["onion_message"][f"edge-built-{name}"] = (
            bytes((mode,)) + bytes((len(plaintext),)) + plaintext + extra)
    return out
