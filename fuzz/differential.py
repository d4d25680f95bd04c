"""Differential fuzzing against another implementation through a conformance adapter.

Every input goes to sphinxamp (the reference op) and to the adapter, which is started once and
kept running between inputs. Answers are judged as `conformance run` judges them: a difference
graded MAY by the text (a failure code the node may choose, invalid_onion_payload's location)
is counted as a note, one a known deviation (a sphinxamp-deviations/1 file) explains is not
reported again, and keysend/AMP payloads follow what the adapter's hello declares. Every other
difference, and an adapter that crashes, hangs or prints garbage, is a finding. Findings are
grouped into classes (op, rule, what each side answers; sphinxamp.conformance.classes): each
class is saved once, as fuzz/out/differential/<target>/class-<key>.json with both answers and
.input, rewritten only when a shorter input shows the same class, and classes.json lists
them all, so the files written are bounded per class. Findings do not stop the campaign; a
summary table of the classes ends it.

Usage (fuzz/run --adapter CMD TARGET… runs this for each target):
  python fuzz/differential.py --adapter CMD --target T [--deviations F]… [libFuzzer args] [dirs]
  python fuzz/differential.py --adapter CMD --target T --replay PATH…   (no atheris needed)

Targets and what an input means:
  bigsize                       a BigSize (bigsize_decode)
  tlv_stream                    a TLV stream, no namespace (tlv_decode)
  payload_intermediate|final|blinded_intermediate|blinded_final
                                a hop payload judged in that role (payload_decode)
  peel_raw, onion_packet        a whole onion, peeled with node key 41…41, associated data 42…42
  peel_reseal                   flags(1) ‖ the decrypted routing area: re-encrypted and MACed for
                                node key 41…41, so every input reaches the frame reader

peel_raw and onion_packet fuzz with the structure-aware mutator of a Sphinx layer sealed for
those keys (`_mutate_onion.FixedKeyPeelMutator`): the hop's frame is mutated and the packet
re-sealed, so inputs get past the HMAC and the adapter's payload parser sees the mutations
too. Those inputs count for `_mutate.depth` as past the outer check when sphinxamp peels them
or refuses only their frame (invalid_onion_payload).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

try:
    import atheris
except ImportError:  # --replay needs no atheris
    atheris = None

# _common instruments the library only for scripts named fuzz_*; this one does it itself, for
# the library alone (instrumenting every loaded module would take half a minute).
_FUZZING = atheris is not None and __name__ == "__main__" and "--replay" not in sys.argv
with atheris.instrument_imports(include=["sphinxamp"]) if _FUZZING else contextlib.nullcontext():
    import _common
    import _mutate
    from _mutate_onion import FixedKeyPeelMutator

    from sphinxamp.conformance import deviations as deviation_files
    from sphinxamp.conformance.adapter import AdapterProcess
    from sphinxamp.conformance.classes import Classes, Entry, FindingClass, classify, table
    from sphinxamp.conformance.corpus import corpus_inputs
    from sphinxamp.conformance.judge import UNDECLARED, Understanding, judge, understanding
    from sphinxamp.conformance.malformed import seal
    from sphinxamp.conformance.ops import OPS, answer, traits
    from sphinxamp.conformance.protocol import MAY
    from sphinxamp.errors import InvalidArgument, SphinxampError
    from sphinxamp.primitives import _crypto as crypto

FUZZ = Path(__file__).resolve().parent
NODE_KEY = bytes([0x41] * 32)
SESSION_KEY = bytes([0x03] * 32)
AD = bytes([0x42] * 32)
AREA = 1300
Request = dict[str, Any]


def _payload(final: bool, blinded: bool) -> Callable[[bytes], Request]:
    return lambda data: {"op": "payload_decode", "payload": data.hex(), "final": final,
                         "path_key": blinded}


def _peel(onion: bytes) -> Request:
    return {"op": "onion_peel", "onion": onion.hex(), "node_key": NODE_KEY.hex(),
            "associated_data": AD.hex()}


def _reseal(data: bytes) -> Request:
    plain = (data[1:] + bytes(AREA))[:AREA]
    return _peel(seal(plain, crypto.public_key(NODE_KEY), SESSION_KEY, AD))


# Refused after the HMAC: the frame behind it (BOLT 4 › Onion Decryption step 7), PERM|22.
INVALID_ONION_PAYLOAD = 0x4016
# Targets whose inputs are whole onions for NODE_KEY and AD: mutated inside the layer.
STRUCTURED = {target: FixedKeyPeelMutator(NODE_KEY, AD) for target in ("peel_raw", "onion_packet")}

TARGETS: dict[str, Callable[[bytes], Request]] = {
    "bigsize": lambda data: {"op": "bigsize_decode", "bytes": data[:16].hex()},
    "tlv_stream": lambda data: {"op": "tlv_decode", "stream": data.hex()},
    "payload_intermediate": _payload(False, False),
    "payload_final": _payload(True, False),
    "payload_blinded_intermediate": _payload(False, True),
    "payload_blinded_final": _payload(True, True),
    "peel_raw": _peel,
    "onion_packet": _peel,
    "peel_reseal": _reseal,
}


class Differential:
    """The per-input check, holding the running adapter, the counts and the classes."""

    def __init__(self, adapter: AdapterProcess, target: str,
                 known: list[deviation_files.Deviation], findings: Path,
                 understood: Understanding = UNDECLARED) -> None:
        self.adapter, self.target, self.known, self.findings = adapter, target, known, findings
        self.make = TARGETS[target]
        self.understood = understood
        self.counts = {"inputs": 0, "agree": 0, "known_deviation": 0, "unsupported": 0,
                       "notes": 0, "findings": 0}
        self.classes = Classes()
        self.number = 0
        self._resume()

    def _resume(self) -> None:
        """The classes an earlier campaign saved here: a class is not saved again, and its
        reproducer is replaced only by a shorter input."""
        for r in _class_rows(self.findings):
            path = self.findings / f"class-{r['class']}.input"
            if path.is_file():
                cls = FindingClass(r["op"], r["rule"], r["sphinxamp"], r["adapter"], r["grade"])
                self.classes.seen[cls] = Entry(int(r["count"]), path.read_bytes())

    def __call__(self, data: bytes) -> None:
        req = self.make(bytes(data))
        op = OPS[req["op"]]
        self.counts["inputs"] += 1
        self.number += 1
        expected = answer(req)
        if self.target in STRUCTURED:
            error = expected.get("error")
            _mutate.depth(error is None or error.get("failure_code") == INVALID_ONION_PAYLOAD)
        reply = self.adapter.request({"id": self.number, **req})
        if reply.answer is None:
            self._finding(data, req, expected, None,
                          classify(op.name, expected, None, problem=reply.problem),
                          f"adapter {reply.problem}: {reply.detail}")
            return
        got = reply.answer
        if got.get("unsupported") is True:
            self.counts["unsupported"] += 1
            return
        diff = judge(op, req, expected, got, self.understood)
        if diff is None:
            self.counts["agree"] += 1
            return
        if diff.grade == MAY:  # the text leaves it to the node: a note, never a finding
            self.counts["notes"] += 1
            return
        if deviation_files.explain(self.known, op=op.name, case_id=f"fuzz:{self.target}",
                                   difference=diff, traits=traits(req), expected=expected,
                                   got=got):
            self.counts["known_deviation"] += 1
            return
        self._finding(data, req, expected, got, classify(op.name, expected, got, difference=diff),
                      f"{diff.kind}: {diff.field} ({diff.detail}), {diff.grade}")

    def _finding(self, data: bytes, req: Request, expected: Any, got: Any, cls: FindingClass,
                 why: str) -> None:
        self.counts["findings"] += 1
        if not self.classes.add(cls, bytes(data)):
            return  # the class is saved already, with an input no longer than this one
        self.findings.mkdir(parents=True, exist_ok=True)
        name = f"class-{cls.key}"
        (self.findings / f"{name}.input").write_bytes(data)
        doc = {"target": self.target, "class": cls.key, "op": cls.op, "rule": cls.rule,
               "grade": cls.grade, "difference": why, "input": bytes(data).hex(),
               "request": req, "sphinxamp": expected, "adapter": got}
        (self.findings / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
        (self.findings / "classes.json").write_text(
            json.dumps({"target": self.target, "classes": self.classes.rows()}, indent=1) + "\n")


def inputs(paths: list[str]) -> Iterator[bytes]:
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise InvalidArgument(f"--replay: {name} does not exist", field="replay",
                                  reason="missing")
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for file in files:
            yield file.read_bytes()


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="fuzz/differential.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", required=True, metavar="CMD")
    parser.add_argument("--target", required=True, choices=sorted(TARGETS))
    parser.add_argument("--deviations", action="append", default=[], type=Path)
    parser.add_argument("--findings", type=Path, default=None, metavar="DIR")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--replay", action="store_true",
                        help="run the files or folders given once each, without atheris")
    return parser.parse_known_args(argv)


def main(argv: list[str]) -> int:
    args, rest = parse_args(argv)
    try:
        return _main(args, rest)
    except SphinxampError as exc:  # a bad argument or an adapter that cannot start: one line
        print(f"fuzz/differential.py: error: {exc.message}", file=sys.stderr)
        return 2 if isinstance(exc, InvalidArgument) else 1


def _main(args: argparse.Namespace, rest: list[str]) -> int:
    findings = args.findings or FUZZ / "out" / "differential" / args.target
    known = deviation_files.load(args.deviations)
    with AdapterProcess(args.adapter, timeout=args.timeout) as adapter:
        hello = adapter.handshake().answer
        check = Differential(adapter, args.target, known, findings, understanding(hello))
        if args.replay:
            for data in inputs(rest):
                check(data)
            if not check.counts["inputs"]:
                # A mistyped path must not read as "no finding".
                print("fuzz/differential.py: error: --replay found no input in "
                      f"{' '.join(rest) or '(no path given)'}", file=sys.stderr)
                return 1
            rows = check.classes.rows()
            if rows:
                sys.stderr.write(table(rows))
            print(json.dumps({"target": args.target, **check.counts, "classes": len(rows),
                              "findings_dir": str(findings)}))
            return 1 if check.counts["findings"] else 0
        sys.argv = [sys.argv[0], *rest]
        _common.main(check, structured=STRUCTURED.get(args.target))
    return 0


def preflight(args: argparse.Namespace) -> int:
    """Before any worker starts: the deviations files read, and the adapter answers hello.
    A worker that died on either would leave its reason in a log nobody reads. Returns the
    exit status to stop with (2 for a bad argument, 1 for an adapter that cannot start), or
    0 to go on."""
    try:
        deviation_files.load([Path(d) for d in args.deviations])
        with AdapterProcess(args.adapter, timeout=10.0) as adapter:
            adapter.handshake()
    except SphinxampError as exc:
        print(f"fuzz/run: error: {exc.message}", file=sys.stderr)
        return 2 if isinstance(exc, InvalidArgument) else 1
    return 0


def run_campaign(args: argparse.Namespace) -> int:
    """`fuzz/run --adapter CMD [TARGET…]`: each differential target under libFuzzer for its
    budget, one process (the adapter is one process too), then the findings per target. A
    worker that died, ended early or executed nothing fails the campaign, with its log.
    `preflight` has checked the deviations files and the adapter before."""
    wanted = [t for t in args.targets if t in TARGETS]
    if not wanted:
        print(f"no differential target among those named; one of {', '.join(TARGETS)}",
              file=sys.stderr)
        return 2
    total, rows, problems = 0, [], []
    for target in wanted:
        findings = FUZZ / "out" / "differential" / target
        work = findings / "corpus"
        work.mkdir(parents=True, exist_ok=True)
        if target in ("peel_raw", "onion_packet") and not any(work.iterdir()):
            # Whole onions only get past the HMAC when built for the harness's node key.
            for name, onion in corpus_inputs(NODE_KEY, AD, 64):
                (work / name).write_bytes(onion)
        before = {r["class"] for r in _class_rows(findings)}
        cmd = [args.python, str(FUZZ / "differential.py"), "--adapter", args.adapter,
               "--target", target, f"-max_total_time={args.seconds}", "-timeout=30",
               "-max_len=4096", f"-artifact_prefix={findings}/",
               *[f"--deviations={Path(d).resolve()}" for d in args.deviations], str(work)]
        seeds = FUZZ / "corpus" / target
        if seeds.is_dir():
            cmd.append(str(seeds))
        problems += [f"{target}: {p}" for p in _run_worker(cmd, findings / "fuzz.log",
                                                            args.seconds)]
        found = _class_rows(findings)
        new = len({r["class"] for r in found} - before)
        total += new
        rows += [{**r, "op": f"{target}:{r['op']}"} for r in found]
        print(f"[{target}] {new} new finding class(es) in {findings}")
    if rows:
        print(table(rows), end="")
    for problem in problems:
        print(f"fuzz/run: error: {problem}", file=sys.stderr)
    return 1 if total or problems else 0


def _run_worker(cmd: list[str], log_path: Path, budget: int) -> list[str]:
    """Run one differential worker to its end; why it cannot count as having fuzzed."""
    import subprocess
    import time

    from _runlog import Ending, JobLog, worker_problems

    start = time.monotonic()
    with log_path.open("w") as log:
        # Findings never stop the worker, so past the budget and a grace period it is hung.
        try:
            status = subprocess.run(cmd, check=False, stdout=log, stderr=log,
                                    timeout=budget + 60).returncode
            killed = False
        except subprocess.TimeoutExpired:
            status, killed = -1, True
    ending = Ending(status, killed, time.monotonic() - start, budget, False)
    return worker_problems(ending, [JobLog(log_path)])


def _class_rows(findings: Path) -> list[dict[str, Any]]:
    """The classes a target's campaign saved (classes.json), none when there is none."""
    try:
        rows: list[dict[str, Any]] = json.loads(
            (findings / "classes.json").read_text())["classes"]
    except (OSError, ValueError, KeyError):
        return []
    return rows


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
