"""`sphinxamp vectors check`: run the recorded test vectors through the library."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from sphinxamp.cli._common import Subparsers, emit_json, load_json
from sphinxamp.cli._options import add_json_flag
from sphinxamp.conformance import CaseResult, run_document
from sphinxamp.conformance import check_file as check_bolt_file
from sphinxamp.errors import InvalidArgument, SphinxampError

DESCRIPTION = """\
Run every vector file (*.json, in sub-folders too, except tools/) through the library and
report each case. The default folder is vectors/ of the checkout in the current directory
(a directory holding both vectors/ and sphinxamp/), else the copy installed with the package
(sphinxamp/_vectors), else vectors/ next to the imported package's source tree.

Prints one line per failed case, a summary per file, and last "N passed, N failed". --json
prints {"files": [...], "results": [{"file", "id", "kind", "passed", "detail"}],
"passed": N, "failed": N}. Exit status 1 on any failure or when no case is found.
"""

SKIPPED_DIRS = frozenset({"tools"})


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("vectors", help="run the recorded test vectors")
    sub = group.add_subparsers(dest="vectors_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="run every vector file and report",
                           description=DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--dir", type=Path, default=None, metavar="DIR",
                       help="folder of vector files (default: see above)")
    check.add_argument("--bolt", type=Path, action="append", default=[], metavar="FILE.json",
                       help="instead, an official lightning/bolts bolt04/*.json file read as "
                       "published (onion-test, onion-error-test, route-blinding-test, "
                       "blinded-payment-onion-test, blinded-onion-message-onion-test); "
                       "repeatable")
    add_json_flag(check)
    check.set_defaults(handler=run_check)


def default_dir() -> Traversable:
    """The checkout in the current directory, else the installed copy, else the checkout the
    package itself is imported from (a source tree or an editable install)."""
    checkout = Path.cwd()
    if (checkout / "vectors").is_dir() and (checkout / "sphinxamp").is_dir():
        return checkout / "vectors"
    installed = resources.files("sphinxamp") / "_vectors"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "vectors"


def vector_files(root: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    """(name relative to root, file) of every *.json below root, sorted by name."""
    found: list[tuple[str, Traversable]] = []
    for entry in root.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            if entry.name not in SKIPPED_DIRS:
                found += vector_files(entry, f"{name}/")
        elif entry.name.endswith(".json"):
            found.append((name, entry))
    return sorted(found, key=lambda item: item[0])


def run_file(name: str, entry: Traversable) -> list[CaseResult]:
    try:
        doc = load_json(entry.read_text(encoding="utf-8"), name)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [CaseResult(name, "<document>", "json", False, f"unreadable: {exc}")]
    return run_document(doc, name)


def run_check(args: argparse.Namespace) -> int:
    root: Traversable = args.dir if args.dir is not None else default_dir()
    if args.bolt:
        for path in args.bolt:  # a typo is the user's, not a failed vector: say so once
            if not path.is_file():
                raise InvalidArgument(f"--bolt: {path} is not a file", field="bolt",
                                      reason="not_a_file")
        files: list[tuple[str, Traversable]] = [(p.name, p) for p in args.bolt]
        results = [r for path in args.bolt for r in check_bolt_file(path)]
        root = Path(", ".join(str(p) for p in args.bolt))
    elif not root.is_dir():
        raise SphinxampError(f"no vector folder at {root}", field="dir", reason="not_found")
    else:
        files = vector_files(root)
        results = [r for name, entry in files for r in run_file(name, entry)]
    if not results:
        raise SphinxampError(f"no vector cases found in {root}", field="dir",
                             reason="no_cases")
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    if args.json:
        emit_json({"files": [name for name, _ in files],
                   "results": [r.to_dict() for r in results],
                   "passed": passed, "failed": failed})
    else:
        sys.stdout.write(report(root, [name for name, _ in files], results))
    return 1 if failed else 0


def report(root: Traversable, files: list[str], results: list[CaseResult]) -> str:
    lines = [f"vectors in {root}"]
    for name in files:
        mine = [r for r in results if r.file == name]
        lines += [f"FAIL {name} {r.id} [{r.kind}]: {r.detail}" for r in mine if not r.passed]
        ok = sum(r.passed for r in mine)
        lines.append(f"{name}: {ok} passed, {len(mine) - ok} failed")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} passed, {len(results) - passed} failed")
    return "\n".join(lines) + "\n"
