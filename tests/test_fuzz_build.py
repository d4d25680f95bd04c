"""The fuzz build for OSS-Fuzz and ClusterFuzzLite: its build scripts, project files and
GitHub workflows, and `fuzz/check-oss-fuzz-build`, which runs the real build.sh in an
emulation of OSS-Fuzz's Python builder.

The workflows and project files are read by a small parser of the YAML subset they are
written in (block mappings and sequences, plain, quoted and flow-list scalars), so no YAML
library is needed; anything outside that subset fails the test rather than being skipped.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "fuzz"
CHECK = FUZZ / "check-oss-fuzz-build"
CFLITE = ROOT / ".clusterfuzzlite"
OSS_FUZZ = ROOT / "oss-fuzz"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("cflite_*.yml"))
HARNESSES = sorted(p.stem for p in FUZZ.glob("fuzz_*.py"))
BUILD_ACTION = "google/clusterfuzzlite/actions/build_fuzzers@v1"
RUN_ACTION = "google/clusterfuzzlite/actions/run_fuzzers@v1"
_KEY = re.compile(r"""^([\w.\-/]+|"[^"]*"|'[^']*'):(?: +(.*))?$""")


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] == " "):
            return line[:i]
    return line


def _scalar(text: str) -> Any:
    assert text[:1] not in ("|", ">", "&", "*", "!"), f"outside the YAML subset: {text}"
    if text[:1] == text[-1:] and text[:1] in ("'", '"') and len(text) > 1:
        return text[1:-1]
    if text.startswith("["):
        assert text.endswith("]"), f"unclosed flow sequence: {text}"
        return [_scalar(item.strip()) for item in text[1:-1].split(",") if item.strip()]
    assert not text.startswith("{"), f"outside the YAML subset: {text}"
    return text


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    """The block node whose lines start at lines[i], all at `indent`."""
    if lines[i][1] == "-" or lines[i][1].startswith("- "):
        items: list[Any] = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1][:2] in ("- ", "-"):
            content = lines[i][1][1:].lstrip()
            if not content:
                item, i = _block(lines, i + 1, lines[i + 1][0])
            elif _KEY.match(content):  # "- key: value" opens a mapping at the content's column
                lines[i] = (indent + len(lines[i][1]) - len(content), content)
                item, i = _block(lines, i, lines[i][0])
            else:
                item, i = _scalar(content), i + 1
            items.append(item)
        return items, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        match = _KEY.match(lines[i][1])
        assert match, f"not a mapping entry: {lines[i][1]!r}"
        key, rest = match.group(1).strip("'\""), match.group(2)
        assert key not in mapping, f"duplicate key {key}"
        i += 1
        if rest:
            mapping[key] = _scalar(rest)
        elif i < len(lines) and (lines[i][0] > indent or lines[i][1].startswith("- ")):
            mapping[key], i = _block(lines, i, lines[i][0])
        else:
            mapping[key] = None
    return mapping, i


def parse_yaml(text: str) -> Any:
    assert "\t" not in text, "tabs in YAML indentation"
    lines = []
    for raw in text.splitlines():
        body = _strip_comment(raw).rstrip()
        if body.strip():
            lines.append((len(body) - len(body.lstrip()), body.strip()))
    value, end = _block(lines, 0, lines[0][0])
    assert end == len(lines), f"bad indentation at {lines[end][1]!r}"
    return value


def test_the_subset_parser_reads_structure_and_refuses_the_rest() -> None:
    doc = parse_yaml("a: 1  # note\nb:\n  - x: 'q # r'\n    y: [m, n]\n  - z\nc:\n- d\n")
    assert doc == {"a": "1", "b": [{"x": "q # r", "y": ["m", "n"]}, "z"], "c": ["d"]}
    for bad in ("a: 1\n  b: 2\n", "a: 1\na: 2\n", "a: |\n  text\n", "just text\n"):
        with pytest.raises(AssertionError):
            parse_yaml(bad)


def _project(path: Path) -> dict[str, Any]:
    doc = parse_yaml(path.read_text())
    assert isinstance(doc, dict)
    return doc


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job["steps"]]


@pytest.mark.parametrize("path", [CFLITE / "project.yaml", OSS_FUZZ / "project.yaml"],
                         ids=lambda p: p.parent.name)
def test_project_files_say_python_libfuzzer_address_undefined(path: Path) -> None:
    project = _project(path)
    assert project["language"] == "python"
    assert project["fuzzing_engines"] == ["libfuzzer"]
    assert project["sanitizers"] == ["address", "undefined"]


def test_oss_fuzz_project_has_the_fields_a_submission_needs() -> None:
    project = _project(OSS_FUZZ / "project.yaml")
    for field in ("homepage", "main_repo", "primary_contact"):
        assert project.get(field), f"oss-fuzz/project.yaml lacks {field}"


@pytest.mark.parametrize("folder", [CFLITE, OSS_FUZZ], ids=lambda p: p.name)
def test_dockerfile_puts_the_sources_where_build_sh_looks(folder: Path) -> None:
    lines = [line.split() for line in (folder / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == ["FROM", "gcr.io/oss-fuzz-base/base-builder-python"]
    assert ["COPY", ".", "$SRC/sphinxamp"] in lines
    assert ["WORKDIR", "$SRC/sphinxamp"] in lines
    assert ["COPY", f"{folder.name}/build.sh", "$SRC/"] in lines
    assert os.access(folder / "build.sh", os.X_OK)
    assert 'cd "$SRC/sphinxamp"' in (CFLITE / "build.sh").read_text()


def test_workflows_cover_every_mode_with_the_python_build() -> None:
    assert WORKFLOWS, "no .github/workflows/cflite_*.yml"
    modes = set()
    for path in WORKFLOWS:
        workflow = parse_yaml(path.read_text())
        assert workflow["name"] and workflow["on"] and workflow["jobs"], path.name
        for job, step in _steps(workflow):
            if step.get("uses") == BUILD_ACTION:
                assert step["with"]["language"] == "python", f"{path.name}:{job}"
            elif step.get("uses") == RUN_ACTION:
                modes.add(step["with"]["mode"])
                assert int(step["with"]["fuzz-seconds"]) > 0
            else:
                pytest.fail(f"{path.name}:{job} uses {step.get('uses')}")
    assert modes == {"code-change", "batch", "prune", "coverage"}


def test_workflows_name_only_known_sanitizers_and_targets() -> None:
    allowed = set(_project(CFLITE / "project.yaml")["sanitizers"])
    for path in WORKFLOWS:
        text, workflow = path.read_text(), parse_yaml(path.read_text())
        for job_name, job in workflow["jobs"].items():
            matrix = job.get("strategy", {}).get("matrix", {}).get("sanitizer", [])
            assert set(matrix) <= allowed, f"{path.name}:{job_name} {matrix}"
            steps = [step["with"] for _, step in _steps({"jobs": {job_name: job}})]
            used = {s.get("sanitizer", "address") for s in steps} - {"${{ matrix.sanitizer }}"}
            if any(s.get("mode") == "coverage" for s in steps):
                assert used == {"coverage"}, f"{path.name}:{job_name} {used}"
            else:
                assert used <= allowed, f"{path.name}:{job_name} {used}"
        named = set(re.findall(r"\bfuzz_\w+", text))
        assert named <= set(HARNESSES), f"{path.name} names unknown targets {named}"


def test_pull_request_fuzzing_watches_the_build_script_and_existing_paths() -> None:
    workflow = parse_yaml((ROOT / ".github" / "workflows" / "cflite_pr.yml").read_text())
    paths = workflow["on"]["pull_request"]["paths"]
    assert ".clusterfuzzlite/build.sh" in paths and "sphinxamp/**" in paths
    for pattern in paths:
        assert next(ROOT.glob(pattern), None), f"{pattern} matches nothing"


def _stub_builder(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """$SRC/$OUT and a compile_python_fuzzer that only records its arguments: enough to see
    what build.sh asks for, in seconds."""
    src, out, bin_dir = tmp_path / "src", tmp_path / "out", tmp_path / "bin"
    for folder in (src, out, bin_dir):
        folder.mkdir()
    (src / "sphinxamp").symlink_to(ROOT)
    calls = tmp_path / "calls"
    tools = {"compile_python_fuzzer": f'echo "$@" >> {calls}', "pip3": "exit 0",
             "python3": f'exec {sys.executable} "$@"'}
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "SRC": str(src), "OUT": str(out), "SANITIZER": "address",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return env, calls


@pytest.mark.parametrize("script", [CFLITE / "build.sh", OSS_FUZZ / "build.sh"],
                         ids=lambda p: p.parent.name)
def test_build_sh_builds_every_harness_with_its_corpus(tmp_path: Path, script: Path) -> None:
    env, calls = _stub_builder(tmp_path)
    shutil.copy2(script, tmp_path / "src" / "build.sh")
    proc = subprocess.run(["bash", "-eu", str(tmp_path / "src" / "build.sh")], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    compiled = [line.split() for line in calls.read_text().splitlines()]
    assert sorted(Path(call[0]).stem for call in compiled) == HARNESSES
    assert all("--hidden-import=coincurve._cffi_backend" in call for call in compiled)
    out = tmp_path / "out"
    for fuzzer in HARNESSES:
        # A fast target X_fast ships the seeds of its oracle target X (fuzz/_targets.py).
        target = fuzzer.removeprefix("fuzz_")
        oracle = target.removesuffix("_fast")
        corpus = oracle if target != oracle and f"fuzz_{oracle}" in HARNESSES else target
        seeds = {p.name for p in (FUZZ / "corpus" / corpus).iterdir()}
        with zipfile.ZipFile(out / f"{fuzzer}_seed_corpus.zip") as archive:
            assert set(archive.namelist()) == seeds, fuzzer
        assert (out / f"{fuzzer}.dict").is_file() and (out / f"{fuzzer}.options").is_file()


def test_check_script_is_executable_and_refuses_to_check_nothing() -> None:
    assert os.access(CHECK, os.X_OK)
    proc = subprocess.run([sys.executable, str(CHECK), "--target", "no_such_target"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "unknown target(s) ['no_such_target']" in proc.stderr


def test_check_script_names_a_pyinstaller_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nprintf 'pyinstaller 5.0\\natheris 3.0.0\\nhatchling 1.0\\n'\n")
    fake.chmod(0o755)
    pin = re.search(r"^pyinstaller==(\S+)", (ROOT / "requirements" / "fuzz.lock").read_text(),
                    re.M)
    assert pin
    proc = subprocess.run([sys.executable, str(CHECK), "--target", "bigsize", "--python",
                           str(fake)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"PyInstaller 5.0 is installed in {fake}" in proc.stderr
    assert f"pins pyinstaller=={pin.group(1)}" in proc.stderr


_NO_BUILDER = next((f"{m} is not installed in {sys.executable}" for m in ("atheris", "PyInstaller")
                    if importlib.util.find_spec(m) is None), None)


@pytest.mark.skipif(_NO_BUILDER is not None, reason=_NO_BUILDER or "")
def test_check_builds_and_runs_bigsize_as_oss_fuzz_would() -> None:
    """Slow on purpose (about a minute): one real PyInstaller --onefile build of a target
    through .clusterfuzzlite/build.sh, then 500 executions of the packaged binary."""
    proc = subprocess.run([sys.executable, str(CHECK), "--target", "bigsize", "--script",
                           "clusterfuzzlite"], capture_output=True, text=True, timeout=900,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"^ok +fuzz_bigsize +built .* \d+ runs", proc.stdout, re.M), proc.stdout
    assert "1/1 target build(s) ok" in proc.stdout
