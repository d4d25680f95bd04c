"""The adapter protocol: one JSON request per line in, one JSON answer per line out.

A request is `{"id", "op", …inputs…}`; the answer `{"id", …outputs…}`, or `{"id", "error":
{"failure_code", "tlv_type", "offset", "message"}}` for a refusal, or `{"id", "unsupported":
true}`. `{"op": "hello"}` answers the protocol version, the ops supported and (since version 2) the
optional records and feature bits the implementation understands. The JSON schema is
`protocol.schema.json` next to this module; this module holds what every op shares: the error
answer and the comparison of two answers, each difference graded by the strength of the rule
that makes it a difference.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sphinxamp._codes import INVALID_ONION_BLINDING, INVALID_ONION_PAYLOAD
from sphinxamp.errors import SphinxampError

PROTOCOL = "sphinxamp-conformance/2"
# Version 1 is version 2 without the hello's declarations (`optional_records`, `features`).
PROTOCOLS = ("sphinxamp-conformance/1", PROTOCOL)
ERROR_FIELDS = ("failure_code", "tlv_type", "offset")

# What kind of difference a disagreement is (the deviations file names these).
ACCEPT_REFUSE = "accept_refuse"
OUTPUT = "output"
FAILURE_CODE = "failure_code"
LOCATION = "location"
DIFFERENCE_KINDS = (ACCEPT_REFUSE, OUTPUT, FAILURE_CODE, LOCATION)

# The strength of the rule a difference breaks (RFC 2119 as the BOLTs use it). Only a MUST (or
# MUST NOT) makes a deviation that fails a run; a MAY is a note.
MUST, SHOULD, MAY = "MUST", "SHOULD", "MAY"
GRADES = (MUST, SHOULD, MAY)

# The sentences each grade rests on.
TEXT_LOCATION = ('BOLT 4 › Failure Messages › invalid_onion_payload: "If the failure can be '
                 'narrowed down to a specific tlv type in the payload, the erring node may '
                 'include that `type` and its byte `offset` in the decrypted byte stream."')
TEXT_CODE_MAY = ('BOLT 4 › Failure Messages › Requirements: "An _erring node_ MAY: [...] return '
                 'an `invalid_onion_payload` error"; "A _forwarding node_ MAY, but a _final '
                 'node_ MUST NOT: if the onion `version` byte is unknown: return an '
                 '`invalid_onion_version` error. if the onion HMAC is incorrect: return an '
                 '`invalid_onion_hmac` error."')
TEXT_CODE_BLINDING = ('BOLT 4 › Failure Messages › Requirements: "if `path_key` is set in the '
                      'incoming `update_add_htlc`: MUST return an `invalid_onion_blinding` '
                      'error. if `current_path_key` is set in the onion payload and it is not '
                      'the final node: MUST return an `invalid_onion_blinding` error."')

Answer = dict[str, Any]
Request = Mapping[str, Any]
Runner = Callable[[Request, str], Answer]


@dataclass(frozen=True, slots=True)
class Op:
    """One op of the protocol: the BOLT rule it exercises, the outputs a comparison judges
    (`optional` ones only when the adapter gives them), sphinxamp's implementation (None when
    this build lacks the module), and `traits`: properties of a request that known deviations
    can name (see `deviations.py`)."""

    name: str
    rule: str
    compared: tuple[str, ...]
    optional: tuple[str, ...] = ()
    run: Runner | None = None
    traits: Callable[[Request], set[str]] | None = None


def hexin(req: Request, name: str) -> bytes:
    value = req[name]
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a hex string")
    return bytes.fromhex(value)


def hexopt(req: Request, name: str) -> bytes | None:
    return None if req.get(name) is None else hexin(req, name)


def load_schema() -> dict[str, Any]:
    """The protocol's JSON schema, as installed with the package."""
    text = (resources.files(__package__) / "protocol.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def error_answer(exc: SphinxampError) -> Answer:
    """A refusal as the protocol carries it. `tlv_type` and `offset` are the underlying
    violation's, as invalid_onion_payload reports them (BOLT 4 › Failure Messages);
    `reason` is sphinxamp's machine-readable name of the rule (what deviations match)."""
    under = exc.cause if exc.cause is not None else exc
    return {"error": {"failure_code": exc.failure_code, "tlv_type": under.tlv_type,
                      "offset": under.offset, "message": exc.message,
                      "reason": under.reason}}


def bad_request(message: str) -> Answer:
    return {"error": {"failure_code": None, "tlv_type": None, "offset": None,
                      "message": f"bad request: {message}"}}


@dataclass(frozen=True, slots=True)
class Difference:
    """Why two answers disagree: its kind and the field concerned."""

    kind: str
    field: str
    detail: str
    grade: str = MUST
    text: str = ""


def _outputs(answer: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in ("id", "op")}


def compare(expected: Mapping[str, Any], got: Mapping[str, Any], *,
            compared: tuple[str, ...], optional: tuple[str, ...] = ()) -> Difference | None:
    """The first difference between the reference's answer and an adapter's, or None.

    On success, the `compared` outputs must match and `optional` ones when the adapter gives
    them: what the text computes is a MUST. Accepting what must be refused, or the reverse, is
    a MUST. On refusal the failure code, when the reference names one: a MUST for
    invalid_onion_blinding, which the text requires, a MAY otherwise (the text lets the node
    choose). `tlv_type`/`offset` of invalid_onion_payload are a MAY: the text says the node
    may include them."""
    want_err, got_err = expected.get("error"), got.get("error")
    if (want_err is None) != (got_err is None):
        return Difference(ACCEPT_REFUSE, "error", "refused" if got_err else "accepted")
    if want_err is not None and got_err is not None:
        code = want_err.get("failure_code")
        if code is not None and got_err.get("failure_code") != code:
            must = code == INVALID_ONION_BLINDING
            return Difference(FAILURE_CODE, "failure_code",
                              f"{code} != {got_err.get('failure_code')}",
                              MUST if must else MAY, TEXT_CODE_BLINDING if must else TEXT_CODE_MAY)
        if code == INVALID_ONION_PAYLOAD:
            for name in ("tlv_type", "offset"):
                if got_err.get(name) != want_err.get(name):
                    return Difference(LOCATION, name,
                                      f"{want_err.get(name)} != {got_err.get(name)}", MAY,
                                      TEXT_LOCATION)
        return None
    mine, theirs = _outputs(expected), _outputs(got)
    for name in compared:
        if theirs.get(name) != mine.get(name):
            return Difference(OUTPUT, name, "outputs differ")
    for name in optional:
        if name in theirs and theirs[name] != mine.get(name):
            return Difference(OUTPUT, name, "outputs differ")
    return None
