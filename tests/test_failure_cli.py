"""`sphinxamp failure …` and `sphinxamp attribution …` against the official vectors, the
README's failure example run as written (bash, the installed entry point), and the library
example of that README section."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.cli import main

ROOT = Path(__file__).resolve().parents[1]
ENTRY = Path(sys.executable).parent / "sphinxamp"
ATTRIBUTION = json.loads((ROOT / "vectors" / "bolt04-failure-attribution.json").read_text())
LEGACY = json.loads((ROOT / "vectors" / "bolt04-failure.json").read_text())
RETURN = ATTRIBUTION["cases"][1]
STEPS = RETURN["expect"]["hops"]  # the erring node first
ROUTE = RETURN["shared_secrets"]
HOLDS = RETURN["hold_times"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().out


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    status, out = run([*argv, "--json"], capsys)
    assert status == 0, out
    return json.loads(out)


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_official_failure_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    raw = bytes.fromhex(RETURN["expect"]["reason_before_ammag"])
    message = raw[34 : 34 + int.from_bytes(raw[32:34], "big")].hex()
    got = run_json(["failure", "create", "--shared-secret", STEPS[0]["shared_secret"],
                    "--code", "0x" + message[:4], "--data", message[4:], "--pad-to", "1024",
                    "--attribution", "--hold-time-ms", str(HOLDS[4] * 100)], capsys)
    assert got == {"packet": STEPS[0]["reason"], "attribution_data": STEPS[0]["attribution_data"]}
    for step in STEPS[1:]:
        hold = HOLDS[step["hop_index"]] * 100 + 99  # rounded down to units of 100 ms
        got = run_json(["failure", "wrap", got["packet"], "--shared-secret",
                        step["shared_secret"], "--attribution-data", got["attribution_data"],
                        "--hold-time-ms", str(hold)], capsys)
        assert got == {"packet": step["reason"], "attribution_data": step["attribution_data"]}
    result = run_json(["failure", "decrypt", STEPS[-1]["reason"], "--shared-secrets",
                       ",".join(ROUTE), "--attribution-data", STEPS[-1]["attribution_data"]],
                      capsys)
    assert result["hop_index"] == 4 and result["failure_code"] == 0x400F
    assert result["failure_name"] == "incorrect_or_unknown_payment_details"
    assert result["fields"] == {"htlc_msat": 100, "height": 800000}
    assert result["tlv"] == [{"type": 34001, "value": "80" * 300}]
    assert result["attribution"] == [{"hop_index": i, "hold_time_ms": 100 * HOLDS[i],
                                      "hmac_ok": True} for i in range(5)]


def test_legacy_without_attribution(capsys: pytest.CaptureFixture[str]) -> None:
    case = LEGACY["cases"][1]
    steps = case["expect"]["hops"]
    status, out = run(["failure", "create", "--shared-secret", steps[0]["shared_secret"],
                       "--code", "temporary_node_failure"], capsys)
    assert status == 0 and out.split() == [steps[0]["reason"]]
    packet = steps[0]["reason"]
    for step in steps[1:]:
        got = run_json(["failure", "wrap", packet, "--shared-secret", step["shared_secret"]],
                       capsys)
        assert got["attribution_data"] is None
        packet = got["packet"]
        assert packet == step["reason"]
    status, out = run(["failure", "decrypt", packet, "--shared-secrets",
                       ",".join(case["shared_secrets"])], capsys)
    assert out == "hop 4: temporary_node_failure (0x2002)\n"


def test_success_direction(capsys: pytest.CaptureFixture[str]) -> None:
    success = ATTRIBUTION["cases"][2]
    steps = success["expect"]["hops"]
    holds = success["hold_times"]
    data = run_json(["attribution", "create", "--shared-secret", ROUTE[4],
                     "--hold-time-ms", str(holds[4] * 100)], capsys)["attribution_data"]
    assert data == steps[0]["attribution_data"]
    for step in steps[1:]:
        i = step["hop_index"]
        data = run_json(["attribution", "wrap", data, "--shared-secret", ROUTE[i],
                         "--hold-time-ms", str(holds[i] * 100)], capsys)["attribution_data"]
        assert data == step["attribution_data"]
    got = run_json(["attribution", "verify", data, "--shared-secrets", ",".join(ROUTE)],
                   capsys)
    assert got == {"attribution": [{"hop_index": i, "hold_time_ms": 100 * holds[i],
                                    "hmac_ok": True} for i in range(5)]}


def test_unattributable_is_an_answer_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    got = run_json(["failure", "decrypt", "00" * 292, "--shared-secrets", ",".join(ROUTE)],
                   capsys)
    assert got["hop_index"] is None and got["failure_code"] is None
    status, out = run(["failure", "decrypt", "00" * 292, "--shared-secrets", ROUTE[0]], capsys)
    assert status == 0 and out.startswith("unattributable")


def test_from_malformed_and_codes(capsys: pytest.CaptureFixture[str]) -> None:
    sha = "ab" * 32
    packet = run_json(["failure", "from-malformed", "--shared-secret", ROUTE[0],
                       "--sha256-of-onion", sha, "--code", "0xc006"], capsys)["packet"]
    got = run_json(["failure", "decrypt", packet, "--shared-secrets", ROUTE[0]], capsys)
    assert (got["failure_name"], got["fields"]) == ("invalid_onion_key", {"sha256_of_onion": sha})
    status, out = run(["failure", "from-malformed", "--shared-secret", ROUTE[0],
                       "--sha256-of-onion", sha, "--code", "8194", "--json"], capsys)
    assert status == 1 and json.loads(out)["reason"] == "not_badonion"
    codes = run_json(["failure", "codes"], capsys)["codes"]
    by_name = {c["name"]: c for c in codes}
    assert len(codes) == 22
    assert by_name["invalid_onion_payload"] == {
        "code": 0x4016, "hex": "0x4016", "name": "invalid_onion_payload", "flags": ["PERM"],
        "fields": [{"name": "type", "type": "bigsize"}, {"name": "offset", "type": "u16"}]}
    assert by_name["invalid_onion_blinding"]["flags"] == ["BADONION", "PERM"]


def test_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(["failure", "create", "--shared-secret", ROUTE[0], "--code",
                       "incorrect_or_unknown_payment_details", "--json"], capsys)
    assert status == 1 and json.loads(out)["field"] == "data"
    status, out = run(["failure", "decrypt", "00", "--shared-secrets", "abcd", "--json"],
                      capsys)
    assert status == 1 and json.loads(out)["reason"] == "wrong_length"
    status, out = run(["attribution", "verify", "00" * 10, "--shared-secrets", ROUTE[0],
                       "--json"], capsys)
    assert status == 1 and json.loads(out)["reason"] == "wrong_length"
    with pytest.raises(SystemExit):
        main(["failure", "create", "--shared-secret", ROUTE[0], "--code", "no_such_code"])


def readme_section() -> str:
    return section((ROOT / "docs" / "failures.md").read_text(encoding="utf-8"),
                   "Failure onions and attribution")


def test_readme_example_runs_as_written(tmp_path: Path) -> None:
    """The bash example through the installed entry point; its output is the README's."""
    text = readme_section()
    script = re.search(r"```bash\n(.*?)```", text, re.S)
    shown = re.search(r"prints\n\n```text\n(.*?)```", text, re.S)
    assert script is not None and shown is not None
    env = {**os.environ, "PATH": f"{ENTRY.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script.group(1)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == shown.group(1)


def test_readme_library_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", readme_section(), re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], "README.md", "exec"), {})  # its asserts check the round trip
