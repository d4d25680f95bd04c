"""Judging one answer: what an adapter declared it understands, the answers the text allows,
and the difference that remains (graded in `protocol.compare`).

Keysend (bLIP 3, type 5482373484) and AMP (lnd, type 14) are even payload records outside the
BOLTs. BOLT 1 › Type-Length-Value Format › Requirements: "if `type` is even: MUST fail to parse
the `tlv_stream`" when the type is unknown. So an implementation that does not understand one
is right to refuse a payload carrying it, and one that does is right to read it. The adapter's
hello says which (`optional_records`, or the `features` bits that announce them); a hello that
says nothing (protocol version 1, or the fields left out) makes both answers correct: the
kit cannot know, and a judge must not report what may be right.

Trampoline onions (lightning/bolts#836, and Eclair's and Electrum's earlier format) are not
in the BOLTs: an implementation need not read them. The hello's `trampoline_formats` names
the formats it reads; a trampoline case in any other format, or from an adapter whose hello
names none, is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sphinxamp._codes import INVALID_ONION_BLINDING, INVALID_ONION_PAYLOAD
from sphinxamp.conformance.protocol import (
    ACCEPT_REFUSE,
    GRADES,
    SHOULD,
    Answer,
    Difference,
    Op,
    Request,
    compare,
)
from sphinxamp.errors import DecodeError
from sphinxamp.wire._records import KEYSEND_TYPE, TRAMPOLINE_PROFILES
from sphinxamp.wire._tlv import decode_stream, encode_stream

AMP_TYPE = 14
CURRENT_PATH_KEY = 12
# Optional even records and the feature bits (required, optional) that announce them: keysend
# 54/55 (bLIP 2's table), AMP 30/31 (lnd lnwire/features.go).
OPTIONAL_RECORDS: dict[int, tuple[str, tuple[int, int]]] = {
    KEYSEND_TYPE: ("keysend", (54, 55)), AMP_TYPE: ("amp", (30, 31))}


@dataclass(frozen=True, slots=True)
class Understanding:
    """The optional records an adapter understands; `declared` False when its hello did not
    say (then either answer is correct for a payload carrying one)."""

    declared: bool
    records: frozenset[int] = frozenset()


# Refusals whose rule is weaker than a MUST, by (op, the reason of the reference's refusal).
# BOLT 1's MUST on minimal encoding is for a TLV `type` and `length` (› Type-Length-Value
# Format › Requirements) and an onion's payload_length is "malformed" (BOLT 4 › Onion
# Decryption); for a BigSize read on its own the text says only this.
WEAKER: dict[tuple[str, str], tuple[str, str]] = {
    ("bigsize_decode", "non_canonical"): (SHOULD, (
        'BOLT 1 › Appendix A: BigSize Test Vectors: "All values decoded with BigSize should be '
        'checked to ensure they are minimally encoded."'))}

UNDECLARED = Understanding(False)
EVERYTHING = Understanding(True, frozenset(OPTIONAL_RECORDS))


def understanding(hello: Mapping[str, Any] | None) -> Understanding:
    """What a hello declares: `optional_records` (types) and `features` (bit numbers)."""
    if hello is None or ("optional_records" not in hello and "features" not in hello):
        return UNDECLARED
    records = {t for t in _ints(hello.get("optional_records")) if t in OPTIONAL_RECORDS}
    bits = set(_ints(hello.get("features")))
    records |= {t for t, (_, pair) in OPTIONAL_RECORDS.items() if bits.intersection(pair)}
    return Understanding(True, frozenset(records))


def trampoline_formats(hello: Mapping[str, Any] | None) -> frozenset[str]:
    """The trampoline formats a hello declares (`trampoline_formats`); none when absent."""
    value = None if hello is None else hello.get("trampoline_formats")
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v for v in value if v in TRAMPOLINE_PROFILES)


def _ints(value: object) -> list[int]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]


def _optional_at(payload: bytes) -> list[tuple[int, int]]:
    """(type, offset) of each optional record in a payload that is a TLV stream."""
    try:
        records = decode_stream(payload)
    except DecodeError:
        return []
    out, pos = [], 0
    for rec in records:
        if rec.type in OPTIONAL_RECORDS:
            out.append((rec.type, pos))
        pos += len(encode_stream([rec]))
    return out


def not_understood(req: Request, rtype: int, offset: int) -> Answer:
    """The refusal of a reader that does not know `rtype`: an unknown even type (BOLT 1),
    reported as the payload's failure (BOLT 4 › Failure Messages), inside a blinded route as
    invalid_onion_blinding."""
    blinded = bool(req.get("path_key")) or (
        not req.get("final") and CURRENT_PATH_KEY in _types(str(req["payload"])))
    code = INVALID_ONION_BLINDING if blinded else INVALID_ONION_PAYLOAD
    return {"error": {"failure_code": code, "tlv_type": rtype, "offset": offset,
                      "message": f"unknown even type {rtype}", "reason": "unknown_even_type"}}


def _types(payload_hex: str) -> set[int]:
    try:
        return {r.type for r in decode_stream(bytes.fromhex(payload_hex))}
    except (DecodeError, ValueError):
        return set()


def allowed(req: Request, expected: Answer, understood: Understanding) -> list[Answer]:
    """The answers the text allows for a request: the reference's, or, for a payload carrying
    an optional record the adapter does not (or may not) understand, that record refused."""
    if req.get("op") != "payload_decode" or not isinstance(req.get("payload"), str):
        return [expected]
    try:
        present = _optional_at(bytes.fromhex(req["payload"]))
    except ValueError:
        return [expected]
    unknown = [(t, at) for t, at in present if t not in understood.records]
    if not unknown:
        return [expected]
    refusal = not_understood(req, *unknown[0])
    return [expected, refusal] if not understood.declared else [refusal]


def judge(op: Op, req: Request, expected: Answer, got: Answer,
          understood: Understanding = EVERYTHING) -> Difference | None:
    """None when `got` is an answer the text allows, else the mildest difference found."""
    diffs = []
    for want in allowed(req, expected, understood):
        diff = compare(want, got, compared=op.compared, optional=op.optional)
        if diff is None:
            return None
        diffs.append(_regrade(op, want, diff))
    return mildest(diffs)


def _regrade(op: Op, expected: Answer, diff: Difference) -> Difference:
    reason = str((expected.get("error") or {}).get("reason"))
    weaker = WEAKER.get((op.name, reason))
    if weaker is None or diff.kind != ACCEPT_REFUSE:
        return diff
    return Difference(diff.kind, diff.field, diff.detail, *weaker)


def mildest(diffs: Sequence[Difference]) -> Difference:
    return max(diffs, key=lambda d: GRADES.index(d.grade))
