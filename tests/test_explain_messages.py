"""`explain` of whole messages (kind "message", and "auto" when the bytes decode as one):
every field and TLV named as BOLT 2 / BOLT 4 / bLIP 4 name them, the onion inside
`update_add_htlc` peeled with the node key, the `reason` of `update_fail_htlc` decrypted and
its attribution data verified with the route's shared secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sphinxamp import encode_message, explain
from sphinxamp.debug import Field
from sphinxamp.messages import (
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
    WireOnionMessage,
)
from tests.fields import walk
from tests.strategies import pubkey_of

ROOT = Path(__file__).resolve().parent.parent
CHANNEL = bytes(range(32))


def case(name: str, case_id: str) -> dict[str, Any]:
    cases = json.loads((ROOT / "vectors" / name).read_text())["cases"]
    found: dict[str, Any] = next(c for c in cases if c["id"] == case_id)
    return found


PEEL = case("bolt04-onion.json", "peel-hop-1")
FAIL = case("bolt04-failure-attribution.json", "returning-errors")
SUCCESS = case("bolt04-failure-attribution.json", "returning-success")
SECRETS = [bytes.fromhex(s) for s in FAIL["shared_secrets"]]


def first_hop(c: dict[str, Any]) -> dict[str, Any]:
    hop: dict[str, Any] = next(h for h in c["expect"]["hops"] if h["hop_index"] == 0)
    return hop


def children(ex: Any) -> dict[str, Field]:
    return {f.name: f for f in ex.fields[0].children}


def tlv_names(ex: Any) -> list[str]:
    stream = ex.fields[0].children[-1]
    return [r.name for r in stream.children]


def add_htlc(path_key: bytes | None = None, accountable: int | None = None) -> bytes:
    return encode_message(UpdateAddHtlc(
        CHANNEL, 3, 15_000, bytes.fromhex(PEEL["associated_data"]), 800_100,
        bytes.fromhex(PEEL["onion"]), path_key, accountable))


def test_update_add_htlc_fields_and_tlvs_named() -> None:
    ex = explain(add_htlc(pubkey_of(b"\x07" * 32), 7), "message")
    assert ex.error is None and ex.kind == "message"
    names = [f.name for f in ex.fields[0].children]
    assert names == ["type", "channel_id", "id", "amount_msat", "payment_hash", "cltv_expiry",
                     "onion_routing_packet", "update_add_htlc_tlvs"]
    assert tlv_names(ex) == ["blinded_path", "accountable"]  # BOLT 2 TLV 0, bLIP 4 106823
    parts = children(ex)
    assert parts["amount_msat"].value == 15_000 and parts["cltv_expiry"].value == 800_100
    onion = parts["onion_routing_packet"]
    assert [c.name for c in onion.children] == ["version", "public_key", "hop_payloads", "hmac"]


def test_auto_recognises_a_whole_message() -> None:
    ex = explain(add_htlc())
    assert ex.kind == "message" and "update_add_htlc" in (ex.guess or "")


def test_the_onion_inside_update_add_htlc_is_peeled_with_the_node_key() -> None:
    ex = explain(add_htlc(), "message", node_key=bytes.fromhex(PEEL["node_key"]))
    assert ex.error is None, ex.error
    area = children(ex)["onion_routing_packet"].children[2]
    payload = next(c for c in area.children if c.name == "payload")
    assert payload.decrypted
    # The vector's first hop: amt_to_forward 15000, outgoing_cltv_value 1500, scid 0x0x1.
    assert {r.name for r in payload.children} >= {"amt_to_forward", "outgoing_cltv_value",
                                                  "short_channel_id"}
    assert any(n.startswith("process_hop: intermediate hop, forwards 15000 msat at expiry "
                            "1500 to channel 0x0x1") for n in ex.notes), ex.notes


def fail_message() -> bytes:
    hop = first_hop(FAIL)
    return encode_message(UpdateFailHtlc(CHANNEL, 0, bytes.fromhex(hop["reason"]),
                                         bytes.fromhex(hop["attribution_data"])))


def hops_of(ex: Any) -> list[tuple[int, int, bool]]:
    """(hop, hold time in ms, HMAC verified) of the attribution_data value's hop fields."""
    value = ex.fields[0].children[-1].children[0].children[2]
    return [(int(f.name.removeprefix("hop ")), f.value, "HMAC verified" in f.meaning)
            for f in value.children if f.name.startswith("hop ")]


def test_update_fail_htlc_tlvs_named_and_reason_left_alone_without_secrets() -> None:
    ex = explain(fail_message(), "message")
    assert ex.error is None
    assert [f.name for f in ex.fields[0].children] == [
        "type", "channel_id", "id", "len", "reason", "update_fail_htlc_tlvs"]
    assert tlv_names(ex) == ["attribution_data"]
    assert any("shared secrets" in n for n in ex.notes)


def test_the_fail_is_decrypted_and_its_attribution_verified_with_the_secrets() -> None:
    ex = explain(fail_message(), "message", shared_secrets=SECRETS)
    assert ex.error is None, ex.error
    want = FAIL["expect"]["decrypted"]
    reason = children(ex)["reason"]
    assert f"from hop {want['hop_index']}" in reason.meaning
    code = next(f for f in walk(reason.children) if f.name == "failure_code")
    assert code.value == want["failure_code"]
    assert hops_of(ex) == [(a["hop_index"], 100 * a["hold_time"], a["hmac_ok"])
                           for a in want["attribution"]]
    assert any(n.startswith(f"failure: hop {want['hop_index']} ") for n in ex.notes)


def test_a_fulfill_names_its_attribution_data_and_verifies_it() -> None:
    data = encode_message(UpdateFulfillHtlc(
        CHANNEL, 1, b"\x61" * 32, bytes.fromhex(first_hop(SUCCESS)["attribution_data"])))
    ex = explain(data, "message", shared_secrets=SECRETS)
    assert ex.error is None
    assert [f.name for f in ex.fields[0].children][:4] == [
        "type", "channel_id", "id", "payment_preimage"]
    assert tlv_names(ex) == ["attribution_data"]
    assert hops_of(ex) == [(v["hop_index"], 100 * v["hold_time"], v["hmac_ok"])
                           for v in SUCCESS["expect"]["verified"]]


def test_update_fail_malformed_htlc_names_its_failure_code() -> None:
    data = encode_message(UpdateFailMalformedHtlc(CHANNEL, 2, b"\x62" * 32, 0xC005))
    parts = children(explain(data, "message"))
    assert "invalid_onion_hmac" in parts["failure_code"].meaning


def test_a_broken_message_points_at_its_field() -> None:
    data = add_htlc()[:100]
    ex = explain(data, "message")
    assert ex.error is not None and ex.error.reason == "truncated"
    assert ex.error.offset == 2 + 32 + 8 + 8 + 32 + 4  # onion_routing_packet starts there


@given(st.binary(min_size=32, max_size=32), st.integers(0, 2**64 - 1),
       st.binary(max_size=600), st.one_of(st.none(), st.binary(min_size=920, max_size=920)))
def test_any_fail_message_is_laid_out_exactly(channel: bytes, htlc_id: int, reason: bytes,
                                              attribution: bytes | None) -> None:
    data = encode_message(UpdateFailHtlc(channel, htlc_id, reason, attribution))
    ex = explain(data)
    assert ex.kind == "message" and ex.error is None
    parts = ex.fields[0].children
    assert b"".join(f.raw for f in parts) == data  # the fields tile the message
    assert children(ex)["id"].value == htlc_id and children(ex)["reason"].raw == reason


@given(st.binary(max_size=300))
def test_any_onion_message_packet_keeps_its_fields_in_place(packet: bytes) -> None:
    data = encode_message(WireOnionMessage(pubkey_of(b"\x05" * 32), packet))
    ex = explain(data, "message")
    for f in walk(ex.fields):
        if not f.decrypted and f.name != "unparsed":
            assert data[f.offset : f.offset + f.length] == f.raw
