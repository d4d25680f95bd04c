"""BOLT 12 contents as fields: the `invoice_request`, `invoice` and `invoice_error` TLV
streams an onion message's final payload carries (`onionmsg_tlv` types 64, 66 and 68, BOLT 4
› Onion Messages), each record named by its BOLT 12 type and its value laid out by the type's
data (BOLT 12 › TLV Fields for `invoice_request`, › Invoices, › Invoice Errors).

A value that does not parse (a wrong length, a point off the curve, a truncated integer with
a leading zero, a blinded path cut short, a type outside the stream's ranges) is flagged by a
`problem` field under its record and a note: it is the recipient's to refuse, not a reason to
stop explaining the message. Signatures (type 240) are shown, never verified.
"""

from __future__ import annotations

from dataclasses import dataclass

from sphinxamp._explain._bolt12_data import Problem, parse_value
from sphinxamp._explain._tlv import tlv_fields
from sphinxamp._explain._tree import Explanation, Field

_OFFERS = "BOLT 12 › Offers"
_INVREQ = "BOLT 12 › Invoice Requests"
_INVOICE = "BOLT 12 › Invoices"
_ERRORS = "BOLT 12 › Invoice Errors"


@dataclass(frozen=True, slots=True)
class Bolt12Record:
    """One type of a BOLT 12 stream: its name, its data (how `parse_value` reads it) and
    the section defining it."""

    type: int
    name: str
    data: str
    section: str


def _records(section: str, *rows: tuple[int, str, str]) -> tuple[Bolt12Record, ...]:
    return tuple(Bolt12Record(t, n, d, section) for t, n, d in rows)


# BOLT 12 › TLV Fields for Offers: the offer_* fields, copied into every invoice_request and
# invoice made from the offer.
OFFER_RECORDS = _records(
    _OFFERS,
    (2, "offer_chains", "chains"), (4, "offer_metadata", "bytes"),
    (6, "offer_currency", "utf8"), (8, "offer_amount", "tu64"),
    (10, "offer_description", "utf8"), (12, "offer_features", "bytes"),
    (14, "offer_absolute_expiry", "tu64"), (16, "offer_paths", "blinded_paths"),
    (18, "offer_issuer", "utf8"), (20, "offer_quantity_max", "tu64"),
    (22, "offer_issuer_id", "point"),
)
# BOLT 12 › TLV Fields for `invoice_request`: invreq_metadata is 0 (numerically first, for
# the merkle leaves), the others 80-91.
INVREQ_RECORDS = (
    *_records(_INVREQ, (0, "invreq_metadata", "bytes")),
    *OFFER_RECORDS,
    *_records(
        _INVREQ,
        (80, "invreq_chain", "chain_hash"), (82, "invreq_amount", "tu64"),
        (84, "invreq_features", "bytes"), (86, "invreq_quantity", "tu64"),
        (88, "invreq_payer_id", "point"), (89, "invreq_payer_note", "utf8"),
        (90, "invreq_paths", "blinded_paths"), (91, "invreq_bip_353_name", "bip_353_name"),
    ),
)
# BOLT 12 › Invoices: the invoice_* fields 160-176.
INVOICE_ONLY_RECORDS = _records(
    _INVOICE,
    (160, "invoice_paths", "blinded_paths"), (162, "invoice_blindedpay", "blinded_payinfo"),
    (164, "invoice_created_at", "tu64"), (166, "invoice_relative_expiry", "tu32"),
    (168, "invoice_payment_hash", "sha256"), (170, "invoice_amount", "tu64"),
    (172, "invoice_fallbacks", "fallback_address"), (174, "invoice_features", "bytes"),
    (176, "invoice_node_id", "point"),
)
# BOLT 12 › Signature Calculation: type 240, a BIP 340 signature over the merkle root.
SIGNATURE = Bolt12Record(240, "signature", "bip340sig", "BOLT 12 › Signature Calculation")
# BOLT 12 › Invoice Errors.
INVOICE_ERROR_RECORDS = _records(
    _ERRORS,
    (1, "erroneous_field", "tu64"), (3, "suggested_value", "bytes"), (5, "error", "utf8"),
)


@dataclass(frozen=True, slots=True)
class Bolt12Stream:
    """One BOLT 12 TLV stream: its records and the type ranges its reader accepts outside
    the signature range (None: no range rule)."""

    name: str
    records: dict[int, Bolt12Record]
    ranges: tuple[tuple[int, int], ...] | None
    signed: bool


# The readers' range rules: BOLT 12 › Requirements for Invoice Requests ("outside the
# inclusive ranges: 0 to 159 and 1000000000 to 2999999999") and › Invoices › Requirements
# ("0 to 239 and 1000000000 to 3999999999"); 240 to 1000 are signature types.
STREAMS: dict[int, Bolt12Stream] = {
    64: Bolt12Stream("invoice_request", {r.type: r for r in (*INVREQ_RECORDS, SIGNATURE)},
                     ((0, 159), (1_000_000_000, 2_999_999_999)), True),
    66: Bolt12Stream("invoice", {r.type: r for r in (*INVREQ_RECORDS, *INVOICE_ONLY_RECORDS,
                                                     SIGNATURE)},
                     ((0, 239), (1_000_000_000, 3_999_999_999)), True),
    68: Bolt12Stream("invoice_error", {r.type: r for r in INVOICE_ERROR_RECORDS}, None, False),
}
SIGNATURE_TYPES = (240, 1000)

# Unknown types are named by the range BOLT 12 gives them (› Offers, › Invoice Requests,
# › Invoices: 1000000000 and up for experimental fields of each).
_RANGE_NAMES = (
    (0, 79, "offer field"), (80, 159, "invoice_request field"), (160, 239, "invoice field"),
    (240, 1000, "signature field"),
    (1_000_000_000, 1_999_999_999, "experimental offer field"),
    (2_000_000_000, 2_999_999_999, "experimental invoice_request field"),
    (3_000_000_000, 3_999_999_999, "experimental invoice field"),
)


def range_name(rtype: int) -> str:
    for low, high, name in _RANGE_NAMES:
        if low <= rtype <= high:
            return name
    return "outside every BOLT 12 range"


def _unknown(stream: Bolt12Stream, rtype: int) -> tuple[str, list[Problem]]:
    parity = "odd: may be ignored" if rtype & 1 else "even: must be understood"
    where = "invoice_error" if stream.ranges is None else range_name(rtype)
    name = f"type {rtype} (unknown {where}, {parity})"
    problems = []
    if not rtype & 1:
        problems.append(Problem(0, f"unknown even type {rtype}: the reader must refuse "
                                   "(BOLT 1 › Type-Length-Value Format)"))
    if stream.ranges is not None and not _allowed(stream, rtype):
        problems.append(Problem(0, f"type {rtype} is outside the {stream.name}'s ranges "
                                   f"(BOLT 12 › {stream.name} reader requirements)"))
    return name, problems


def _allowed(stream: Bolt12Stream, rtype: int) -> bool:
    assert stream.ranges is not None
    low, high = SIGNATURE_TYPES
    return low <= rtype <= high or any(a <= rtype <= b for a, b in stream.ranges)


def _record(rec: Field, stream: Bolt12Stream, decrypted: bool) -> list[Problem]:
    """Name one record and lay its value out; its problems (offsets within the value)."""
    if len(rec.children) < 3:
        return []
    rtype, value = rec.children[0].value, rec.children[2]
    spec = stream.records.get(rtype)
    if spec is None:
        rec.name, problems = _unknown(stream, rtype)
        return problems
    rec.name, rec.meaning = spec.name, f"{spec.data} ({spec.section})"
    return parse_value(spec.data, value, decrypted)


def bolt12_fields(onionmsg_type: int, data: bytes, base: int, ex: Explanation, *,
                  decrypted: bool = False) -> list[Field]:
    """The records of the BOLT 12 stream carried in `onionmsg_tlv` type `onionmsg_type`
    (64, 66 or 68), at `base` in the input. Problems are fields and notes, never `ex.error`."""
    stream = STREAMS[onionmsg_type]
    scratch = Explanation("tlv", data)
    fields = tlv_fields(data, base, None, scratch, decrypted=decrypted)
    flagged = 0
    if scratch.error is not None:
        flagged += 1
        fields.append(_problem(scratch.error.offset, f"the {stream.name} TLV stream breaks: "
                               f"{scratch.error.message}", decrypted))
    for rec in fields:
        for problem in _record(rec, stream, decrypted):
            flagged += 1
            value = rec.children[2] if len(rec.children) > 2 else rec
            rec.children.append(_problem(value.offset + problem.offset,
                                         f"{rec.name}: {problem.message}", decrypted))
    if flagged:
        ex.notes.append(f"BOLT 12 {stream.name}: {flagged} field(s) do not parse (marked "
                        "'problem'); the recipient would refuse them")
    if stream.signed:
        ex.notes.append(f"BOLT 12 {stream.name}: the signature (type 240) is not verified; "
                        "explain does not check BOLT 12 signatures")
    return fields


def _problem(offset: int, message: str, decrypted: bool) -> Field:
    return Field("problem", offset, b"", message, decrypted=decrypted, error=True)


__all__ = ["STREAMS", "Bolt12Record", "Bolt12Stream", "bolt12_fields", "range_name"]
