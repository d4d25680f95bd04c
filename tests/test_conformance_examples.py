"""The README's adapter runs as written, and the Core Lightning template's plumbing (command
lines, output parsing, error mapping) works against a stand-in for `devtools/onion` that
answers the way its source does (devtools/onion.c: do_decode prints payload= and next=,
decode_with_privkey exits 1 with "Error parsing message: <wire error name>")."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sphinxamp.conformance import AdapterProcess, load_suites, run_cases
from sphinxamp.conformance.run import AGREE, DISAGREE, NOTE, UNSUPPORTED

ROOT = Path(__file__).resolve().parents[1]
# The sphinxamp of the interpreter running the tests, not a path in a checkout.
SPHINXAMP = [sys.executable, "-m", "sphinxamp"]

FAKE_ONION = '''
import sys
from sphinxamp.errors import DecodeError
from sphinxamp.onion._sphinx import build_onion, peel_onion
args = sys.argv[1:]
ad = bytes.fromhex(args[args.index("--assoc-data") + 1])
if "decode" in args:
    key = bytes.fromhex(args[-1])
    try:
        hop = peel_onion(bytes.fromhex(sys.stdin.read().strip()), key, ad)
    except DecodeError as exc:
        name = {0xC004: "WIRE_INVALID_ONION_VERSION", 0xC005: "WIRE_INVALID_ONION_HMAC",
                0xC006: "WIRE_INVALID_ONION_KEY"}.get(exc.failure_code, "something")
        sys.exit(f"onion: Error parsing message: {name}")
    print("payload=" + hop.payload.hex())
    if hop.next_packet is not None:
        print("next=" + hop.next_packet.to_bytes().hex())
else:
    hops = []
    for arg in args[args.index("generate") + 1:]:
        key, framed = arg.split("/")
        raw = bytes.fromhex(framed)
        start = 1 if raw[0] < 0xFD else 3
        hops.append((bytes.fromhex(key), raw[start:]))
    print(build_onion(bytes([0x41]) * 32, hops, ad).to_bytes().hex())
    print("secrets: ...")
'''


def test_readme_adapter_runs(tmp_path: Path) -> None:
    readme = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    section = readme.split("## Conformance testing", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    adapter = tmp_path / "my_adapter.py"
    adapter.write_text(code.group(1))
    run = subprocess.run([*SPHINXAMP, "conformance", "run", "--adapter",
                          f"{sys.executable} {adapter}", "--json"], capture_output=True,
                         text=True, timeout=120, check=False)
    report = json.loads(run.stdout)
    assert run.returncode == 0, report["counts"]
    agreed = {c["op"] for c in report["cases"] if c["status"] == AGREE}
    assert agreed == {"bigsize_decode"} and report["counts"]["agree"] > 20
    assert report["counts"]["unsupported"] == len(report["cases"]) - report["counts"]["agree"]


def test_cln_template_against_a_stand_in(tmp_path: Path) -> None:
    tool = tmp_path / "onion"
    tool.write_text(f"#!{sys.executable}\n{FAKE_ONION}")
    tool.chmod(0o755)
    # The stand-in is a process per request: a few routes of the valid suite suffice.
    cases = [c for c in load_suites(["valid", "malformed", "recorded"], seed=3)[0]
             if c.op in ("onion_peel", "onion_build")
             and not re.match(r"valid:route\[[4-9]\]", c.id)]
    env = {**os.environ, "CLN_ONION": str(tool)}
    command = [sys.executable, str(ROOT / "examples" / "adapters" /
                                   "cln_devtools_onion_adapter.py")]
    with AdapterProcess(command, timeout=60, env=env) as adapter:
        report = run_cases(cases, adapter)
    status = {o.case.id: o.status for o in report.outcomes}
    # Peels agree (refusals with the version/HMAC/key codes included); builds only with the
    # tool's fixed session key, the official vector's 41…41.
    assert status["malformed:onion:version"] == AGREE
    assert status["malformed:onion:hmac"] == AGREE
    assert status["recorded:bolt04-onion.json:build-5-hops"] == AGREE
    assert all(s == UNSUPPORTED for k, s in status.items() if k.startswith("valid:route")
               and k.endswith(":build"))
    peels = [s for k, s in status.items() if ":peel[" in k]
    assert set(peels) == {AGREE, UNSUPPORTED} and peels.count(AGREE) >= 10  # other areas
    # are unsupported: the tool reads 1366-byte packets only
    # What the stand-in cannot say (no failure code for a payload framing error) is a note:
    # the code is the node's choice there (BOLT 4 › Failure Messages: "MAY [...] return an
    # `invalid_onion_payload` error"); it still refuses each, as the MUST requires.
    assert not {k for k, s in status.items() if s == DISAGREE} and report.ok
    assert {k for k, s in status.items() if s == NOTE} == {
        f"malformed:onion:{n}" for n in ("payload-length-0", "payload-length-1",
                                         "payload-length-not-minimal", "frame-past-area")}
