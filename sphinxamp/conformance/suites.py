"""The suites: the official BOLT vectors (read as published from a folder), the project's
recorded vectors (installed with the package), generated valid cases and generated
malformed cases."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from sphinxamp._json import load_json
from sphinxamp.conformance.cases import Case
from sphinxamp.conformance.generate import valid_cases
from sphinxamp.conformance.malformed import malformed_cases
from sphinxamp.conformance.official import load_official
from sphinxamp.conformance.ops import OPS
from sphinxamp.errors import InvalidArgument

SUITES = ("bolt", "recorded", "valid", "malformed")
BOLT_FILES = ("onion-test.json", "onion-error-test.json", "route-blinding-test.json",
              "blinded-payment-onion-test.json", "blinded-onion-message-onion-test.json")
# TLV failures a reader that knows only the record types (not their fields) must still see.
_STREAM_ERRORS = frozenset({
    "type_truncated", "type_not_minimal", "length_missing", "length_truncated",
    "length_not_minimal", "value_missing", "value_truncated", "not_strictly_increasing",
    "duplicate_type", "unknown_even_type"})


def recorded_dir() -> Traversable:
    installed = resources.files("sphinxamp") / "_vectors"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "vectors"


def bolt_cases(folder: Path) -> tuple[list[Case], list[str]]:
    cases, skipped = _bolt_files(folder)
    return cases, [f"bolt: {s['reason']}" for s in skipped]


def _bolt_files(folder: Path) -> tuple[list[Case], list[dict[str, Any]]]:
    """The official files' cases, and each file that gave none with the reason."""
    cases: list[Case] = []
    skipped: list[dict[str, Any]] = []
    for name in BOLT_FILES:
        path = folder / name
        if not path.is_file():
            skipped.append({"suite": "bolt", "file": name, "reason": f"{path} not found"})
            continue
        found = load_official(path)
        if not found:
            skipped.append({"suite": "bolt", "file": name,
                            "reason": f"{name}: its ops are not supported by this build"})
        cases += found
    return cases, skipped


def _bigsize(file: str, case: Mapping[str, Any]) -> Iterator[Case]:
    expect = case["expect"]
    want = {"value": expect["value"]} if "value" in expect else {"error": {}}
    yield _recorded(file, case, "bigsize_decode", {"bytes": case["bytes"]}, want)


def _tlv(file: str, case: Mapping[str, Any]) -> Iterator[Case]:
    expect = case["expect"]
    for ns in case["namespaces"]:
        known = [int(r["type"]) for r in case["namespace_defs"][ns]["records"]]
        want: dict[str, Any] = {}
        if not expect.get("valid", True) and expect.get("error") in _STREAM_ERRORS:
            want = {"error": {}}
        req = {"stream": case["stream"], "known_types": known}
        yield _recorded(file, case, "tlv_decode", req, want, f":{ns}")


def _onion(file: str, case: Mapping[str, Any]) -> Iterator[Case]:
    keys = ("onion", "node_key", "associated_data", "payload_area", "path_key", "session_key")
    req = {k: case[k] for k in keys if k in case}
    expect = case["expect"]
    if case["kind"] == "onion-build":
        req["hops"] = [{"pubkey": h["pubkey"], "payload": h["payload"]} for h in case["hops"]]
        yield _recorded(file, case, "onion_build", req, {"onion": expect["onion"]})
        return
    if "error" in expect:
        want: dict[str, Any] = {"error": {"failure_code": expect.get("failure_code")}}
    else:
        want = {k: expect[k] for k in ("payload", "next_onion") if k in expect}
    yield _recorded(file, case, "onion_peel", req, want)


def _recorded(file: str, case: Mapping[str, Any], op: str, request: dict[str, Any],
              expect: dict[str, Any], suffix: str = "") -> Case:
    return Case(f"recorded:{file}:{case['id']}{suffix}", "recorded", op, request,
                f"vectors/{file} {case['id']}", OPS[op].rule, expect)


def _trampoline(file: str, case: Mapping[str, Any]) -> Iterator[Case]:
    """A trampoline payload (Eclair's, LDK's) and a trampoline node's two peels (the
    proposal's vectors), each in its format; a refused peel is left to process_hop's tests,
    its failure depending on the HTLC."""
    expect, fmt = case["expect"], case.get("profile", "trampoline")
    want: dict[str, Any] = {}
    if case["kind"] == "trampoline-payload":
        want = {k: expect[k] for k in ("outgoing_node_id",) if k in expect}
        yield _recorded(file, case, "trampoline_payload_decode",
                        {"payload": case["payload"], "format": fmt}, want)
        return
    if "refused" in expect:
        return
    req = {k: case[k] for k in ("onion", "node_key", "associated_data")}
    if "next_trampoline_onion" in expect:
        want["next_onion"] = expect["next_trampoline_onion"]
    elif expect.get("action") in ("receive", "pay_blinded_paths", "pay_node"):
        want["next_onion"] = None  # the trampoline onion ends here
    if "payload" in expect:
        want["payload"] = expect["payload"]
    yield _recorded(file, case, "trampoline_peel", {**req, "format": fmt}, want)


_KINDS = {"bigsize-decode": _bigsize, "tlv-decode": _tlv, "onion-build": _onion,
          "onion-peel": _onion}


def recorded_cases() -> list[Case]:
    """The recorded vectors' cases of the kinds the protocol has ops for."""
    out: list[Case] = []
    root = recorded_dir()
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        doc = load_json(entry.read_text(encoding="utf-8"), entry.name)
        common = doc.get("common", {})
        for case in doc.get("cases", []):
            make = _KINDS.get(case.get("kind"))
            if make is not None:
                out += make(entry.name, {**common, **case})
        for case in doc.get("trampoline_cases", []):
            if case.get("kind") in ("trampoline-payload", "trampoline-process"):
                out += _trampoline(entry.name, case)
    return out


def load_suites(names: list[str], *, seed: int = 1, bolt_dir: Path | None = None
                ) -> tuple[list[Case], list[str]]:
    """The cases of the named suites, and notes on what could not be loaded."""
    cases: list[Case] = []
    notes: list[str] = []
    for name in names:
        if name == "bolt":
            if bolt_dir is None:
                notes.append("bolt: no --bolt-dir given (the folder of lightning/bolts "
                             "bolt04/*.json), suite skipped")
                continue
            found, more = bolt_cases(bolt_dir)
            cases += found
            notes += more
        elif name == "recorded":
            cases += recorded_cases()
        elif name == "valid":
            cases += valid_cases(seed)
        elif name == "malformed":
            cases += malformed_cases(seed)
        else:
            raise ValueError(f"unknown suite {name!r}; one of {', '.join(SUITES)}")
    return cases, notes


@dataclass
class Selection:
    """The cases of a run, and what was left out (`skipped`: one entry per suite or file, each
    with its `reason`)."""

    cases: list[Case] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


NO_BOLT_DIR = ("no --bolt-dir given (the folder of the official lightning/bolts "
               "bolt04/*.json files)")


def select_suites(names: Sequence[str] | None, *, seed: int = 1, bolt_dir: Path | None = None
                  ) -> Selection:
    """The cases of the suites named (None: every suite, the bolt suite only when `bolt_dir`
    is given). A suite that was named and yields no case is an `InvalidArgument`, so a run
    never passes having checked nothing; official files missing from `bolt_dir` are skipped
    with the reason, unless none is there."""
    chosen = list(names) if names else list(SUITES)
    out = Selection()
    for name in dict.fromkeys(chosen):
        if name == "bolt" and bolt_dir is None:
            if names:
                raise InvalidArgument("--suite bolt needs --bolt-dir DIR, the folder of the "
                                      "official lightning/bolts bolt04/*.json files",
                                      field="bolt_dir", reason="missing")
            out.skipped.append({"suite": "bolt", "reason": NO_BOLT_DIR})
            continue
        if name == "bolt":
            assert bolt_dir is not None
            out.cases += _official(bolt_dir, out.skipped)
            continue
        found, notes = load_suites([name], seed=seed)
        out.notes += notes
        if not found:
            raise InvalidArgument(f"suite {name} has no case", field="suite", reason="empty")
        out.cases += found
    return out


def _official(folder: Path, skipped: list[dict[str, Any]]) -> list[Case]:
    if not folder.is_dir():
        raise InvalidArgument(f"--bolt-dir: {folder} is not a folder", field="bolt_dir",
                              reason="not_a_folder")
    found, missed = _bolt_files(folder)
    if not found:
        raise InvalidArgument(f"--bolt-dir: no case in {folder}: "
                              + "; ".join(m["reason"].replace(f"{folder}/", "") for m in missed),
                              field="bolt_dir", reason="empty")
    skipped += missed
    return found
