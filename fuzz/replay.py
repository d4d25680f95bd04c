#!/usr/bin/env python3
"""Replay inputs through a harness without atheris: for coverage (run it under
`coverage run`), for triage of crashers, and to reproduce one file.

Usage: fuzz/replay.py TARGET PATH... [--json]
PATHs are files or directories (every file inside). Each failing input is reported with a
signature (exception type, message head, innermost frame) so that many crashers of one bug
group together. Exit status 1 when any input failed; 2 when nothing could be replayed (an
unknown target, a path that does not exist, or no file in the paths given), so a mistyped
crash path never reads as "no crash".
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
sys.path.insert(0, str(FUZZ))


class NothingToReplay(Exception):
    """The run would check nothing: said on stderr, exit status 2."""


def targets() -> list[str]:
    return sorted(p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py"))


def inputs(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise NothingToReplay(f"{name}: no such file or directory")
    if not found:
        raise NothingToReplay(f"no input file in {', '.join(paths)}")
    return found


def signature(exc: BaseException) -> str:
    """Type, first line of the message, and the innermost frame outside the test harness
    plumbing: stable across inputs that trip the same bug."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f for f in reversed(frames) if "sphinxamp" in f.filename), frames[-1])
    message = str(exc).splitlines()[0][:120] if str(exc) else ""
    # Values in assertion messages vary per input; keep the wording, drop hex and numbers.
    head = "".join("#" if ch.isdigit() else ch for ch in message.split(":")[0])
    return f"{type(exc).__name__}: {head} @ {Path(where.filename).name}:{where.name}"


def replay(target: str, files: list[Path]) -> list[dict[str, str]]:
    if target not in targets():
        raise NothingToReplay(f"unknown target {target!r}; the targets: {', '.join(targets())}")
    harness = importlib.import_module(f"fuzz_{target}")
    failures = []
    for path in files:
        try:
            harness.test_one_input(path.read_bytes())
        except Exception as exc:  # every escape is a finding, to be reported, not raised
            failures.append({"file": str(path), "signature": signature(exc),
                             "error": f"{type(exc).__name__}: {exc}"[:500]})
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--json", action="store_true", help="failures as JSON on stdout")
    args = parser.parse_args()
    try:
        files = inputs(args.paths)
        failures = replay(args.target, files)
    except NothingToReplay as exc:
        sys.stderr.write(f"replay: {exc}; nothing was replayed\n")
        return 2
    if args.json:
        print(json.dumps(failures, indent=1))
    else:
        for fail in failures:
            print(f"{fail['file']}: {fail['error']}")
    sys.stderr.write(f"replay: {len(files)} input(s) through {args.target}, "
                     f"{len(failures)} failed\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
