"""Failure cases built by running the reference: a failure created at one hop, wrapped by
every hop before it and decrypted by the origin (BOLT 4 › Returning Errors). The ops
themselves are in `ops_failure`; these chains need the whole registry (`ops.answer`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sphinxamp.conformance.cases import Case
from sphinxamp.conformance.ops import answer


def failure_chain(make: Any, key: str, secrets: list[str], erring: int, message: str
                  ) -> list[Case]:
    """The cases of one failure's way back: created at hop `erring`, wrapped by every hop
    before it, decrypted by the origin. `make(key, op, request, expect)` builds a case; the
    expectation of the last step is the origin naming `erring` and its message."""
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
