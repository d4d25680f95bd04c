"""Differential fuzzing against another implementation through a conformance adapter.

Every input goes to sphinxamp (the reference op) and to the adapter, which is started once and
kept running between inputs. A difference in accept/refuse, in the output bytes or in the
failure code (and, for invalid_onion_payload, its type and offset) is a finding, saved with
both answers as fuzz/out/differential/<target>/diff-<sha256 prefix>.json (and the input as
.input), unless a known deviation (a sphinxamp-deviations/1 file) explains it. An adapter
that crashes, hangs or prints garbage on an input is a finding too. Findings do not stop the
campaign: the fuzzer keeps going and the summary counts them.

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
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
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

    from sphinxamp import _crypto as crypto
    from sphinxamp.conformance import deviations as deviation_files
    from sphinxamp.conformance.adapter import AdapterProcess
    from sphinxamp.conformance.corpus import corpus_inputs
    from sphinxamp.conformance.malformed import seal
    from sphinxamp.conformance.ops import OPS, answer, traits
    from sphinxamp.conformance.protocol import compare

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
    """The per-input check, holding the running adapter and the counts."""

    def __init__(self, adapter: AdapterProcess, target: str,
                 known: list[deviation_files.Deviation], findings: Path) -> None:
        self.adapter, self.target, self.known, self.findings = adapter, target, known, findings
        self.make = TARGETS[target]
        self.counts = {"inputs": 0, "agree": 0, "known_deviation": 0, "unsupported": 0,
                       "findings": 0}
        self.number = 0

    def __call__(self, data: bytes) -> None:
        req = self.make(bytes(data))
        op = OPS[req["op"]]
        self.counts["inputs"] += 1
        self.number += 1
        expected = answer(req)
        reply = self.adapter.request({"id": self.number, **req})
        if reply.answer is None:
            self._finding(data, req, expected, None, f"adapter {reply.problem}: {reply.detail}")
            return
        got = reply.answer
        if got.get("unsupported") is True:
            self.counts["unsupported"] += 1
            return
        diff = compare(expected, got, compared=op.compared, optional=op.optional)
        if diff is None:
            self.counts["agree"] += 1
            return
        if deviation_files.explain(self.known, op=op.name, case_id=f"fuzz:{self.target}",
                                   difference=diff, traits=traits(req), expected=expected,
                                   got=got):
            self.counts["known_deviation"] += 1
            return
        self._finding(data, req, expected, got, f"{diff.kind}: {diff.field} ({diff.detail})")

    def _finding(self, data: bytes, req: Request, expected: Any, got: Any, why: str) -> None:
        self.counts["findings"] += 1
        self.findings.mkdir(parents=True, exist_ok=True)
        name = f"diff-{hashlib.sha256(data).hexdigest()[:16]}"
        (self.findings / f"{name}.input").write_bytes(data)
        doc = {"target": self.target, "difference": why, "input": bytes(data).hex(),
               "request": req, "sphinxamp": expected, "adapter": got}
        (self.findings / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")


def inputs(paths: list[str]) -> Iterator[bytes]:
    for name in paths:
        path = Path(name)
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
    findings = args.findings or FUZZ / "out" / "differential" / args.target
    known = deviation_files.load(args.deviations)
    with AdapterProcess(args.adapter, timeout=args.timeout) as adapter:
        check = Differential(adapter, args.target, known, findings)
        if args.replay:
            for data in inputs(rest):
                check(data)
            print(json.dumps({"target": args.target, **check.counts,
                              "findings_dir": str(findings)}))
            return 1 if check.counts["findings"] else 0
        sys.argv = [sys.argv[0], *rest]
        _common.main(check)
    return 0


def run_campaign(args: argparse.Namespace) -> int:
    """`fuzz/run --adapter CMD [TARGET…]`: each differential target under libFuzzer for its
    budget, one process (the adapter is one process too), then the findings per target."""
    import subprocess

    wanted = [t for t in args.targets if t in TARGETS]
    if not wanted:
        print(f"no differential target among those named; one of {', '.join(TARGETS)}",
              file=sys.stderr)
        return 2
    total = 0
    for target in wanted:
        findings = FUZZ / "out" / "differential" / target
        work = findings / "corpus"
        work.mkdir(parents=True, exist_ok=True)
        if target in ("peel_raw", "onion_packet") and not any(work.iterdir()):
            # Whole onions only get past the HMAC when built for the harness's node key.
            for name, onion in corpus_inputs(NODE_KEY, AD, 64):
                (work / name).write_bytes(onion)
        before = len(list(findings.glob("diff-*.json")))
        cmd = [args.python, str(FUZZ / "differential.py"), "--adapter", args.adapter,
               "--target", target, f"-max_total_time={args.seconds}", "-timeout=30",
               "-max_len=4096", f"-artifact_prefix={findings}/",
               *[f"--deviations={Path(d).resolve()}" for d in args.deviations], str(work)]
        seeds = FUZZ / "corpus" / target
        if seeds.is_dir():
            cmd.append(str(seeds))
        with (findings / "fuzz.log").open("w") as log:
            subprocess.run(cmd, check=False, stdout=log, stderr=log)
        new = len(list(findings.glob("diff-*.json"))) - before
        total += new
        print(f"[{target}] {new} new finding(s) in {findings}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
