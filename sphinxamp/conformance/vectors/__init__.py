"""Run `sphinxamp-vectors/1` documents (the project's recorded test vectors) against the library.

Sans-IO: the caller loads the JSON and hands over the document; every case comes back as a
`CaseResult`. Cases are dispatched by their `kind` through `KIND_HANDLERS`, so a module that
adds a family of vectors registers one function and nothing else changes. A handler returns
(passed, detail); whatever it raises becomes a failed result, so a malformed case can never
stop a run. The schema is described in `vectors/README.md`.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sphinxamp.conformance.vectors.amp import AMP_KIND_HANDLERS
from sphinxamp.conformance.vectors.blinding import BLINDING_KIND_HANDLERS
from sphinxamp.conformance.vectors.failure import FAILURE_KIND_HANDLERS
from sphinxamp.errors import BigSizeError, DecodeError, SphinxampError, TlvError
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, build_onion, peel_onion
from sphinxamp.wire._bigsize import decode_bigsize, encode_bigsize
from sphinxamp.wire._tlv import (
    POINT,
    SCID,
    SHA256,
    TU16,
    TU32,
    TU64,
    U16,
    U32,
    U64,
    Codec,
    RecordSpec,
    ShortChannelId,
    Struct,
    TlvSchema,
)

SCHEMA = "sphinxamp-vectors/1"

Case = Mapping[str, Any]
Handler = Callable[[Case], tuple[bool, str]]


@dataclass(frozen=True, slots=True)
class CaseResult:
    file: str
    id: str
    kind: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "id": self.id, "kind": self.kind, "passed": self.passed,
                "detail": self.detail}


KIND_HANDLERS: dict[str, Handler] = {}


def register_kind(kind: str, handler: Handler) -> None:
    KIND_HANDLERS[kind] = handler


def run_case(case: Case, file: str = "") -> CaseResult:
    case_id, kind = str(case.get("id", "?")), str(case.get("kind", "?"))
    handler = KIND_HANDLERS.get(kind)
    if handler is None:
        return CaseResult(file, case_id, kind, False, f"no handler for kind {kind!r}")
    try:
        passed, detail = handler(case)
    except Exception as exc:  # a broken case is a failed case, never a crash
        passed, detail = False, f"{type(exc).__name__}: {exc}"
    return CaseResult(file, case_id, kind, bool(passed), str(detail))


def run_document(doc: object, file: str = "") -> list[CaseResult]:
    """Every case of one document; `common` fields are visible to each case as its own
    (a case's own field of the same name wins)."""
    if not isinstance(doc, Mapping) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, Mapping) else type(doc).__name__
        return [CaseResult(file, "<document>", "schema", False,
                           f"not a {SCHEMA} document (schema: {found!r})")]
    cases, common = doc.get("cases"), doc.get("common", {})
    if not isinstance(cases, list) or not isinstance(common, Mapping):
        return [CaseResult(file, "<document>", "schema", False,
                           "`cases` must be a list and `common` an object")]
    results = []
    for i, case in enumerate(cases):
        if not isinstance(case, Mapping):
            results.append(CaseResult(file, f"<case {i}>", "?", False, "case is not an object"))
            continue
        results.append(run_case({**common, **case}, file))
    return results


def _mismatch(what: str, expected: object, got: object) -> str:
    if isinstance(expected, str) and isinstance(got, str) and max(len(expected), len(got)) > 80:
        # Long hex: say where it departs instead of printing kilobytes.
        at = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b),
                  min(len(expected), len(got)))
        return (f"{what}: differs from character {at} (expected {len(expected)} characters "
                f"…{expected[at:at + 16]}…, got {len(got)} …{got[at:at + 16]}…)")
    return f"{what}: expected {expected!r}, got {got!r}"


def _check_error(expect: Mapping[str, Any], reason: str | None) -> tuple[bool, str]:
    """A failure expectation: `error` names the one reason, `error_one_of` several allowed."""
    allowed = expect.get("error_one_of") or [expect.get("error")]
    if reason in allowed:
        return True, f"rejected: {reason}"
    return False, _mismatch("error", allowed if len(allowed) > 1 else allowed[0], reason)


# --- BOLT 1 Appendix A: BigSize ------------------------------------------------------------


def bigsize_decode(case: Case) -> tuple[bool, str]:
    data, expect = bytes.fromhex(case["bytes"]), case["expect"]
    try:
        value, end = decode_bigsize(data, 0)
    except BigSizeError as exc:
        if "value" in expect:
            return False, f"expected value {expect['value']}, got error {exc.reason}: {exc}"
        return _check_error(expect, exc.reason)
    if "value" not in expect:
        return False, _mismatch("error", expect.get("error"), f"value {value}")
    if value != expect["value"] or end != len(data):
        return False, _mismatch("(value, bytes read)", (expect["value"], len(data)), (value, end))
    return True, f"value {value}"


def bigsize_encode(case: Case) -> tuple[bool, str]:
    got = encode_bigsize(int(case["value"])).hex()
    want = case["expect"]["bytes"]
    return (True, got) if got == want else (False, _mismatch("bytes", want, got))


# --- BOLT 1 Appendix B: TLV streams --------------------------------------------------------

FIELD_CODECS: dict[str, Codec[Any]] = {
    "tu16": TU16, "tu32": TU32, "tu64": TU64, "u16": U16, "u32": U32, "u64": U64,
    "point": POINT, "short_channel_id": SCID, "sha256": SHA256,
}


def _record_factory(names: Sequence[str]) -> Callable[..., types.SimpleNamespace]:
    return lambda *values: types.SimpleNamespace(**dict(zip(names, values, strict=True)))


def namespace_schema(name: str, definition: Mapping[str, Any]) -> TlvSchema:
    """A TLV namespace written in a vector file: records of BOLT 1 fundamental-type fields."""
    specs = []
    for rec in definition["records"]:
        fields = [(f["name"], FIELD_CODECS[f["type"]]) for f in rec["fields"]]
        codec = Struct(fields, _record_factory([n for n, _ in fields]))
        specs.append(RecordSpec(int(rec["type"]), str(rec["name"]), codec))
    return TlvSchema(name, specs)


def _field_json(value: object) -> object:
    if isinstance(value, ShortChannelId):
        return {"spec_notation": str(value), "block_height": value.block_height,
                "tx_index": value.tx_index, "output_index": value.output_index}
    if isinstance(value, bytes):
        return value.hex()
    return value


def _decode_in(schema: TlvSchema, stream: bytes, expect: Mapping[str, Any],
               record_types: Mapping[str, int]) -> tuple[bool, str]:
    try:
        decoded = schema.decode(stream)
    except TlvError as exc:
        if expect.get("valid", True):
            return False, f"expected success, got {exc.reason}: {exc}"
        passed, detail = _check_error(expect, exc.reason)
        want_type = record_types.get(expect.get("record", ""))
        if passed and want_type is not None and exc.tlv_type != want_type:
            return False, _mismatch("tlv_type", want_type, exc.tlv_type)
        return passed, detail
    if not expect.get("valid", True):
        return False, _mismatch("error", expect.get("error") or expect.get("error_one_of"),
                                "success")
    got = [{"type": t, "name": schema.name_of(t),
            "fields": {k: _field_json(v) for k, v in vars(decoded.values[t]).items()}}
           for t in sorted(decoded.values)]
    if got != list(expect["records"]):
        return False, _mismatch("records", expect["records"], got)
    # Unknown records survive and known ones re-encode canonically: the stream comes back.
    again = schema.encode(decoded.values, decoded.unknown)
    if again != stream:
        return False, _mismatch("re-encoded stream", stream.hex(), again.hex())
    return True, f"{len(got)} known record(s), {len(decoded.unknown)} ignored"


def _in_namespaces(case: Case, stream: bytes) -> tuple[bool, str]:
    defs = case["namespace_defs"]
    failures: list[str] = []
    details: list[str] = []
    for ns in case["namespaces"]:
        records = defs[ns]["records"]
        names = {str(r["name"]): int(r["type"]) for r in records}
        passed, detail = _decode_in(namespace_schema(ns, defs[ns]), stream, case["expect"], names)
        (details if passed else failures).append(f"{ns}: {detail}")
    return (False, "; ".join(failures)) if failures else (True, "; ".join(details))


def tlv_decode(case: Case) -> tuple[bool, str]:
    return _in_namespaces(case, bytes.fromhex(case["stream"]))


def tlv_compose(case: Case) -> tuple[bool, str]:
    """BOLT 1 Appendix B composition rules: the parts are decoded as one stream."""
    return _in_namespaces(case, b"".join(bytes.fromhex(s) for s in case["streams"]))


# --- BOLT 1 Appendix C: message extension --------------------------------------------------

# How a TLV failure in an extension reads in Appendix C's words.
_EXTENSION_REASON = {
    "type_truncated": "extension_truncated", "length_missing": "extension_truncated",
    "length_truncated": "extension_truncated", "value_missing": "extension_truncated",
    "value_truncated": "extension_truncated",
}


def _extension_start(message: bytes, message_type: int) -> int:
    """Offset of the extension in an init message: type ‖ gflen ‖ globalfeatures ‖ flen ‖
    features (BOLT 1 › The init Message); the rest of the message is the TLV stream."""
    if len(message) < 2 or int.from_bytes(message[:2], "big") != message_type:
        raise DecodeError(f"not a message of type {message_type}", reason="message_type")
    pos = 2
    for name in ("globalfeatures", "features"):
        if pos + 2 > len(message):
            raise DecodeError(f"message ends before the length of {name}", reason="truncated")
        pos += 2 + int.from_bytes(message[pos : pos + 2], "big")
        if pos > len(message):
            raise DecodeError(f"message ends inside {name}", reason="truncated")
    return pos


def message_extension(case: Case) -> tuple[bool, str]:
    message = bytes.fromhex(case["message"])
    stream = message[_extension_start(message, int(case["message_type"])) :]
    schema = namespace_schema("extension", {"records": case["extension_records"]})
    try:
        decoded = schema.decode(stream)
    except TlvError as exc:
        got: tuple[bool, str] = (False, _EXTENSION_REASON.get(exc.reason or "", exc.reason or ""))
    else:
        if not stream:
            got = (True, "no_extension")
        elif decoded.values:
            got = (True, "known_records")
        else:
            got = (True, "unknown_odd_records_ignored")
    want = (bool(case["expect"]["valid"]), str(case["expect"]["reason"]))
    return (True, got[1]) if got == want else (False, _mismatch("(valid, reason)", want, got))


# --- BOLT 4: onion construction and peeling ------------------------------------------------


def onion_build(case: Case) -> tuple[bool, str]:
    hops = []
    for i, hop in enumerate(case["hops"]):
        payload = bytes.fromhex(hop["payload"])
        framed = hop.get("payload_with_length")
        if framed is not None and encode_bigsize(len(payload)) + payload != bytes.fromhex(framed):
            return False, f"hops[{i}]: payload and payload_with_length disagree"
        hops.append((bytes.fromhex(hop["pubkey"]), payload))
    built = build_onion(bytes.fromhex(case["session_key"]), hops,
                       bytes.fromhex(case["associated_data"]),
                       int(case.get("payload_area", PAYMENT_PAYLOAD_AREA)))
    expect, onion = case["expect"], built.to_bytes().hex()
    if onion != expect["onion"]:
        return False, _mismatch("onion", expect["onion"], onion)
    secrets = [s.hex() for s in built.shared_secrets]
    if "shared_secrets" in expect and secrets != expect["shared_secrets"]:
        return False, _mismatch("shared_secrets", expect["shared_secrets"], secrets)
    return True, f"{len(onion) // 2}-byte onion for {len(hops)} hops"


def _peel_mismatches(case: Case, hop: Any) -> Iterator[str]:
    expect = case["expect"]
    nxt = None if hop.next_packet is None else hop.next_packet.to_bytes().hex()
    got = {"payload": hop.payload.hex(), "final": hop.is_final, "next_onion": nxt,
           "shared_secret": hop.shared_secret.hex()}
    for key, value in got.items():
        if key in expect and expect[key] != value:
            yield _mismatch(key, expect[key], value)
    framed = expect.get("payload_with_length")
    if framed is not None and len(framed) // 2 - len(hop.payload) != hop.payload_offset:
        yield _mismatch("payload_offset", len(framed) // 2 - len(hop.payload), hop.payload_offset)


def onion_peel(case: Case) -> tuple[bool, str]:
    expect = case["expect"]
    path_key = case.get("path_key")
    try:
        hop = peel_onion(bytes.fromhex(case["onion"]), bytes.fromhex(case["node_key"]),
                         bytes.fromhex(case["associated_data"]),
                         payload_area=case.get("payload_area", PAYMENT_PAYLOAD_AREA),
                         path_key=None if path_key is None else bytes.fromhex(path_key))
    except DecodeError as exc:
        if "error" not in expect:
            return False, f"expected success, got {type(exc).__name__}: {exc}"
        return _check_failure(expect, exc)
    if "error" in expect:
        return False, _mismatch("error", expect["error"], "success")
    problems = list(_peel_mismatches(case, hop))
    if problems:
        return False, "; ".join(problems)
    return True, "final" if hop.is_final else "forward"


def _check_failure(expect: Mapping[str, Any], exc: SphinxampError) -> tuple[bool, str]:
    """A BOLT 4 failure: its name and, when recorded, its failure code."""
    got = (exc.failure_name, exc.failure_code)
    want = (expect["error"], expect.get("failure_code", exc.failure_code))
    return (True, f"rejected: {exc.failure_name}") if got == want else \
        (False, _mismatch("(failure, code)", want, got))


KIND_HANDLERS.update({
    "bigsize-decode": bigsize_decode,
    "bigsize-encode": bigsize_encode,
    "tlv-decode": tlv_decode,
    "tlv-compose": tlv_compose,
    "message-extension": message_extension,
    "onion-build": onion_build,
    "onion-peel": onion_peel,
    **AMP_KIND_HANDLERS,
    **BLINDING_KIND_HANDLERS,
    **FAILURE_KIND_HANDLERS,
})
