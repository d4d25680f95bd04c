"""The documentation is executed: every shell block of README.md and docs/ runs as written.

A block tagged `sh`, `bash` or `console` is a command to paste; one tagged `text` is a synopsis
or an output. Each file's shell blocks run in order in one bash session, as a reader pasting
them one after another would (so a variable set in one block is there in the next), from a
copy of the checkout's layout whose `.venv` is this interpreter's environment. In a `console`
block, each `$ ` line is a command and the lines after it, up to the next `$ ` or an elision
`…`, are the first lines it must print. A `text` block right after a shell block, introduced by
a line ending in "prints", is that block's whole output. The README's two Quickstart commands
are the exception: they make the environment itself, and `.ci/run` runs the second.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "console", "shell"}
BLOCK = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.S | re.M)
MARK = "@@sphinxamp-docs-block@@"


@dataclass
class Block:
    lang: str
    body: str
    line: int
    end: int = 0  # where the block closes in the file's text
    shown: list[str] | None = None  # the output shown after it, when the text says so
    commands: list[tuple[str, list[str]]] = field(default_factory=list)  # console: $ lines


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    quickstart = _span(text, "Quickstart") if path.name == "README.md" else (0, 0)
    found: list[Block] = []
    for match in BLOCK.finditer(text):
        lang, body = match.group(1), match.group(2)
        if quickstart[0] <= match.start() < quickstart[1]:
            continue
        gap = text[found[-1].end if found else 0 : match.start()]
        block = Block(lang, body, text.count("\n", 0, match.start()) + 1, match.end())
        if lang == "text" and found and found[-1].lang in SHELL and _introduces(gap):
            found[-1].shown = body.splitlines()
        if lang == "console":
            block.commands = _console(body)
        found.append(block)
    return [b for b in found if b.lang in SHELL]


def _span(text: str, heading: str) -> tuple[int, int]:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return start, end if end != -1 else len(text)


def _introduces(gap: str) -> bool:
    words = gap.strip()
    return bool(words) and "```" not in words and words.rstrip(":").endswith("prints")


def _console(body: str) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands and commands[-1][1][-1:] != ["…"]:
            commands[-1][1].append("…" if line.strip().startswith("…") else line)
    return [(cmd, [s for s in shown if s != "…"]) for cmd, shown in commands]


ACTIVATE = "activate it first (`. .venv/bin/activate`)"


def script(path: Path) -> tuple[str, list[Block]]:
    """One bash script for the file: each block's commands, then a marker line. A guide says
    once, at its top, to activate the environment; the README's journeys each do it."""
    parts, ran = ["set -e -o pipefail"], blocks(path)
    if path.name != "README.md":
        assert ACTIVATE in path.read_text(encoding="utf-8"), f"{path.name} never says {ACTIVATE}"
        parts.append(". .venv/bin/activate")
    for i, block in enumerate(ran):
        if block.lang != "console":
            parts += [block.body, f"echo '{MARK} {i} 0 0'"]
            continue
        # A console line may show a refusal: its status is recorded, not fatal.
        for j, (command, _) in enumerate(block.commands):
            parts += ["set +e", command, f"status=$?; set -e; echo \"{MARK} {i} {j} $status\""]
    return "\n".join(parts) + "\n", ran


def sandbox(tmp: Path) -> Path:
    """The checkout's layout with this interpreter's environment as `.venv`."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").is_file():
        pytest.skip("the documentation activates a virtual environment; this interpreter "
                    f"({sys.executable}) is not in one")
    for entry in ROOT.iterdir():
        if entry.name not in {".venv", ".git"}:
            (tmp / entry.name).symlink_to(entry)
    (tmp / ".venv").symlink_to(venv)
    return tmp


def outputs(stdout: str) -> dict[tuple[int, int], tuple[int, list[str]]]:
    """Each command's exit status and output lines, keyed by (block, command)."""
    found: dict[tuple[int, int], tuple[int, list[str]]] = {}
    current: list[str] = []
    for line in stdout.splitlines():
        if line.startswith(MARK):
            i, j, status = line.split()[1:]
            found[(int(i), int(j))], current = (int(status), current), []
        else:
            current.append(line)
    return found


@pytest.mark.parametrize("path", [p for p in DOCS if blocks(p)], ids=lambda p: p.name)
def test_every_shell_block_runs_as_written(path: Path, tmp_path: Path) -> None:
    text, ran = script(path)
    if "jq " in text and shutil.which("jq") is None:
        pytest.skip(f"{path.name} pipes through jq, which this machine lacks")
    if "fuzz/run" in text:
        pytest.importorskip("atheris", reason=f"{path.name} runs the fuzzers, which need atheris")
    (tmp_path / "checkout").mkdir()
    cwd = sandbox(tmp_path / "checkout")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SPHINXAMP_") and k not in {"VIRTUAL_ENV", "PYTHONHOME"}}
    done = subprocess.run(["bash", "-c", text], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=600, env={**env, "TMPDIR": str(tmp_path)})
    got = outputs(done.stdout)
    assert done.returncode == 0, (
        f"{path.name}: the block after block {len(got)} failed:\n{done.stderr[-2000:]}")
    for i, block in enumerate(ran):
        if block.lang == "console":
            for j, (command, shown) in enumerate(block.commands):
                status, printed = got[(i, j)]
                where = f"{path.name}:{block.line}: {command}"
                # A command shown without output must succeed; one with output must print it.
                assert shown or status == 0, f"{where} exited {status}"
                assert printed[: len(shown)] == shown, where
        elif block.shown is not None:
            assert got[(i, 0)][1] == block.shown, f"{path.name}:{block.line}"


def test_the_readme_is_a_front_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    contents = _span(readme, "Contents")
    listed = set(re.findall(r"\(docs/([\w-]+\.md)\)", readme[contents[0]:contents[1]]))
    assert listed == {p.name for p in (ROOT / "docs").glob("*.md")}


def test_readme_journeys_activate_the_environment() -> None:
    """Pasted as written into a fresh shell, a journey finds `sphinxamp`: it activates the
    Quickstart's environment first."""
    for block in blocks(ROOT / "README.md"):
        assert block.body.startswith(". .venv/bin/activate\n"), block.line


def test_links_between_the_documents_resolve() -> None:
    broken = []
    for path in [*DOCS, ROOT / "fuzz" / "README.md", ROOT / "benchmarks" / "README.md",
                 ROOT / "examples" / "adapters" / "README.md"]:
        text = BLOCK.sub("", path.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def _anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", BLOCK.sub("", path.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
