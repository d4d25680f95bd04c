"""Every subcommand, driven with malformed inputs: each option or argument that takes a value
gets, in turn, empty, odd and non-hex text, a huge and a negative number, a missing file, a
folder, binary garbage from a file, an unparsable command line and a 100,000-deep JSON file,
while the other arguments hold plausible values. Each run ends with exit status 1 or 2
(0 only where the value is a valid one for that argument: listed below), one error line on
stderr (or the JSON error object under --json), and no traceback.

The commands run in process (`main`, stdin replaced) for speed; a few run as real processes."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sphinxamp import cli
from sphinxamp.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
NODE = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"
KEY = "41" * 32
PAYLOAD = "02023a98040205dc06080000000000000001"
DEPTH = 100_000
SKIP = {("bench",), ("demo",)}  # no value-taking options; slow, and run by their own tests

# Plausible values for the other arguments, by option name (positionals by dest).
PLAUSIBLE = {
    "--session-key": KEY, "--node-key": KEY, "--shared-secret": KEY, "--root": KEY,
    "--share": KEY, "--assoc-data": "42" * 32, "--dest": NODE, "--hop": f"{NODE}={PAYLOAD}",
    "--role": "final", "--shared-secrets": KEY, "--sha256-of-onion": "00" * 32,
    "--code": "temporary_node_failure", "--hold-time-ms": "0", "--payment-addr": "00" * 32,
    "--amount-msat": "1000", "--parts": "2", "--index": "0", "--height": "0",
    "--adapter": "/nonexistent/adapter", "onion": "00" * 1366, "packet": "00" * 292,
    "data": "00" * 32, "payload": PAYLOAD, "stream": "0100", "message": "0010",
    "route": str(ROOT / "examples" / "route-bolt04.json"),
}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
            ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def _name(action: argparse.Action) -> str:
    return action.option_strings[0] if action.option_strings else action.dest


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0 and not isinstance(action, argparse._HelpAction | argparse.
                                                 _VersionAction)


PLAUSIBLE_FOR: dict[tuple[tuple[str, ...], str], str] = {(("explain",), "data"): PAYLOAD}


def _plausible(path: tuple[str, ...], action: argparse.Action, tmp: Path) -> str:
    name = _name(action)
    if action.choices:
        return str(next(iter(action.choices)))
    if (path, name) in PLAUSIBLE_FOR:
        return PLAUSIBLE_FOR[path, name]
    if name in ("--db", "--replay-db"):
        return str(tmp / "store.db")
    if name in ("--out", "--dir", "--bolt-dir"):
        return str(tmp / "out")
    if name in ("file", "--bolt", "--deviations"):
        return str(tmp / "plain.json")
    return PLAUSIBLE.get(name, PLAUSIBLE.get(action.dest, "00"))


def _malformed(tmp: Path) -> dict[str, str]:
    """Every value stays inside `tmp`: a command that creates what it is given a path to
    (a database, an output folder) must not write elsewhere."""
    return {"empty": "", "odd hex": "abc", "not hex": "zz", "huge": str(10**30),
            "long": "9" * 5000,  # past int()'s 4,300-digit limit
            "negative": "-1", "missing file": f"@{tmp}/absent/x", "folder": f"@{tmp}",
            "garbage": f"@{tmp}/garbage.bin", "quoting": "python 'unterminated",
            "deep json": f"@{tmp}/deep.json", "deep json path": f"{tmp}/deep.json",
            "garbage path": f"{tmp}/garbage.bin", "missing path": f"{tmp}/absent/x",
            "path under a file": f"{tmp}/garbage.bin/x", "folder path": str(tmp)}


PATHS = ("--db", "--replay-db", "--out", "--dir", "--bolt-dir", "--bolt", "--deviations",
         "route", "file")
PATH_KINDS = ("empty", "deep json path", "garbage path", "missing path", "path under a file",
              "folder path")
NUMBER_KINDS = ("empty", "not hex", "huge", "negative", "long")
TEXT_KINDS = ("empty", "odd hex", "not hex", "huge", "negative", "missing file", "folder",
              "garbage", "deep json")


def _kinds(action: argparse.Action) -> tuple[str, ...]:
    """The malformed values that mean something for this argument."""
    name = _name(action)
    if action.choices:
        return ("not hex",)
    if name in PATHS:
        return PATH_KINDS
    if hasattr(action.type, "low"):
        return NUMBER_KINDS
    if name == "--adapter":
        return ("empty", "quoting", "missing path", "folder path", "garbage path")
    return TEXT_KINDS


# (command, argument, value) where the value is valid input, so exit 0 is right.
EMPTY_IS_VALID = {
    ("onion build", "--assoc-data"), ("fuzz corpus", "--assoc-data"), ("tlv decode", "stream"),
    ("explain", "data"),
    ("amp split", "--seed"), ("amp pay", "--seed"), ("keysend pay", "--seed"),  # a seed
    ("amp pay", "--payment-metadata"), ("amp pay", "--data"), ("keysend pay", "--data"),
    ("keysend pay", "--message"), ("failure create", "--data"),
    ("message build", "--path-key"),  # empty: no path key, the bare packet is printed
    ("explain", "--assoc-data"),  # read only for an onion
    # Onion messages are never answered with errors: a dropped message is a result.
    ("message peel", "onion"), ("message peel", "--path-key"),
    # The origin's reading: an undecryptable packet is "unattributable", a result.
    ("failure decrypt", "packet"), ("failure decrypt", "--attribution-data"),
    # A hop wraps whatever came back without parsing it (BOLT 4 › Returning Errors).
    ("failure wrap", "packet"),
}
ACCEPTED = {(command, arg, "empty") for command, arg in EMPTY_IS_VALID}
ACCEPTED |= {("keysend pay", "--message", kind) for kind in TEXT_KINDS}  # any UTF-8 text
ACCEPTED |= {("conformance export", "--out", "missing path")}  # the folder is made
# Runners whose verdict is their report (stdout, exit 1): a folder of unreadable files.
RUNNERS = {"vectors check"}
# Plausible arguments a command needs beyond the required ones to reach the one under test.
EXTRA: dict[tuple[str, ...], list[str]] = {("trace",): ["--fail-at", "2"]}
PARSER = build_parser()
LEAVES = {path: parser for path, parser in _leaves(PARSER) if path not in SKIP}
CASES = [(path, _name(action), kind) for path, parser in LEAVES.items()
         for action in parser._actions if _takes_value(action) for kind in _kinds(action)]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("malformed")
    (base / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    (base / "deep.json").write_text("[" * DEPTH + "]" * DEPTH)
    (base / "plain.json").write_text("{}")
    return base


def _argv(path: tuple[str, ...], target: str, value: str, tmp: Path) -> list[str]:
    parser = LEAVES[path]
    argv = [*path, *EXTRA.get(path, [])]
    for action in parser._actions:
        if not _takes_value(action):
            continue
        name = _name(action)
        if name == target:
            given = value
        elif (action.required or not action.option_strings) and name not in argv:
            given = _plausible(path, action, tmp)
        else:
            continue
        argv += [given] if not action.option_strings else [name, given]
    return argv


def run_in_process(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    # One parser for every run: building it takes longer than most commands.
    monkeypatch.setattr(cli, "build_parser", lambda: PARSER)
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's usage error
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def assert_clean_refusal(status: int, out: str, err: str, *, as_json: bool) -> None:
    assert "Traceback" not in out + err, err
    assert status in (1, 2), (status, out[:300], err[:300])
    if status == 1 and as_json and not err:
        obj = json.loads(out.splitlines()[-1])
        assert obj.get("error") or obj.get("decision") == "fail", out
        return
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1, err
    assert len(errors[0]) < 500, errors[0][:500]  # an echoed argument is cut short
    if status == 1:
        assert err.count("\n") == 1, err


@pytest.mark.parametrize(("path", "target", "kind"), CASES,
                         ids=[f"{' '.join(p)} {t} {k}" for p, t, k in CASES])
def test_malformed_argument_is_refused_cleanly(
        path: tuple[str, ...], target: str, kind: str, tmp: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp)
    argv = _argv(path, target, _malformed(tmp)[kind], tmp)
    status, out, err = run_in_process(argv, "", monkeypatch, capsys)
    command = " ".join(path)
    if status == 0 and (command, target, kind) in ACCEPTED:
        return
    if command in RUNNERS and status == 1 and not err:
        assert "Traceback" not in out and "FAIL" in out, out
        return
    assert_clean_refusal(status, out, err, as_json=False)


TEXT_ARGUMENTS = [(path, _name(action)) for path, parser in LEAVES.items()
                  for action in parser._actions
                  if _takes_value(action) and _kinds(action) == TEXT_KINDS]
STDIN = {"garbage": "\x00\x01\x7f zz \udcff\n" * 50, "deep json": "[" * DEPTH + "]" * DEPTH}
STDIN_CASES = [(path, name, kind) for path, name in [*TEXT_ARGUMENTS, (("trace",), "route")]
               for kind in STDIN]
# "-" is plain text here, not stdin.
STDIN_ACCEPTED = {("keysend pay", "--message")}


@pytest.mark.parametrize(("path", "target", "kind"), STDIN_CASES,
                         ids=[f"{' '.join(p)} {t} {k}" for p, t, k in STDIN_CASES])
def test_malformed_stdin_is_refused_cleanly(
        path: tuple[str, ...], target: str, kind: str, tmp: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp)
    status, out, err = run_in_process(_argv(path, target, "-", tmp), STDIN[kind],
                                      monkeypatch, capsys)
    if status == 0 and (" ".join(path), target) in STDIN_ACCEPTED:
        return
    assert_clean_refusal(status, out, err, as_json=False)


JSON_CASES = sorted({path: name for path, name in TEXT_ARGUMENTS
                     if any(a.dest == "json" for a in LEAVES[path]._actions)}.items())


@pytest.mark.parametrize(("path", "target"), JSON_CASES,
                         ids=[f"{' '.join(p)} {t}" for p, t in JSON_CASES])
def test_malformed_argument_under_json_is_the_error_object(
        path: tuple[str, ...], target: str, tmp: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp)
    argv = [*_argv(path, target, _malformed(tmp)["not hex"], tmp), "--json"]
    status, out, err = run_in_process(argv, "", monkeypatch, capsys)
    if status == 0 and (" ".join(path), target, "not hex") in ACCEPTED:
        return
    assert "Traceback" not in out + err and status in (1, 2), (status, out, err)
    if status == 1:
        (line,) = out.splitlines()
        assert json.loads(line)["error"], line
        assert err == ""


def test_amp_receive_answers_malformed_lines_with_error_objects(
        tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["garbage", "[" * DEPTH, '{"htlc_id": 1e400}', '{"amount_msat": 1e30}',
             '{"tick": "x"}', '{"tick": 1e999}', '"text"', "{}",
             '{"htlc_id": "a", "payment_hash": "zz"}', f'{{"htlc_id": {10**30}}}']
    status, out, err = run_in_process(["amp", "receive", "--db", ":memory:"],
                                      "\n".join(lines) + "\n", monkeypatch, capsys)
    assert status == 1 and "Traceback" not in out + err, err
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == len(lines)
    assert all(a["decision"] == "fail" and a["error"] for a in answers)


def _process(args: list[str], stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sphinxamp", *args], input=stdin, cwd=cwd,
                          env=env, capture_output=True, check=False, timeout=120)


GARBAGE = bytes(range(256)) * 8


@pytest.mark.parametrize(("args", "stdin"), [
    (["onion", "peel", "-", "--node-key", KEY, "--assoc-data", "42" * 32], GARBAGE),
    (["tlv", "decode", "-"], GARBAGE),
    (["trace", "-"], b"[" * DEPTH),
    (["explain", "-"], GARBAGE),
    (["failure", "decrypt", "-", "--shared-secrets", KEY], b"\xff\xfe" * 100),
    (["amp", "split", "--root", KEY, "--parts", str(10**30)], b""),
], ids=["onion peel", "tlv decode", "trace", "explain", "failure decrypt", "amp split"])
def test_as_a_process(tmp: Path, args: list[str], stdin: bytes) -> None:
    proc = _process(args, stdin, tmp)
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and proc.returncode in (1, 2), (proc.returncode, err)
    assert len([line for line in err.splitlines() if "error" in line]) == 1, err


LONG = "9" * 5000  # past int()'s 4,300-digit limit
COMPOSITE = {
    "scid huge": ["--route", f"{NODE}@99999999999999999999x1x1"],
    "scid long": ["--route", f"{NODE}@{LONG}x1x1"],
    "scid superscript": ["--route", f"{NODE}@1x1x\u00b2"],
    "data type past u64": ["--data", f"{2**64}=00"],
    "data type long": ["--data", f"{LONG}=00"],
    "data type superscript": ["--data", "\u00b2=00"],
}


@pytest.mark.parametrize("extra", COMPOSITE.values(), ids=COMPOSITE.keys())
def test_numbers_inside_composite_arguments_are_bounded(
        extra: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["keysend", "pay", "--dest", NODE, "--amount-msat", "1", *extra]
    assert_clean_refusal(*run_in_process(argv, "", monkeypatch, capsys), as_json=False)


ROUTE_FIELDS = {"amount_msat": (2**64, ""), "height": (2**32, ""),
                "cltv_expiry": (2**32, ""), "hold_time_ms": (100 << 32, "hops[0].")}


@pytest.mark.parametrize("key", ROUTE_FIELDS)
def test_route_file_numbers_are_bounded(key: str, tmp: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads((ROOT / "examples" / "route-bolt04.json").read_text())
    value, where = ROUTE_FIELDS[key]
    (doc["hops"][0] if where else doc)[key] = value
    route = tmp / f"route-{key}.json"
    route.write_text(json.dumps(doc))
    status, out, err = run_in_process(["trace", str(route)], "", monkeypatch, capsys)
    assert_clean_refusal(status, out, err, as_json=False)
    assert f"{where}{key}: an integer from 0 to" in err
