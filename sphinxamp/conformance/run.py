"""Running suites through an adapter and comparing every answer with the reference's.

Every difference is graded by the rule it breaks (`protocol.compare`): a MAY-graded one is a
note, a SHOULD- or MUST-graded one a disagreement (or a known deviation when the deviations
file explains it). Only a MUST-graded disagreement, or an adapter error, fails a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sphinxamp.conformance.adapter import AdapterProcess
from sphinxamp.conformance.cases import Case, expectation_problems
from sphinxamp.conformance.deviations import Deviation, explain
from sphinxamp.conformance.judge import (
    EVERYTHING,
    Understanding,
    judge,
    trampoline_formats,
    understanding,
)
from sphinxamp.conformance.ops import OPS, answer, traits
from sphinxamp.conformance.ops_trampoline import TRAMPOLINE_OP_NAMES
from sphinxamp.conformance.protocol import GRADES, MAY, MUST, PROTOCOL, PROTOCOLS, Difference
from sphinxamp.conformance.schema import answer_problems

AGREE, DISAGREE, DEVIATION = "agree", "disagree", "known_deviation"
UNSUPPORTED, ADAPTER_ERROR, NOTE = "unsupported", "adapter_error", "note"
STATUSES = (AGREE, DISAGREE, DEVIATION, UNSUPPORTED, ADAPTER_ERROR, NOTE)


@dataclass
class Outcome:
    case: Case
    status: str
    expected: dict[str, Any]
    got: dict[str, Any] | None = None
    difference: Difference | None = None
    deviation: Deviation | None = None
    detail: str = ""

    @property
    def grade(self) -> str | None:
        return None if self.difference is None else self.difference.grade

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.case.id, "suite": self.case.suite, "op": self.case.op,
                               "origin": self.case.origin, "rule": self.case.rule,
                               "status": self.status}
        if self.status != AGREE:
            out.update(request=dict(self.case.request), expected=self.expected, got=self.got,
                       detail=self.detail)
        if self.difference is not None:
            out["difference"] = {"kind": self.difference.kind, "field": self.difference.field,
                                 "detail": self.difference.detail,
                                 "grade": self.difference.grade, "bolt": self.difference.text}
            out["grade"] = self.difference.grade
        if self.deviation is not None:
            out["deviation"] = {"id": self.deviation.id, "rule": self.deviation.rule,
                                "bolt": self.deviation.bolt,
                                "explanation": self.deviation.explanation}
        return out


@dataclass
class Report:
    adapter: str
    hello: dict[str, Any] | None
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What was left out, each with its `reason` (a suite, an official file, an op the
    # adapter's hello does not list), and how many cases went to the adapter.
    skipped: list[dict[str, Any]] = field(default_factory=list)
    ran: int = 0

    def counts(self) -> dict[str, int]:
        found = Counter(o.status for o in self.outcomes)
        return {s: found.get(s, 0) for s in STATUSES}

    def grades(self) -> dict[str, dict[str, int]]:
        """Every finding (disagreement, known deviation, note) by the grade of its rule."""
        out = {g: {DISAGREE: 0, DEVIATION: 0, NOTE: 0} for g in GRADES}
        for o in self.outcomes:
            if o.grade is not None and o.status in (DISAGREE, DEVIATION, NOTE):
                out[o.grade][o.status] += 1
        return out

    def failures(self) -> list[str]:
        """Why the run fails, empty when it passes. A run in which no answer was compared
        fails too: it checked nothing."""
        counts, out = self.counts(), []
        if counts[ADAPTER_ERROR]:
            out.append(f"{counts[ADAPTER_ERROR]} adapter error(s)")
        if self.grades()[MUST][DISAGREE]:
            out.append(f"{self.grades()[MUST][DISAGREE]} MUST-graded disagreement(s)")
        if not sum(counts[s] for s in (AGREE, DISAGREE, DEVIATION, NOTE)):
            out.append(f"no answer was compared ({self.ran} case(s) sent, "
                       f"{counts[UNSUPPORTED]} unsupported)")
        return out

    @property
    def ok(self) -> bool:
        return not self.failures()

    def to_json(self) -> dict[str, Any]:
        return {"protocol": PROTOCOL, "adapter": self.adapter, "hello": self.hello,
                "counts": self.counts(), "grades": self.grades(), "ok": self.ok,
                "failures": self.failures(), "ran": self.ran, "skipped": self.skipped,
                "notes": self.notes, "cases": [o.to_json() for o in self.outcomes]}


def _hello(adapter: AdapterProcess, notes: list[str]
           ) -> tuple[dict[str, Any] | None, set[str] | None]:
    reply = adapter.handshake()
    if reply.answer is None or not isinstance(reply.answer.get("ops"), list):
        notes.append("hello: unexpected answer: no `ops` list; every op is tried")
        return reply.answer, None
    if reply.answer.get("protocol") not in PROTOCOLS:
        notes.append(f"hello: protocol {reply.answer.get('protocol')!r}, expected {PROTOCOL!r}")
    ops = {str(op) for op in reply.answer["ops"]}
    if "payload_decode" in ops and not understanding(reply.answer).declared:
        notes.append("hello: no optional_records or features declared; a payload carrying "
                     "keysend or AMP may be read or refused as an unknown even type")
    return reply.answer, ops


def run_case(case: Case, number: int, adapter: AdapterProcess, *, profile: str,
             deviations: Sequence[Deviation], notes: list[str] | None = None,
             understood: Understanding = EVERYTHING) -> Outcome:
    op = OPS[case.op]
    expected = answer({"op": case.op, **case.request}, profile)
    departs = expectation_problems(case.expect, expected) if profile == "bolt" else []
    if departs and notes is not None:
        # The comparison is with sphinxamp; say so when sphinxamp is not what the case's
        # source states (an altered vector file, or a library bug).
        notes.append(f"{case.id}: sphinxamp departs from {case.origin}: {departs[0]}")
    reply = adapter.request(case.wire(number))
    if reply.answer is None:
        return Outcome(case, ADAPTER_ERROR, expected, None, detail=f"{reply.problem}: "
                       f"{reply.detail}")
    got = reply.answer
    if got.get("unsupported") is True:
        return Outcome(case, UNSUPPORTED, expected, got)
    broken = answer_problems(case.op, got)
    if broken:
        return Outcome(case, ADAPTER_ERROR, expected, got,
                       detail="garbage: the answer does not follow the schema: "
                       + "; ".join(broken[:3]))
    req = {"op": case.op, **case.request}
    diff = judge(op, req, expected, got, understood)
    if diff is None:
        return Outcome(case, AGREE, expected, got)
    if diff.grade == MAY:
        return Outcome(case, NOTE, expected, got, diff, detail=f"{diff.kind}: {diff.field}")
    known = explain(deviations, op=case.op, case_id=case.id, difference=diff,
                    traits=traits({"op": case.op, **case.request}), expected=expected, got=got)
    status = DISAGREE if known is None else DEVIATION
    return Outcome(case, status, expected, got, diff, known, detail=f"{diff.kind}: {diff.field}")


def run_cases(cases: Sequence[Case], adapter: AdapterProcess, *, profile: str = "bolt",
              deviations: Sequence[Deviation] = (), command: str = "") -> Report:
    report = Report(command, None)
    report.hello, ops = _hello(adapter, report.notes)
    understood = understanding(report.hello)
    at: dict[object, int] = {}
    unlisted: Counter[tuple[str, str, str]] = Counter()
    formats = trampoline_formats(report.hello)
    for number, case in enumerate(cases):
        if ops is not None and case.op not in ops:
            report.outcomes.append(Outcome(case, UNSUPPORTED, {}, None,
                                           detail="not in the adapter's hello"))
            unlisted[case.suite, case.op, "op not in the adapter's hello"] += 1
            continue
        if case.op in TRAMPOLINE_OP_NAMES and case.request.get("format") not in formats:
            report.outcomes.append(Outcome(case, UNSUPPORTED, {}, None, detail=(
                "trampoline format not in the adapter's hello (trampoline_formats)")))
            unlisted[case.suite, case.op, f"trampoline format {case.request.get('format')} "
                     "not in the adapter's hello (trampoline_formats)"] += 1
            continue
        report.ran += 1
        at[number] = len(report.outcomes)
        report.outcomes.append(run_case(case, number, adapter, profile=profile,
                                        deviations=deviations, notes=report.notes,
                                        understood=understood))
        _blame_duplicates(report, adapter, at)
    report.skipped += [{"suite": suite, "op": op, "cases": n, "reason": reason}
                       for (suite, op, reason), n in sorted(unlisted.items())]
    return report


def _blame_duplicates(report: Report, adapter: AdapterProcess, at: dict[object, int]) -> None:
    """An answer repeated for an earlier id makes that id's case an adapter error."""
    while adapter.duplicates:
        wire_id, detail = adapter.duplicates.pop(0)
        index = at.get(wire_id)
        if index is None:
            report.notes.append(f"adapter: id {wire_id!r} {detail}")
            continue
        outcome = report.outcomes[index]
        outcome.status, outcome.detail = ADAPTER_ERROR, f"garbage: {detail}"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 160 else f"{text[:100]}…({len(text)} chars)…{text[-40:]}"


def skip_text(skip: dict[str, Any]) -> str:
    what = " ".join(str(skip[k]) for k in ("suite", "file", "op") if k in skip)
    count = f" ({skip['cases']} case(s))" if "cases" in skip else ""
    return f"{what}{count}: {skip['reason']}"


def render(report: Report) -> str:
    lines = [f"adapter: {report.adapter}",
             f"hello: {report.hello.get('implementation') if report.hello else None}"]
    lines += [f"note: {n}" for n in report.notes]
    for o in report.outcomes:
        if o.status in (AGREE, UNSUPPORTED):
            continue
        lines.append(f"{o.status.upper()} {o.case.id} [{o.case.op}] from {o.case.origin}")
        lines.append(f"  rule: {o.case.rule}")
        if o.difference is not None:
            lines.append(f"  grade: {o.difference.grade}: {o.difference.text or o.case.rule}")
        if o.detail:
            lines.append(f"  {o.detail}")
        if o.deviation is not None:
            lines.append(f"  known deviation {o.deviation.id}: {o.deviation.explanation}")
        if o.difference is not None or o.status == ADAPTER_ERROR:
            key = o.difference.field if o.difference and o.difference.kind == "output" else None
            for who, ans in (("sphinxamp", o.expected), ("adapter  ", o.got)):
                shown = ans if key is None or ans is None else ans.get(key)
                lines.append(f"  {who}: {_short(shown)}")
    counts = report.counts()
    lines.append(f"ran {report.ran} of {len(report.outcomes)} case(s); "
                 f"{len(report.skipped)} part(s) skipped")
    lines += [f"skipped: {skip_text(s)}" for s in report.skipped]
    lines.append(", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items()))
    lines.append("findings by grade: " + "; ".join(
        f"{g} {sum(n.values())} ({n[DISAGREE]} disagree, {n[DEVIATION]} known, {n[NOTE]} note)"
        for g, n in report.grades().items()))
    return "\n".join(lines) + "\n"
