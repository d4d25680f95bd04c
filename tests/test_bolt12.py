"""BOLT 12 contents named and checked: the `invoice_request`, `invoice` and `invoice_error`
streams of an onion message's final payload (BOLT 12 › TLV Fields for `invoice_request`,
› Invoices, › Invoice Errors), through `explain` and the field decoder."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sphinxamp import (
    EncryptedData,
    Explanation,
    OnionMessagePayload,
    build_onion_message,
    create_blinded_path,
    explain,
)
from sphinxamp._explain._bolt12 import bolt12_fields
from sphinxamp.debug import Field
from tests.fields import walk
from tests.strategies import pubkey_of, ref_stream

NODE_KEY = bytes([0x41] * 32)
PAYER = pubkey_of(bytes([0x45] * 32))
ISSUER = pubkey_of(bytes([0x44] * 32))
NOT_A_POINT = b"\x02" + b"\xff" * 32  # x past the field prime: on no curve


def onion_message(*, invoice_request: bytes | None = None, invoice: bytes | None = None,
                  invoice_error: bytes | None = None) -> bytes:
    path = create_blinded_path(bytes([0x52] * 32), [
        (pubkey_of(NODE_KEY), EncryptedData(path_id=b"\x09" * 32))])
    payload = OnionMessagePayload(invoice_request=invoice_request, invoice=invoice,
                                  invoice_error=invoice_error)
    built = build_onion_message(bytes([0x53] * 32), path, payload)
    return built.to_bytes()


def bolt12_records(data: bytes, stream: str) -> list[Field]:
    ex = explain(data, "message", node_key=NODE_KEY)
    assert ex.error is None, ex.error
    record = next(f for f in walk(ex.fields) if f.name == stream)
    return record.children[2].children


# The types and names as BOLT 12 › TLV Fields for `invoice_request` lists them.
REQUEST = [(0, "invreq_metadata", b"\x01" * 8), (10, "offer_description", b"tea"),
           (22, "offer_issuer_id", ISSUER), (82, "invreq_amount", b"\x27\x10"),
           (88, "invreq_payer_id", PAYER), (89, "invreq_payer_note", b"hi"),
           (240, "signature", b"\x5a" * 64)]


def test_invoice_request_fields_named_by_their_bolt12_types() -> None:
    data = onion_message(invoice_request=ref_stream([(t, v) for t, _, v in REQUEST]))
    records = bolt12_records(data, "invoice_request")
    assert [r.name for r in records] == [n for _, n, _ in REQUEST]
    amount = next(r for r in records if r.name == "invreq_amount").children[2]
    assert amount.value == 10000
    note = next(r for r in records if r.name == "invreq_payer_note").children[2]
    assert note.value == "hi"
    assert not any(f.name == "problem" for f in walk(records))


def test_the_signature_is_said_to_be_unverified_in_text_and_json() -> None:
    data = onion_message(invoice_request=ref_stream([(t, v) for t, _, v in REQUEST]))
    ex = explain(data, "message", node_key=NODE_KEY)
    assert any("not verified" in n and "signature" in n for n in ex.notes)
    assert any("not verified" in n for n in ex.to_json()["notes"])


def test_invoice_fields_named() -> None:
    # BOLT 12 › Invoices: 160-176 after the copied invoice_request fields.
    records_in = [(88, PAYER), (164, b"\x65\x00\x00\x00"), (168, b"\x11" * 32),
                  (170, b"\x03\xe8"), (176, ISSUER), (240, b"\x00" * 64)]
    records = bolt12_records(onion_message(invoice=ref_stream(records_in)), "invoice")
    assert [r.name for r in records] == ["invreq_payer_id", "invoice_created_at",
                                         "invoice_payment_hash", "invoice_amount",
                                         "invoice_node_id", "signature"]


def test_invoice_error_fields_named() -> None:
    stream = ref_stream([(1, b"\x52"), (3, b"\x01\x00"), (5, b"amount too low")])
    records = bolt12_records(onion_message(invoice_error=stream), "invoice_error")
    assert [r.name for r in records] == ["erroneous_field", "suggested_value", "error"]
    assert records[0].children[2].value == 0x52
    assert records[2].children[2].value == "amount too low"


def problems(onionmsg_type: int, stream: bytes) -> tuple[list[Field], Explanation]:
    ex = Explanation("bolt12", stream)
    fields = bolt12_fields(onionmsg_type, stream, 0, ex)
    return [f for f in walk(fields) if f.name == "problem"], ex


def test_a_bad_point_is_flagged_not_raised() -> None:
    stream = ref_stream([(0, b"\x01"), (88, NOT_A_POINT)])
    found, ex = problems(64, stream)
    assert len(found) == 1 and "invreq_payer_id" in found[0].meaning
    assert found[0].offset == 3 + 2  # the value of the second record
    assert ex.error is None and any("do not parse" in n for n in ex.notes)


def test_a_non_minimal_tu64_and_a_short_signature_are_flagged() -> None:
    stream = ref_stream([(82, b"\x00\x10"), (240, b"\x00" * 63)])
    found, _ = problems(64, stream)
    assert len(found) == 2
    assert "not minimal" in found[0].meaning and "64 bytes" in found[1].meaning


def test_the_malformed_field_shows_in_a_whole_message() -> None:
    data = onion_message(invoice_request=ref_stream([(0, b"\x01"), (88, NOT_A_POINT)]))
    ex = explain(data, "message", node_key=NODE_KEY)
    assert ex.error is None
    flagged = [f for f in walk(ex.fields) if f.name == "problem"]
    assert len(flagged) == 1 and flagged[0].error
    assert any(f.get("error") for f in _json_walk(ex.to_json()["fields"]))


def _json_walk(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in fields:
        out.append(f)
        out += _json_walk(f["children"])
    return out


def test_a_blinded_path_cut_short_is_flagged() -> None:
    path = ISSUER + PAYER + b"\x01" + PAYER + b"\x00\x10" + b"\x00" * 4  # enclen 16, 4 left
    found, _ = problems(64, ref_stream([(90, path)]))
    assert len(found) == 1 and "needs 16 bytes" in found[0].meaning


def test_types_outside_the_ranges_are_flagged() -> None:
    # BOLT 12 › Requirements for Invoice Requests: 0-159 and 1000000000-2999999999 only;
    # 161 is an (odd) invoice type.
    found, _ = problems(64, ref_stream([(161, b"")]))
    assert len(found) == 1 and "outside" in found[0].meaning
    found, _ = problems(66, ref_stream([(161, b"")]))
    assert found == []


@given(st.sampled_from([64, 66, 68]), st.binary(max_size=400))
def test_any_stream_is_laid_out_without_raising(onionmsg_type: int, stream: bytes) -> None:
    ex = Explanation("bolt12", stream)
    fields = bolt12_fields(onionmsg_type, stream, 7, ex)
    assert ex.error is None
    for f in walk(fields):
        assert f.offset >= 7 and f.offset + f.length <= 7 + len(stream)
        assert stream[f.offset - 7 : f.offset - 7 + f.length] == f.raw
