"""The pinned environments and the hermetic suite (docs/dependencies.md).

The locks must name exact versions only, cover what the extras and the peers need, agree with
the ranges pyproject.toml declares (test.lock inside them, lowest.lock on their lower bounds),
and the suite must name no path outside the checkout but through tests/official.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([0-9][^\s;#]*)$")


def lock(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REQUIREMENTS / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"{name}: not an exact pin: {line!r}"
        key = canonicalize_name(match[1])
        assert key not in pins, f"{name}: {key} pinned twice"
        pins[key] = match[2]
    return pins


def project() -> dict[str, object]:
    doc: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return doc


def runtime() -> list[Requirement]:
    deps = project()["dependencies"]
    assert isinstance(deps, list)
    return [Requirement(d) for d in deps]


def extra(name: str) -> list[Requirement]:
    extras = project()["optional-dependencies"]
    assert isinstance(extras, dict)
    return [Requirement(d) for d in extras[name]]


def test_test_lock_covers_the_extra_the_peer_and_the_build_backend() -> None:
    pins = lock("test.lock")
    wanted = [r.name for r in runtime() + extra("test")] + ["pyln-proto", "hatchling",
                                                          "editables"]
    for name in wanted:
        assert canonicalize_name(name) in pins, name
    for req in runtime() + extra("test"):
        assert req.specifier.contains(pins[canonicalize_name(req.name)]), req


def test_fuzz_lock_covers_the_fuzz_extra_and_pyinstaller() -> None:
    pins = lock("fuzz.lock")
    for req in extra("fuzz"):
        assert req.specifier.contains(pins[canonicalize_name(req.name)]), req
    assert "pyinstaller" in pins


def test_lowest_lock_sits_on_the_declared_lower_bounds() -> None:
    """A lower bound is honest only if it is what CI tests (.ci/run runs the suite on it)."""
    pins = lock("lowest.lock")
    for req in runtime():
        (bound,) = [s.version for s in req.specifier if s.operator == ">="]
        assert Version(pins[canonicalize_name(req.name)]) == Version(bound), req
    assert "requirements/lowest.lock" in (ROOT / ".ci" / "run").read_text()


def test_no_test_names_a_path_outside_the_checkout() -> None:
    outside = re.compile(r"parents\[2\]|ROOT\.parent|[\"']\.\./shared|[\"']shared[\"']"
                         r"|\.venv[\"'/]")
    # test_docs.py names a `.venv` inside the sandbox it builds, not outside the checkout.
    allowed = {"official.py", "test_environment.py", "test_quickstart.py", "test_docs.py"}
    found = [f"{path.name}:{n}" for path in sorted((ROOT / "tests").glob("*.py"))
             if path.name not in allowed
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if outside.search(line)]
    assert found == []


def test_relock_explains_itself_without_the_network() -> None:
    script = REQUIREMENTS / "relock"
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--write" in done.stdout and "--no-holds" in done.stdout


def test_each_test_module_is_imported_as_part_of_the_tests_package() -> None:
    """tests/ is a package: a helper or test module imported both as `tests.x` and as `x` is
    two modules to mypy (the one run over sphinxamp, tests, fuzz and benchmarks then fails
    with "found twice") and two copies at run time (their state diverges)."""
    local = {p.stem for p in (ROOT / "tests").glob("*.py")}
    assert (ROOT / "tests" / "__init__.py").exists()
    plain = []
    for path in (ROOT / "tests").glob("*.py"):
        for match in re.finditer(r"^\s*(?:from|import) (\w+)", path.read_text(), re.M):
            if match[1] in local:
                plain.append(f"{path.name}: {match[0].strip()}")
    assert plain == []


def test_ci_checks_types_in_one_mypy_run() -> None:
    """One `mypy --strict` over the library, tests, harnesses, benchmarks and tools: a second
    run would mean some code is only type-checked in a different module layout."""
    script = (ROOT / ".ci" / "run").read_text()
    runs = [line for line in script.splitlines() if re.match(r"\s*\.venv/bin/mypy\b", line)]
    assert len(runs) == 1, runs
    for folder in ("sphinxamp/", "tests/", "fuzz/", "benchmarks/", "tools/"):
        assert folder in runs[0]
