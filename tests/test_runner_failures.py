"""Runs that checked nothing fail, and say why: `conformance run` with an adapter that cannot
start, a command line that does not split, a requested suite without cases, a run in which no
answer was compared; `conformance export` into an existing file; `fuzz/run` (plain and
`--adapter`) when a deviations file is unreadable or a worker dies, ends early or executes
nothing. Each exits non-zero with a short message naming the reason, never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from sphinxamp.conformance.suites import BOLT_FILES
from tests.test_conformance import rebuilt_onion_test

ROOT = Path(__file__).resolve().parents[1]
SPHINXAMP = [sys.executable, "-m", "sphinxamp"]
REFERENCE = f"{sys.executable} -m sphinxamp.conformance"
RUNNER = [sys.executable, str(ROOT / "fuzz" / "runner.py")]


def sphinxamp(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SPHINXAMP, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def runner(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNNER, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, check=False)


def error_line(run: subprocess.CompletedProcess[str]) -> str:
    """The one line of the message (argparse puts its usage lines before it)."""
    assert "Traceback" not in run.stderr + run.stdout, run.stderr[-2000:]
    lines = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1, run.stderr
    return lines[0]


def adapter(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text("import json, sys\n" + body)
    return f"{sys.executable} {path}"


# --- conformance run: the adapter's command line and its start ----------------------------

@pytest.mark.parametrize(("command", "reason"), [
    ("", "no command given"),
    ("   ", "no command given"),
    ("python 'unterminated", "does not parse (No closing quotation)"),
])
def test_an_adapter_line_that_does_not_split_is_a_usage_error(command: str,
                                                               reason: str) -> None:
    run = sphinxamp("conformance", "run", "--adapter", command, "--suite", "valid")
    assert run.returncode == 2 and reason in error_line(run)


@pytest.mark.parametrize(("name", "body", "reason"), [
    ("missing", None, "cannot start"),
    ("exits", "sys.exit(3)\n", "adapter exited (status 3)"),
    ("garbage", "sys.stdin.readline(); print('hi there', flush=True); sys.stdin.read()\n",
     "garbage at hello: not JSON"),
    ("wrong_id", "sys.stdin.readline(); print(json.dumps({'id': 7}), flush=True)\n"
     "sys.stdin.read()\n", "garbage at hello"),
    ("hangs", "import time\ntime.sleep(60)\n", "timeout at hello: no answer within 1 s"),
])
def test_an_adapter_that_cannot_start_stops_the_run_with_one_message(
        tmp_path: Path, name: str, body: str | None, reason: str) -> None:
    command = str(tmp_path / "no" / "adapter") if body is None else adapter(tmp_path, name,
                                                                             body)
    run = sphinxamp("conformance", "run", "--adapter", command, "--suite", "valid",
                    "malformed", "--timeout", "1")
    assert run.returncode == 1, run.stdout[-500:]
    assert reason in error_line(run) and "is not usable" in run.stderr
    assert len(run.stderr.splitlines()) == 1 and "ADAPTER_ERROR" not in run.stdout


def test_a_run_in_which_nothing_was_compared_fails_and_lists_the_skips(tmp_path: Path) -> None:
    """An adapter whose hello lists no op: every case is skipped, so nothing was checked.
    Without --suite and --bolt-dir the bolt suite is listed as skipped with the reason."""
    body = ("for line in sys.stdin:\n    req = json.loads(line)\n"
            "    print(json.dumps({'id': req['id'], 'protocol': 'sphinxamp-conformance/2',"
            " 'ops': []}), flush=True)\n")
    run = sphinxamp("conformance", "run", "--adapter", adapter(tmp_path, "none", body),
                    "--json")
    report = json.loads(run.stdout)
    assert run.returncode == 1 and not report["ok"] and report["ran"] == 0
    assert "no answer was compared" in error_line(run)
    assert report["failures"] == [f"no answer was compared (0 case(s) sent, "
                                  f"{len(report['cases'])} unsupported)"]
    bolt = [s for s in report["skipped"] if s["suite"] == "bolt"]
    assert bolt and "no --bolt-dir" in bolt[0]["reason"]
    ops = {(s["suite"], s["op"]) for s in report["skipped"] if "op" in s}
    assert ("valid", "bigsize_decode") in ops
    assert sum(s["cases"] for s in report["skipped"] if "op" in s) == len(report["cases"])


# --- conformance run: the suites asked for ------------------------------------------------

def test_suite_bolt_without_bolt_dir_is_a_usage_error() -> None:
    run = sphinxamp("conformance", "run", "--adapter", REFERENCE, "--suite", "bolt")
    assert run.returncode == 2 and "--bolt-dir" in error_line(run)


@pytest.mark.parametrize("where", ["nonexistent", "empty"])
def test_a_bolt_dir_without_any_official_file_fails(tmp_path: Path, where: str) -> None:
    folder = tmp_path / where
    if where == "empty":
        folder.mkdir()
    run = sphinxamp("conformance", "run", "--adapter", REFERENCE, "--suite", "bolt",
                    "--bolt-dir", str(folder))
    line = error_line(run)
    assert run.returncode == 1 and "agree" not in run.stdout
    assert ("not a folder" in line) if where == "nonexistent" else all(
        f"{name} not found" in line for name in BOLT_FILES)


def test_official_files_missing_from_bolt_dir_are_listed_as_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "bolts"
    folder.mkdir()
    rebuilt_onion_test(folder / "onion-test.json")
    run = sphinxamp("conformance", "run", "--adapter", REFERENCE, "--suite", "bolt",
                    "--bolt-dir", str(folder), "--json")
    report = json.loads(run.stdout)
    assert run.returncode == 0 and report["ok"] and report["ran"] == len(report["cases"]) > 0
    assert [s["file"] for s in report["skipped"]] == [n for n in BOLT_FILES
                                                     if n != "onion-test.json"]
    assert all(s["reason"].endswith("not found") for s in report["skipped"])
    text = sphinxamp("conformance", "run", "--adapter", REFERENCE, "--suite", "bolt",
                     "--bolt-dir", str(folder))
    assert f"ran {report['ran']} of {report['ran']} case(s); 4 part(s) skipped" in text.stdout
    assert f"skipped: bolt onion-error-test.json: {folder}/onion-error-test.json not found" \
        in text.stdout


# --- conformance export --out -------------------------------------------------------------

def test_export_refuses_an_existing_file_or_a_folder_with_files(tmp_path: Path) -> None:
    existing = tmp_path / "file.json"
    existing.write_text("{}")
    for out in ("/dev/null", str(existing)):
        run = sphinxamp("conformance", "export", "--out", out, "--suite", "valid")
        assert run.returncode == 1 and "is not a folder" in error_line(run)
    folder = tmp_path / "suites"
    assert sphinxamp("conformance", "export", "--out", str(folder), "--suite",
                     "valid").returncode == 0
    again = sphinxamp("conformance", "export", "--out", str(folder), "--suite", "valid")
    assert again.returncode == 1 and "--force" in error_line(again)
    forced = sphinxamp("conformance", "export", "--out", str(folder), "--suite", "valid",
                       "--force")
    assert forced.returncode == 0, forced.stderr


# --- fuzz/run ------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "status", "reason"), [
    (["--adapter", ""], 2, "no command given"),
    (["--adapter", "python 'unterminated"], 2, "No closing quotation"),
    (["--adapter", "/nonexistent/adapter"], 1, "cannot start"),
    (["--deviations", "known.json"], 2, "--deviations applies only with --adapter"),
    (["--seconds", "0"], 2, "0 is not from 1 to"),
    (["--jobs", "100000"], 2, "100000 is not from 1 to"),
])
def test_fuzz_run_refuses_bad_arguments_before_fuzzing(args: list[str], status: int,
                                                       reason: str) -> None:
    run = runner(*args, "--seconds", "2", "bigsize") if "--seconds" not in args else \
        runner(*args, "bigsize")
    assert run.returncode == status and reason in error_line(run)


@pytest.mark.parametrize("content", [None, "{not json", '{"format": "other"}'])
def test_fuzz_run_checks_the_deviations_file_before_any_worker(tmp_path: Path,
                                                               content: str | None) -> None:
    known = tmp_path / "known.json"
    if content is not None:
        known.write_text(content)
    run = runner("--adapter", REFERENCE, "--deviations", str(known), "--seconds", "300",
                 "bigsize", timeout=60)
    assert run.returncode == 2 and str(known) in error_line(run)
    assert "new finding" not in run.stdout


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_a_differential_replay_of_nothing_fails(tmp_path: Path, where: str) -> None:
    folder = tmp_path / where
    if where == "empty":
        folder.mkdir()
    run = subprocess.run([sys.executable, str(ROOT / "fuzz" / "differential.py"), "--adapter",
                          REFERENCE, "--target", "bigsize", "--replay", str(folder)],
                         capture_output=True, text=True, timeout=120, check=False)
    line = error_line(run)
    assert run.returncode == (2 if where == "missing" else 1) and str(folder) in line
    assert run.stdout == ""


def fake_python(tmp_path: Path, body: str) -> str:
    """An interpreter that says it has atheris and then, run as a worker, does `body`."""
    path = tmp_path / "python"
    path.write_text(f'#!/bin/sh\nif [ "$1" = "-c" ]; then exit 0; fi\n{body}\n')
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(("body", "reasons"), [
    ('echo "Fatal: the worker died" >&2; exit 3',
     ["exited with status 3 (Fatal: the worker died)", "executed no input"]),
    ("exit 0", ["ended after", "of its 2 s budget", "executed no input"]),
])
@pytest.mark.parametrize("mode", ["plain", "adapter"])
def test_fuzz_run_fails_when_a_worker_dies_or_executes_nothing(
        tmp_path: Path, body: str, reasons: list[str], mode: str) -> None:
    extra = ["--adapter", REFERENCE] if mode == "adapter" else ["--smoke", "--jobs", "1"]
    run = runner("--python", fake_python(tmp_path, body), *extra, "--seconds", "2", "bigsize")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("fuzz/run: error:")]
    assert errors and all("bigsize" in line and "; log " in line for line in errors)
    log = "differential/bigsize/fuzz.log" if mode == "adapter" else "bigsize/fuzz-0.log"
    assert all(log in line for line in errors)
    for reason in reasons:
        assert any(reason in line for line in errors), (reason, errors)


def test_fuzz_run_passes_a_run_that_fuzzed() -> None:
    pytest.importorskip("atheris", reason="atheris is not installed: fuzz/run fuzzes under it "
                        "(the 'fuzz' extra)")
    run = runner("--python", sys.executable, "--smoke", "--jobs", "1", "--seconds", "2",
                 "bigsize", timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "error" not in run.stderr and "| bigsize" in run.stdout


# --- examples/adapters/README.md: the pyln-proto install line ------------------------------

def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def install_line() -> dict[str, str]:
    """The packages and versions of the README's `pip install --no-deps` line."""
    text = (ROOT / "examples" / "adapters" / "README.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "pip install --no-deps pyln-proto" in line]
    assert len(lines) == 1, lines
    command = lines[0].split("`pip install --no-deps ", 1)[1].split("`", 1)[0]
    pins = dict(word.split("==", 1) for word in command.split())
    return {_normal(name): version for name, version in pins.items()}


def test_the_pyln_install_line_pins_the_locked_versions() -> None:
    locked = {}
    for line in (ROOT / "requirements" / "test.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            locked[_normal(name)] = version.strip()
    pins = install_line()
    assert pins and {name: locked.get(name) for name in pins} == pins


IMPORTED = """
import importlib.metadata as md, json, re, sys
before = set(sys.modules)
import pyln.proto.onion, pyln.proto.primitives  # what the adapter imports
import bitstring
tops = {m.split(".")[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names)
where = md.packages_distributions()
print(json.dumps(sorted({d for t in tops for d in where.get(t, [])})))
"""


def _closure(names: list[str]) -> set[str]:
    """The distributions `names` need, without extras (what installing them brings)."""
    seen: set[str] = set()
    while names:
        name = _normal(names.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # a marker excluded it here (another Python)
            continue
        names += [m.group(0) for req in needs if "extra ==" not in req
                  if (m := re.match(r"[A-Za-z0-9._-]+", req))]
    return seen


@pytest.mark.pyln
def test_the_pyln_install_line_names_every_package_the_adapter_imports() -> None:
    """Every distribution imported by pyln.proto (and by bitstring, which it imports) is on
    the line, except those sphinxamp itself installs (coincurve, cryptography, cffi)."""
    found = subprocess.run([sys.executable, "-c", IMPORTED], capture_output=True, text=True,
                           check=True, timeout=60)
    imported = {_normal(d) for d in json.loads(found.stdout)}
    assert {"pyln-proto", "bitstring", "tibs"} <= imported, imported
    missing = imported - set(install_line()) - _closure(["sphinxamp"])
    assert not missing, f"imported but not on the install line: {sorted(missing)}"
