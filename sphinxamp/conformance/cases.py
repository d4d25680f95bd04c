"""A conformance case: one request, where it comes from and the rule it exercises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Case:
    """`request` holds the op's inputs (no id, no op). `expect` is what the case's source
    states (an official file's values, a malformed case's failure code and offset), judged
    key by key; the reference's full answer is what an adapter is compared with."""

    id: str
    suite: str
    op: str
    request: Mapping[str, Any]
    origin: str
    rule: str
    expect: Mapping[str, Any] = field(default_factory=dict)

    def wire(self, number: int) -> dict[str, Any]:
        """The request line sent to an adapter."""
        return {"id": number, "op": self.op, **self.request}

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "op": self.op, "origin": self.origin, "rule": self.rule,
                "request": dict(self.request), "expect": dict(self.expect)}


def expectation_problems(expect: Mapping[str, Any], answer: Mapping[str, Any]) -> list[str]:
    """Where an answer departs from a case's stated expectation (keys not stated are not
    judged; an expected `error` is judged field by field)."""
    problems = []
    for key, want in expect.items():
        got = answer.get(key, "<missing>")
        if key == "error" and isinstance(want, Mapping):
            if not isinstance(got, Mapping):
                problems.append(f"expected a refusal, got {'an answer' if got else got!r}")
                continue
            problems += [f"error.{k}: expected {v!r}, got {got.get(k)!r}"
                         for k, v in want.items() if got.get(k) != v]
        elif got != want:
            shown = [str(x)[:80] for x in (want, got)]
            problems.append(f"{key}: expected {shown[0]}, got {shown[1]}")
    if "error" not in expect and "error" in answer:
        problems.append(f"refused: {answer['error'].get('message')}")
    return problems
