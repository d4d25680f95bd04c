"""Fuzz throughput and where it goes: `python -m benchmarks.fuzz_rate [--seconds S] [TARGET...]`.

Per target (default: the fast targets, then the oracle targets of the TLV, payload and peel
parsers):
- `atheris`: executions per second under atheris/libFuzzer (instrumented library, the
  harness's checks), from one process running S seconds over a scratch corpus seeded with the
  committed one (which is only read), as libFuzzer reports it (wall clock);
- `atheris_cpu`: the same run's executions per CPU second of its fuzzing loop (the process's
  CPU time less its start-up: imports and instrumentation), what one core does for it however
  busy the machine; the goals are judged on it;
- `atheris_library`: the same for a harness that makes the target's library call and nothing
  else: what atheris and its instrumentation leave of the library's speed, the ceiling of any
  harness;
- `replay`: the committed corpus through the target's `test_one_input` in plain Python (no
  atheris, no instrumentation): the harness plus the library, per CPU second as the rest;
- `replay_no_trace`: the same with the per-call tracemalloc bound replaced by a plain call;
- `library`: the corpus through the library call alone, in plain Python.

`python -m benchmarks` shows the fast targets' `atheris_cpu` as rows `fuzz:<target>`
(`rows`), 30 s each (2 s with `--quick`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from benchmarks import core

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"


def _load_targets() -> ModuleType:
    """fuzz/_targets.py (standard library only), without putting fuzz/ on sys.path."""
    spec = importlib.util.spec_from_file_location("_fuzz_targets", FUZZ / "_targets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_targets = _load_targets()
# The oracle targets' goals, kept for the table (never met: their checks cost 10-70x the
# library); the fast targets' goals are core.GOALS["fuzz:<target>"].
GOALS = {"tlv_stream": 50_000, "tlv_typed": 50_000, "payload_intermediate": 50_000,
         "payload_final": 50_000, "payload_blinded_intermediate": 50_000,
         "payload_blinded_final": 50_000, "peel_raw": 10_000, "peel_reseal": 10_000}
MAX_LEN = {"bigsize": 32}  # as fuzz/runner.py and the OSS-Fuzz options give it; else 4096
# The library call each corpus is about (what its fast target calls), for `library` and
# `atheris_library`; `call` may raise a refusal, which the runner of the snippet catches.
LIBRARY = {
    "bigsize": "from sphinxamp.wire._bigsize import decode_bigsize, decode_tu\n"
               "def call(d):\n"
               "    for f, a in ((decode_bigsize, (d, 0)), (decode_bigsize, (d, 1)),\n"
               "                 (decode_tu, (d[1:], (2, 4, 8)[d[0] % 3] if d else 2))):\n"
               "        try:\n"
               "            f(*a)\n"
               "        except REFUSALS:\n"
               "            pass\n",
    "tlv_stream": "from sphinxamp.wire._tlv import decode_stream as f\ncall = lambda d: f(d)",
    "tlv_typed": "import fuzz_tlv_typed as h\n"
                 "call = lambda d: h.SCHEMAS[d[0] % len(h.SCHEMAS)].decode(d[1:]) if d else 0",
    "peel_raw": "import _peel\nfrom sphinxamp.onion._sphinx import peel_onion\n"
                "def call(d):\n"
                "    i = _peel.split_input(d)\n"
                "    if i is not None and _peel.valid_secret(i.node_key):\n"
                "        peel_onion(i.packet, i.node_key, i.associated_data, **i.kwargs())\n",
}
_PAYLOAD_LIB = ("from sphinxamp._payload import decode_payload, Role\n"
                "role = Role('{role}')\n"
                "pks = (None, True, False) if role.blinded else (None,)\n"
                "call = lambda d: decode_payload(\n"
                "    d, role, path_key_from_htlc=pks[len(d) % len(pks)])")

PRELUDE = r'''
import sys
sys.path.insert(0, {fuzz!r})
import _common
REFUSALS = _common.REFUSALS
'''
REPLAY = PRELUDE + r'''
import glob, time
mode, target, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
files = [open(f, "rb").read() for f in sorted(glob.glob({fuzz!r} + "/corpus/" + corpus + "/*"))]
if mode == "library":
    exec(sys.argv[4])
    def run(d):
        try:
            call(d)
        except REFUSALS:
            pass
else:
    if mode == "no_trace":
        _common.bounded = lambda size, fn, *a, base=0, per_byte=0, **k: _common.call(fn, *a, **k)
    run = __import__("fuzz_" + target).test_one_input
n, t0 = 0, time.process_time()  # CPU time, as the atheris columns: load does not count
while time.process_time() - t0 < {seconds}:
    for d in files:
        run(d)
        n += 1
print(n / (time.process_time() - t0))
'''
# A harness that only makes the library call, for `atheris_library` (its file name starts
# with fuzz_, so _common instruments the package as for a real target).
LIBRARY_HARNESS = PRELUDE + r'''
{library}
def test_one_input(d):
    try:
        call(d)
    except REFUSALS:
        pass
if __name__ == "__main__":
    _common.main(test_one_input)
'''
# Runs a harness as its __main__ and prints the CPU time spent before the fuzzing loop starts.
WRAPPER = r'''
import runpy, sys, time
import atheris
fuzz = atheris.Fuzz
def timed_fuzz():
    sys.stderr.write(f"\nfuzz_rate: startup_cpu {time.process_time()}\n")
    sys.stderr.flush()
    fuzz()
atheris.Fuzz = timed_fuzz
sys.path.insert(0, sys.argv[1])
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


@dataclass(frozen=True)
class AtherisRun:
    execs: int
    wall_rate: float  # libFuzzer's stat::average_exec_per_sec
    cpu_s: float  # CPU seconds of the process after start-up

    @property
    def cpu_rate(self) -> float:
        return self.execs / self.cpu_s if self.cpu_s > 0 else 0.0


def atheris_missing() -> str | None:
    """Why no atheris run can be made here, or None."""
    if importlib.util.find_spec("atheris") is None:
        return f"atheris is not installed in {sys.executable}"
    return None


def library_code(target: str) -> str | None:
    corpus = _targets.corpus_of(target)
    if corpus.startswith("payload_"):
        return _PAYLOAD_LIB.format(role=corpus.removeprefix("payload_").replace("_", "-"))
    return LIBRARY.get(corpus)


def atheris_run(target: str, seconds: float, harness: Path | None = None) -> AtherisRun | str:
    """One libFuzzer process on `harness` (default: the target's) for `seconds`, on a scratch
    corpus seeded with the committed one; the run, or why there is none."""
    missing = atheris_missing()
    if missing:
        return missing
    corpus = _targets.corpus_of(target)
    dict_file = FUZZ / "dict" / f"{corpus}.dict"
    harness = harness or FUZZ / f"fuzz_{target}.py"
    with tempfile.TemporaryDirectory(prefix="fuzzrate-") as work:
        cmd = [sys.executable, "-c", WRAPPER, str(FUZZ), str(harness),
               f"-max_total_time={seconds:g}", f"-max_len={MAX_LEN.get(corpus, 4096)}",
               "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
               *([f"-dict={dict_file}"] if dict_file.is_file() else []), work,
               str(FUZZ / "corpus" / corpus)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=work, check=False,
                                 timeout=seconds + 300)
        except subprocess.TimeoutExpired:
            return f"no result within {seconds + 300:g} s"
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out.stderr)
    rate = re.search(r"stat::average_exec_per_sec:\s*(\d+)", out.stderr)
    startup = re.search(r"fuzz_rate: startup_cpu ([\d.]+)", out.stderr)
    if not (execs and rate and startup):
        # A finding stops libFuzzer before its statistics: say what it was.
        lines = out.stderr.strip().splitlines()
        error = next((ln for ln in lines if "ERROR:" in ln or "Error" in ln), "")
        tail = " | ".join([error, *lines[-2:]])[-400:]
        return f"the atheris run gave no statistics (exit {out.returncode}: {tail})"
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return AtherisRun(int(execs.group(1)), float(rate.group(1)), cpu - float(startup.group(1)))


def atheris_library_run(target: str, seconds: float) -> AtherisRun | str:
    code = library_code(target)
    if code is None:
        return "no single library call"
    with tempfile.TemporaryDirectory(prefix="fuzzrate-lib-") as folder:
        harness = Path(folder) / f"fuzz_library_{target}.py"
        harness.write_text(LIBRARY_HARNESS.format(fuzz=str(FUZZ), library=code))
        return atheris_run(target, seconds, harness)


def replay_rate(target: str, mode: str, seconds: float) -> float | None:
    code = REPLAY.format(fuzz=str(FUZZ), seconds=seconds)
    lib = library_code(target)
    if lib is None and mode == "library":
        return None  # no single library call (peel_reseal seals its own packets first)
    out = subprocess.run([sys.executable, "-c", code, mode, target, _targets.corpus_of(target),
                          lib or ""], capture_output=True, text=True, check=False,
                         timeout=seconds + 300,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def goal_of(target: str) -> float:
    kind_bound = core.GOALS.get(f"fuzz:{target}")
    return kind_bound[1] if kind_bound else float(GOALS.get(target, 0))


def rows(seconds: float) -> list[core.Row]:
    """`fuzz:<target>` rows for `python -m benchmarks`: ours = CPU µs per execution of the
    fast target under atheris; n/a, with the reason in `note`, when there is no run."""
    out = []
    for target in _targets.fast_targets():
        run = atheris_run(target, seconds)
        if isinstance(run, str):
            out.append(core.Row(f"fuzz:{target}", None, None, note=run))
            continue
        us = 1e6 / run.cpu_rate if run.cpu_rate else None
        out.append(core.Row(
            f"fuzz:{target}", core.Timing(us, us) if us else None, None,
            extra={"execs": float(run.execs), "execs_per_s": run.cpu_rate,
                   "execs_per_s_wall": run.wall_rate, "seconds": seconds},
            note=None if us else "no execution"))
    return out


def _rate(run: AtherisRun | str) -> tuple[float | None, float | None]:
    if isinstance(run, str):
        sys.stderr.write(f"fuzz_rate: {run}\n")
        return None, None
    return run.wall_rate, run.cpu_rate


def measure(targets: list[str], seconds: float) -> dict[str, dict[str, float | None]]:
    table: dict[str, dict[str, float | None]] = {}
    for target in targets:
        wall, cpu = _rate(atheris_run(target, seconds))
        table[target] = {
            "atheris": wall,
            "atheris_cpu": cpu,
            "atheris_library": _rate(atheris_library_run(target, seconds))[1],
            "replay": replay_rate(target, "harness", min(seconds, 3.0)),
            "replay_no_trace": replay_rate(target, "no_trace", min(seconds, 3.0)),
            "library": replay_rate(target, "library", min(seconds, 3.0)),
            "goal": goal_of(target),
        }
    return table


COLUMNS = ("atheris", "atheris_cpu", "goal", "atheris_library", "replay", "replay_no_trace",
           "library")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*",
                        default=[*_targets.fast_targets(), *GOALS])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    table = measure(args.targets, args.seconds)
    if args.json:
        print(json.dumps(table, indent=1))
        return 0
    print("| target | " + " | ".join(c.replace("_", " ") for c in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for target, row in table.items():
        cells = ["n/a" if row[c] is None else f"{row[c]:,.0f}" for c in COLUMNS]
        print(f"| {target} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
