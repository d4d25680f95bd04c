"""Differential findings grouped into classes: one class per (op, rule, what sphinxamp
answers, what the adapter answers), with its count and the shortest input that shows it.

Random inputs hit the same few disagreements thousands of times; a class is reported once,
with one reproducer that is kept as short as any input seen, so a campaign writes a bounded
number of files whatever its length.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sphinxamp.conformance.protocol import Difference


@dataclass(frozen=True, order=True, slots=True)
class FindingClass:
    op: str
    rule: str
    expected: str
    got: str
    grade: str = ""

    @property
    def key(self) -> str:
        text = json.dumps([self.op, self.rule, self.expected, self.got])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def outcome(answer: Mapping[str, Any] | None, problem: str | None = None) -> str:
    """An answer in a word: accepts, refuses (with its failure code), or the adapter's
    problem. Outputs and messages are left out: they vary with every input."""
    if answer is None:
        return f"adapter {problem or 'error'}"
    err = answer.get("error")
    if not isinstance(err, Mapping):
        return "accepts"
    code = err.get("failure_code")
    return "refuses" if not isinstance(code, int) else f"refuses {code:#06x}"


def classify(op: str, expected: Mapping[str, Any], got: Mapping[str, Any] | None, *,
             difference: Difference | None = None, problem: str | None = None
             ) -> FindingClass:
    """The class of one finding. The rule is the reason of sphinxamp's refusal when it
    refuses (which rule the input breaks), else the kind and field of the difference."""
    reason = (expected.get("error") or {}).get("reason") if "error" in expected else None
    if problem is not None:
        rule = "adapter"
    elif reason:
        rule = str(reason)
    elif difference is not None:
        rule = f"{difference.kind}:{difference.field}"
    else:
        rule = "?"
    grade = "" if difference is None else difference.grade
    return FindingClass(op, rule, outcome(expected), outcome(got, problem), grade)


@dataclass
class Entry:
    count: int
    shortest: bytes


@dataclass
class Classes:
    """The classes seen so far, each with its count and shortest input."""

    seen: dict[FindingClass, Entry] = field(default_factory=dict)

    def add(self, cls: FindingClass, data: bytes) -> bool:
        """Count one finding; True when its input is the class's new reproducer (the first
        of the class, or shorter than the one kept), which the caller then writes."""
        entry = self.seen.get(cls)
        if entry is None:
            self.seen[cls] = Entry(1, bytes(data))
            return True
        entry.count += 1
        if len(data) < len(entry.shortest):
            entry.shortest = bytes(data)
            return True
        return False

    @property
    def findings(self) -> int:
        return sum(e.count for e in self.seen.values())

    def rows(self) -> list[dict[str, Any]]:
        return [{"class": c.key, "op": c.op, "rule": c.rule, "sphinxamp": c.expected,
                 "adapter": c.got, "grade": c.grade, "count": e.count,
                 "shortest": len(e.shortest)}
                for c, e in sorted(self.seen.items(), key=lambda kv: (-kv[1].count, kv[0]))]


def table(rows: list[dict[str, Any]]) -> str:
    """The summary table of a campaign's classes (rows from `Classes.rows`)."""
    head = ("count", "grade", "op", "rule", "sphinxamp", "adapter", "shortest", "class")
    cells = [[str(r["count"]), r["grade"] or "-", r["op"], r["rule"], r["sphinxamp"],
              r["adapter"], f"{r['shortest']} B", r["class"]] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *cells, strict=False)]
    lines = ["  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip()
             for line in (head, *cells)]
    return "\n".join(lines) + "\n"
