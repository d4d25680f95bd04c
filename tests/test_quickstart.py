"""What a newcomer runs first: the README's Quickstart, its library example, the demo, and
the command as a real process.

The route is the official BOLT 4 one (`bolt04/onion-test.json` keys and payloads, per-hop
shared secrets from `bolt04/onion-error-test.json`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sphinxamp
from sphinxamp.cli import main

ROOT = Path(__file__).resolve().parent.parent
SESSION_KEY, ASSOC_DATA = "41" * 32, "42" * 32
NODE_KEYS = [f"{b:02x}" * 32 for b in range(0x41, 0x46)]
PUBKEYS = [
    "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619",
    "0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c",
    "027f31ebc5462c1fdce1b737ecff52d37d75dea43ce11c74d25aa297165faa2007",
    "032c0b7cf95324a07d05398b240174dc0c2be444d96b159aa6c7f7b1e668680991",
    "02edabbd16b41c8371b92ef2f04c1185b4f03b6dcd52ba9b78d9d7c89c8f221145",
]
SHARED_SECRETS = [
    "53eb63ea8a3fec3b3cd433b85cd62a4b145e1dda09391b348c4e1cd36a03ea66",
    "a6519e98832a0b179f62123b3567c106db99ee37bef036e783263602f3488fae",
    "3a6b412548762f0dbccce5c7ae7bb8147d1caf9b5471c34120b30bc9c04891cc",
    "21e13c2d7cfe7e18836df50872466117a295783ab8aab0e7ecc8c725503ad02d",
    "b5756b9b542727dbafc6765a49488b023a725d631af688fc031217e90770c328",
]
# The vector's first two payloads, without their length prefixes (12 and 52).
FIRST_PAYLOAD = "02023a98040205dc06080000000000000001"
SECOND_PAYLOAD = ("020236b00402057806080000000000000002fd02013c"
                  + "0102030405060708090a0b0c0d0e0f" * 4)


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_quickstart_has_exactly_two_commands() -> None:
    quickstart = section((ROOT / "README.md").read_text(encoding="utf-8"), "Quickstart")
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quickstart, re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    install, suite = commands
    assert install.startswith("python3 -m venv .venv && ")
    assert install.endswith("sphinxamp demo")
    # The pinned environment, as listed, and nothing resolved beside it.
    assert "pip install --no-deps -r requirements/test.lock" in suite
    assert suite.endswith(".venv/bin/pytest -n 2")


def test_ci_runs_quickstart_command_two() -> None:
    script = ROOT / ".ci" / "run"
    text = script.read_text(encoding="utf-8")
    assert os.access(script, os.X_OK)
    assert "set -euo pipefail" in text
    quickstart = section((ROOT / "README.md").read_text(encoding="utf-8"), "Quickstart")
    suite = next(line for line in quickstart.splitlines() if "pytest" in line)
    for part in suite.split(" && "):
        program = part.split()[0]
        assert program in text, part
    install = [part for part in suite.split(" && ") if "pip install" in part]
    assert install and all(part in text for part in
                           (p.replace(".venv/bin/pip install ", "") for p in install))
    assert "run_pytest .venv/bin/pytest" in text and '"$1" -n 2' in text
    assert "-eq 5" in text and "no tests" in text


def test_readme_library_example_runs() -> None:
    api = section((ROOT / "docs" / "library.md").read_text(encoding="utf-8"), "Library API")
    (code,) = re.findall(r"```python\n(.*?)```", api, re.S)
    exec(compile(code, "README.md", "exec"), {})  # its asserts check the round trip


def test_readme_amp_example_runs() -> None:
    amp = section((ROOT / "docs" / "receiver.md").read_text(encoding="utf-8"),
                  "AMP, keysend and custom records")
    (code,) = re.findall(r"```python\n(.*?)```", amp, re.S)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # its asserts check the settle
    settle = namespace["decision"]
    preimages = dict(settle.preimages)  # type: ignore[attr-defined]
    shards = namespace["payment"].shards  # type: ignore[attr-defined]
    for i, shard in enumerate(shards):
        assert hashlib.sha256(preimages[f"htlc-{i}"]).digest() == shard.payment_hash


def test_demo_peels_five_hops_to_the_final_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    # The demo uses the vector's session key and node keys, so each hop's shared secret is
    # the official one whatever the payloads.
    for ss in SHARED_SECRETS:
        assert f"{ss[:8]}…{ss[-8:]}" in out
    for pubkey in PUBKEYS:
        assert pubkey in out
    assert "final" in out
    assert out.count("next packet sha256") == 4
    assert "DIFFERS" not in out


def sphinxamp_process(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(sphinxamp.__file__).resolve().parent.parent)}
    return subprocess.run([sys.executable, "-m", "sphinxamp.cli", *argv], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_build_then_peel_as_processes() -> None:
    built = sphinxamp_process(
        "onion", "build", "--session-key", SESSION_KEY, "--assoc-data", ASSOC_DATA,
        "--hop", f"{PUBKEYS[0]}={FIRST_PAYLOAD}", "--hop", f"{PUBKEYS[1]}={SECOND_PAYLOAD}",
    )
    assert built.returncode == 0, built.stderr
    onion = built.stdout.splitlines()[0]
    assert len(onion) == 2 * 1366
    peel = ["onion", "peel", "-", "--assoc-data", ASSOC_DATA, "--json"]
    first = sphinxamp_process(*peel, "--node-key", NODE_KEYS[0], stdin=onion)
    assert first.returncode == 0, first.stderr
    hop1 = json.loads(first.stdout)
    assert (hop1["payload"], hop1["shared_secret"]) == (FIRST_PAYLOAD, SHARED_SECRETS[0])
    second = sphinxamp_process(*peel, "--node-key", NODE_KEYS[1], "--amount-msat", "10000",
                               "--cltv-expiry", "1000", "--current-height", "900",
                               stdin=hop1["next_onion"])
    hop2 = json.loads(second.stdout)
    assert (hop2["payload"], hop2["shared_secret"]) == (SECOND_PAYLOAD, SHARED_SECRETS[1])
    assert hop2["final"] is True and hop2["next_onion"] is None
    # Hop 1's key on hop 2's packet: the HMAC cannot verify.
    wrong = sphinxamp_process(*peel, "--node-key", NODE_KEYS[0], stdin=hop1["next_onion"])
    assert wrong.returncode == 1
    assert json.loads(wrong.stdout)["failure_code"] == 0xC005
