"""The pyln-proto adapter refuses to start where pyln-proto cannot work, so a broken peer is
one clear message, never a list of disagreements that are the environment's and not the
implementation's (cryptography 51 refuses pyln-proto 26.6.9's in-place ChaCha20)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTER = ROOT / "examples" / "adapters" / "pyln_proto_adapter.py"
# The adapter run with pyln-proto's ChaCha20 failing as it does on cryptography 51.
BROKEN = (
    "import runpy, pyln.proto.onion as onion\n"
    "def chacha20_stream(key, dest):\n"
    "    raise ValueError('data and buf must not overlap')\n"
    "onion.chacha20_stream = chacha20_stream\n"
    f"runpy.run_path({str(ADAPTER)!r}, run_name='__main__')\n"
)


@pytest.mark.pyln
def test_the_adapter_does_not_start_on_a_broken_pyln(tmp_path: Path) -> None:
    script = tmp_path / "broken_adapter.py"
    script.write_text(BROKEN)
    done = subprocess.run([sys.executable, str(script)], input='{"id": 0, "op": "hello"}\n',
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert "pyln-proto cannot run on this environment" in done.stderr
    assert "data and buf must not overlap" in done.stderr
    run = subprocess.run([sys.executable, "-m", "sphinxamp", "conformance", "run",
                          "--adapter", f"{sys.executable} {script}", "--suite", "malformed"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1
    assert "disagree" not in run.stdout
    assert len(run.stderr.strip().splitlines()) <= 2 and "Traceback" not in run.stderr


@pytest.mark.pyln
def test_a_working_pyln_answers_hello() -> None:
    done = subprocess.run([sys.executable, str(ADAPTER)], input='{"id": 0, "op": "hello"}\n',
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert '"id": 0' in done.stdout
