"""The conformance kit: another implementation driven through an adapter (a command speaking
the JSON-lines protocol of `protocol.py`), compared with sphinxamp case by case.

- `ops`: the registry (op → rule, compared outputs, reference implementation);
- `reference`: sphinxamp behind the protocol (`sphinxamp conformance adapter`);
- `adapter`: a running adapter with a deadline per request;
- `suites`, `generate`, `malformed`: the cases; `run`: comparison and report;
- `judge`: what the adapter's hello declares and the answers the text allows; every
  difference graded MUST, SHOULD or MAY (`protocol.compare`);
- `classes`: differential findings grouped into classes, one shortest reproducer each;
- `deviations`: known, explained disagreements; `export`: the suites as JSON files;
- `corpus`: fuzzing seeds that get past a node's HMAC check;
- `official`: the official BOLT 4 vector files as cases; `vectors`: the recorded vectors and
  the official files checked against the reference (`sphinxamp vectors check`: `run_document`,
  `check_file`, each case a `CaseResult`).
"""

from __future__ import annotations

from sphinxamp.conformance.adapter import AdapterProcess, Reply
from sphinxamp.conformance.cases import Case
from sphinxamp.conformance.deviations import Deviation
from sphinxamp.conformance.ops import OPS, answer, supported
from sphinxamp.conformance.protocol import PROTOCOL, Difference, load_schema
from sphinxamp.conformance.run import Outcome, Report, run_cases
from sphinxamp.conformance.suites import SUITES, load_suites
from sphinxamp.conformance.vectors import CaseResult, run_document
from sphinxamp.conformance.vectors.bolt import check_file

__all__ = [
    "OPS",
    "PROTOCOL",
    "SUITES",
    "AdapterProcess",
    "Case",
    "CaseResult",
    "Deviation",
    "Difference",
    "Outcome",
    "Reply",
    "Report",
    "answer",
    "check_file",
    "load_schema",
    "load_suites",
    "run_cases",
    "run_document",
    "supported",
]
