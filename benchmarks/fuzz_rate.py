"""Fuzz throughput and where it goes: `python -m benchmarks.fuzz_rate [--seconds S] [TARGET...]`.

Per target (default: the TLV, payload and peel targets of issue 14's goals):
- `atheris`: executions per second under atheris/libFuzzer (instrumented library, the
  harness's full checks), from a run of S seconds over a scratch corpus seeded with the
  committed one (which is only read);
- `replay`: the committed corpus through the same `test_one_input` in plain Python (no
  atheris, no instrumentation): the harness plus the library;
- `replay_no_trace`: the same with the per-call tracemalloc bound replaced by a plain call:
  what the memory check costs;
- `library`: the corpus through the library call the target is about, alone.
The shares follow: instrumentation ≈ 1 − atheris/replay, harness ≈ 1 − replay/library.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
GOALS = {"tlv_stream": 50_000, "tlv_typed": 50_000, "payload_intermediate": 50_000,
         "payload_final": 50_000, "payload_blinded_intermediate": 50_000,
         "payload_blinded_final": 50_000, "peel_raw": 10_000, "peel_reseal": 10_000}
# The library call each target is about, for the `library` column.
LIBRARY = {
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
                "call = lambda d: decode_payload(d, Role('{role}'))")

REPLAY = r'''
import glob, sys, time
sys.path.insert(0, {fuzz!r})
import _common
from sphinxamp.errors import DecodeError
mode, target = sys.argv[1], sys.argv[2]
files = [open(f, "rb").read() for f in sorted(glob.glob({fuzz!r} + "/corpus/" + target + "/*"))]
if mode == "library":
    exec(sys.argv[3])
    def run(d):
        try:
            call(d)
        except DecodeError:
            pass
else:
    if mode == "no_trace":
        _common.bounded = lambda size, fn, *a, base=0, per_byte=0, **k: _common.call(fn, *a, **k)
    run = __import__("fuzz_" + target).test_one_input
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < {seconds}:
    for d in files:
        run(d)
        n += 1
print(n / (time.perf_counter() - t0))
'''


def atheris_rate(target: str, seconds: float) -> float | None:
    dict_file = FUZZ / "dict" / f"{target}.dict"
    with tempfile.TemporaryDirectory(prefix="fuzzrate-") as work:
        cmd = [sys.executable, str(FUZZ / f"fuzz_{target}.py"), f"-max_total_time={seconds:g}",
               "-max_len=4096", "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
               *([f"-dict={dict_file}"] if dict_file.is_file() else []), work,
               str(FUZZ / "corpus" / target)]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=work, check=False,
                             timeout=seconds + 300)
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out.stderr)
    t = re.search(r"stat::average_exec_per_sec:\s*(\d+)", out.stderr)
    return float(t.group(1)) if m and t else None


def replay_rate(target: str, mode: str, seconds: float) -> float | None:
    code = REPLAY.format(fuzz=str(FUZZ), seconds=seconds)
    lib = LIBRARY.get(target)
    if lib is None and target.startswith("payload_"):
        lib = _PAYLOAD_LIB.format(role=target.removeprefix("payload_").replace("_", "-"))
    if lib is None and mode == "library":
        return None  # no single library call (peel_reseal seals its own packets first)
    out = subprocess.run([sys.executable, "-c", code, mode, target, lib or ""],
                         capture_output=True,
                         text=True, check=False, timeout=seconds + 300,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def measure(targets: list[str], seconds: float) -> dict[str, dict[str, float | None]]:
    rows: dict[str, dict[str, float | None]] = {}
    for target in targets:
        rows[target] = {
            "atheris": atheris_rate(target, seconds),
            "replay": replay_rate(target, "harness", min(seconds, 3.0)),
            "replay_no_trace": replay_rate(target, "no_trace", min(seconds, 3.0)),
            "library": replay_rate(target, "library", min(seconds, 3.0)),
            "goal": float(GOALS.get(target, 0)),
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", default=list(GOALS))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = measure(args.targets, args.seconds)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print("| target | atheris exec/s | goal | replay | replay, no tracemalloc | library |")
    print("|---|---|---|---|---|---|")

    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:,.0f}"

    for target, r in rows.items():
        print(f"| {target} | {f(r['atheris'])} | {f(r['goal'])} | {f(r['replay'])} | "
              f"{f(r['replay_no_trace'])} | {f(r['library'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
