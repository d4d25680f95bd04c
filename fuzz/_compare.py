"""`fuzz/run --compare-mutators TARGET… --seconds N`: how deep the structure-aware mutator
gets compared with plain byte mutation, for the same time.

For each target the harness runs twice, one libFuzzer process each, one after the other:
`SPHINXAMP_FUZZ_MUTATOR=plain`, then the target's structure-aware mutator. Each run starts
from an empty scratch corpus next to the committed seeds (which stay untouched) and writes its
depth counts (`SPHINXAMP_FUZZ_DEPTH`). Reported per mutator: executions, how many inputs got
past the outer check (the HMAC or tag) and their share, and the inner features: lines and
branches covered in the modules of the parser behind the outer check, by a coverage.py replay
of seeds plus scratch corpus, and how many of those the seeds alone do not reach. Then the
ratios, structured over plain, against the goals (10x the inner executions, 1.5x the inner
features). Exit 1 when a run died, ended early or executed nothing, or found something.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from _runlog import Ending, JobLog, worker_problems

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
OUT = FUZZ / "out" / "compare"
MUTATORS = ("plain", "structured")
GOAL_EXECS, GOAL_FEATURES = 10.0, 1.5
# The parser behind each target's outer check, as path prefixes under the repository.
INNER: dict[str, tuple[str, ...]] = {
    "peel_raw": ("sphinxamp/_payload.py", "sphinxamp/wire/_tlv"),
    "encrypted_data_aead": ("sphinxamp/blinding/_path.py", "sphinxamp/wire/_tlv"),
    "onion_message": ("sphinxamp/blinding/_onion_message.py", "sphinxamp/blinding/_path.py",
                      "sphinxamp/blinding/_unblind.py", "sphinxamp/wire/_tlv"),
    "failure_decrypt": ("sphinxamp/failures/_message.py",),
    "attribution": ("sphinxamp/failures/_attribution.py",),
}


@dataclass
class Run:
    mutator: str
    seconds: float = 0.0
    execs: int = 0
    judged: int = 0
    passed_outer: int = 0
    lines: int = 0
    branches: int = 0
    corpus: int = 0
    findings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.passed_outer / self.judged if self.judged else 0.0

    @property
    def features(self) -> int:
        return self.lines + self.branches


def _command(args: argparse.Namespace, target: str, work: Path, max_len: int) -> list[str]:
    cmd = [args.python, str(FUZZ / f"fuzz_{target}.py"), f"-max_total_time={args.seconds}",
           f"-max_len={max_len}", "-timeout=10", "-rss_limit_mb=2048",
           f"-artifact_prefix={work}/", "-print_final_stats=1"]
    if (FUZZ / "dict" / f"{target}.dict").is_file():
        cmd.append(f"-dict={FUZZ / 'dict' / f'{target}.dict'}")
    return [*cmd, str(work / "corpus"), str(FUZZ / "corpus" / target)]


def fuzz_once(args: argparse.Namespace, target: str, mutator: str, max_len: int) -> Run:
    """One libFuzzer process for the budget, from an empty scratch corpus."""
    run, work = Run(mutator), OUT / target / mutator
    shutil.rmtree(work, ignore_errors=True)
    (work / "corpus").mkdir(parents=True)
    env = {**os.environ, "SPHINXAMP_FUZZ_MUTATOR": mutator,
           "SPHINXAMP_FUZZ_DEPTH": str(work / "depth.json")}
    log = work / "fuzz-0.log"
    start, killed = time.monotonic(), False
    with log.open("w") as sink, subprocess.Popen(
            _command(args, target, work, max_len), stdout=subprocess.DEVNULL, stderr=sink,
            env=env, cwd=work, start_new_session=True) as proc:
        try:
            proc.wait(timeout=args.seconds + 60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            killed = True
            proc.wait()
    run.seconds = time.monotonic() - start
    job = JobLog(log)
    job.poll()
    run.execs = job.execs
    run.findings = sorted(p.name for p in work.iterdir()
                          if p.name.startswith(("crash-", "oom-", "timeout-", "leak-")))
    run.problems = worker_problems(
        Ending(proc.returncode, killed, run.seconds, args.seconds, bool(run.findings)), [job])
    try:
        depth = json.loads((work / "depth.json").read_text())
        run.judged, run.passed_outer = int(depth["judged"]), int(depth["passed_outer"])
    except (OSError, ValueError, KeyError):
        run.problems.append(f"wrote no depth counts ({work / 'depth.json'}); log {log}")
    run.corpus = sum(1 for p in (work / "corpus").iterdir() if p.is_file())
    return run


def inner_coverage(args: argparse.Namespace, target: str, work: Path,
                   dirs: list[Path]) -> tuple[int, int]:
    """(lines, branches) covered in the target's inner modules by replaying `dirs`."""
    data, report = work / ".coverage", work / "coverage.json"
    report.unlink(missing_ok=True)
    subprocess.run([args.python, "-m", "coverage", "run", "--branch", f"--data-file={data}",
                    f"--source={REPO / 'sphinxamp'}", str(FUZZ / "replay.py"), target,
                    *map(str, dirs)], cwd=REPO, capture_output=True, check=False)
    subprocess.run([args.python, "-m", "coverage", "json", f"--data-file={data}", "-o",
                    str(report)], cwd=REPO, capture_output=True, check=False)
    if not report.is_file():
        return 0, 0
    lines = branches = 0
    for name, info in json.loads(report.read_text())["files"].items():
        rel = Path(name).resolve().relative_to(REPO).as_posix() if Path(name).is_absolute() \
            else Path(name).as_posix()
        if rel.startswith(INNER[target]):
            lines += info["summary"]["covered_lines"]
            branches += info["summary"].get("covered_branches", 0)
    return lines, branches


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _fmt_ratio(value: float | None) -> str:
    return "∞" if value is None else f"{value:.1f}x"


@dataclass
class Comparison:
    target: str
    seconds: int
    seeds: tuple[int, int]
    runs: list[Run]

    @property
    def exec_ratio(self) -> float | None:
        plain, structured = self.runs
        return _ratio(structured.passed_outer, plain.passed_outer)

    @property
    def feature_ratio(self) -> float | None:
        plain, structured = self.runs
        return _ratio(structured.features, plain.features)

    @property
    def goals_met(self) -> bool:
        execs, feats = self.exec_ratio, self.feature_ratio
        return (execs is None or execs >= GOAL_EXECS) and (feats is None or feats >= GOAL_FEATURES)

    def to_json(self) -> dict[str, object]:
        return {"target": self.target, "seconds": self.seconds,
                "seed_features": {"lines": self.seeds[0], "branches": self.seeds[1]},
                "runs": [{**asdict(r), "share": r.share, "features": r.features}
                         for r in self.runs],
                "inner_exec_ratio": self.exec_ratio, "inner_feature_ratio": self.feature_ratio,
                "goals_met": self.goals_met}


def compare_target(args: argparse.Namespace, target: str, max_len: int) -> Comparison:
    runs = []
    for mutator in MUTATORS:
        print(f"[{target}] {mutator}: fuzzing {args.seconds} s", flush=True)
        run = fuzz_once(args, target, mutator, max_len)
        work = OUT / target / mutator
        run.lines, run.branches = inner_coverage(
            args, target, work, [FUZZ / "corpus" / target, work / "corpus"])
        runs.append(run)
    seeds = inner_coverage(args, target, OUT / target, [FUZZ / "corpus" / target])
    return Comparison(target, args.seconds, seeds, runs)


HEAD = ("target", "mutator", "execs", "past outer check", "inner execs", "inner lines",
        "inner branches", "inner features", "beyond the seeds", "inner execs ratio",
        "inner features ratio", "goals")


def rows(comparison: Comparison) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    seeds = sum(comparison.seeds)
    for run in comparison.runs:
        last = run.mutator == "structured"
        goals = "met" if comparison.goals_met else "not met"
        out.append((
            comparison.target if not last else "", run.mutator, str(run.execs),
            f"{run.share:.1%}", str(run.passed_outer), str(run.lines), str(run.branches),
            str(run.features), f"+{run.features - seeds}",
            _fmt_ratio(comparison.exec_ratio) if last else "",
            _fmt_ratio(comparison.feature_ratio) if last else "", goals if last else ""))
    return out


def table(comparisons: list[Comparison]) -> str:
    body = [HEAD] + [row for c in comparisons for row in rows(c)]
    widths = [max(len(row[i]) for row in body) for i in range(len(HEAD))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in body]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def run_compare(args: argparse.Namespace, max_lens: dict[str, int]) -> int:
    """`fuzz/run --compare-mutators`: every named target (default: all layered ones) in
    turn; the table on stdout and in fuzz/out/compare/summary.md, the figures as JSON in
    fuzz/out/compare/<target>/compare.json."""
    wanted = [t for t in args.targets if t in INNER] if args.named else sorted(INNER)
    skipped = [t for t in args.targets if t not in INNER] if args.named else []
    if skipped or not wanted:
        print(f"fuzz/run: error: --compare-mutators needs a layered target "
              f"({', '.join(sorted(INNER))}); not: {', '.join(skipped) or '(none)'}",
              file=sys.stderr)
        return 2
    done = []
    for target in wanted:
        comparison = compare_target(args, target, max_lens.get(target, 4096))
        (OUT / target / "compare.json").write_text(
            json.dumps(comparison.to_json(), indent=1) + "\n")
        done.append(comparison)
    text = table(done)
    print(text)
    (OUT / "summary.md").write_text(text + "\n")
    status = 0
    for comparison in done:
        for run in comparison.runs:
            for problem in run.problems:
                print(f"fuzz/run: error: {comparison.target} ({run.mutator}): {problem}",
                      file=sys.stderr)
            for name in run.findings:
                print(f"FINDING {comparison.target} ({run.mutator}): "
                      f"{OUT / comparison.target / run.mutator / name}")
            status |= bool(run.problems or run.findings)
    return status
