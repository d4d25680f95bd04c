"""Known deviations: disagreements an implementation is known to have, each explained, in a
JSON file the user can extend. A disagreement one of them matches is reported as a known
deviation, not a failure; one that matches none stays a disagreement.

```
{"format": "sphinxamp-deviations/1", "implementation": "…",
 "deviations": [{"id", "op", "kinds", "traits", "reference_reasons", "adapter", "cases",
                 "rule", "explanation"}]}
```
Every condition given must hold: `op` (a name, or "*"), `kinds` (the difference's kind:
accept_refuse, output, failure_code, location), `traits` (any of the request's traits, e.g.
onion_build's last_frame_longer), `reference_reasons` (shell patterns matched against the
reason of sphinxamp's refusal), `adapter` ("accepts" or "refuses"), `cases` (shell patterns
on the case id). `rule`, `bolt` (the sentence of the text the implementation departs from,
quoted) and `explanation` are shown with the disagreement. A difference graded MAY is a note
and never needs an entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from sphinxamp._json import load_json
from sphinxamp.conformance.protocol import DIFFERENCE_KINDS, Difference
from sphinxamp.errors import InvalidArgument

FORMAT = "sphinxamp-deviations/1"
_KEYS = {"id", "op", "kinds", "traits", "reference_reasons", "adapter", "cases", "rule",
         "bolt", "explanation"}


@dataclass(frozen=True, slots=True)
class Deviation:
    id: str
    explanation: str
    rule: str = ""
    op: str = "*"
    kinds: tuple[str, ...] = ()
    traits: tuple[str, ...] = ()
    reference_reasons: tuple[str, ...] = ()
    adapter: str | None = None
    cases: tuple[str, ...] = ()
    bolt: str = ""

    def matches(self, *, op: str, case_id: str, difference: Difference, traits: set[str],
                expected: Mapping[str, Any], got: Mapping[str, Any]) -> bool:
        if self.op not in ("*", op):
            return False
        if self.kinds and difference.kind not in self.kinds:
            return False
        if self.traits and not traits.intersection(self.traits):
            return False
        if self.cases and not any(fnmatchcase(case_id, p) for p in self.cases):
            return False
        if self.adapter is not None and self.adapter != (
                "refuses" if "error" in got else "accepts"):
            return False
        if self.reference_reasons:
            reason = str((expected.get("error") or {}).get("reason"))
            return any(fnmatchcase(reason, p) for p in self.reference_reasons)
        return True


def _tuple(entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key, ())
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def parse(doc: object, source: str = "deviations") -> list[Deviation]:
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise InvalidArgument(f"{source}: not a {FORMAT} document", field="deviations",
                              reason="format")
    out = []
    for i, entry in enumerate(doc.get("deviations", [])):
        unknown = set(entry) - _KEYS
        kinds = _tuple(entry, "kinds")
        if unknown or "id" not in entry or set(kinds) - set(DIFFERENCE_KINDS) or \
                entry.get("adapter") not in (None, "accepts", "refuses"):
            raise InvalidArgument(f"{source}: deviation {i} is malformed (keys {sorted(entry)})",
                                  field=f"deviations[{i}]", reason="format")
        out.append(Deviation(
            str(entry["id"]), str(entry.get("explanation", "")), str(entry.get("rule", "")),
            str(entry.get("op", "*")), kinds, _tuple(entry, "traits"),
            _tuple(entry, "reference_reasons"), entry.get("adapter"), _tuple(entry, "cases"),
            str(entry.get("bolt", ""))))
    return out


def load(paths: Sequence[Path]) -> list[Deviation]:
    out: list[Deviation] = []
    for path in paths:
        try:
            doc = load_json(path.read_text(encoding="utf-8"), "deviations")
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"cannot read deviations file {path}: {exc}",
                                  field="deviations", reason="unreadable") from None
        out += parse(doc, str(path))
    return out


def explain(deviations: Sequence[Deviation], **facts: Any) -> Deviation | None:
    """The first deviation matching a disagreement, or None."""
    return next((d for d in deviations if d.matches(**facts)), None)
