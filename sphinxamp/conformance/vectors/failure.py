"""Conformance handlers for the failure-onion vector kinds (`vectors/bolt04-failure*.json`).

- `failure-message`: `failuremsg` bytes ↔ code, fields and TLV records, both directions.
- `failure-return`: the erring node's packet (and attribution data) and every hop's layer
  in processing order, then the origin's decryption of the last packet.
- `attribution-success`: attribution data on a fulfilled HTLC, hop by hop, then verified.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sphinxamp.failures._attribution import create_attribution, verify_attribution, wrap_attribution
from sphinxamp.failures._message import FailureMessage
from sphinxamp.failures._packet import (
    build_return_packet,
    create_failure,
    decrypt_failure,
    wrap_failure,
)
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire._tlv import TlvRecord

Case = Mapping[str, Any]


def _mismatch(what: str, expected: object, got: object) -> str:
    if isinstance(expected, str) and isinstance(got, str) and max(len(expected), len(got)) > 80:
        at = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b),
                  min(len(expected), len(got)))
        return f"{what}: differs from character {at}"
    return f"{what}: expected {expected!r}, got {got!r}"


def _fields_json(message: FailureMessage) -> dict[str, Any]:
    return {k: v.hex() if isinstance(v, bytes) else v for k, v in message.fields.items()}


def failure_message(case: Case) -> tuple[bool, str]:
    data, expect = bytes.fromhex(case["failure_message"]), case["expect"]
    message = FailureMessage.decode(data)
    got = {"failure_code": message.code, "failure_name": message.name,
           "fields": _fields_json(message),
           "tlv": [{"type": r.type, "value": r.value.hex()} for r in message.tlv]}
    want = {k: expect[k] for k in got}
    if got != want:
        return False, _mismatch("decoded", want, got)
    fields = {k: bytes.fromhex(v) if isinstance(v, str) else int(v)
              for k, v in expect["fields"].items()}
    tlv = [TlvRecord(int(r["type"]), bytes.fromhex(r["value"])) for r in expect["tlv"]]
    encoded = FailureMessage.create(int(expect["failure_code"]), fields, tlv).encode().hex()
    if encoded != case["failure_message"]:
        return False, _mismatch("encoded", case["failure_message"], encoded)
    return True, f"{message.name}, {len(message.tlv)} TLV record(s)"


def _keys_mismatch(step: Mapping[str, Any]) -> Iterator[str]:
    secret = bytes.fromhex(step["shared_secret"])
    ammag = crypto.derive_key(crypto.KEY_AMMAG, secret)
    if ammag.hex() != step["ammag"]:
        yield _mismatch(f"hop {step['hop_index']} ammag", step["ammag"], ammag.hex())
    if "um" in step and crypto.derive_key(crypto.KEY_UM, secret).hex() != step["um"]:
        yield f"hop {step['hop_index']} um differs"
    stream = crypto.chacha20_stream(ammag, len(step["obfuscation"]) // 2).hex()
    if stream != step["obfuscation"]:
        yield _mismatch(f"hop {step['hop_index']} obfuscation", step["obfuscation"], stream)


def _forward(case: Case) -> Iterator[str]:
    """The packet made by the erring node and wrapped at each hop up to the origin."""
    secrets = [bytes.fromhex(s) for s in case["shared_secrets"]]
    holds, attribution = case.get("hold_times"), bool(case.get("attribution", False))
    message = bytes.fromhex(case["failure_message"])
    erring, pad_to = int(case["erring_hop"]), int(case.get("pad_to", 256))
    expect = case["expect"]
    raw = build_return_packet(secrets[erring], message, pad_to).hex()
    if raw != expect["reason_before_ammag"]:
        yield _mismatch("reason_before_ammag", expect["reason_before_ammag"], raw)
    reply = None
    for step in expect["hops"]:
        i = int(step["hop_index"])
        yield from _keys_mismatch(step)
        hold = 0 if holds is None else int(holds[i])
        if reply is None:
            reply = create_failure(secrets[i], message, hold_time=hold,
                                   attribution=attribution, pad_to=pad_to)
        else:
            reply = wrap_failure(secrets[i], reply.packet, reply.attribution_data,
                                 hold_time=hold, attribution=attribution)
        if reply.packet.hex() != step["reason"]:
            yield _mismatch(f"hop {i} reason", step["reason"], reply.packet.hex())
        got = None if reply.attribution_data is None else reply.attribution_data.hex()
        if got != step.get("attribution_data"):
            yield _mismatch(f"hop {i} attribution_data", step.get("attribution_data"), got)


def _verdicts(hops: Any) -> list[dict[str, Any]]:
    return [{"hop_index": h.hop_index, "hold_time": h.hold_time, "hmac_ok": h.hmac_ok}
            for h in hops]


def _backward(case: Case) -> Iterator[str]:
    """The origin's decryption of the packet (and attribution data) it received."""
    last = case["expect"]["hops"][-1]
    data = last.get("attribution_data")
    result = decrypt_failure(bytes.fromhex(last["reason"]),
                                    [bytes.fromhex(s) for s in case["shared_secrets"]],
                                    None if data is None else bytes.fromhex(data))
    want = case["expect"]["decrypted"]
    got: dict[str, Any] = {"hop_index": result.hop_index, "failure_code": result.failure_code}
    if "attribution" in want:
        got["attribution"] = _verdicts(result.attribution or ())
    if got != dict(want):
        yield _mismatch("decrypted", dict(want), got)


def failure_return(case: Case) -> tuple[bool, str]:
    problems = [*_forward(case), *_backward(case)]
    if problems:
        return False, "; ".join(problems)
    return True, f"failure from hop {case['erring_hop']} through {len(case['expect']['hops'])}" \
        " layers and back"


def attribution_success(case: Case) -> tuple[bool, str]:
    secrets = [bytes.fromhex(s) for s in case["shared_secrets"]]
    holds, expect = case["hold_times"], case["expect"]
    problems, data = [], None
    for step in expect["hops"]:
        i = int(step["hop_index"])
        data = create_attribution(secrets[i], int(holds[i])) if data is None else \
            wrap_attribution(secrets[i], int(holds[i]), data)
        if data.hex() != step["attribution_data"]:
            problems.append(_mismatch(f"hop {i}", step["attribution_data"], data.hex()))
    received = bytes.fromhex(expect["hops"][-1]["attribution_data"])
    verdicts = _verdicts(verify_attribution(received, secrets))
    if verdicts != list(expect["verified"]):
        problems.append(_mismatch("verified", list(expect["verified"]), verdicts))
    return (False, "; ".join(problems)) if problems else \
        (True, f"{len(secrets)} hops verified")


FAILURE_KIND_HANDLERS = {
    "failure-message": failure_message,
    "failure-return": failure_return,
    "attribution-success": attribution_success,
}
