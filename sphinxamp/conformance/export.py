"""`sphinxamp conformance export`: the suites as JSON files in the BOLT vectors' style (a
`comment`, the inputs, the outputs), one file per suite and op, for implementers who want
them in their own test suite without running an adapter."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sphinxamp._version import __version__
from sphinxamp.conformance.cases import Case
from sphinxamp.conformance.ops import OPS, answer
from sphinxamp.conformance.protocol import PROTOCOL


def export_document(suite: str, op: str, cases: Sequence[Case], seed: int) -> dict[str, Any]:
    return {
        "comment": f"sphinxamp {__version__} conformance suite {suite!r}, op {op!r} "
                   f"({OPS[op].rule}). Each test: the request (inputs of the {PROTOCOL} "
                   "op) and what a conforming implementation answers: the outputs, or "
                   "`error` with the BOLT 4 failure_code and, for invalid_onion_payload, "
                   "the tlv_type and offset its failure message carries.",
        "protocol": PROTOCOL, "suite": suite, "op": op, "seed": seed,
        "compared": list(OPS[op].compared),
        "tests": [{"id": c.id, "origin": c.origin, "rule": c.rule, "request": dict(c.request),
                   "expect": answer({"op": c.op, **c.request})} for c in cases],
    }


def export(cases: Sequence[Case], out: Path, seed: int) -> list[Path]:
    """Write the files; return their paths (sorted)."""
    out.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[str, str], list[Case]] = {}
    for case in cases:
        groups.setdefault((case.suite, case.op), []).append(case)
    written = []
    for (suite, op), group in sorted(groups.items()):
        path = out / f"{suite}-{op}.json"
        doc = export_document(suite, op, group, seed)
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written
