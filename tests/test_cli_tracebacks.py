"""Inputs that once ended in a Python traceback: each now ends with exit status 1 (refused by
the command) or 2 (refused by the argument parser), one line of error on stderr, and no
traceback. Run as a user runs them: a separate `python -m sphinxamp` process, arguments as
raw bytes (not every argument is UTF-8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOT_HEX = "11" * 32
NODE_KEY = "41" * 32
DEST = "02" + "aa" * 32  # the shape of a node id; refused before it matters
DEPTH = 100_000  # far past the JSON decoder's recursion limit


def _run(tmp_path: Path, *args: str | bytes,
         stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv: list[bytes] = [os.fsencode(sys.executable), b"-m", b"sphinxamp"]
    argv += [a if isinstance(a, bytes) else a.encode() for a in args]
    return subprocess.run(argv, input=stdin, capture_output=True, cwd=tmp_path, env=env,
                          check=False, timeout=120)


def _refused(proc: subprocess.CompletedProcess[bytes], status: int) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert proc.returncode == status, (proc.returncode, err)
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    if status == 1:  # the command's own refusal: that line and nothing else
        assert err.count("\n") == 1, err
    return errors[0]


@pytest.fixture
def deep(tmp_path: Path) -> Path:
    path = tmp_path / "deep.json"
    path.write_text("[" * DEPTH + "]" * DEPTH)
    return path


@pytest.mark.parametrize("command", [["amp", "split", "--root", ROOT_HEX],
                                     ["amp", "pay", "--dest", DEST, "--amount-msat", "10"]])
def test_parts_has_an_upper_bound(tmp_path: Path, command: list[str]) -> None:
    line = _refused(_run(tmp_path, *command, "--parts", "100000000"), 2)
    assert "--parts: 100000000 is not from 1 to 10000" in line


def test_parts_bound_is_in_the_help(tmp_path: Path) -> None:
    assert b"number of shares, 1 to 10000" in _run(tmp_path, "amp", "split", "--help").stdout


@pytest.mark.parametrize("command", [["trace", "deep.json"],
                                     ["vectors", "check", "--bolt", "deep.json"],
                                     ["vectors", "check", "--dir", "."],
                                     ["conformance", "run", "--adapter", "true",
                                      "--deviations", "deep.json"]])
def test_deeply_nested_json_is_refused(tmp_path: Path, deep: Path, command: list[str]) -> None:
    proc = _run(tmp_path, *command)
    if command[0] == "vectors":  # a vector runner reports the file as failed, then its summary
        err = proc.stderr.decode() + proc.stdout.decode()
        assert "Traceback" not in err and proc.returncode == 1, err
        assert "nested too deeply" in err
        return
    assert "nested too deeply" in _refused(proc, 1)


def test_deeply_nested_request_to_the_adapter_is_a_bad_request(tmp_path: Path) -> None:
    # The adapter is a server: it answers every line, a bad one with a bad-request answer.
    proc = _run(tmp_path, "conformance", "adapter", stdin=b"[" * DEPTH + b"]" * DEPTH + b"\n")
    assert b"Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout.decode().splitlines()[0])
    assert answer["id"] is None and "nested too deeply" in answer["error"]["message"]


@pytest.mark.parametrize(("command", "field"), [
    (["onion", "peel", "00" * 1366, "--node-key", NODE_KEY, "--assoc-data", "42" * 32,
      "--replay-db", "r.db", "--cltv", "5", "--batch-id", b"\xff"], "batch_id"),
    (["keysend", "pay", "--dest", DEST, "--amount-msat", "1000", "--message", b"\xff"],
     "message")])
def test_arguments_that_are_not_utf8_are_refused(tmp_path: Path, command: list[str | bytes],
                                                 field: str) -> None:
    assert f"{field} is not UTF-8 text" in _refused(_run(tmp_path, *command), 1)


def test_invoice_list_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    line = _refused(_run(tmp_path, "amp", "invoice", "list", "--db", "typo.db"), 1)
    assert "no such database" in line and not (tmp_path / "typo.db").exists()


def test_invoice_expiry_has_a_bound(tmp_path: Path) -> None:
    proc = _run(tmp_path, "amp", "invoice", "add", "--db", "inv.db", "--expiry",
                "99999999999999999999999")
    assert "at most 315360000 seconds" in _refused(proc, 2)  # the parser's bound
