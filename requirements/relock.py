#!/usr/bin/env python3
"""Re-resolve the pinned environments against the newest releases, and say what that changes.

    requirements/relock [--write] [--no-suite] [--no-holds] [--python PYTHON]

In a new virtual environment it installs what the locks pin, but unpinned: the package with
its test extra, the build backend, pyln-proto (without its declared dependencies, as the locks
install it), then atheris and PyInstaller. It prints every package that moved, appeared or went,
then runs the whole suite there with CI=true (so a broken peer fails rather than skips) and
prints whether it passed. The locks change only with --write; upgrading is a deliberate step.
holds.txt keeps known-bad releases out; --no-holds shows what the newest of everything does.
Needs the package index; this is not part of CI. Exit status: 0 when the suite passed (or was
not asked for), 1 when it failed, 2 when the environment could not be built.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEST_LOCK = HERE / "test.lock"
FUZZ_LOCK = HERE / "fuzz.lock"
HOLDS = HERE / "holds.txt"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)$")
# Installed by every venv, or the project itself: not pinned.
UNPINNED = {"pip", "sphinxamp"}


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


def header(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("#")]


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, text=True, capture_output=True, check=False)


def pip(venv: Path, *args: str) -> None:
    done = run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                "--disable-pip-version-check", *args])
    if done.returncode != 0:
        sys.stderr.write(f"relock: pip install {' '.join(args)} failed:\n{done.stderr}")
        raise SystemExit(2)


def freeze(venv: Path) -> dict[str, str]:
    done = run([str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all"])
    return {name: version for name, version in pins(done.stdout).items()
            if name not in UNPINNED}


def resolve(venv: Path, holds: bool) -> tuple[dict[str, str], dict[str, str]]:
    """The newest test set and the newest fuzz additions, as two pin tables."""
    constraints = ["-c", str(HOLDS)] if holds else []
    pip(venv, *constraints, f"{ROOT}[test]", "hatchling", "editables")
    pip(venv, "--no-deps", "pyln-proto")
    test = freeze(venv)
    test.pop("setuptools", None)  # not needed to test; the fuzz set pins the one it uses
    pip(venv, *constraints, "atheris", "pyinstaller")
    fuzz = {name: version for name, version in freeze(venv).items()
            if name not in test or test[name] != version}
    fuzz.pop("packaging", None)  # PyInstaller runs on the test set's packaging
    return test, fuzz


def report(title: str, old: dict[str, str], new: dict[str, str]) -> int:
    moved = 0
    print(f"{title}:")
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before != after:
            moved += 1
            print(f"  {name}: {before or '(absent)'} -> {after or '(gone)'}")
    if not moved:
        print("  nothing moved")
    return moved


def write(path: Path, table: dict[str, str]) -> None:
    lines = header(path) + [f"{name}=={table[name]}" for name in sorted(table)]
    path.write_text("\n".join(lines) + "\n")


def suite(venv: Path) -> bool:
    print("running the suite in the re-resolved environment (CI=true) ...", flush=True)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-n", "2",
                           "-p", "no:cacheprovider"], cwd=ROOT, check=False,
                          env={**os.environ, "CI": "true"}, text=True, capture_output=True)
    tail = done.stdout.strip().splitlines()[-1:] or ["(no output)"]
    print(f"suite: {'passed' if done.returncode == 0 else 'FAILED'} ({tail[0]})")
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="requirements/relock",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the locks")
    parser.add_argument("--no-suite", action="store_true", help="only report what moved")
    parser.add_argument("--no-holds", action="store_true", help="ignore requirements/holds.txt")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sphinxamp-relock-") as tmp:
        venv = Path(tmp) / "venv"
        if run([args.python, "-m", "venv", str(venv)]).returncode != 0:
            sys.stderr.write(f"relock: {args.python} could not make a venv\n")
            return 2
        test, fuzz = resolve(venv, holds=not args.no_holds)
        moved = report("test.lock", pins(TEST_LOCK.read_text()), test)
        moved += report("fuzz.lock", pins(FUZZ_LOCK.read_text()), fuzz)
        pip(venv, "--no-deps", "--no-build-isolation", "-e", str(ROOT))
        passed = True if args.no_suite else suite(venv)
    if args.write:
        write(TEST_LOCK, test)
        write(FUZZ_LOCK, fuzz)
        print(f"wrote {TEST_LOCK.name} and {FUZZ_LOCK.name} ({moved} change(s))")
    else:
        print(f"{moved} change(s); the locks are unchanged (--write to take them)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
