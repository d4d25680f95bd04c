"""`sphinxamp vectors check --bolt FILE`: each case an official file gives (`official`) run
through the reference, which must reproduce what the file states."""

from __future__ import annotations

from pathlib import Path

from sphinxamp.conformance.cases import Case, expectation_problems
from sphinxamp.conformance.official import load_official
from sphinxamp.conformance.ops import answer
from sphinxamp.conformance.vectors import CaseResult


def check_cases(cases: list[Case], file: str) -> list[CaseResult]:
    """Each case through the reference: what the file states must come out."""
    results = []
    for case in cases:
        got = answer({"op": case.op, **case.request})
        if got.get("unsupported"):
            results.append(CaseResult(file, case.id, case.op, False,
                                      f"{case.op} is not supported by this build"))
            continue
        problems = expectation_problems(case.expect, got)
        results.append(CaseResult(file, case.id, case.op, not problems,
                                  "; ".join(problems) or "as published"))
    return results


def check_file(path: Path) -> list[CaseResult]:
    try:
        cases = load_official(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [CaseResult(path.name, "<document>", "bolt", False, f"unreadable: {exc}")]
    if not cases:
        return [CaseResult(path.name, "<document>", "bolt", False,
                           "no case this build can run (its library module is missing)")]
    return check_cases(cases, path.name)
