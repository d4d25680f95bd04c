"""Run the sphinxamp fuzz targets under atheris/libFuzzer and summarise the campaign.

Each target runs for its budget in one libFuzzer process per core (-jobs/-workers); new inputs go to
fuzz/out/<target>/corpus (the committed seeds stay untouched unless --merge), crashers to
fuzz/crashes/<target>/. Afterwards the corpus is replayed under coverage.py and the crashers
are replayed to group them by signature. A target whose process died, ended before its budget,
had to be stopped, or executed no input fails the run (exit 1) with the reason and its log:
a campaign that fuzzed nothing must not read as one that found nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _runlog import MAX_JOBS, MAX_SECONDS, Ending, JobLog, bounded, worker_problems
from _targets import corpus_of

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
OUT = FUZZ / "out"
CRASHES = FUZZ / "crashes"
FINDING_PREFIXES = ("crash-", "oom-", "timeout-", "leak-")
# Inputs beyond these sizes exercise nothing new and slow mutation down.
# The targets that read onion messages reach the whole message: BOLT 4 › Onion Messages gives
# onion_message_packet a u16 len, so type (2) ‖ path_key (33) ‖ len (2) ‖ up to 65,535 bytes;
# the default 4,096 would never try the 32,768-byte area a sender may choose.
ONION_MESSAGE_MAX = 2 + 33 + 2 + 0xFFFF
MAX_LEN = {"bigsize": 32, "onion_packet": 4096, "peel_raw": 4096, "peel_reseal": 2048,
           "onion_message": ONION_MESSAGE_MAX, "onionmsg_tlv": ONION_MESSAGE_MAX,
           "explain": ONION_MESSAGE_MAX}
MODULE = {"bigsize": "_bigsize.py", "tlv_stream": "_tlv.py", "tlv_typed": "_tlv.py",
          "onion_packet": "_sphinx.py", "peel_raw": "_sphinx.py", "peel_reseal": "_sphinx.py"}


@dataclass
class Result:
    target: str
    seconds: float = 0.0
    execs: int = 0
    cov: int = 0
    cov_start: int | None = None
    corpus: int = 0
    findings: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    module_cov: float | None = None
    package_cov: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.execs / self.seconds if self.seconds else 0.0


def targets() -> list[str]:
    return sorted(p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py"))


def module_of(target: str) -> str:
    """The module a target is mainly about, for the per-module coverage column."""
    target = corpus_of(target)  # a fast target is about its oracle's module
    if target in MODULE:
        return MODULE[target]
    if target.startswith("payload"):
        return "_payload.py"
    return f"_{target}.py" if (REPO / "sphinxamp" / f"_{target}.py").is_file() else ""


def _wrapper(python: str, target: str) -> Path:
    """libFuzzer's fork mode re-executes argv[0]; give it an executable that runs the harness."""
    path = OUT / ".bin" / f"fuzz_{target}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nexec "{python}" "{FUZZ / f"fuzz_{target}.py"}" "$@"\n')
    path.chmod(0o755)
    return path


def fuzz_command(args: argparse.Namespace, target: str) -> list[str]:
    work, crashes = OUT / target / "corpus", CRASHES / target
    work.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    corpus = corpus_of(target)  # a fast target reads its oracle's seeds, dict and max_len
    cmd = [args.python, str(FUZZ / f"fuzz_{target}.py"), f"-max_total_time={args.seconds}",
           f"-max_len={MAX_LEN.get(corpus, 4096)}", "-timeout=10", "-rss_limit_mb=2048",
           f"-artifact_prefix={crashes}/", "-print_final_stats=1"]
    if (FUZZ / "dict" / f"{corpus}.dict").is_file():
        cmd.append(f"-dict={FUZZ / 'dict' / f'{corpus}.dict'}")
    if args.jobs > 1:
        # -jobs/-workers rather than -fork: fork mode restarts a short-lived process per job,
        # and a Python harness spends most of such a job importing; -jobs keeps one process
        # per core for the whole budget, sharing finds through the corpus directory (-reload).
        cmd += [f"-jobs={args.jobs}", f"-workers={args.jobs}"]
    return [*cmd, str(work), str(FUZZ / "corpus" / corpus)]


class Progress:
    """Adds up the jobs' status lines and keeps one live line on a terminal (a line every
    10 s otherwise)."""

    def __init__(self, result: Result, budget: int, logdir: Path) -> None:
        self.result, self.budget, self.logdir = result, budget, logdir
        self.start = time.monotonic()
        self.tty = sys.stdout.isatty()
        self.last_print = 0.0
        self.jobs: dict[Path, JobLog] = {}

    def poll(self, final: bool = False) -> None:
        for path in sorted(self.logdir.glob("fuzz-*.log")):
            self.jobs.setdefault(path, JobLog(path)).poll()
        jobs, res = list(self.jobs.values()), self.result
        res.execs = sum(j.execs for j in jobs)
        res.cov = max((j.cov for j in jobs), default=0)
        res.corpus = max((j.corp for j in jobs), default=0)
        if res.cov_start is None and res.cov:
            res.cov_start = res.cov
        self.show(0 if final else sum(j.rate for j in jobs), final)

    def show(self, rate: int, final: bool) -> None:
        now = time.monotonic()
        if not final and not self.tty and now - self.last_print < 10:
            return
        self.last_print = now
        res = self.result
        new = res.cov - (res.cov_start or 0)
        text = (f"[{res.target}] {now - self.start:5.0f}/{self.budget}s  execs {res.execs:>9}  "
                f"exec/s {rate:>6}  cov {res.cov} (+{new})  corp {res.corpus}")
        if self.tty:
            print(f"\r\033[K{text}", end="\n" if final else "", flush=True)
        else:
            print(text, flush=True)


def run_target(args: argparse.Namespace, target: str) -> Result:
    result = Result(target)
    logdir = OUT / target
    logdir.mkdir(parents=True, exist_ok=True)
    for old in logdir.glob("fuzz-*.log"):
        old.unlink()
    before = set(_findings(target))
    env = {**os.environ, "SPHINXAMP_FUZZ_ARGV0": str(_wrapper(args.python, target))}
    progress = Progress(result, args.seconds, logdir)
    # With -jobs libFuzzer writes each worker's output to fuzz-<i>.log in its cwd; a single
    # process gets the same file name so both cases are read alike.
    sink_name = "parent.log" if args.jobs > 1 else "fuzz-0.log"
    start, killed = time.monotonic(), False
    with (logdir / sink_name).open("w") as sink, subprocess.Popen(
            fuzz_command(args, target), stdout=subprocess.DEVNULL, stderr=sink, env=env,
            cwd=logdir, start_new_session=True) as proc:
        deadline = start + args.seconds + 60  # past a grace period the group is ended
        while proc.poll() is None:
            time.sleep(1)
            progress.poll()
            if time.monotonic() > deadline and not killed:
                os.killpg(proc.pid, signal.SIGTERM)
                killed = True
    result.seconds = time.monotonic() - start
    progress.poll(final=True)
    result.findings = sorted(set(_findings(target)) - before)
    result.corpus = _count(OUT / target / "corpus") + _count(FUZZ / "corpus" / corpus_of(target))
    logs = list(progress.jobs.values())
    result.problems = worker_problems(
        Ending(proc.returncode, killed, result.seconds, args.seconds, bool(result.findings)),
        logs or [JobLog(logdir / sink_name)])
    if 1 < len(logs) < args.jobs and not result.findings:
        result.problems.append(f"only {len(logs)} of {args.jobs} workers wrote a log; "
                               f"log {logdir / sink_name}")
    return result


def _count(folder: Path) -> int:
    return sum(1 for p in folder.glob("*") if p.is_file()) if folder.is_dir() else 0


def _findings(target: str) -> list[str]:
    folder = CRASHES / target
    if not folder.is_dir():
        return []
    return [p.name for p in folder.iterdir() if p.name.startswith(FINDING_PREFIXES)]


def triage(args: argparse.Namespace, result: Result) -> None:
    """Replay new crashers to group them by signature (timeouts and OOMs by kind)."""
    files = [str(CRASHES / result.target / n) for n in result.findings if n.startswith("crash-")]
    sigs = {n.split("-")[0] for n in result.findings if not n.startswith("crash-")}
    if files:
        proc = subprocess.run([args.python, str(FUZZ / "replay.py"), result.target, *files,
                               "--json"], capture_output=True, text=True, cwd=REPO, check=False)
        try:
            sigs |= {f["signature"] for f in json.loads(proc.stdout or "[]")}
        except json.JSONDecodeError:
            sigs.add("crash (replay output unreadable)")
        if proc.returncode == 0:
            sigs.add("crash that does not reproduce in a replay")
    result.signatures = sorted(sigs)


def measure_coverage(args: argparse.Namespace, result: Result) -> None:
    """Replay seeds plus the campaign's corpus under coverage.py (never inside the fuzz loop)."""
    work = OUT / result.target
    data, report = work / ".coverage", work / "coverage.json"
    dirs = [str(FUZZ / "corpus" / corpus_of(result.target)), str(work / "corpus")]
    subprocess.run([args.python, "-m", "coverage", "run", f"--data-file={data}",
                    f"--source={REPO / 'sphinxamp'}", str(FUZZ / "replay.py"), result.target,
                    *dirs], cwd=REPO, capture_output=True, check=False)
    subprocess.run([args.python, "-m", "coverage", "json", f"--data-file={data}", "-o",
                    str(report)], cwd=REPO, capture_output=True, check=False)
    if not report.is_file():
        return
    doc = json.loads(report.read_text())
    totals = doc["totals"]
    result.package_cov = 100.0 * totals["covered_lines"] / max(totals["num_statements"], 1)
    module = module_of(result.target)
    for name, info in doc["files"].items():
        # Suffix match on the package path: sphinxamp/cli/ has modules of the same names.
        if module and Path(name).as_posix().endswith(f"sphinxamp/{module}"):
            summary = info["summary"]
            result.module_cov = 100.0 * summary["covered_lines"] / max(
                summary["num_statements"], 1)


def merge(args: argparse.Namespace, target: str) -> None:
    """Add the campaign's coverage-increasing inputs to the committed seeds (minimised)."""
    env = {**os.environ, "SPHINXAMP_FUZZ_ARGV0": str(_wrapper(args.python, target))}
    subprocess.run([args.python, str(FUZZ / f"fuzz_{target}.py"), "-merge=1",
                    f"-max_len={MAX_LEN.get(corpus_of(target), 4096)}",
                    str(FUZZ / "corpus" / corpus_of(target)),
                    str(OUT / target / "corpus")], cwd=REPO, env=env, capture_output=True,
                   check=False)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def table(results: list[Result]) -> str:
    head = ("target", "execs", "execs/s", "corpus", "module", "line cov (module)",
            "line cov (sphinxamp/)", "findings")
    rows = [head] + [(r.target, str(r.execs), f"{r.rate:.0f}", str(r.corpus),
                      module_of(r.target), _pct(r.module_cov), _pct(r.package_cov),
                      str(len(r.signatures)) if r.findings else "0") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fuzz/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"default: all ({', '.join(targets())})")
    parser.add_argument("--seconds", type=bounded(1, MAX_SECONDS),
                        help=f"budget per target, 1 to {MAX_SECONDS} (default 60, smoke 10)")
    parser.add_argument("--jobs", type=bounded(1, MAX_JOBS), default=os.cpu_count() or 1,
                        help=f"parallel fuzzing processes per target, 1 to {MAX_JOBS} "
                        "(libFuzzer -jobs; default: one per core)")
    parser.add_argument("--smoke", action="store_true",
                        help="short CI run (10 s per target unless --seconds), no coverage")
    parser.add_argument("--coverage", action=argparse.BooleanOptionalAction, default=None,
                        help="replay the corpus under coverage.py afterwards (default: on, "
                             "off with --smoke)")
    parser.add_argument("--merge", action="store_true",
                        help="merge new coverage into the committed fuzz/corpus/<target>")
    parser.add_argument("--python", default=_default_python(), help="interpreter with atheris")
    parser.add_argument("--adapter", metavar="CMD", help="differential fuzzing: every input also "
                        "goes to this conformance adapter (fuzz/differential.py)")
    parser.add_argument("--deviations", action="append", default=[], metavar="FILE",
                        help="with --adapter: known deviations (sphinxamp-deviations/1)")
    parser.add_argument("--compare-mutators", action="store_true",
                        help="run each layered target with plain and with structure-aware "
                        "mutation for --seconds each and compare their depth (fuzz/_compare.py)")
    args = parser.parse_args(argv)
    if args.compare_mutators and args.adapter is not None:
        parser.error("--compare-mutators and --adapter do not combine")
    if args.adapter is not None:
        problem = _adapter_problem(args.adapter)
        if problem:
            parser.error(f"argument --adapter: {problem}")
    elif args.deviations:
        parser.error("--deviations applies only with --adapter")
    unknown = set(args.targets) - set(targets())
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    args.named = bool(args.targets)
    args.targets = args.targets or targets()
    args.seconds = args.seconds or (10 if args.smoke else 60)
    args.coverage = (not args.smoke) if args.coverage is None else args.coverage
    return args


def _adapter_problem(command: str) -> str | None:
    """What is wrong with an adapter command line before anything runs: it must split like a
    shell line and name a program."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"the command line does not parse ({exc})"
    return None if argv and argv[0] else "no command given"


def _default_python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.is_file() else (shutil.which("python3") or sys.executable)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.adapter:
        # The deviations files and the adapter are checked first: a worker that died on
        # either would leave its reason only in its log.
        from differential import preflight

        stop = preflight(args)
        if stop:
            return stop
    check = subprocess.run([args.python, "-c", "import atheris"], capture_output=True,
                           check=False)
    if check.returncode:
        print(f"{args.python} cannot import atheris: pip install atheris", file=sys.stderr)
        return 2
    if args.compare_mutators:
        from _compare import run_compare

        return run_compare(args, MAX_LEN)
    if args.adapter:
        from differential import run_campaign

        return run_campaign(args)
    results = []
    for target in args.targets:
        result = run_target(args, target)
        if result.findings:
            triage(args, result)
        if args.coverage:
            measure_coverage(args, result)
        if args.merge:
            merge(args, target)
        results.append(result)
    print()
    print(table(results))
    (OUT / "summary.md").write_text(table(results) + "\n")
    for res in results:
        for sig in res.signatures:
            print(f"FINDING {res.target}: {sig}  (files in {CRASHES / res.target})")
        for problem in res.problems:
            print(f"fuzz/run: error: {res.target}: {problem}", file=sys.stderr)
    return 1 if any(r.findings or r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
