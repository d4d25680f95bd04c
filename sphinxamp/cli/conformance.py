"""`sphinxamp conformance adapter|run|export`: the conformance kit from the command line."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from sphinxamp.cli._common import Subparsers, emit_json, output_dir
from sphinxamp.cli._options import BoundedFloat, add_json_flag, add_profile, int_in
from sphinxamp.conformance import deviations as deviation_files
from sphinxamp.conformance.adapter import AdapterProcess, parse_command
from sphinxamp.conformance.export import export
from sphinxamp.conformance.reference import serve
from sphinxamp.conformance.run import render, run_cases, skip_text
from sphinxamp.conformance.suites import SUITES, Selection, select_suites
from sphinxamp.errors import InvalidArgument

RUN_DESCRIPTION = """\
Send every case of the suites to the adapter (a command reading one JSON request per line on
stdin and writing one JSON answer per line) and compare each answer with sphinxamp's: agree,
disagree, known deviation, note, unsupported, or adapter error (a timeout, a crash, garbage).
Every difference is graded by the strength of the rule it breaks (MUST, SHOULD, MAY): a MAY
(a failure code the text leaves to the node, invalid_onion_payload's type and offset) is a
note; the summary counts each grade. For a disagreement both answers are shown with the BOLT
rule involved. Exit 0 when no MUST-graded disagreement and no adapter error remain (known
deviations, SHOULD disagreements and notes do not fail a run), 1 otherwise. Suites: bolt (the
official lightning/bolts bolt04/*.json files, read from --bolt-dir), recorded (the vectors
installed with sphinxamp), valid and malformed (generated from --seed). Default: every suite,
bolt only when --bolt-dir is given. A run fails (exit 1, the reason on stderr) when no answer
was compared; the summary says how many cases ran and what was skipped, and why. A suite named
with --suite that gives no case is an error, and --suite bolt needs --bolt-dir (exit 2); an
official file missing from --bolt-dir is skipped and listed. An adapter that cannot start
(not found, exits or hangs before answering hello, or answers it with garbage) stops the run
with one message (exit 1).
"""


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("conformance",
                                  help="drive another implementation through an adapter")
    sub = group.add_subparsers(dest="conformance_command", metavar="ACTION", required=True)
    adapter = sub.add_parser("adapter", help="sphinxamp itself behind the adapter protocol "
                             "(JSON lines on stdin/stdout)")
    add_profile(adapter)
    adapter.add_argument("--json", action="store_true",
                         help="accepted for uniformity: the adapter always answers in JSON lines")
    adapter.set_defaults(handler=run_adapter)
    run = sub.add_parser("run", help="run the suites through an adapter and compare",
                         description=RUN_DESCRIPTION,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--adapter", required=True, metavar="CMD", type=adapter_command,
                     help="the adapter command line (split like a shell would)")
    _suite_options(run)
    add_profile(run, "payload rules the expectations follow (default bolt)")
    run.add_argument("--timeout", type=BoundedFloat(0, 3600, open_low=True), default=10.0,
                     metavar="S", help="seconds per request, above 0 and at most 3600 "
                     "(default 10)")
    run.add_argument("--deviations", type=Path, action="append", default=[], metavar="FILE",
                     help="known deviations (sphinxamp-deviations/1); repeatable")
    add_json_flag(run)
    run.set_defaults(handler=run_run, usage_error=run.error)
    out = sub.add_parser("export", help="write the suites as JSON files (BOLT vector style)")
    out.add_argument("--out", type=Path, required=True, metavar="DIR",
                     help="folder to write into: made when absent; an existing file (/dev/null "
                     "too) is refused, and so is a folder holding files unless --force")
    out.add_argument("--force", action="store_true",
                     help="write into a folder that already holds files, replacing files of "
                     "the same name")
    _suite_options(out)
    add_json_flag(out)
    out.set_defaults(handler=run_export, usage_error=out.error)


def adapter_command(text: str) -> str:
    """An argparse type: a command line that splits (quotes closed) and names a program."""
    try:
        parse_command(text)
    except InvalidArgument as exc:
        raise argparse.ArgumentTypeError(exc.message.removeprefix("--adapter: ")) from None
    return text


def selection(args: argparse.Namespace) -> Selection:
    """The suites asked for; --suite bolt without --bolt-dir is a usage error (exit 2)."""
    if args.suite and "bolt" in args.suite and args.bolt_dir is None:
        args.usage_error("--suite bolt needs --bolt-dir DIR, the folder of the official "
                         "lightning/bolts bolt04/*.json files")
    return select_suites(args.suite, seed=args.seed, bolt_dir=args.bolt_dir)


def _suite_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", action="extend", nargs="+", choices=SUITES, metavar="NAME",
                        help=f"of {', '.join(SUITES)}; several may follow, or the option "
                        "repeat (default: all)")
    parser.add_argument("--seed", type=int_in(0, 2**64 - 1), default=1,
                        help="seed of the generated suites, 0 to 2^64-1 (default 1)")
    parser.add_argument("--bolt-dir", type=Path, default=None, metavar="DIR",
                        help="folder holding the official bolt04/*.json vector files")


def run_adapter(args: argparse.Namespace) -> int:
    return serve(sys.stdin, sys.stdout, args.profile)


def run_run(args: argparse.Namespace) -> int:
    if not args.timeout > 0:
        raise InvalidArgument("--timeout must be a positive number of seconds", field="timeout",
                              reason="range")
    known = deviation_files.load(args.deviations)
    chosen = selection(args)
    with AdapterProcess(args.adapter, timeout=args.timeout) as adapter:
        report = run_cases(chosen.cases, adapter, profile=args.profile, deviations=known,
                           command=args.adapter)
    report.notes[:0] = chosen.notes
    report.skipped[:0] = chosen.skipped
    if args.json:
        emit_json({**report.to_json(), "versions": versions(report.hello)})
    else:
        sys.stdout.write(render(report))
    if not report.ok:
        why = "; ".join(report.failures())
        sys.stderr.write(f"sphinxamp: error: conformance run failed: {why}\n")
    return 0 if report.ok else 1


def versions(hello: dict[str, Any] | None) -> dict[str, Any]:
    """Who answered, so that a run can be reproduced: sphinxamp as installed, and the adapter
    as its hello names itself (`implementation`, and `version` when it gives one)."""
    try:
        ours: str | None = metadata.version("sphinxamp")
    except metadata.PackageNotFoundError:  # a source tree on the path, never installed
        ours = None
    said = hello or {}
    return {"sphinxamp": ours, "adapter": {"implementation": said.get("implementation"),
                                           "version": said.get("version")}}


def run_export(args: argparse.Namespace) -> int:
    chosen = selection(args)
    cases, notes = chosen.cases, chosen.notes
    written = export(cases, output_dir(args.out, "--out", force=args.force), args.seed)
    if args.json:
        emit_json({"files": [str(p) for p in written], "cases": len(cases), "notes": notes,
                   "skipped": chosen.skipped})
    else:
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
        for skip in chosen.skipped:
            sys.stderr.write(f"skipped: {skip_text(skip)}\n")
        sys.stdout.write("".join(f"{p}\n" for p in written))
        sys.stdout.write(f"{len(cases)} cases in {len(written)} files\n")
    return 0
