"""Failure message ops (BOLT 4 › Returning Errors): the erring node's packet, each node's
layer on the way back, and the origin's decryption naming the erring hop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sphinxamp.conformance.cases import Case
from sphinxamp.conformance.protocol import Answer, Op, Request, hexin
from sphinxamp.errors import SphinxampError
from sphinxamp.failures._packet import PAD_TO, create_failure, decrypt_failure, wrap_failure

_RULE = "BOLT 4 › Returning Errors"


def _failure_create(req: Request, profile: str) -> Answer:
    reply = create_failure(hexin(req, "shared_secret"), hexin(req, "failure_message"),
                           attribution=False, pad_to=int(req.get("pad_to", PAD_TO)))
    return {"packet": reply.packet.hex()}


def _failure_wrap(req: Request, profile: str) -> Answer:
    reply = wrap_failure(hexin(req, "shared_secret"), hexin(req, "packet"), attribution=False)
    return {"packet": reply.packet.hex()}


def _failure_decrypt(req: Request, profile: str) -> Answer:
    """An unattributable packet (no hop's HMAC verifies) is a refusal without code."""
    secrets = [bytes.fromhex(s) for s in req["shared_secrets"]]
    got = decrypt_failure(hexin(req, "packet"), secrets)
    if got.hop_index is None or got.failure_message is None:
        raise SphinxampError("no hop's HMAC verifies: the failure is unattributable",
                             reason="unattributable")
    return {"origin_index": got.hop_index, "failure_message": got.failure_message.hex(),
            "failure_code": got.failure_code}


FAILURE_OPS = (
    Op("failure_create", _RULE + " (the erring node)", ("packet",), run=_failure_create),
    Op("failure_wrap", _RULE + " (an intermediate node)", ("packet",), run=_failure_wrap),
    Op("failure_decrypt", _RULE + " (the origin node)", ("origin_index", "failure_message"),
       ("failure_code",), run=_failure_decrypt),
)


def failure_chain(make: Any, key: str, secrets: list[str], erring: int, message: str
                  ) -> list[Case]:
    """The cases of one failure's way back: created at hop `erring`, wrapped by every hop
    before it, decrypted by the origin. `make(key, op, request, expect)` builds a case; the
    expectation of the last step is the origin naming `erring` and its message."""
    from sphinxamp.conformance.ops import answer

    req: dict[str, Any] = {"shared_secret": secrets[erring], "failure_message": message}
    cases = [make(f"{key}:create", "failure_create", req, {})]
    packet = answer({"op": "failure_create", **req})["packet"]
    for hop in range(erring - 1, -1, -1):
        req = {"shared_secret": secrets[hop], "packet": packet}
        cases.append(make(f"{key}:wrap[{hop}]", "failure_wrap", req, {}))
        packet = answer({"op": "failure_wrap", **req})["packet"]
    decrypt = {"shared_secrets": secrets, "packet": packet}
    cases.append(make(f"{key}:decrypt", "failure_decrypt", decrypt,
                      {"origin_index": erring, "failure_message": message}))
    return cases


def onion_error_cases(name: str, doc: Mapping[str, Any], make: Any) -> list[Case]:
    """onion-error-test.json: hops[4] fails; the published packet is what the origin gets."""
    hops = doc["generate"]["hops"]
    secrets = [h["hop_shared_secret"] for h in hops]
    cases = failure_chain(make, "generate", secrets, len(hops) - 1,
                          doc["generate"]["failure_message"])
    last = cases[-2]
    cases[-2] = Case(last.id, last.suite, last.op, last.request, last.origin, last.rule,
                     {"packet": doc["errorpacket"]})
    return cases
