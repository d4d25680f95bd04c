"""`explain` of the other kinds against their vectors: encrypted_data_tlv (plain and
decrypted with the node key and path key), onion messages, the AMP record, BigSize,
attribution data, a failure's TLV extension; and properties over random bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp import FailureMessage, explain
from sphinxamp.blinding import ONIONMSG_SCHEMA
from sphinxamp.blinding._path import ENCRYPTED_DATA_SCHEMA
from sphinxamp.wire import TlvRecord
from tests.fields import walk

ROOT = Path(__file__).resolve().parent.parent


def cases(name: str, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [c for c in json.loads(
        (ROOT / "vectors" / name).read_text())["cases"] if c["kind"] == kind]
    return found


@pytest.mark.parametrize("case", cases("bolt04-route-blinding.json", "encrypted-data-tlv"),
                         ids=lambda c: c["id"])
def test_encrypted_data_plain(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["expect"]["encoded"])
    ex = explain(data, "encrypted-data")
    assert ex.error is None and explain(data).kind == "encrypted-data"
    names = [f.name for f in ex.fields]
    want = [ENCRYPTED_DATA_SCHEMA.name_of(int(k[12:])) or f"type {k[12:]}"
            if k.startswith("unknown_tag_") else k for k in case["tlvs"]]
    assert sorted(n.split(" (")[0] for n in names) == sorted(want)


@pytest.mark.parametrize("case", cases("bolt04-route-blinding.json", "blinded-hop-unblind"),
                         ids=lambda c: c["id"])
def test_encrypted_data_decrypted(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["encrypted_recipient_data"])
    ex = explain(data, "encrypted-data", node_key=bytes.fromhex(case["node_key"]),
                 path_key=bytes.fromhex(case["path_key"]))
    plain = case["expect"].get("decrypted_data")
    if plain is None:  # a damaged copy: it must not authenticate, and say so at offset 0
        assert ex.error is not None and ex.error.offset == 0
        return
    assert ex.error is None
    blob = ex.fields[0]
    records = [c for c in blob.children if c.name != "tag"]
    assert b"".join(r.raw for r in records) == bytes.fromhex(plain)
    assert all(r.decrypted for r in records) and blob.children[-1].name == "tag"


@pytest.mark.parametrize("case", cases("bolt04-blinded-onion-message.json",
                                       "onion-message-peel"), ids=lambda c: c["id"])
def test_onion_message(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["onion_message"])
    ex = explain(data, "message", node_key=bytes.fromhex(case["node_key"]))
    dropped = case["expect"].get("dropped")
    if dropped == "message_type":
        assert ex.error is not None and (ex.error.offset, ex.error.reason) == (0, dropped)
        return
    assert explain(data).kind == "message"
    if dropped == "hmac_mismatch":
        assert ex.error is not None and ex.error.reason == dropped
        assert ex.error.offset == len(data) - 32
        return
    assert ex.error is None, ex.error
    blob = next(f for f in walk(ex.fields) if f.name == "encrypted_recipient_data")
    assert blob.name in ONIONMSG_SCHEMA.by_name and blob.decrypted
    records = [c for c in blob.children[-1].children if c.name != "tag"]
    assert b"".join(r.raw for r in records) == bytes.fromhex(case["expect"]["encrypted_data"])


@pytest.mark.parametrize("case", [c for c in cases("amp.json", "amp-record")
                                  if c.get("record") == "amp"], ids=lambda c: c["id"])
def test_amp_record(case: dict[str, Any]) -> None:
    value = bytes.fromhex(case["expect"]["bytes"])[2:]  # type 14 ‖ length, then the value
    ex = explain(value, "amp")
    assert ex.error is None
    parts = {c.name: c for c in ex.fields[0].children}
    assert parts["root_share"].raw.hex() == case["fields"]["root_share"]
    assert parts["set_id"].raw.hex() == case["fields"]["set_id"]
    assert parts["child_index"].value == case["fields"]["child_index"]


@pytest.mark.parametrize("case", cases("bolt01-bigsize.json", "bigsize-decode"),
                         ids=lambda c: c["id"])
def test_bigsize(case: dict[str, Any]) -> None:
    ex = explain(bytes.fromhex(case["bytes"]), "bigsize")
    if "value" in case["expect"]:
        assert ex.error is None and ex.fields[0].value == case["expect"]["value"]
    else:
        assert ex.error is not None and ex.error.reason == case["expect"]["error"]
        assert ex.error.offset == 0


def test_attribution_layout() -> None:
    case = cases("bolt04-failure-attribution.json", "failure-return")[0]
    data = bytes.fromhex(case["expect"]["hops"][0]["attribution_data"])
    ex = explain(data)
    assert ex.kind == "attribution" and ex.error is None
    holds, hmacs = ex.fields[0].children
    assert len(holds.children) == 20 and [len(b.raw) for b in hmacs.children] == [
        4 * (20 - x) for x in range(20)]
    assert explain(data[:-1], "attribution").error is not None


def test_failure_tlv_extension_nested() -> None:
    msg = FailureMessage.create("temporary_node_failure", tlv=[TlvRecord(1, b"\xab"),
                                                               TlvRecord(3, b"")]).encode()
    ex = explain(msg, "failure")
    assert ex.error is None
    ext = next(f for f in walk(ex.fields) if f.name == "tlv_extension")
    assert [c.name for c in ext.children] == ["type 1", "type 3"] and ext.offset == 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data: bytes) -> None:
    ex = explain(data)
    for f in walk(ex.fields):
        assert f.offset >= 0 and f.offset + f.length <= len(data)
        if not f.decrypted and f.name != "unparsed":
            assert data[f.offset : f.offset + f.length] == f.raw
    if ex.error is not None:
        assert 0 <= ex.error.offset <= len(data)
        assert any(f.error and f.offset == ex.error.offset for f in walk(ex.fields))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 70000), st.binary(max_size=20)), max_size=6),
       st.integers(0, 60))
def test_truncated_stream_error_at_a_record_start(records: list[tuple[int, bytes]],
                                                  cut: int) -> None:
    """Cutting a valid stream anywhere gives an error (if any) at the start of a record."""
    from sphinxamp.wire._tlv import encode_stream

    unique = sorted({t: v for t, v in records}.items())
    stream = encode_stream([TlvRecord(t, v) for t, v in unique])
    starts, pos = set(), 0
    for t, v in unique:
        starts.add(pos)
        pos += len(encode_stream([TlvRecord(t, v)]))
    short = stream[: max(0, len(stream) - cut)]
    ex = explain(short, "tlv")
    if ex.error is not None:
        assert ex.error.offset in starts


@pytest.mark.parametrize("case", [c for c in cases("bolt04-blinded-payment-onion.json",
                                                   "blinded-payment-hop")
                                  if not c["id"].startswith("refuse")], ids=lambda c: c["id"])
def test_blinded_payment_onion_hops(case: dict[str, Any]) -> None:
    """At every hop of the official blinded payment: the decrypted payload is the vector's,
    and its encrypted_recipient_data decrypts (with the HTLC's path key, or at the
    introduction node with current_path_key) to the vector's records."""
    ex = explain(bytes.fromhex(case["onion"]), "onion", node_key=bytes.fromhex(case["node_key"]),
                 assoc_data=bytes.fromhex(case["associated_data"]),
                 path_key=None if case["path_key"] is None else bytes.fromhex(case["path_key"]))
    assert ex.error is None, ex.error
    fields = walk(ex.fields)
    payload = next(f for f in fields if f.name == "payload")
    assert payload.raw.hex() == case["expect"]["payload"]
    want = case["expect"].get("encrypted_data")
    if want is None:
        return
    blob = next(f for f in fields if f.name == "encrypted_recipient_data").children[-1]
    got = [c.name for c in blob.children if c.name != "tag"]
    assert sorted(got) == sorted(want)
